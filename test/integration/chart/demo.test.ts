/**
 * `npm run demo`, the README's main command, on the running test environment, run as the user runs
 * it (a process that must exit 0): it installs the chart with Helm on the node, backs up on
 * schedule, restores by backupRef.name and checks that every record arrived.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { KubeClient } from '../../env/kube-client.ts';
import { installCrds, REPO } from '../api/crd-install.ts';

test('npm run demo: helm install on the node, scheduled backups to MinIO and a restore by backupRef.name, every record restored', {
  timeout: 600_000,
}, async () => {
  // Other test files apply the CRDs with kubectl, concurrently; applied first, the demo finds them
  // deterministically and installs its release with crds.install=false (helm.test.ts covers the
  // chart installing and upgrading CRDs itself).
  await installCrds(KubeClient.admin());
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', join(REPO, 'scripts/demo.ts')],
    {
      cwd: REPO,
      env: process.env,
      maxBuffer: 16 * 1024 * 1024,
      timeout: 580_000,
    },
  ).catch((error: { stdout?: string; stderr?: string; message: string }) => {
    assert.fail(`the demo failed: ${error.message}\n${error.stdout ?? ''}\n${error.stderr ?? ''}`);
  });
  assert.match(stdout, /helm upgrade --install kafka-backup-operator runtime\/chart\/kafka-backup-operator/);
  assert.match(stdout, /the CRDs are already installed by kubectl: crds.install=false/);
  assert.match(stdout, /the Lease kafka-backup-operator-leader is held by kafka-backup-operator-/);
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
  assert.match(stdout, /helm uninstall kafka-backup-operator -n kafka-backup/);
});
