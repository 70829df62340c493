import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { need, uniqueName } from '../../env/fixture.ts';
import { type ConsumedRecord, createTopic, deleteTopic, endOffsets } from '../../env/kafka-client.ts';
import { content, fidelityRecords, produceAll, readTopic, testConnection } from '../engine/helpers.ts';
import { parseJsonOutput, runCli, runCliAndKill, workspace } from './cli-helpers.ts';

/**
 * kill -9 in the middle of a backup and of a restore, then the same command again: the backup
 * continues from its last commit and the restore from its checkpoint, reconciled with what reached
 * the target after it. The restored topic must hold every record exactly once, in order.
 */
describe('kill -9 and resume', { timeout: 600_000 }, () => {
  const source = testConnection('source');
  const target = testConnection('target');
  const topic = uniqueName('resume');
  const restored = `${topic}-copy`;
  const total = 60_000;
  let ws: Awaited<ReturnType<typeof workspace>>;
  let original: ConsumedRecord[][];

  before(async () => {
    ws = await workspace();
    await createTopic(source, topic, { partitions: 3 });
    await produceAll(source, topic, fidelityRecords(total, 3, 5));
    original = await readTopic(source, topic);
  });
  after(async () => {
    await deleteTopic(source, topic).catch(() => {});
    await deleteTopic(target, restored).catch(() => {});
    await ws.cleanup();
  });

  test('backup and restore both resume after SIGKILL with nothing lost or duplicated', async (t) => {
    const storage = { storageType: 'filesystem', filesystem: { path: `${ws.dir}/store` } };
    const backupConfig = await ws.writeConfig('backup.yaml', {
      kafkaCluster: { bootstrapServers: [need('kafka').source.bootstrap] },
      topics: [topic],
      storage,
      backupId: 'resume',
      segmentMaxBytes: 64 * 1024,
      checkpoint: { intervalSecs: 1 },
      // Slow enough to be killed mid-run.
      rateLimiting: { recordsPerSec: 15_000, maxConcurrentPartitions: 3 },
    });
    const killed = await runCliAndKill(['backup', '--config', backupConfig], (err) =>
      /"msg":"checkpoint committed".*"final":false/.test(err),
    );
    assert.equal(
      killed.signal,
      'SIGKILL',
      `the backup finished before it could be killed:\n${killed.stderr}`,
    );
    const resumed = await runCli(['backup', '--config', backupConfig, '--output', 'json']);
    assert.equal(resumed.code, 0, resumed.stderr);
    const second = parseJsonOutput(resumed);
    assert.equal(second.mode, 'incremental');
    assert.ok((second.records as number) < total, 'the second run continued instead of starting over');

    const describe = parseJsonOutput(
      await runCli(['describe', '--config', backupConfig, '--output', 'json']),
    );
    const topics = describe.topics as { records: number }[];
    assert.equal(topics[0]?.records, total, 'the backup holds every record exactly once');

    const restoreConfig = await ws.writeConfig('restore.yaml', {
      kafkaCluster: { bootstrapServers: [need('kafka').target.bootstrap] },
      backupRef: { backupId: 'resume' },
      storage,
      topicMapping: { [topic]: restored },
      createTopics: true,
      produceBatchSize: 200,
      checkpointIntervalSecs: 1,
      rateLimiting: { recordsPerSec: 15_000, maxConcurrentPartitions: 3 },
    });
    const killedRestore = await runCliAndKill(
      ['restore', '--config', restoreConfig],
      (err) => /"msg":"restore checkpoint saved","status":"running","records":[1-9]/.test(err),
      {},
      // Between two checkpoints: records reach the target after the last one, which the resume must find.
      450,
    );
    assert.equal(
      killedRestore.signal,
      'SIGKILL',
      `the restore finished before it could be killed:\n${killedRestore.stderr}`,
    );
    const partial = (await endOffsets(target, restored)).reduce((a, b) => a + Number(b), 0);
    assert.ok(partial > 0 && partial < total, `the kill left a partial restore (${partial} records)`);

    const rerun = await runCli(['restore', '--config', restoreConfig, '--output', 'json']);
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.equal(parseJsonOutput(rerun).resumed, true);
    const reconciled = /"alreadyWrittenAfterCheckpoint":(\d+)/.exec(rerun.stderr)?.[1];
    t.diagnostic(`records found on the target beyond the last checkpoint: ${reconciled}`);

    const copy = await readTopic(target, restored);
    assert.deepEqual(
      copy.map((p) => p.length),
      original.map((p) => p.length),
      'every record exactly once',
    );
    for (let p = 0; p < original.length; p++) {
      assert.deepEqual(
        (copy[p] as ConsumedRecord[]).map((r) => content(r)),
        (original[p] as ConsumedRecord[]).map((r) => content(r)),
        `partition ${p} content and order`,
      );
    }
  });
});
