import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { need, uniqueName } from '../../env/fixture.ts';
import { runCli, workspace } from './cli-helpers.ts';

/** Errors say what to do and map to the documented exit codes. */
describe('CLI errors and exit codes', { timeout: 120_000 }, () => {
  let ws: Awaited<ReturnType<typeof workspace>>;
  before(async () => {
    ws = await workspace();
  });
  after(async () => ws.cleanup());

  test('usage: no command prints the help (exit 2); --help exits 0; unknown command exits 2', async () => {
    const none = await runCli([]);
    assert.equal(none.code, 2);
    assert.match(none.stdout, /Exit codes:/);
    assert.equal((await runCli(['--help'])).code, 0);
    const unknown = await runCli(['explode', '--config', 'x.yaml']);
    assert.equal(unknown.code, 2);
    assert.match(
      unknown.stderr,
      /unknown command 'explode': use backup, restore, list, describe, verify or prune/,
    );
    const noConfig = await runCli(['backup']);
    assert.equal(noConfig.code, 2);
    assert.match(noConfig.stderr, /needs --config FILE/);
  });

  test('an invalid configuration lists every problem with its field (exit 2)', async () => {
    const file = await ws.writeConfig('bad.yaml', {
      kafkaCluster: { bootstrapServers: ['no-port'] },
      storage: { storageType: 'tape' },
      compression: 'brotli',
    });
    const run = await runCli(['backup', '--config', file]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /topics: is required/);
    assert.match(run.stderr, /storage.storageType: expected one of pvc, filesystem, s3, azure, gcs/);
    assert.match(run.stderr, /compression: expected one of zstd, lz4, gzip, none/);
  });

  test('an unreachable cluster is a Kafka error (exit 4) naming the servers', async () => {
    const file = await ws.writeConfig('unreachable.yaml', {
      kafkaCluster: { bootstrapServers: ['127.0.0.1:1'], connection: { connectTimeoutMs: 500 } },
      topics: ['t'],
      storage: { storageType: 'filesystem', filesystem: { path: `${ws.dir}/store` } },
    });
    const run = await runCli(['backup', '--config', file, '--output', 'json']);
    assert.equal(run.code, 4, run.stderr);
    const out = JSON.parse(run.stdout) as { ok: boolean; error: string };
    assert.equal(out.ok, false);
    assert.match(out.error, /127\.0\.0\.1:1/);
  });

  test('a pattern that selects no topic: exit 6, and no empty backup is left behind', async () => {
    const storage = { storageType: 'filesystem', filesystem: { path: `${ws.dir}/nothing` } };
    const file = await ws.writeConfig('no-topics.yaml', {
      kafkaCluster: { bootstrapServers: [need('kafka').source.bootstrap] },
      topics: [`${uniqueName('absent')}-*`],
      storage,
    });
    const run = await runCli(['backup', '--config', file]);
    assert.equal(run.code, 6, run.stderr);
    assert.match(run.stderr, /no topic on kafka:\/\/\S+ matches/);
    const list = await runCli(['list', '--config', file, '--output', 'json']);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual((JSON.parse(list.stdout) as { backups: unknown[] }).backups, []);
  });

  test('describe of a backup that does not exist: exit 6', async () => {
    const file = await ws.writeConfig('missing.yaml', {
      storage: { storageType: 'filesystem', filesystem: { path: `${ws.dir}/empty` } },
      backupId: 'nope',
    });
    const run = await runCli(['describe', '--config', file]);
    assert.equal(run.code, 6, run.stderr);
    assert.match(run.stderr, /backup 'nope' not found .*'kafka-backup list'/);
  });
});
