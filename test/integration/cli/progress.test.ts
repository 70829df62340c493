import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { need, uniqueName } from '../../env/fixture.ts';
import { createTopic, deleteTopic } from '../../env/kafka-client.ts';
import { fidelityRecords, produceAll, testConnection } from '../engine/helpers.ts';
import { cliCommand, workspace } from './cli-helpers.ts';

const source = testConnection('source');
const topic = uniqueName('tty');
let ws: Awaited<ReturnType<typeof workspace>>;
before(async () => {
  ws = await workspace();
  await createTopic(source, topic, { partitions: 2 });
  await produceAll(source, topic, fidelityRecords(20_000, 2));
});
after(async () => {
  await deleteTopic(source, topic).catch(() => {});
  await ws.cleanup();
});

test('on a terminal the backup shows a progress line with throughput and ETA instead of JSON logs', async () => {
  const config = await ws.writeConfig('tty.yaml', {
    kafkaCluster: { bootstrapServers: [need('kafka').source.bootstrap] },
    topics: [topic],
    storage: { storageType: 'filesystem', filesystem: { path: `${ws.dir}/store` } },
    rateLimiting: { recordsPerSec: 8000 },
  });
  const [node, args] = cliCommand(['backup', '-c', config]);
  const command = [node, ...args].map((a) => `'${a}'`).join(' ');
  // script(1) runs the CLI on a pseudo-terminal, as a person would.
  const { stdout } = await promisify(execFile)('script', ['-qec', command, '/dev/null'], {
    timeout: 120_000,
  });
  assert.match(stdout, /backup \[[#.]+\] +\d+\.\d% \d+\/20000 records +\d+ rec\/s +[\d.]+ \w+\/s ETA \d+s/);
  assert.match(stdout, /20000 records from 2 partitions/);
  assert.doesNotMatch(stdout, /"level":"info"/, 'no JSON info logs on a terminal');
});
