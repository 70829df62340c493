import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { need, uniqueName } from '../../env/fixture.ts';
import { type ConsumedRecord, createTopic, deleteTopic, endOffsets } from '../../env/kafka-client.ts';
import { content, fidelityRecords, produceAll, readTopic, testConnection } from '../engine/helpers.ts';
import { parseJsonOutput, runCli, startCli, workspace } from './cli-helpers.ts';

/**
 * Two runs of the same backup or restore at once: the second refuses before writing anything (exit 7,
 * naming the run that holds the lease), the first completes, and nothing blocks a later rerun. A run
 * that was SIGKILLed is taken over at once by the next one on the same host.
 */
describe('fencing: one run of a backup or restore writes at a time', { timeout: 600_000 }, () => {
  const source = testConnection('source');
  const target = testConnection('target');
  const topic = uniqueName('fence');
  const restored = `${topic}-copy`;
  const total = 40_000;
  let ws: Awaited<ReturnType<typeof workspace>>;
  let original: ConsumedRecord[][];
  let storage: Record<string, unknown>;
  let backupConfig: string;
  let restoreConfig: string;

  before(async () => {
    ws = await workspace();
    storage = { storageType: 'filesystem', filesystem: { path: `${ws.dir}/store` } };
    await createTopic(source, topic, { partitions: 2 });
    await produceAll(source, topic, fidelityRecords(total, 2, 7));
    original = await readTopic(source, topic);
    backupConfig = await ws.writeConfig('backup.yaml', {
      kafkaCluster: { bootstrapServers: [need('kafka').source.bootstrap] },
      topics: [topic],
      storage,
      backupId: 'fence',
      segmentMaxBytes: 64 * 1024,
      checkpoint: { intervalSecs: 1 },
      // 40 s for the whole topic: the second run needs ~ttl/3 (10 s) to see the first one renew.
      rateLimiting: { recordsPerSec: 1_000 },
    });
    restoreConfig = await ws.writeConfig('restore.yaml', {
      kafkaCluster: { bootstrapServers: [need('kafka').target.bootstrap] },
      backupRef: { backupId: 'fence' },
      storage,
      topicMapping: { [topic]: restored },
      createTopics: true,
      produceBatchSize: 200,
      checkpointIntervalSecs: 1,
      // 40 s in all: the refused second run watches the first renew its lease (up to ~10 s) after
      // starting a CLI of its own, which takes seconds on a loaded machine.
      rateLimiting: { recordsPerSec: 1_000 },
    });
  });
  after(async () => {
    await deleteTopic(source, topic).catch(() => {});
    await deleteTopic(target, restored).catch(() => {});
    await ws.cleanup();
  });

  test('a second backup while the first runs is refused; the first completes with every record', async () => {
    const first = startCli(['backup', '--config', backupConfig, '--output', 'json']);
    await first.until((err) => /"msg":"checkpoint committed"/.test(err));
    const second = await runCli(['backup', '--config', backupConfig, '--output', 'json']);
    assert.equal(second.code, 7, second.stderr);
    assert.match(
      parseJsonOutput(second).error as string,
      new RegExp(`backup fence is already running \\(process ${first.pid} on `),
    );
    assert.doesNotMatch(second.stderr, /checkpoint committed/, 'the refused run committed nothing');
    // Let the first one finish quickly: a SIGTERM commits what it read (it resumes on the next run).
    first.kill('SIGTERM');
    assert.equal((await first.done).code, 143);
    const rest = await runCli(['backup', '--config', backupConfig, '--output', 'json']);
    assert.equal(rest.code, 0, rest.stderr);
    const described = parseJsonOutput(
      await runCli(['describe', '--config', backupConfig, '--output', 'json']),
    );
    assert.equal((described.topics as { records: number }[])[0]?.records, total);
  });

  test('a second restore while the first runs is refused before producing; a killed restore is taken over at once', async () => {
    const first = startCli(['restore', '--config', restoreConfig]);
    await first.until((err) =>
      /"msg":"restore checkpoint saved","status":"running","records":[1-9]/.test(err),
    );
    const second = await runCli(['restore', '--config', restoreConfig, '--output', 'json']);
    assert.equal(second.code, 7, second.stderr);
    assert.match(
      parseJsonOutput(second).error as string,
      new RegExp(
        `restore restore-[0-9a-f]+ is already running \\(process ${first.pid} on .*Wait for it to finish`,
      ),
    );
    assert.doesNotMatch(
      second.stderr,
      /restore checkpoint saved|resuming restore/,
      'the refused run wrote nothing',
    );

    // The first is killed outright (no chance to release its lease); the next run takes over at once.
    first.kill('SIGKILL');
    await first.done;
    const partial = (await endOffsets(target, restored)).reduce((a, b) => a + Number(b), 0);
    assert.ok(partial > 0 && partial < total, `a partial restore (${partial} records)`);
    const rerun = await runCli(['restore', '--config', restoreConfig, '--output', 'json']);
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.match(rerun.stderr, /taking over the lease of a run that is gone.*no longer exists on this host/);
    assert.equal(parseJsonOutput(rerun).resumed, true);
    assert.doesNotMatch(
      rerun.stderr,
      /waiting to see whether it is alive/,
      'no wait for the 30 s lease to expire',
    );

    const copy = await readTopic(target, restored);
    for (let p = 0; p < original.length; p++) {
      assert.deepEqual(
        (copy[p] as ConsumedRecord[]).map((r) => content(r)),
        (original[p] as ConsumedRecord[]).map((r) => content(r)),
        `partition ${p}: every record exactly once, in order`,
      );
    }
    // Nothing left behind blocks a later run of the same restore.
    const again = await runCli(['restore', '--config', restoreConfig, '--output', 'json']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(parseJsonOutput(again).records, 0);
  });
});
