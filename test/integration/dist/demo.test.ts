/**
 * `npm run demo`, the README's main command, on the running test environment: it applies dist/,
 * runs the operator as its ServiceAccount, backs up on schedule, restores by backupRef.name and
 * checks every record arrived. Run as the user runs it, as a process; it must exit 0.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { REPO } from '../api/crd-install.ts';

test('npm run demo: scheduled backups to MinIO and a restore by backupRef.name, every record restored', {
  timeout: 300_000,
}, async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', join(REPO, 'scripts/demo.ts')],
    { cwd: REPO, env: process.env, maxBuffer: 16 * 1024 * 1024, timeout: 280_000 },
  ).catch((error: { stdout?: string; stderr?: string; message: string }) => {
    assert.fail(`the demo failed: ${error.message}\n${error.stdout ?? ''}\n${error.stderr ?? ''}`);
  });
  assert.match(stdout, /restored 20000 of 20000 orders/);
  // Runs are incremental: together the scheduled runs stored each order once.
  const stored = [...stdout.matchAll(/\bstored (\d+) records/g)].map((m) => Number(m[1]));
  assert.ok(stored.filter((n) => n > 0).length >= 2, stdout);
  assert.equal(
    stored.reduce((a, b) => a + b, 0),
    20000,
    stdout,
  );
  assert.match(stdout, /RestoreCompleted/);
  assert.match(stdout, /kafka_backup_\w*runs_total\{kind="KafkaRestore",result="succeeded"\} 1/);
});
