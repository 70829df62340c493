/**
 * dist/ on a real kube-apiserver: the example app (the very app that writes dist/, here into a
 * namespace of the test's own) applies with `kubectl apply --server-side -f DIR`, CRDs first; a
 * second apply changes nothing; the operator's pod template passes Pod Security `restricted`
 * admission; the granted RBAC allows exactly what it says.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { createExampleApp } from '../../../examples/app.ts';
import { KUSTOMIZATION_FILE, synthesizeForGitOps } from '../../../lib/index.ts';
import { uniqueName } from '../../env/fixture.ts';
import { KubeClient } from '../../env/kube-client.ts';

type KubeObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string };
};

describe('dist/ applied to kube-apiserver', { timeout: 300_000 }, () => {
  const kube = KubeClient.admin();
  const namespace = uniqueName('kb-dist').slice(0, 40);
  const dir = mkdtempSync(join(tmpdir(), 'kafka-backup-dist-'));
  let files: string[] = [];
  let objects: KubeObject[] = [];

  before(() => {
    files = synthesizeForGitOps(createExampleApp({ namespace }), { outdir: dir });
    objects = files
      .filter((f) => f !== KUSTOMIZATION_FILE)
      .flatMap((f) =>
        parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS() as KubeObject),
      );
  });

  after(async () => {
    // CRDs stay (other tests share them); everything else this test created goes.
    const created = objects.filter((o) => o.kind !== 'CustomResourceDefinition' && o.kind !== 'Namespace');
    for (const o of created.filter((o) => o.metadata.namespace === undefined)) {
      await kube.tryKubectl([
        'delete',
        o.kind.toLowerCase(),
        o.metadata.name,
        '--ignore-not-found',
        '--wait=false',
      ]);
    }
    await kube.deleteNamespace(namespace);
    rmSync(dir, { recursive: true, force: true });
  });

  test('kubectl apply --server-side -f DIR succeeds (CRDs first, then the rest)', async () => {
    const crdFiles = readdirSync(dir).filter((f) => f.startsWith('00-crd-'));
    assert.equal(crdFiles.length, 5);
    await kube.kubectl(['apply', '--server-side', ...crdFiles.flatMap((f) => ['-f', join(dir, f)])]);
    const crdNames = objects
      .filter((o) => o.kind === 'CustomResourceDefinition')
      .map((o) => `crd/${o.metadata.name}`);
    await kube.kubectl(['wait', '--for', 'condition=Established', '--timeout=60s', ...crdNames]);
    const out = await kube.kubectl(['apply', '--server-side', '-f', dir]);
    for (const o of objects) {
      assert.match(
        out,
        new RegExp(`${o.metadata.name.replace(/\./g, '\\.')} serverside-applied`),
        `${o.kind} ${o.metadata.name}`,
      );
    }
  });

  test('a second apply changes nothing', async () => {
    const versions = async () => {
      const list = await kube.getJson<{ items: KubeObject[] }>(['-f', dir]);
      return Object.fromEntries(
        list.items.map((o) => [
          `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`,
          o.metadata.resourceVersion,
        ]),
      );
    };
    const before = await versions();
    assert.equal(Object.keys(before).length, objects.length, 'every object exists');
    const diff = await kube.tryKubectl(['diff', '--server-side', '-f', dir]);
    assert.equal(diff.code, 0, `kubectl diff found changes:\n${diff.stdout}${diff.stderr}`);
    await kube.kubectl(['apply', '--server-side', '-f', dir]);
    assert.deepEqual(await versions(), before, 'no object changed its resourceVersion');
  });

  test('the five kinds are listed together through their category', async () => {
    const list = await kube.getJson<{ items: KubeObject[] }>(['kafka-backup', '-n', namespace]);
    const expected = objects
      .filter((o) => o.apiVersion === 'kafka.oso.sh/v1alpha1')
      .map((o) => `${o.kind}/${o.metadata.name}`);
    assert.equal(expected.length, 9);
    assert.deepEqual(list.items.map((o) => `${o.kind}/${o.metadata.name}`).sort(), expected.sort());
  });

  test('the operator pod passes Pod Security restricted admission in its namespace', async () => {
    const deployment = await kube.getJson<{ spec: { template: { metadata: object; spec: object } } }>([
      '-n',
      namespace,
      'deployment/kafka-backup-operator',
    ]);
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'pod-security-probe', namespace },
      spec: deployment.spec.template.spec,
    };
    // The namespace enforces `restricted`; a violating pod is refused at admission even in a dry run.
    const result = await kube.tryKubectl(['apply', '--dry-run=server', '-f', '-'], {
      input: JSON.stringify(pod),
    });
    assert.equal(result.code, 0, result.stderr);
    assert.doesNotMatch(result.stderr, /would violate PodSecurity/);
    const privileged = structuredClone(pod) as { spec: { containers: Array<{ securityContext: object }> } };
    for (const c of privileged.spec.containers) c.securityContext = { privileged: true };
    const refused = await kube.tryKubectl(['apply', '--dry-run=server', '-f', '-'], {
      input: JSON.stringify(privileged),
    });
    assert.notEqual(refused.code, 0, 'the namespace does enforce restricted');
    assert.match(refused.stderr, /violates PodSecurity "restricted/);
  });

  test('RBAC: the operator may read only the referenced Secrets; the CI bot may trigger only its restore', async () => {
    const sa = `system:serviceaccount:${namespace}:kafka-backup-operator`;
    const can = async (who: string, verb: string, resource: string, ns = namespace) =>
      (await kube.tryKubectl(['auth', 'can-i', verb, resource, '-n', ns, '--as', who])).stdout.trim() ===
      'yes';
    assert.equal(await can(sa, 'get', 'secret/s3-credentials'), true);
    assert.equal(
      await can(sa, 'get', 'secret/kafka-backup-key', 'another-namespace'),
      true,
      'cluster-wide install',
    );
    assert.equal(await can(sa, 'get', 'secret/unrelated'), false);
    assert.equal(await can(sa, 'list', 'secrets'), false);
    assert.equal(await can(sa, 'patch', 'kafkabackups.kafka.oso.sh/status'), true);
    assert.equal(await can(sa, 'update', 'kafkarestores.kafka.oso.sh/finalizers'), true);
    assert.equal(await can(sa, 'create', 'jobs.batch'), true);
    assert.equal(await can(sa, 'delete', 'kafkabackups.kafka.oso.sh'), false);
    assert.equal(await can(sa, 'create', 'leases.coordination.k8s.io'), true);
    assert.equal(await can(sa, 'update', 'leases.coordination.k8s.io/kafka-backup-operator-leader'), true);
    assert.equal(await can(sa, 'update', 'leases.coordination.k8s.io/someone-else'), false);
    const ci = `system:serviceaccount:${namespace}:ci-bot`;
    assert.equal(await can(ci, 'patch', 'kafkarestores.kafka.oso.sh/prod-restore-drill'), true);
    assert.equal(await can(ci, 'patch', 'kafkarestores.kafka.oso.sh/pitr-restore'), false);
    assert.equal(await can(ci, 'delete', 'kafkarestores.kafka.oso.sh/prod-restore-drill'), false);
    assert.equal(
      await can(ci, 'get', 'kafkabackupvalidations.kafka.oso.sh/prod-restore-drill-validation'),
      true,
    );
  });
});
