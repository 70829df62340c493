import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Consumer } from '@platformatic/kafka';
import { PlatformaticKafka } from '../../../runtime/kafka/platformatic-adapter.ts';
import { ActiveGroupError } from '../../../runtime/offsets/group-admin.ts';
import type { CommittedOffset } from '../../../runtime/offsets/group-offsets.ts';
import { OffsetRangeBuilder } from '../../../runtime/offsets/offset-mapping.ts';
import {
  resetOffsets,
  rollbackOffsets,
  takeSnapshot,
  verifySnapshot,
} from '../../../runtime/offsets/operations.ts';
import type { ResetStrategy } from '../../../runtime/offsets/reset-plan.ts';
import { listSnapshots } from '../../../runtime/offsets/snapshot-store.ts';
import { FilesystemObjectStore } from '../../../runtime/storage/filesystem.ts';
import { need, uniqueName } from '../../env/fixture.ts';
import { createTopic, deleteTopic, kafkaConnection, produce } from '../../env/kafka-client.ts';

const kafka = need('kafka');
const connection = kafkaConnection(kafka, 'source');
const BASE_TS = 1_700_000_000_000n;

// One topic with 3 partitions x 10 records, record i of a partition at BASE_TS + i seconds.
let topic: string;
let dir: string;
let store: FilesystemObjectStore;
let admin: PlatformaticKafka;

before(async () => {
  topic = uniqueName('offsets');
  await createTopic(connection, topic, { partitions: 3 });
  const records = [];
  for (let partition = 0; partition < 3; partition++) {
    for (let i = 0; i < 10; i++) {
      records.push({
        partition,
        key: `k${i}`,
        value: `v${partition}-${i}`,
        timestamp: BASE_TS + BigInt(i) * 1000n,
      });
    }
  }
  // Idempotent: a retried produce to a just-created topic must not duplicate records.
  await produce(connection, topic, records, { idempotent: true });
  dir = mkdtempSync(join(tmpdir(), 'offsets-it-'));
  store = new FilesystemObjectStore(dir);
  admin = new PlatformaticKafka({
    bootstrapServers: [kafka.source.bootstrap],
    securityProtocol: 'PLAINTEXT',
  });
});

after(async () => {
  await admin?.close();
  if (topic) await deleteTopic(connection, topic);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A group with commits 5, 6, 7 on partitions 0, 1, 2 (committed by the admin: the group has no members). */
async function groupAt(offsets = [5n, 6n, 7n]): Promise<string> {
  const group = uniqueName('group');
  await admin.commitOffsets(
    group,
    offsets.map((offset, partition) => ({ topic, partition, offset })),
  );
  return group;
}

async function committed(group: string): Promise<bigint[]> {
  const offsets = await admin.committedOffsets(group);
  return offsets
    .filter((o) => o.topic === topic)
    .sort((a, b) => a.partition - b.partition)
    .map((o) => o.offset);
}

async function cleanupGroup(group: string): Promise<void> {
  await admin.deleteOffsets(
    group,
    [0, 1, 2].map((partition) => ({ topic, partition })),
  );
}

describe('offset reset strategies against real consumer groups', () => {
  const cases: [string, () => ResetStrategy, bigint[]][] = [
    ['to-earliest', () => ({ kind: 'to-earliest' }), [0n, 0n, 0n]],
    ['to-latest', () => ({ kind: 'to-latest' }), [10n, 10n, 10n]],
    // Record 3 of each partition is the first at or after BASE_TS + 2.5 s.
    ['to-timestamp', () => ({ kind: 'to-timestamp', timestamp: BASE_TS + 2500n }), [3n, 3n, 3n]],
    ['to-offset', () => ({ kind: 'to-offset', offset: 2n }), [2n, 2n, 2n]],
    ['shift-by', () => ({ kind: 'shift-by', shift: -4n }), [1n, 2n, 3n]],
    ['shift-by past the end clamps to the log end', () => ({ kind: 'shift-by', shift: 5n }), [10n, 10n, 10n]],
  ];
  for (const [name, strategy, expected] of cases) {
    test(name, async () => {
      const group = await groupAt();
      try {
        const result = await resetOffsets(admin, store, {
          strategy: strategy(),
          selection: { groups: [group] },
        });
        assert.equal(result.status, 'completed', JSON.stringify(result.groups));
        assert.deepEqual(await committed(group), expected);
        assert.deepEqual(result.mismatches, []);
        assert.ok(result.snapshotId, 'a snapshot is taken before the reset');
      } finally {
        await cleanupGroup(group);
      }
    });
  }

  test('selection by partition resets only that partition', async () => {
    const group = await groupAt();
    try {
      const result = await resetOffsets(admin, store, {
        strategy: { kind: 'to-earliest' },
        selection: { groups: [group], topics: [topic], partitions: [1] },
      });
      assert.equal(result.status, 'completed');
      assert.deepEqual(await committed(group), [5n, 0n, 7n]);
    } finally {
      await cleanupGroup(group);
    }
  });

  test('several groups are reset with the configured parallelism', async () => {
    const groups = await Promise.all([groupAt(), groupAt([1n, 1n, 1n]), groupAt([9n, 9n, 9n])]);
    try {
      const result = await resetOffsets(admin, store, {
        strategy: { kind: 'to-offset', offset: 4n },
        selection: { groups },
        parallelism: 2,
      });
      assert.equal(result.status, 'completed');
      assert.equal(result.parallelism, 2);
      for (const g of groups) assert.deepEqual(await committed(g), [4n, 4n, 4n]);
    } finally {
      for (const g of groups) await cleanupGroup(g);
    }
  });

  test('from-snapshot commits a stored snapshot, from-mapping translates source offsets', async () => {
    const group = await groupAt();
    try {
      const snap = await takeSnapshot(admin, store, [group]);
      await resetOffsets(admin, store, { strategy: { kind: 'to-latest' }, selection: { groups: [group] } });
      const fromSnapshot = await resetOffsets(admin, store, {
        strategy: { kind: 'from-snapshot', offsets: snap.groups },
        selection: { groups: [group] },
      });
      assert.equal(fromSnapshot.status, 'completed');
      assert.deepEqual(await committed(group), [5n, 6n, 7n]);

      // A restore that put source offsets 100..109 of 'orders' partition p at target offsets 0..9.
      const mapping = [0, 1, 2].map((partition) => {
        const b = new OffsetRangeBuilder();
        for (let i = 0; i < 10; i++) b.add(100n + BigInt(i), BigInt(i));
        return {
          sourceTopic: 'orders',
          sourcePartition: partition,
          targetTopic: topic,
          targetPartition: partition,
          ranges: b.ranges(),
        };
      });
      const source = new Map<string, CommittedOffset[]>([
        [
          group,
          [
            { topic: 'orders', partition: 0, offset: 103n },
            { topic: 'orders', partition: 1, offset: 100n },
            { topic: 'orders', partition: 2, offset: 250n },
          ],
        ],
      ]);
      const fromMapping = await resetOffsets(admin, store, {
        strategy: { kind: 'from-mapping', mapping, sourceOffsets: source },
        selection: { groups: [group] },
      });
      assert.equal(fromMapping.status, 'completed');
      assert.deepEqual(await committed(group), [3n, 0n, 10n]);
    } finally {
      await cleanupGroup(group);
    }
  });

  test('a dry run plans and writes nothing', async () => {
    const group = await groupAt();
    try {
      const before = (await listSnapshots(store)).length;
      const result = await resetOffsets(admin, store, {
        strategy: { kind: 'to-earliest' },
        selection: { groups: [group] },
        dryRun: true,
      });
      assert.equal(result.status, 'planned');
      assert.deepEqual(
        result.plan.groups[0]?.changes.map((c) => [c.current, c.target]),
        [
          [5n, 0n],
          [6n, 0n],
          [7n, 0n],
        ],
      );
      assert.deepEqual(await committed(group), [5n, 6n, 7n]);
      assert.equal((await listSnapshots(store)).length, before);
    } finally {
      await cleanupGroup(group);
    }
  });
});

describe('active groups', () => {
  test('a reset of a group with live members is refused, naming them, and nothing changes', async () => {
    const group = await groupAt();
    const clientId = uniqueName('live-consumer');
    const consumer = new Consumer({
      clientId,
      groupId: group,
      bootstrapBrokers: connection.bootstrapBrokers,
      autocommit: false,
      sessionTimeout: 10_000,
      heartbeatInterval: 500,
    });
    try {
      const stream = await consumer.consume({ topics: [topic], mode: 'committed' });
      stream.on('data', () => {});
      // Wait until the group has the member (joining is asynchronous).
      for (let i = 0; i < 100; i++) {
        const d = (await admin.describeGroups([group])).get(group);
        if (d && d.members.length > 0 && d.state === 'Stable') break;
        await sleep(100);
      }
      const before = await committed(group);
      const snapshotsBefore = (await listSnapshots(store)).length;
      await assert.rejects(
        resetOffsets(admin, store, { strategy: { kind: 'to-earliest' }, selection: { groups: [group] } }),
        (error: Error) => {
          assert.ok(error instanceof ActiveGroupError);
          assert.match(error.message, new RegExp(group));
          assert.match(error.message, new RegExp(clientId));
          assert.match(error.message, /Stop these consumers/);
          return true;
        },
      );
      assert.deepEqual(await committed(group), before);
      assert.equal((await listSnapshots(store)).length, snapshotsBefore, 'no snapshot for a refused reset');
      await stream.close();
    } finally {
      await consumer.close(true);
      await cleanupGroup(group);
    }
  });
});

describe('snapshot and rollback', () => {
  test('rollback restores exactly the snapshot, removing commits made since, and verifies', async () => {
    const group = await groupAt([2n, 4n, 6n]);
    try {
      const snap = await takeSnapshot(admin, store, [group], { description: 'before the test' });
      // Change everything: move two partitions and remove one partition's commit.
      await admin.commitOffsets(group, [
        { topic, partition: 0, offset: 9n },
        { topic, partition: 1, offset: 1n },
      ]);
      await admin.deleteOffsets(group, [{ topic, partition: 2 }]);
      assert.equal((await verifySnapshot(admin, store, snap.snapshotId)).length, 2 + 1);

      const result = await rollbackOffsets(admin, store, { snapshotId: snap.snapshotId });
      assert.equal(result.status, 'completed');
      assert.deepEqual(result.mismatches, []);
      assert.deepEqual(await committed(group), [2n, 4n, 6n]);
      assert.deepEqual(await verifySnapshot(admin, store, snap.snapshotId), []);
    } finally {
      await cleanupGroup(group);
    }
  });

  test('a reset is undone by rolling back its pre-reset snapshot, including partitions it added', async () => {
    const group = await groupAt([3n, 3n, 3n]);
    await admin.deleteOffsets(group, [{ topic, partition: 2 }]);
    try {
      const reset = await resetOffsets(admin, store, {
        strategy: { kind: 'to-latest' },
        selection: { groups: [group], topics: [topic] },
      });
      assert.equal(reset.status, 'completed');
      assert.deepEqual(await committed(group), [10n, 10n, 10n]);
      const rollback = await rollbackOffsets(admin, store, { snapshotId: reset.snapshotId as string });
      assert.equal(rollback.status, 'completed');
      assert.deepEqual(await committed(group), [3n, 3n], 'partition 2 has no commit again');
    } finally {
      await cleanupGroup(group);
    }
  });

  test('a rollback of an active group is refused and changes nothing', async () => {
    const group = await groupAt();
    const snap = await takeSnapshot(admin, store, [group]);
    await admin.commitOffsets(group, [{ topic, partition: 0, offset: 0n }]);
    const consumer = new Consumer({
      clientId: 'rollback-blocker',
      groupId: group,
      bootstrapBrokers: connection.bootstrapBrokers,
      autocommit: false,
      sessionTimeout: 10_000,
      heartbeatInterval: 500,
    });
    try {
      const stream = await consumer.consume({ topics: [topic], mode: 'committed' });
      stream.on('data', () => {});
      for (let i = 0; i < 100; i++) {
        if (((await admin.describeGroups([group])).get(group)?.members.length ?? 0) > 0) break;
        await sleep(100);
      }
      await assert.rejects(
        rollbackOffsets(admin, store, { snapshotId: snap.snapshotId }),
        /rollback-blocker/,
      );
      assert.deepEqual(await committed(group), [0n, 6n, 7n]);
      await stream.close();
    } finally {
      await consumer.close(true);
      await cleanupGroup(group);
    }
  });
});

describe('secured listener', () => {
  test('the group admin works over SASL_SSL (SCRAM-SHA-512, CA from the environment)', async () => {
    const user = kafka.source.saslSsl.users[0];
    assert.ok(user);
    const secure = new PlatformaticKafka({
      bootstrapServers: [kafka.source.saslSsl.bootstrap],
      securityProtocol: 'SASL_SSL',
      tls: { ca: readFileSync(kafka.source.saslSsl.caFile, 'utf8') },
      sasl: { mechanism: user.mechanism, username: user.username, password: user.password },
    });
    const group = uniqueName('secure');
    try {
      await secure.commitOffsets(group, [{ topic, partition: 0, offset: 3n }]);
      assert.deepEqual(await secure.committedOffsets(group), [{ topic, partition: 0, offset: 3n }]);
      const result = await resetOffsets(secure, store, {
        strategy: { kind: 'to-latest' },
        selection: { groups: [group] },
      });
      assert.equal(result.status, 'completed');
      assert.deepEqual(await committed(group), [10n]);
    } finally {
      await secure.deleteOffsets(group, [{ topic, partition: 0 }]);
      await secure.close();
    }
  });
});
