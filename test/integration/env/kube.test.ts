/**
 * Proves the test environment runs a real kube-apiserver: CRDs are established and validated,
 * RBAC denies and then allows a ServiceAccount that authenticates with a TokenRequest token.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SERVICE_ACCOUNT_ISSUER } from '../../env/components/kube.ts';
import { uniqueName } from '../../env/fixture.ts';
import { KubeClient, type KubeObject } from '../../env/kube-client.ts';

const kubePin = /k8s\.io\/kubernetes (v[0-9.]+)/.exec(
  readFileSync(new URL('../../env/tools/kube/go.mod', import.meta.url), 'utf8'),
)?.[1];

/** Polls until `probe` is true: RBAC and CRD changes reach the API server's caches asynchronously. */
async function eventually(what: string, probe: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await sleep(200);
  }
}

describe('kube-apiserver of the test environment', () => {
  const admin = KubeClient.admin();

  test('is the pinned Kubernetes release', async () => {
    const version = JSON.parse(await admin.kubectl(['version', '-o', 'json'])) as {
      serverVersion: { gitVersion: string };
    };
    assert.ok(kubePin, 'test/env/tools/kube/go.mod pins k8s.io/kubernetes');
    assert.equal(version.serverVersion.gitVersion, kubePin);
  });

  test('creates a namespace and reads it back', async (t) => {
    const namespace = await admin.createNamespace('kube-ns', t);
    const ns = await admin.getJson(['namespace', namespace]);
    assert.equal(ns.metadata.name, namespace);
    assert.equal(ns.status?.phase, 'Active');
    assert.equal((ns.metadata.labels as Record<string, string>)['kafka-backup.test/owner'], 'test');
  });

  test('establishes a CustomResourceDefinition, validates against its schema and serves its resources', async (t) => {
    // CRDs are cluster-scoped: a unique group keeps concurrent test files apart.
    const group = `${uniqueName('crd')}.test.oso.sh`;
    const crdName = `widgets.${group}`;
    await admin.apply([
      {
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: crdName },
        spec: {
          group,
          scope: 'Namespaced',
          names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
          versions: [
            {
              name: 'v1',
              served: true,
              storage: true,
              schema: {
                openAPIV3Schema: {
                  type: 'object',
                  properties: {
                    spec: {
                      type: 'object',
                      required: ['size'],
                      properties: { size: { type: 'integer', minimum: 1 }, colour: { type: 'string' } },
                    },
                  },
                },
              },
            },
          ],
        },
      },
    ]);
    t.after(() => admin.kubectl(['delete', 'crd', crdName, '--wait=false', '--ignore-not-found']));
    await admin.kubectl(['wait', '--for=condition=Established', `crd/${crdName}`, '--timeout=60s']);
    const crd = await admin.getJson(['crd', crdName]);
    assert.equal(crd.status?.conditions?.find((c) => c.type === 'Established')?.status, 'True');

    const namespace = await admin.createNamespace('kube-crd', t);
    const widget = { apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name: 'first' } };
    await admin.apply([{ ...widget, spec: { size: 3, colour: 'blue' } }], namespace);
    const read = await admin.getJson([`widgets.${group}`, 'first', '-n', namespace]);
    assert.deepEqual(read.spec, { size: 3, colour: 'blue' });
    const list = await admin.getJson<KubeObject>([`widgets.${group}`, '-n', namespace]);
    assert.deepEqual(
      list.items?.map((i) => i.metadata.name),
      ['first'],
    );

    const invalid = await admin.tryKubectl(['-n', namespace, 'apply', '-f', '-'], {
      input: JSON.stringify({ ...widget, metadata: { name: 'bad' }, spec: { size: 0 } }),
    });
    assert.notEqual(invalid.code, 0, 'a widget violating the schema must be rejected');
    assert.match(invalid.stderr, /spec\.size: Invalid value.*greater than or equal to 1/);
  });

  test('a ServiceAccount token from the TokenRequest API is signed by the API server and bound to its audience', async (t) => {
    const namespace = await admin.createNamespace('kube-token', t);
    await admin.kubectl(['-n', namespace, 'create', 'serviceaccount', 'robot']);
    const token = await admin.createToken(namespace, 'robot');
    const [, payload] = token.split('.');
    assert.ok(payload, 'the token is a JWT');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
      iss: string;
      sub: string;
      aud: string[];
    };
    assert.equal(claims.iss, SERVICE_ACCOUNT_ISSUER);
    assert.equal(claims.sub, `system:serviceaccount:${namespace}:robot`);
    assert.deepEqual(claims.aud, [SERVICE_ACCOUNT_ISSUER]);

    const robot = await admin.asServiceAccount(namespace, 'robot');
    const whoami = JSON.parse(await robot.kubectl(['auth', 'whoami', '-o', 'json'])) as {
      status: { userInfo: { username: string; groups: string[] } };
    };
    assert.equal(whoami.status.userInfo.username, `system:serviceaccount:${namespace}:robot`);
    assert.ok(whoami.status.userInfo.groups.includes(`system:serviceaccounts:${namespace}`));

    // A token the API server did not sign is not accepted.
    const forged = `${token.slice(0, token.lastIndexOf('.'))}.${Buffer.from('not-a-signature').toString('base64url')}`;
    const rejected = await robot.tryKubectl(['--token', forged, 'auth', 'whoami']);
    assert.notEqual(rejected.code, 0);
    assert.match(rejected.stderr, /Unauthorized|provide credentials/);
  });

  test('RBAC denies a ServiceAccount without permissions and allows it once a Role is bound', async (t) => {
    const namespace = await admin.createNamespace('kube-rbac', t);
    const other = await admin.createNamespace('kube-rbac-other', t);
    await admin.kubectl(['-n', namespace, 'create', 'serviceaccount', 'reader']);
    await admin.kubectl(['-n', namespace, 'create', 'configmap', 'probe', '--from-literal=answer=42']);
    await admin.kubectl(['-n', other, 'create', 'configmap', 'probe', '--from-literal=answer=43']);
    const reader = await admin.asServiceAccount(namespace, 'reader');

    assert.equal(await reader.canI('get', 'configmaps', namespace), false);
    const denied = await reader.tryKubectl(['-n', namespace, 'get', 'configmap', 'probe']);
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /Forbidden/);
    assert.match(denied.stderr, new RegExp(`system:serviceaccount:${namespace}:reader`));

    await admin.apply(
      [
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'Role',
          metadata: { name: 'configmap-reader' },
          rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }],
        },
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'RoleBinding',
          metadata: { name: 'reader-reads-configmaps' },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'configmap-reader' },
          subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace }],
        },
      ],
      namespace,
    );
    await eventually('the RoleBinding takes effect', () => reader.canI('get', 'configmaps', namespace));

    const allowed = await reader.getJson<KubeObject & { data: Record<string, string> }>([
      '-n',
      namespace,
      'configmap',
      'probe',
    ]);
    assert.deepEqual(allowed.data, { answer: '42' });
    // The Role grants exactly what it says: no writes, nothing in another namespace.
    assert.equal(await reader.canI('delete', 'configmaps', namespace), false);
    const elsewhere = await reader.tryKubectl(['-n', other, 'get', 'configmap', 'probe']);
    assert.notEqual(elsewhere.code, 0);
    assert.match(elsewhere.stderr, /Forbidden/);
  });
});
