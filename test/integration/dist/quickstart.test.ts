/** The README's quick start, end to end: run it, apply its output to kube-apiserver, read it back. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { KubeClient } from '../../env/kube-client.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));

test('the quick start synthesizes, applies with kubectl, and is accepted as written', async (t) => {
  const kube = KubeClient.admin();
  const namespace = await kube.createNamespace('kb-quickstart', t);
  const out = mkdtempSync(join(tmpdir(), 'kafka-backup-quickstart-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  execFileSync(process.execPath, ['--import', 'tsx', join(root, 'examples/quickstart.ts')], {
    cwd: root,
    env: { ...process.env, CDK8S_OUTDIR: out },
  });

  // Twice: the first apply may race the CRDs becoming Established on a fresh cluster.
  let applied = await kube.tryKubectl(['apply', '--server-side', '-n', namespace, '-f', out]);
  if (applied.code !== 0) {
    await kube.kubectl([
      'wait',
      '--for',
      'condition=Established',
      '--timeout=60s',
      'crd/kafkabackups.kafka.oso.sh',
    ]);
    applied = await kube.tryKubectl(['apply', '--server-side', '-n', namespace, '-f', out]);
  }
  assert.equal(applied.code, 0, applied.stderr);

  const list = await kube.getJson<{ items: Array<{ kind: string; spec: Record<string, unknown> }> }>([
    'kafka-backup',
    '-n',
    namespace,
  ]);
  assert.deepEqual(list.items.map((o) => o.kind).sort(), ['KafkaBackup', 'KafkaRestore']);
  const backup = list.items.find((o) => o.kind === 'KafkaBackup');
  assert.equal(backup?.spec.schedule, '0 0 * * * *');
  // The API server filled in the CRD defaults, e.g. zstd compression.
  assert.equal(backup?.spec.compression, 'zstd');
});
