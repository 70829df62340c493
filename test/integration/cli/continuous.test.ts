import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { need, uniqueName } from '../../env/fixture.ts';
import { createTopic, deleteTopic } from '../../env/kafka-client.ts';
import { fidelityRecords, produceAll, testConnection } from '../engine/helpers.ts';
import { cliCommand, parseJsonOutput, runCli, workspace } from './cli-helpers.ts';

describe('continuous backup', { timeout: 300_000 }, () => {
  const source = testConnection('source');
  const topic = uniqueName('stream');
  let ws: Awaited<ReturnType<typeof workspace>>;
  before(async () => {
    ws = await workspace();
    await createTopic(source, topic, { partitions: 2 });
  });
  after(async () => {
    await deleteTopic(source, topic).catch(() => {});
    await ws.cleanup();
  });

  test('streams new records into checkpoints until SIGTERM, then commits and exits 0', async () => {
    const config = await ws.writeConfig('continuous.yaml', {
      kafkaCluster: { bootstrapServers: [need('kafka').source.bootstrap] },
      topics: [topic],
      storage: { storageType: 'filesystem', filesystem: { path: `${ws.dir}/store` } },
      backupId: 'stream',
      continuous: true,
      segmentMaxIntervalMs: 300,
      checkpoint: { intervalSecs: 1 },
    });
    const child = spawn(...cliCommand(['backup', '-c', config]), { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const describeRecords = async () => {
      const run = await runCli(['describe', '-c', config, '-o', 'json']);
      if (run.code !== 0) return 0;
      return ((parseJsonOutput(run).topics as { records: number }[])[0]?.records ?? 0) as number;
    };
    const waitFor = async (n: number) => {
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        if ((await describeRecords()) === n) return;
        await new Promise((r) => setTimeout(r, 500));
      }
      throw new Error(`the backup did not reach ${n} committed records:\n${stderr}`);
    };
    await produceAll(source, topic, fidelityRecords(1000, 2, 1));
    await waitFor(1000);
    await produceAll(source, topic, fidelityRecords(500, 2, 2));
    await waitFor(1500);
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
    assert.match(stderr, /"msg":"checkpoint committed"[^\n]*"final":true/);
    // A one-shot run of the same backup afterwards finds nothing new: the stream committed everything.
    const oneShot = await ws.writeConfig('one-shot.yaml', {
      kafkaCluster: { bootstrapServers: [need('kafka').source.bootstrap] },
      topics: [topic],
      storage: { storageType: 'filesystem', filesystem: { path: `${ws.dir}/store` } },
      backupId: 'stream',
    });
    const again = parseJsonOutput(await runCli(['backup', '-c', oneShot, '-o', 'json']));
    assert.equal(again.mode, 'incremental');
    assert.equal(again.records, 0);
  });
});
