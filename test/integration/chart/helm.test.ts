/**
 * The Helm chart on the test environment's real kube-apiserver: `helm install` (without --wait: the
 * tests judge the objects, the permissions they grant and Pod Security admission, not running Pods),
 * `helm upgrade` to a chart whose CRD changed, and `helm uninstall`, which keeps the CRDs and the
 * custom resources.
 *
 * CRDs are cluster-scoped, and the kafka.oso.sh ones are shared: other test files, and other
 * checkouts' tests on the same environment, server-side apply crds/ at any time. This file never
 * touches them:
 * - Adopting them into a release would work (label and annotate them) but the upgrade step changes
 *   a CRD's schema, and a CRD's `spec.versions` is one atomic field for server-side apply: while the
 *   changed schema is live, another test's apply of crds/ without --force-conflicts would fail on a
 *   conflict with Helm, and one with --force-conflicts would undo the change under this test.
 * - So the operator install test runs with crds.install=false (RBAC names the kafka.oso.sh
 *   resources whether or not their CRDs exist), and the CRD lifecycle test installs a copy of the
 *   chart whose five CRDs are moved to an API group of this test's own, and renamed (kinds, plural
 *   and singular names prefixed, no short names or category): a same-named resource in another group
 *   could otherwise be what `kubectl get kafkabackups` or `kubectl get kb` finds in other tests.
 *   Schemas, rules, columns and subresources are the chart's. Install, adoption, upgrade and
 *   uninstall thus run on CRDs that nothing else reads or writes; they are deleted afterwards.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { CRD_DIR } from '../../../scripts/gen-crds.ts';
import { uniqueName } from '../../env/fixture.ts';
import { type CleanupScope, KubeClient } from '../../env/kube-client.ts';
import { BASE_SPECS } from '../../fixtures/invalid-specs.ts';
import { CHART_DIR, type Values, valueArgs } from '../../unit/chart/helm-chart.ts';
import { eventually } from '../operator/operator-env.ts';

const HELM_TIMEOUT = { timeoutMs: 180_000 };

/** A release name and a namespace of its own; the release is uninstalled, if still there, after the test. */
async function newRelease(kube: KubeClient, t: CleanupScope) {
  const namespace = await kube.createNamespace('chart', t);
  const release = uniqueName('kbo').slice(0, 40);
  t.after(() =>
    kube.helm(['uninstall', release, '-n', namespace, '--ignore-not-found'], HELM_TIMEOUT).catch(() => {}),
  );
  return { release, namespace, fullname: `${release}-kafka-backup-operator` };
}

const KB = { group: 'kafka.oso.sh', resource: 'kafkabackups' };

const exists = async (kube: KubeClient, args: string[]) =>
  (await kube.tryKubectl(['get', ...args])).code === 0;

describe('the Helm chart on kube-apiserver', { timeout: 600_000 }, () => {
  test('installs the operator watching one namespace: Deployment, RBAC there and nothing cluster-wide, Service, PDB, NetworkPolicy', async (t) => {
    const kube = KubeClient.admin();
    const [watched, other] = await Promise.all(
      ['chart-watched', 'chart-other'].map((p) => kube.createNamespace(p, t)),
    );
    const { release, namespace, fullname } = await newRelease(kube, t);
    const values = {
      crds: { install: false },
      watchNamespaces: [watched],
      rbac: { secretNames: ['s3-credentials'] },
    };
    await kube.helm(['install', release, CHART_DIR, '-n', namespace, ...valueArgs(values)], HELM_TIMEOUT);

    // kubectl get fails when any one of them is missing.
    const names = (kinds: string[], name: string) => kinds.map((kind) => `${kind}/${name}`);
    await kube.kubectl([
      'get',
      '-n',
      namespace,
      ...names(['deployment', 'serviceaccount', 'poddisruptionbudget', 'networkpolicy'], fullname),
      ...names(['role', 'rolebinding'], `${fullname}-leader-election`),
      `service/${fullname}-metrics`,
    ]);
    await kube.kubectl([
      'get',
      '-n',
      watched as string,
      ...names(['role', 'rolebinding'], fullname),
      ...names(['role', 'rolebinding'], `${fullname}-secrets`),
    ]);
    const clusterWide = await kube.kubectl([
      'get',
      'clusterroles,clusterrolebindings',
      '-l',
      `app.kubernetes.io/instance=${release}`,
      '-o',
      'name',
    ]);
    assert.equal(clusterWide.trim(), '', 'nothing cluster-wide');

    const deployment = await kube.getJson<{
      spec: { template: { spec: { containers: { args: string[] }[] } } };
    }>(['-n', namespace, `deployment/${fullname}`]);
    const pod = deployment.spec.template.spec;
    assert.ok(pod.containers[0]?.args.includes(`--watch-namespaces=${watched}`));

    const sa = `system:serviceaccount:${namespace}:${fullname}`;
    const allows = (attributes: Parameters<KubeClient['allows']>[1]) => kube.allows(sa, attributes);
    const inWatched = { namespace: watched as string };
    await eventually('the RBAC takes effect', () => allows({ verb: 'watch', ...KB, ...inWatched }));
    assert.equal(await allows({ verb: 'patch', ...KB, subresource: 'status', ...inWatched }), true);
    assert.equal(await allows({ verb: 'create', resource: 'jobs', group: 'batch', ...inWatched }), true);
    assert.equal(
      await allows({ verb: 'get', resource: 'secrets', name: 's3-credentials', ...inWatched }),
      true,
    );
    assert.equal(await allows({ verb: 'get', resource: 'secrets', name: 'other', ...inWatched }), false);
    assert.equal(await allows({ verb: 'list', resource: 'secrets', ...inWatched }), false);
    assert.equal(await allows({ verb: 'watch', ...KB, namespace: other as string }), false, 'not watched');
    const lease = { verb: 'update', resource: 'leases', group: 'coordination.k8s.io', namespace };
    assert.equal(await allows({ ...lease, name: `${fullname}-leader` }), true);
    assert.equal(await allows({ ...lease, name: 'someone-else' }), false);

    // The Pod template passes Pod Security `restricted` admission where it is enforced.
    await kube.kubectl(['label', 'namespace', namespace, 'pod-security.kubernetes.io/enforce=restricted']);
    const admitted = await kube.tryKubectl(['apply', '--dry-run=server', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'probe', namespace },
        spec: pod,
      }),
    });
    assert.equal(admitted.code, 0, admitted.stderr);
    assert.doesNotMatch(admitted.stderr, /PodSecurity/);

    await kube.helm(['uninstall', release, '-n', namespace], HELM_TIMEOUT);
    assert.equal(await exists(kube, ['-n', namespace, `deployment/${fullname}`]), false);
    assert.equal(await exists(kube, ['-n', watched as string, `role/${fullname}`]), false);
  });

  test('CRDs: install adopts a kubectl-applied one once labelled, upgrade changes a schema, uninstall keeps CRDs and resources', async (t) => {
    const kube = KubeClient.admin();
    const group = `${uniqueName('chart')}.test.oso.sh`;
    const chart = privateChart(group, t);
    const crdNames = readdirSync(join(chart, 'templates', 'crds')).map(
      (f) => `${PREFIX.toLowerCase()}${f.replace('.kafka.oso.sh.yaml', '')}.${group}`,
    );
    t.after(() => kube.tryKubectl(['delete', 'crd', ...crdNames, '--ignore-not-found', '--wait=false']));
    const kafkabackups = `${PREFIX.toLowerCase()}kafkabackups.${group}`;
    const apiVersion = `${group}/v1alpha1`;

    // A CRD applied with kubectl first, as from crds/: Helm refuses to take it over as it is...
    const first = parse(readFileSync(join(CRD_DIR, 'kafkabackups.kafka.oso.sh.yaml'), 'utf8'));
    moveToGroup(first, group);
    await kube.kubectl(['apply', '--server-side', '-f', '-'], { input: stringify(first) });
    const { release, namespace, fullname } = await newRelease(kube, t);
    await assert.rejects(
      kube.helm(['install', release, chart, '-n', namespace], HELM_TIMEOUT),
      /invalid ownership metadata/,
    );
    // ...and adopts it once labelled and annotated for the release (README.md, "CRDs").
    await kube.kubectl(['label', 'crd', kafkabackups, 'app.kubernetes.io/managed-by=Helm', '--overwrite']);
    await kube.kubectl([
      'annotate',
      'crd',
      kafkabackups,
      `meta.helm.sh/release-name=${release}`,
      `meta.helm.sh/release-namespace=${namespace}`,
      '--overwrite',
    ]);
    await kube.helm(['install', release, chart, '-n', namespace], HELM_TIMEOUT);
    await kube.kubectl([
      'wait',
      '--for=condition=Established',
      '--timeout=60s',
      ...crdNames.map((n) => `crd/${n}`),
    ]);
    const annotations = async (crd: string) =>
      (await kube.getJson<{ metadata: { annotations: Record<string, string> } }>(['crd', crd])).metadata
        .annotations;
    for (const name of crdNames) {
      assert.equal((await annotations(name))['helm.sh/resource-policy'], 'keep', name);
      assert.equal((await annotations(name))['meta.helm.sh/release-name'], release, name);
    }
    // The default, cluster-wide mode: a ClusterRole per release, valid in any namespace.
    assert.ok(await exists(kube, [`clusterrole/${fullname}`, `clusterrolebinding/${fullname}-secrets`]));
    const sa = `system:serviceaccount:${namespace}:${fullname}`;
    await eventually('the ClusterRole takes effect', () =>
      kube.allows(sa, { verb: 'watch', ...KB, namespace: 'anywhere' }),
    );

    const resources = await kube.createNamespace('chart-crs', t);
    const backup = (name: string, extra: Values = {}) =>
      JSON.stringify({
        apiVersion,
        kind: `${PREFIX}KafkaBackup`,
        metadata: { name, namespace: resources },
        spec: { ...BASE_SPECS.KafkaBackup, ...extra },
      });
    const get = (name: string) =>
      kube.getJson<{ metadata: { uid: string }; spec: Values }>(['-n', resources, `${kafkabackups}/${name}`]);
    await kube.kubectl(['create', '-f', '-'], { input: backup('before-upgrade') });
    const { uid } = (await get('before-upgrade')).metadata;

    // Upgrade to a chart whose KafkaBackup CRD has one more field.
    editCrd(chart, 'kafkabackups', (crd) => {
      const spec = crd.spec.versions[0].schema.openAPIV3Schema.properties.spec;
      spec.properties.chartUpgradeProbe = { type: 'string', description: 'Added by the chart upgrade test.' };
    });
    await kube.helm(['upgrade', release, chart, '-n', namespace], HELM_TIMEOUT);
    const upgraded = await kube.getJson<Crd>(['crd', kafkabackups]);
    assert.deepEqual(
      upgraded.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.chartUpgradeProbe,
      {
        type: 'string',
        description: 'Added by the chart upgrade test.',
      },
    );
    assert.equal((await get('before-upgrade')).metadata.uid, uid, 'the resource survives the upgrade');
    // The new schema is served: the field is stored, not pruned (the API server swaps its handler
    // shortly after the CRD changes).
    await eventually('the upgraded schema keeps the new field', async () => {
      const input = backup('after-upgrade', { chartUpgradeProbe: 'kept' });
      return (
        (await kube.tryKubectl(['apply', '-f', '-'], { input })).code === 0 &&
        (await get('after-upgrade')).spec.chartUpgradeProbe === 'kept'
      );
    });

    await kube.helm(['uninstall', release, '-n', namespace], HELM_TIMEOUT);
    assert.equal(await exists(kube, [`clusterrole/${fullname}`]), false, 'the release is gone');
    for (const name of crdNames) {
      assert.equal((await annotations(name))['meta.helm.sh/release-name'], release, `${name} is kept`);
    }
    assert.equal((await get('before-upgrade')).metadata.uid, uid, 'the resources are kept');
    assert.equal((await get('after-upgrade')).spec.chartUpgradeProbe, 'kept');
  });
});

// biome-ignore lint/suspicious/noExplicitAny: a CRD as parsed YAML
type Crd = any;

/** Prefixes the kinds and resource names of the test's private CRDs. */
const PREFIX = 'ChartTest';

/** Moves a CRD into `group` under prefixed names, without short names or category. */
function moveToGroup(crd: Crd, group: string): void {
  const { names } = crd.spec;
  crd.spec.group = group;
  crd.spec.names = {
    kind: `${PREFIX}${names.kind}`,
    listKind: `${PREFIX}${names.listKind}`,
    plural: `${PREFIX.toLowerCase()}${names.plural}`,
    singular: `${PREFIX.toLowerCase()}${names.singular}`,
  };
  crd.metadata.name = `${crd.spec.names.plural}.${group}`;
}

/**
 * The generated CRD template's YAML between its first two lines (header comment and
 * `{{- if .Values.crds.install }}`) and its last (`{{- end }}`), edited and written back.
 */
function editCrd(chart: string, plural: string, edit: (crd: Crd) => void): void {
  const file = join(chart, 'templates', 'crds', `${plural}.kafka.oso.sh.yaml`);
  const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
  const [header, open, end] = [lines.slice(0, 2), lines.slice(2, -1), lines.at(-1)];
  assert.match(header[1] ?? '', /^\{\{- if \.Values\.crds\.install \}\}$/);
  assert.equal(end, '{{- end }}');
  const crd = parse(open.join('\n'));
  edit(crd);
  writeFileSync(file, `${header.join('\n')}\n${stringify(crd, { lineWidth: 0 })}${end}\n`);
}

/** A copy of the chart whose CRDs are in `group`, removed after the test. */
function privateChart(group: string, t: CleanupScope): string {
  const dir = mkdtempSync(join(tmpdir(), 'kafka-backup-chart-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const chart = join(dir, 'kafka-backup-operator');
  cpSync(CHART_DIR, chart, { recursive: true });
  for (const file of readdirSync(join(chart, 'templates', 'crds'))) {
    editCrd(chart, file.replace('.kafka.oso.sh.yaml', ''), (crd) => moveToGroup(crd, group));
  }
  return chart;
}
