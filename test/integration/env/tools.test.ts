/**
 * Proves helm and kubectl of the test environment are the pinned releases and work: helm renders
 * a chart offline and installs it into the test environment's API server.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { need } from '../../env/fixture.ts';
import { KubeClient, parseManifests } from '../../env/kube-client.ts';
import { run } from '../../env/process.ts';

/** The version a tools module pins in its go.mod, e.g. `helm.sh/helm/v3 v3.22.0`. */
function pinned(module: string, path: string): string {
  const goMod = readFileSync(new URL(`../../env/tools/${module}/go.mod`, import.meta.url), 'utf8');
  const version = new RegExp(`${path.replaceAll('.', '\\.')} (v[0-9.]+)`).exec(goMod)?.[1];
  assert.ok(version, `test/env/tools/${module}/go.mod pins ${path}`);
  return version;
}

/** A one-template chart in a temporary directory, removed after the test. */
function writeChart(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'kafka-backup-chart-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'templates'));
  writeFileSync(join(dir, 'Chart.yaml'), 'apiVersion: v2\nname: tiny\nversion: 0.1.0\n');
  writeFileSync(join(dir, 'values.yaml'), 'greeting: hello\n');
  writeFileSync(
    join(dir, 'templates', 'configmap.yaml'),
    [
      'apiVersion: v1',
      'kind: ConfigMap',
      'metadata:',
      '  name: {{ .Release.Name }}-greeting',
      '  namespace: {{ .Release.Namespace }}',
      'data:',
      '  greeting: {{ .Values.greeting | quote }}',
      '',
    ].join('\n'),
  );
  return dir;
}

describe('helm and kubectl of the test environment', () => {
  test('kubectl is the pinned Kubernetes release', async () => {
    const out = await run(need('tools').kubectl, ['version', '--client', '-o', 'json']);
    const version = JSON.parse(out) as { clientVersion: { gitVersion: string } };
    assert.equal(version.clientVersion.gitVersion, pinned('kube', 'k8s.io/kubernetes'));
  });

  test('helm is the pinned Helm 3 release', async () => {
    const out = await run(need('tools').helm, ['version', '--template', '{{ .Version }}']);
    assert.equal(out.trim(), pinned('helm', 'helm.sh/helm/v3'));
  });

  test('helm renders a chart offline', async (t) => {
    const chart = writeChart(t);
    const out = await run(need('tools').helm, [
      'template',
      'demo',
      chart,
      '--namespace',
      'somewhere',
      '--set',
      'greeting=hi there',
    ]);
    const [configMap, ...rest] = parseManifests(out);
    assert.equal(rest.length, 0);
    assert.equal(configMap?.kind, 'ConfigMap');
    assert.equal(configMap?.metadata.name, 'demo-greeting');
    assert.equal(configMap?.metadata.namespace, 'somewhere');
    assert.deepEqual((configMap as unknown as { data: unknown }).data, { greeting: 'hi there' });
  });

  test('helm installs a chart into the test API server', async (t) => {
    const admin = KubeClient.admin();
    const namespace = await admin.createNamespace('tools-helm', t);
    const chart = writeChart(t);
    await admin.helm(['install', 'demo', chart, '--namespace', namespace, '--set', 'greeting=installed']);
    const configMap = await admin.getJson<{ data: Record<string, string> }>([
      '-n',
      namespace,
      'configmap',
      'demo-greeting',
    ]);
    assert.deepEqual(configMap.data, { greeting: 'installed' });
    const releases = JSON.parse(await admin.helm(['list', '--namespace', namespace, '-o', 'json'])) as {
      name: string;
      status: string;
    }[];
    assert.deepEqual(
      releases.map((r) => [r.name, r.status]),
      [['demo', 'deployed']],
    );
  });
});
