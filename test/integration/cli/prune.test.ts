import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { need, uniqueName } from '../../env/fixture.ts';
import { createTopic, deleteTopic } from '../../env/kafka-client.ts';
import { fidelityRecords, produceAll, testConnection } from '../engine/helpers.ts';
import { parseJsonOutput, runCli, workspace } from './cli-helpers.ts';

/**
 * `kafka-backup prune`: the backup config's retention block, applied to the runs the CLI made
 * (records produced between them); a dry run reports, the real run deletes the oldest runs only.
 */
describe('kafka-backup prune', { timeout: 300_000 }, () => {
  const source = testConnection('source');
  const topic = uniqueName('prune');
  let ws: Awaited<ReturnType<typeof workspace>>;

  before(async () => {
    ws = await workspace();
    await createTopic(source, topic, { partitions: 2, configs: { 'retention.ms': '-1' } });
  });
  after(async () => {
    await deleteTopic(source, topic).catch(() => {});
    await ws.cleanup();
  });

  test('keeps exactly keepLast runs; --dry-run deletes nothing; a config without retention is refused', async () => {
    const base = {
      kafkaCluster: { bootstrapServers: [need('kafka').source.bootstrap] },
      topics: [topic],
      storage: { storageType: 'filesystem', filesystem: { path: `${ws.dir}/store` } },
      backupId: 'pruned',
    };
    const config = await ws.writeConfig('backup.yaml', {
      ...base,
      retention: { enabled: true, keepLast: 2 },
    });
    const runIds: string[] = [];
    for (let i = 0; i < 4; i++) {
      await produceAll(source, topic, fidelityRecords(100, 2, i + 1));
      const run = await runCli(['backup', '--config', config, '--output', 'json']);
      assert.equal(run.code, 0, run.stderr);
      runIds.push(parseJsonOutput(run).runId as string);
    }

    const dry = await runCli(['prune', '--config', config, '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /^dry run, nothing deleted: backup pruned: 2 of 4 runs would be deleted/);
    const describedBefore = parseJsonOutput(
      await runCli(['describe', '--config', config, '--output', 'json']),
    );
    assert.equal((describedBefore.runs as unknown[]).length, 4);

    const pruned = await runCli(['prune', '--config', config, '--output', 'json']);
    assert.equal(pruned.code, 0, pruned.stderr);
    const result = parseJsonOutput(pruned);
    assert.deepEqual(result.prunedRuns, runIds.slice(0, 2));
    assert.deepEqual(
      (result.runs as { runId: string; decision: string; reasons: string[] }[]).map((r) => [
        r.runId,
        r.decision,
        r.reasons,
      ]),
      [
        [runIds[0], 'pruned', ['keep-last']],
        [runIds[1], 'pruned', ['keep-last']],
        [runIds[2], 'kept', ['within-policy']],
        [runIds[3], 'kept', ['within-policy']],
      ],
    );
    assert.ok((result.deletedObjects as number) >= 2 && (result.reclaimedBytes as number) > 0);

    const described = parseJsonOutput(await runCli(['describe', '--config', config, '--output', 'json']));
    assert.deepEqual(
      (described.runs as { runId: string }[]).map((r) => r.runId),
      runIds.slice(2),
    );
    const verify = await runCli(['verify', '--config', config, '--deep']);
    assert.equal(verify.code, 0, `what is left verifies: ${verify.stdout}${verify.stderr}`);

    const plain = await ws.writeConfig('plain.yaml', base);
    const refused = await runCli(['prune', '--config', plain]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /retention is not enabled/);
  });
});
