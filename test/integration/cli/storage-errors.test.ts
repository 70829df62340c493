import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { need, uniqueName } from '../../env/fixture.ts';
import { createTopic, deleteTopic } from '../../env/kafka-client.ts';
import { fidelityRecords, produceAll, testConnection } from '../engine/helpers.ts';
import { runCli, workspace } from './cli-helpers.ts';

/** Issue 10: storage failures name their cause and the fix. */
describe('CLI: storage errors name the cause', { timeout: 180_000 }, () => {
  const source = testConnection('source');
  const topic = uniqueName('storage-errors');
  let ws: Awaited<ReturnType<typeof workspace>>;
  before(async () => {
    ws = await workspace();
    await createTopic(source, topic, { partitions: 1 });
    await produceAll(source, topic, fidelityRecords(50, 1));
  });
  after(async () => {
    await deleteTopic(source, topic).catch(() => {});
    await ws.cleanup();
  });

  test('an S3 endpoint that is down: exit 5, the refused connection and the setting to check', async () => {
    const file = await ws.writeConfig('s3-down.yaml', {
      kafkaCluster: { bootstrapServers: [need('kafka').source.bootstrap] },
      topics: [topic],
      storage: {
        storageType: 's3',
        s3: {
          bucket: 'b',
          region: 'us-east-1',
          endpoint: 'http://127.0.0.1:1',
          pathStyle: true,
          allowHttp: true,
        },
      },
    });
    const secret = 'not-a-real-secret-key-5e1';
    const run = await runCli(['backup', '-c', file, '-o', 'json'], {
      AWS_ACCESS_KEY_ID: 'test-access-key',
      AWS_SECRET_ACCESS_KEY: secret,
    });
    assert.equal(run.code, 5, run.stderr);
    const error = (JSON.parse(run.stdout) as { error: string }).error;
    assert.match(error, /ECONNREFUSED 127\.0\.0\.1:1/);
    assert.match(error, /check storage\.s3\.endpoint/);
    assert.ok(!run.stdout.includes(secret) && !run.stderr.includes(secret));
  });

  test('a filesystem path that is a file: says so (exit 5), not "no object at"', async () => {
    const notADir = `${ws.dir}/a-file`;
    await writeFile(notADir, 'x');
    const file = await ws.writeConfig('fs-file.yaml', {
      storage: { storageType: 'filesystem', filesystem: { path: notADir } },
      backupId: 'nope',
    });
    for (const command of ['list', 'describe']) {
      const run = await runCli([command, '-c', file]);
      assert.equal(run.code, 5, run.stderr);
      assert.match(run.stderr, /storage path \S+a-file exists but is not a directory/);
      assert.doesNotMatch(run.stderr, /no object at/);
    }
  });
});
