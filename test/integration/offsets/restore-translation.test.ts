import assert from 'node:assert/strict';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Consumer } from '@platformatic/kafka';
import { runBackup } from '../../../runtime/engine/backup.ts';
import { runRestore } from '../../../runtime/engine/restore.ts';
import { type Backup, BackupRepository } from '../../../runtime/format/repository.ts';
import type { KafkaConnectionConfig } from '../../../runtime/kafka/connection.ts';
import { PlatformaticKafka } from '../../../runtime/kafka/platformatic-adapter.ts';
import { consumerGroupsAfterRestore } from '../../../runtime/offsets/after-restore.ts';
import { loadOffsetMapping } from '../../../runtime/offsets/mapping-store.ts';
import { translateRestoredGroups } from '../../../runtime/offsets/restore-translation.ts';
import { FilesystemObjectStore } from '../../../runtime/storage/filesystem.ts';
import { type ValidationOptions, validateBackup } from '../../../runtime/validation/validate.ts';
import { need, uniqueName } from '../../env/fixture.ts';
import {
  createTopic,
  deleteTopic,
  endOffsets,
  kafkaConnection,
  produce,
  readPartition,
} from '../../env/kafka-client.ts';

/**
 * The whole path: live consumer groups at various positions on the source, a backup with their
 * snapshot, a restore into the target cluster under another name (and a repartitioned topic), the
 * translation, then consumers on the target resume at their next unconsumed record.
 */
const kafka = need('kafka');
const source = kafkaConnection(kafka, 'source');
const target = kafkaConnection(kafka, 'target');
const config = (bootstrap: string): KafkaConnectionConfig => ({
  bootstrapServers: [bootstrap],
  securityProtocol: 'PLAINTEXT',
});

let dir: string;
let store: FilesystemObjectStore;
let repository: BackupRepository;
const cleanup: [typeof source, string][] = [];

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'offsets-restore-'));
  store = new FilesystemObjectStore(dir);
  repository = new BackupRepository(store);
});

after(async () => {
  for (const [c, t] of cleanup) await deleteTopic(c, t).catch(() => {});
  await rm(dir, { recursive: true, force: true });
});

const value = (partition: number, offset: number) => `p${partition}-o${offset}`;

async function fill(topic: string, partitions: number, perPartition: number): Promise<void> {
  await createTopic(source, topic, { partitions });
  cleanup.push([source, topic]);
  const records = [];
  for (let p = 0; p < partitions; p++) {
    for (let o = 0; o < perPartition; o++)
      records.push({ partition: p, key: `key-${p}-${o}`, value: value(p, o) });
  }
  await produce(source, topic, records, { idempotent: true });
}

async function commitOnSource(group: string, topic: string, offsets: number[]): Promise<void> {
  const admin = new PlatformaticKafka(config(kafka.source.bootstrap));
  try {
    await admin.commitOffsets(
      group,
      offsets.map((o, partition) => ({ topic, partition, offset: BigInt(o) })),
    );
  } finally {
    await admin.close();
  }
}

async function backupAndRestore(
  backupId: string,
  topic: string,
  restore: Parameters<typeof runRestore>[1],
): Promise<{ backup: Backup; restoreId: string }> {
  const src = new PlatformaticKafka(config(kafka.source.bootstrap));
  try {
    await runBackup(
      { kafka: src, repository },
      { backupId, topics: { include: [topic] }, consumerGroupSnapshot: true },
    );
  } finally {
    await src.close();
  }
  const dst = new PlatformaticKafka(config(kafka.target.bootstrap));
  try {
    const result = await runRestore({ kafka: dst, repository }, { backupId, createTopics: true, ...restore });
    return { backup: (await repository.openForWrite(backupId)) as Backup, restoreId: result.restoreId };
  } finally {
    await dst.close();
  }
}

/** Joins the group on the target and returns the first record it receives on each partition. */
async function firstConsumed(
  group: string,
  topic: string,
  expectPartitions: number[],
): Promise<Map<number, string>> {
  const consumer = new Consumer({
    clientId: uniqueName('resume'),
    groupId: group,
    bootstrapBrokers: target.bootstrapBrokers,
    autocommit: false,
    sessionTimeout: 10_000,
    heartbeatInterval: 500,
  });
  const first = new Map<number, string>();
  try {
    const stream = await consumer.consume({ topics: [topic], mode: 'committed', fallbackMode: 'earliest' });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`got ${[...first.keys()]} of ${expectPartitions}`)),
        60_000,
      );
      stream.on('data', (m) => {
        if (!first.has(m.partition)) first.set(m.partition, (m.value as Buffer).toString());
        if (expectPartitions.every((p) => first.has(p))) {
          clearTimeout(timer);
          resolve();
        }
      });
      stream.on('error', reject);
    });
    await stream.close();
  } finally {
    await consumer.close(true);
  }
  return first;
}

describe('offset translation after a restore', () => {
  test('renamed topic: each group resumes exactly at its next unconsumed record', async () => {
    const topic = uniqueName('orders');
    const renamed = `${topic}-dr`;
    await fill(topic, 3, 30);
    const g1 = uniqueName('g1');
    const g2 = uniqueName('g2');
    await commitOnSource(g1, topic, [5, 0, 30]); // partition 2 fully consumed
    await commitOnSource(g2, topic, [29, 17, 1]);

    const { backup, restoreId } = await backupAndRestore(uniqueName('b'), topic, {
      topicMapping: { [topic]: renamed },
    });
    cleanup.push([target, renamed]);

    // As the restore command runs it with autoConsumerGroups.
    const targetPort = new PlatformaticKafka(config(kafka.target.bootstrap));
    const after = await consumerGroupsAfterRestore(
      targetPort,
      repository,
      { backupId: backup.backupId, restoreId, dryRun: false },
      { groups: [g1, g2] },
    ).finally(() => targetPort.close());
    assert.equal(after.failure, undefined, after.text);
    assert.ok(after.text.includes(`${renamed}/0: (none) -> 5`), after.text);
    assert.ok(after.text.includes('Reset completed.'), after.text);

    assert.deepEqual(Object.fromEntries(await firstConsumed(g1, renamed, [0, 1])), {
      0: value(0, 5),
      1: value(1, 0),
    });
    assert.deepEqual(Object.fromEntries(await firstConsumed(g2, renamed, [0, 1, 2])), {
      0: value(0, 29),
      1: value(1, 17),
      2: value(2, 1),
    });
    const ends = await endOffsets(target, renamed);
    const g1Offsets = await committedOn(g1, renamed);
    assert.equal(g1Offsets.get(2), ends[2], 'a fully consumed partition resumes at the end');

    // The restored cluster validates against the backup through the mapping; without it, by name.
    const targetAdmin = new PlatformaticKafka(config(kafka.target.bootstrap));
    const sourceAdmin = new PlatformaticKafka(config(kafka.source.bootstrap));
    try {
      const mapping = await loadOffsetMapping(backup, restoreId);
      const outcomes = async (cluster: ValidationOptions['cluster']) =>
        Object.fromEntries(
          (await validateBackup(backup, cluster ? { cluster } : {}))
            .filter((c) => ['message-count', 'offset-range', 'consumer-group-offsets'].includes(c.name))
            .map((c) => [c.name, c.outcome]),
        );
      const passed = {
        'message-count': 'passed',
        'offset-range': 'passed',
        'consumer-group-offsets': 'passed',
      };
      assert.deepEqual(
        await outcomes({ admin: targetAdmin, mapping, consumerGroupOffsets: { groups: [g1, g2] } }),
        passed,
      );
      assert.deepEqual(
        await outcomes({ admin: sourceAdmin, consumerGroupOffsets: { groups: [g1, g2] } }),
        passed,
      );
      // Records deleted from the restored topic: both range and count fail.
      const port = new PlatformaticKafka(config(kafka.target.bootstrap));
      await port.deleteRecords({ topic: renamed, partition: 1 }, 3n);
      await port.close();
      const damaged = await outcomes({ admin: targetAdmin, mapping, consumerGroupOffsets: false });
      assert.deepEqual(damaged, { 'message-count': 'failed', 'offset-range': 'failed' });
    } finally {
      await targetAdmin.close();
      await sourceAdmin.close();
    }
  });

  test('repartitioned topic: no unconsumed record is skipped', async () => {
    const topic = uniqueName('events');
    const wider = `${topic}-x3`;
    await fill(topic, 2, 40);
    const group = uniqueName('g3');
    await commitOnSource(group, topic, [7, 31]);
    const { backup, restoreId } = await backupAndRestore(uniqueName('b'), topic, {
      topicMapping: { [topic]: wider },
      repartitioning: { [wider]: { strategy: 'murmur2', targetPartitions: 3 } },
    });
    cleanup.push([target, wider]);

    const admin = new PlatformaticKafka(config(kafka.target.bootstrap));
    try {
      const result = await translateRestoredGroups(admin, store, backup, { restoreId });
      assert.equal(result?.status, 'completed');
      const changes = result.plan.groups.find((g) => g.group === group)?.changes ?? [];
      assert.equal(changes.length, 3);
      assert.ok(changes.every((c) => c.note?.includes('never skips')));
    } finally {
      await admin.close();
    }

    const committed = await committedOn(group, wider);
    const ends = await endOffsets(target, wider);
    const resumed = new Set<string>();
    for (let p = 0; p < 3; p++) {
      const from = committed.get(p) ?? 0n;
      const count = Number((ends[p] ?? 0n) - from);
      if (count <= 0) continue;
      for (const r of await readPartition(target, wider, { partition: p, fromOffset: from, count })) {
        resumed.add((r.value as Buffer).toString());
      }
    }
    const unconsumed = [
      ...Array.from({ length: 40 - 7 }, (_, i) => value(0, 7 + i)),
      ...Array.from({ length: 40 - 31 }, (_, i) => value(1, 31 + i)),
    ];
    for (const v of unconsumed) assert.ok(resumed.has(v), `unconsumed record ${v} would be skipped`);

    // Through the mapping, the repartitioned cluster holds exactly what was restored into each partition.
    const targetAdmin = new PlatformaticKafka(config(kafka.target.bootstrap));
    try {
      const checks = await validateBackup(backup, {
        cluster: { admin: targetAdmin, mapping: await loadOffsetMapping(backup, restoreId) },
      });
      for (const name of ['message-count', 'offset-range', 'consumer-group-offsets']) {
        const c = checks.find((x) => x.name === name);
        assert.equal(c?.outcome, 'passed', `${name}: ${c?.summary}`);
      }
    } finally {
      await targetAdmin.close();
    }
  });
});

async function committedOn(group: string, topic: string): Promise<Map<number, bigint>> {
  const admin = new PlatformaticKafka(config(kafka.target.bootstrap));
  try {
    const offsets = await admin.committedOffsets(group);
    return new Map(offsets.filter((o) => o.topic === topic).map((o) => [o.partition, o.offset]));
  } finally {
    await admin.close();
  }
}

describe('offset translation after restoring a backup written by the Rust tool', () => {
  test('its consumer-groups-snapshot.json is translated through the mapping kept beside the backup', async () => {
    const legacyDir = await mkdtemp(path.join(tmpdir(), 'offsets-legacy-'));
    const legacyRepo = new BackupRepository(new FilesystemObjectStore(legacyDir));
    await cp(
      path.resolve(import.meta.dirname, '../../fixtures/format/oso-rust/oso-golden'),
      path.join(legacyDir, 'oso-golden'),
      {
        recursive: true,
      },
    );
    const renamed = uniqueName('orders-from-rust');
    const dst = new PlatformaticKafka(config(kafka.target.bootstrap));
    try {
      const result = await runRestore(
        { kafka: dst, repository: legacyRepo },
        { backupId: 'oso-golden', topics: ['orders'], topicMapping: { orders: renamed }, createTopics: true },
      );
      cleanup.push([target, renamed]);
      const targetPort = new PlatformaticKafka(config(kafka.target.bootstrap));
      const after = await consumerGroupsAfterRestore(targetPort, legacyRepo, {
        backupId: 'oso-golden',
        restoreId: result.restoreId,
        dryRun: false,
      }).finally(() => targetPort.close());
      assert.equal(after.failure, undefined, after.text);

      // The group 'billing' had committed 112 on orders/0: it must resume at the first backed-up record >= 112.
      const backup = await legacyRepo.open('oso-golden');
      const manifest = await backup.manifest();
      const partition = manifest.topics
        .find((t) => t.metadata.name === 'orders')
        ?.partitions.find((p) => p.partition === 0);
      const records = [];
      for (const segment of partition?.segments ?? [])
        records.push(...(await backup.readSegment(segment)).records);
      const next = records.find((r) => r.offset >= 112n);
      const committed = (await committedOn('billing', renamed)).get(0);
      assert.ok(committed !== undefined, after.text);
      const ends = await endOffsets(target, renamed);
      if (!next) {
        assert.equal(committed, ends[0]);
      } else {
        const [resumed] = await readPartition(target, renamed, {
          partition: 0,
          fromOffset: committed,
          count: 1,
        });
        assert.equal(
          resumed?.value?.toString('hex') ?? null,
          next.value === null ? null : Buffer.from(next.value).toString('hex'),
        );
      }
    } finally {
      await dst.close();
      await deleteGroup('billing', renamed);
      await rm(legacyDir, { recursive: true, force: true });
    }
  });
});

async function deleteGroup(group: string, topic: string): Promise<void> {
  const admin = new PlatformaticKafka(config(kafka.target.bootstrap));
  try {
    const offsets = await admin.committedOffsets(group);
    await admin.deleteOffsets(
      group,
      offsets.filter((o) => o.topic === topic),
    );
  } finally {
    await admin.close();
  }
}
