import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backup } from '../../../runtime/app/backup.ts';
import { classify } from '../../../runtime/app/errors.ts';
import { offsetReset, offsetRollback } from '../../../runtime/app/offsets.ts';
import { restore } from '../../../runtime/app/restore.ts';
import { retention } from '../../../runtime/app/retention.ts';
import { validate } from '../../../runtime/app/validate.ts';
import type { CheckpointEvent, Progress } from '../../../runtime/engine/progress.ts';
import { RunLease } from '../../../runtime/engine/run-lease.ts';
import { MemoryObjectStore } from '../../../runtime/storage/memory.ts';
import { MemoryKafka } from './memory-kafka.ts';
import { mapSecrets, memoryPorts, storage } from './memory-ports.ts';

const sourceCluster = {
  bootstrapServers: ['source:9092'],
  securityProtocol: 'SASL_PLAINTEXT',
  saslSecret: { name: 'kafka-user', mechanism: 'SCRAM-SHA-512' },
};
const secrets = { 'kafka-user/username': 'alice', 'kafka-user/password': 'pw-from-the-api' };

function setup() {
  const source = new MemoryKafka('source');
  source.seed('orders', 2, 50);
  const target = new MemoryKafka('target');
  const store = new MemoryObjectStore();
  const ports = memoryPorts(
    { 'source:9092': source, 'target:9092': target },
    { store, secrets: mapSecrets(secrets) },
  );
  return { source, target, store, ports };
}

const backupSpec = { kafkaCluster: sourceCluster, topics: ['orders'], storage, backupId: 'b1' };
const restoreSpec = {
  kafkaCluster: { bootstrapServers: ['target:9092'] },
  backupRef: { name: 'nightly', backupId: 'b1', storage },
  topicMapping: { orders: 'orders-copy' },
  createTopics: true,
};

async function countObjects(store: MemoryObjectStore): Promise<number> {
  let n = 0;
  for await (const _ of store.list('')) n++;
  return n;
}

describe('use cases over in-memory ports', () => {
  test('backup then restore: secrets come through the resolver, progress and checkpoints are reported, connections closed', async () => {
    const { source, target, store, ports } = setup();
    const progress: Progress[] = [];
    const checkpoints: CheckpointEvent[] = [];
    const backedUp = await backup(backupSpec, ports, {
      onProgress: (p) => progress.push(p),
      onCheckpoint: (c) => checkpoints.push(c),
    });
    assert.equal(backedUp.outcome, 'complete');
    assert.equal(backedUp.records, 100);
    assert.deepEqual(ports.connections[0]?.sasl, {
      mechanism: 'SCRAM-SHA-512',
      username: 'alice',
      password: 'pw-from-the-api',
    });
    assert.equal(progress.at(-1)?.records, 100, 'the final numbers are delivered');
    assert.equal(progress.at(-1)?.percent, 100);
    assert.equal(checkpoints.at(-1)?.final, true);
    assert.equal(source.closed, 1);

    const restoreProgress: Progress[] = [];
    const restored = await restore(restoreSpec, ports, {
      onCheckpoint: (c) => checkpoints.push(c),
      onProgress: (p) => restoreProgress.push(p),
    });
    assert.equal(restored.outcome, 'complete');
    assert.equal(restored.records, 100);
    // A restore's progress names the topic it writes and counts the segments it read.
    let segmentObjects = 0;
    for await (const entry of store.list('b1/segments/')) if (entry.key.endsWith('.kbs')) segmentObjects++;
    assert.ok(segmentObjects > 0);
    assert.equal(restoreProgress.at(-1)?.segments, segmentObjects);
    assert.equal(restoreProgress.at(-1)?.currentTopic, 'orders-copy');
    assert.ok(restored.offsetMapping, 'a completed restore writes its offset mapping');
    assert.equal(restored.consumerGroups, undefined, 'no offset handling was asked');
    const copied = target.topics.get('orders-copy');
    assert.deepEqual(
      copied?.map((p) => p.map((r) => Buffer.from(r.value ?? []).toString())),
      source.topics.get('orders')?.map((p) => p.map((r) => Buffer.from(r.value ?? []).toString())),
    );
    assert.equal(checkpoints.at(-1)?.final, true);
    assert.equal(target.closed, 1);
  });

  test('an aborted backup and an aborted restore both return outcome interrupted; a rerun completes', async () => {
    const { target, ports } = setup();
    const aborted = AbortSignal.abort('SIGTERM');
    const stopped = await backup(backupSpec, ports, { signal: aborted });
    assert.equal(stopped.outcome, 'interrupted');
    assert.equal((await backup(backupSpec, ports)).outcome, 'complete');

    const halted = await restore(restoreSpec, ports, { signal: aborted });
    assert.equal(halted.outcome, 'interrupted');
    assert.equal(halted.offsetMapping, undefined, 'no mapping before the restore completes');
    const resumed = await restore(restoreSpec, ports);
    assert.equal(resumed.outcome, 'complete');
    assert.equal(resumed.resumed, true);
    assert.equal(target.topics.get('orders-copy')?.flat().length, 100);
  });

  test('a dry-run restore plans and writes nothing', async () => {
    const { target, ports } = setup();
    await backup(backupSpec, ports);
    const planned = await restore(restoreSpec, ports, { dryRun: true });
    assert.equal(planned.dryRun, true);
    assert.equal(planned.outcome, 'complete');
    assert.equal(planned.plan.maxRecords, 100);
    assert.equal(target.topics.has('orders-copy'), false);
  });

  test('offset reset from a KafkaOffsetReset spec, then rollback to the snapshot it took', async () => {
    const { source, ports } = setup();
    await source.commitOffsets('billing', [
      { topic: 'orders', partition: 0, offset: 40n },
      { topic: 'orders', partition: 1, offset: 45n },
    ]);
    const reset = await offsetReset(
      {
        kafkaCluster: sourceCluster,
        storage,
        consumerGroups: ['billing'],
        resetStrategy: 'to-earliest',
        approval: { required: false },
      },
      ports,
    );
    assert.equal(reset.failure, undefined, reset.text);
    assert.deepEqual(
      (await source.committedOffsets('billing')).map((o) => o.offset),
      [0n, 0n],
    );
    const snapshotId = (reset.json as { snapshotId: string }).snapshotId;
    const rollback = await offsetRollback(
      { kafkaCluster: sourceCluster, snapshotRef: { name: snapshotId, storage } },
      ports,
    );
    assert.equal(rollback.failure, undefined, rollback.text);
    assert.deepEqual((await source.committedOffsets('billing')).map((o) => [o.partition, o.offset]).sort(), [
      [0, 40n],
      [1, 45n],
    ]);
  });

  test('snapshotBeforeReset: false commits without storing a snapshot', async () => {
    const { source, store, ports } = setup();
    await source.commitOffsets('billing', [{ topic: 'orders', partition: 0, offset: 40n }]);
    const before = await countObjects(store);
    const spec = {
      kafkaCluster: sourceCluster,
      storage,
      consumerGroups: ['billing'],
      resetStrategy: 'to-earliest',
    };
    const reset = await offsetReset({ ...spec, snapshotBeforeReset: false }, ports);
    assert.equal(reset.failure, undefined, reset.text);
    assert.equal((reset.json as { snapshotId: unknown }).snapshotId, null);
    assert.match(reset.text, /No snapshot was taken/);
    assert.equal(await countObjects(store), before, 'nothing was written to storage');
    assert.deepEqual(
      (await source.committedOffsets('billing')).map((o) => o.offset),
      [0n],
    );
    await source.commitOffsets('billing', [{ topic: 'orders', partition: 0, offset: 40n }]);
    const withSnapshot = await offsetReset(spec, ports);
    assert.equal(typeof (withSnapshot.json as { snapshotId: unknown }).snapshotId, 'string');
    assert.ok((await countObjects(store)) > before, 'the default takes a snapshot');
  });

  test('a reset without snapshot needs no storage; with the snapshot it says storage is needed', async () => {
    const { source, ports } = setup();
    await source.commitOffsets('billing', [{ topic: 'orders', partition: 0, offset: 40n }]);
    const spec = { kafkaCluster: sourceCluster, consumerGroups: ['billing'], resetStrategy: 'to-earliest' };
    const reset = await offsetReset({ ...spec, snapshotBeforeReset: false }, ports);
    assert.equal(reset.failure, undefined, reset.text);
    assert.deepEqual(
      (await source.committedOffsets('billing')).map((o) => o.offset),
      [0n],
    );
    await assert.rejects(offsetReset(spec, ports), /storage is required/);
  });

  test('continueOnError: false starts no group after one fails; true keeps going', async () => {
    for (const continueOnError of [false, true]) {
      const { source, ports } = setup();
      for (const group of ['a', 'bad', 'c']) {
        await source.commitOffsets(group, [{ topic: 'orders', partition: 0, offset: 40n }]);
      }
      const commit = source.commitOffsets.bind(source);
      source.commitOffsets = async (group, offsets) => {
        if (group === 'bad') throw new Error('refused by the broker');
        return commit(group, offsets);
      };
      const reset = await offsetReset(
        {
          kafkaCluster: sourceCluster,
          storage,
          consumerGroups: ['a', 'bad', 'c'],
          resetStrategy: 'to-earliest',
          parallelism: 1,
          continueOnError,
        },
        ports,
      );
      assert.equal(reset.failure, 'commit-failed');
      const groups = (reset.json as { groups: Array<{ group: string; status: string; error?: string }> })
        .groups;
      assert.deepEqual(
        groups.map((g) => [g.group, g.status]),
        [
          ['a', 'committed'],
          ['bad', 'failed'],
          ['c', continueOnError ? 'committed' : 'failed'],
        ],
      );
      if (!continueOnError) assert.match(groups[2]?.error ?? '', /not attempted: group bad failed first/);
      const c = (await source.committedOffsets('c')).map((o) => o.offset);
      assert.deepEqual(c, [continueOnError ? 0n : 40n]);
    }
  });

  test('validate from a KafkaBackupValidation spec checks the backup without a cluster', async () => {
    const { ports } = setup();
    await backup(backupSpec, ports);
    const connected = ports.connections.length;
    const result = await validate(
      {
        backupRef: { name: 'nightly', backupId: 'b1', storage },
        checks: { integrity: { enabled: true, deep: true } },
      },
      ports,
      { noStore: true, toolVersion: 'test' },
    );
    assert.equal(result.report.summary.result, 'passed', result.text);
    assert.equal(result.failure, undefined);
    assert.equal(ports.connections.length, connected, 'no check needed a cluster');
  });

  test('validate reads an encrypted backup with the key from its encryption Secret; without the key it cannot', async () => {
    const key = Buffer.alloc(32, 9).toString('base64');
    const source = new MemoryKafka('source');
    source.seed('orders', 2, 20);
    const ports = memoryPorts(
      { 'source:9092': source },
      { secrets: mapSecrets({ ...secrets, 'backup-key/encryption.key': key }) },
    );
    const encryption = { keySecret: { name: 'backup-key' } };
    await backup({ ...backupSpec, encryption }, ports);
    const spec = {
      backupRef: { name: 'n', backupId: 'b1', storage },
      checks: { integrity: { enabled: true, deep: true } },
    };
    const result = await validate({ ...spec, encryption }, ports, { noStore: true, toolVersion: 'test' });
    assert.equal(result.report.summary.result, 'passed', result.text);
    const integrity = result.report.checks.find((c) => c.name === 'segment-integrity');
    assert.match(integrity?.summary ?? '', /checksum verified and decoded/);
    const withoutKey = await validate(spec, ports, { noStore: true, toolVersion: 'test' }).then(
      (r) => r.report.summary.result,
      (e: Error) => classify(e).reason,
    );
    assert.equal(
      withoutKey,
      'InvalidConfig',
      'an encrypted backup needs its key: a spec to fix, not a result',
    );
  });

  test('invalid specs fail before anything is opened, classified InvalidConfig', async () => {
    const { ports } = setup();
    const failures = await Promise.all([
      backup({ ...backupSpec, compresion: 'zstd' }, ports).catch((e: unknown) => e),
      restore(
        { ...restoreSpec, offsetReset: { enabled: true, strategy: 'timestamp', consumerGroups: ['g'] } },
        ports,
      ).catch((e: unknown) => e),
      offsetReset({ kafkaCluster: sourceCluster, storage, consumerGroups: ['g'], backup: {} }, ports).catch(
        (e: unknown) => e,
      ),
      validate({ backupRef: { storage }, restore: {} }, ports, { toolVersion: 'test' }).catch(
        (e: unknown) => e,
      ),
    ]);
    const classified = failures.map((f) => classify(f));
    assert.deepEqual(
      classified.map((c) => [c.reason, c.exitCode]),
      Array.from({ length: 4 }, () => ['InvalidConfig', 2]),
    );
    assert.match(classified[0]?.message ?? '', /compresion: unknown field/);
    assert.match(classified[1]?.message ?? '', /offsetReset\.strategy: timestamp is not supported/);
    assert.match(classified[2]?.message ?? '', /backup: unknown field/);
    assert.match(classified[3]?.message ?? '', /restore: unknown field/);
    assert.equal(ports.storesOpened.length, 0);
    assert.equal(ports.connections.length, 0);
  });

  test('retention after scheduled runs keeps exactly keepLast runs; a restore brings back their records only', async () => {
    const { source, target, store, ports } = setup();
    const spec = { ...backupSpec, retention: { enabled: true, keepLast: 2 } };
    const produce = (from: number) =>
      source.produce(
        { topic: 'orders', partition: 0 },
        Array.from({ length: 5 }, (_, i) => ({
          key: null,
          value: Buffer.from(`late-${from + i}`),
          headers: [],
          timestamp: BigInt(Date.now()),
        })),
      );
    const runIds: string[] = [];
    for (let i = 0; i < 4; i++) {
      if (i > 0) await produce(i * 5);
      runIds.push((await backup(spec, ports)).runId);
    }
    const before = await countObjects(store);
    const dry = await retention(spec, ports, { dryRun: true });
    assert.deepEqual(
      dry.plan.eligible.map((r) => r.runId),
      runIds.slice(0, 2),
    );
    assert.equal(await countObjects(store), before, 'a dry run writes and deletes nothing');

    const pruned = await retention(spec, ports);
    assert.deepEqual(pruned.prunedRuns, runIds.slice(0, 2));
    assert.ok(pruned.deletedObjects > 0 && pruned.reclaimedBytes > 0);
    const restored = await restore(restoreSpec, ports);
    assert.equal(restored.outcome, 'complete');
    const values = target.topics
      .get('orders-copy')
      ?.flat()
      .map((r) => Buffer.from(r.value ?? []).toString());
    // Runs 3 and 4 stored the 5 + 5 records produced after run 2.
    assert.deepEqual(values?.sort(), [
      'late-10',
      'late-11',
      'late-12',
      'late-13',
      'late-14',
      'late-15',
      'late-16',
      'late-17',
      'late-18',
      'late-19',
    ]);
  });

  test('retention waits while a restore of the backup holds its lease, and prunes once it is released', async () => {
    const { source, store, ports } = setup();
    const spec = { ...backupSpec, retention: { enabled: true, keepLast: 1 } };
    await backup(spec, ports);
    await source.produce({ topic: 'orders', partition: 0 }, [
      { key: null, value: Buffer.from('new'), headers: [], timestamp: BigInt(Date.now()) },
    ]);
    await backup(spec, ports);
    // A restore reading the backup now (its lease, as restores take it).
    const restoring = await RunLease.acquire(store, 'b1/leases/restore/restore-42/', {
      subject: 'restore restore-42',
    });
    const segments = async () => {
      const keys: string[] = [];
      for await (const o of store.list('b1/segments/')) keys.push(o.key);
      return keys.sort();
    };
    const before = await segments();
    await assert.rejects(retention(spec, ports), (e: Error) => {
      assert.equal(classify(e).class, 'retriable');
      assert.match(e.message, /retention of backup b1 waits: restore restore-42 is reading it/);
      assert.match(e.message, /Nothing was deleted/);
      return true;
    });
    assert.deepEqual(await segments(), before, 'nothing deleted');
    await restoring.release();
    const pruned = await retention(spec, ports);
    assert.equal(pruned.prunedRuns.length, 1);
  });

  test('retention refuses a spec without it enabled, and checks its fields', async () => {
    const { ports } = setup();
    await assert.rejects(
      retention(backupSpec, ports),
      (e: Error) => classify(e).reason === 'InvalidConfig' && /retention is not enabled/.test(e.message),
    );
    await assert.rejects(
      retention({ ...backupSpec, retention: { enabled: true, keepLast: 2, keepFirst: 1 } }, ports),
      /retention\.keepFirst/,
    );
    await assert.rejects(
      retention({ ...backupSpec, retention: { enabled: true } }, ports),
      /retention is enabled without a limit/,
    );
  });
});
