/**
 * The CRDs on a real kube-apiserver: they become Established, the seed's YAML examples apply
 * unchanged (with the previous operator's defaults filled in), `kubectl explain` teaches the API,
 * `kubectl get` prints the columns, and one category lists all five kinds.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { parse } from 'yaml';
import { KubeClient } from '../../env/kube-client.ts';
import { BASE_SPECS, KINDS } from '../../fixtures/invalid-specs.ts';
import { crdFiles, installCrds, REPO, resourceYaml } from './crd-install.ts';

const kube = KubeClient.admin();
const SEED_DIR = join(REPO, 'test', 'fixtures', 'seed');

before(() => installCrds(kube));

test('every CRD is Established with its names accepted', async () => {
  for (const file of crdFiles()) {
    const name = (parse(readFileSync(file, 'utf8')) as { metadata: { name: string } }).metadata.name;
    const crd = await kube.getJson<{ status: { conditions: { type: string; status: string }[] } }>([
      'crd',
      name,
    ]);
    const status = (type: string) => crd.status.conditions.find((c) => c.type === type)?.status;
    assert.equal(status('Established'), 'True', name);
    assert.equal(status('NamesAccepted'), 'True', name);
  }
});

describe('the seed examples apply unchanged', () => {
  for (const file of readdirSync(SEED_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .sort()) {
    test(file, async (t) => {
      const text = readFileSync(join(SEED_DIR, file), 'utf8');
      const doc = parse(text) as {
        kind: string;
        metadata: { name: string; namespace?: string };
        spec: object;
      };
      if (doc.metadata.namespace) {
        // The example names its namespace (the operator's install namespace). Dry-run there: a
        // namespace deleted on this controller-less API server would stay Terminating for the
        // other tests that install into it.
        await kube.tryKubectl(['create', 'namespace', doc.metadata.namespace]);
        const result = await kube.tryKubectl(['create', '--dry-run=server', '-o', 'json', '-f', '-'], {
          input: text,
        });
        assert.equal(result.code, 0, result.stderr);
        assert.deepEqual(pick(JSON.parse(result.stdout).spec, doc.spec), doc.spec);
        return;
      }
      const namespace = await kube.createNamespace('api-seed', t);
      await kube.kubectl(['create', '-n', namespace, '-f', '-'], { input: text });
      const stored = await kube.getJson<{ spec: Record<string, unknown> }>([
        doc.kind.toLowerCase(),
        doc.metadata.name,
        '-n',
        namespace,
      ]);
      // Everything written is kept as written; the server adds the previous operator's defaults.
      assert.deepEqual(pick(stored.spec, doc.spec), doc.spec);
      if (doc.kind === 'KafkaBackup') {
        assert.equal(stored.spec.compression, 'zstd');
        assert.equal(stored.spec.includeOffsetHeaders, true);
        assert.deepEqual(stored.spec.kafkaCluster, {
          bootstrapServers: (doc.spec as { kafkaCluster: { bootstrapServers: string[] } }).kafkaCluster
            .bootstrapServers,
          securityProtocol: 'PLAINTEXT',
        });
      }
    });
  }
});

/** The parts of `actual` that `expected` names (the server adds defaults around them). */
function pick(actual: unknown, expected: unknown): unknown {
  if (Array.isArray(expected) || typeof expected !== 'object' || expected === null) return actual;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(expected)) {
    out[key] = pick((actual as Record<string, unknown>)?.[key], (expected as Record<string, unknown>)[key]);
  }
  return out;
}

describe('kubectl', () => {
  let namespace: string;
  before(async () => {
    namespace = await kube.createNamespace('api-kubectl');
    for (const kind of KINDS) {
      await kube.kubectl(['create', '-n', namespace, '-f', '-'], {
        input: resourceYaml(kind, `example-${kind.toLowerCase()}`, BASE_SPECS[kind]),
      });
    }
    await kube.kubectl([
      'patch',
      'kafkabackup',
      'example-kafkabackup',
      '-n',
      namespace,
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({
        status: {
          phase: 'Ready',
          conditions: [
            {
              type: 'Ready',
              status: 'True',
              reason: 'ScheduleActive',
              message: 'next run at 13:00',
              lastTransitionTime: '2024-12-01T12:00:00Z',
            },
          ],
        },
      }),
    ]);
  });

  const HEADERS: Record<string, string[]> = {
    kafkabackup: ['NAME', 'READY', 'PHASE', 'LAST RUN', 'LAST SUCCESS', 'NEXT RUN', 'AGE'],
    kafkarestore: ['NAME', 'READY', 'PHASE', 'PROGRESS', 'RECORDS', 'STARTED', 'AGE'],
    kafkaoffsetreset: ['NAME', 'READY', 'PHASE', 'STRATEGY', 'GROUPS', 'FAILED', 'STARTED', 'AGE'],
    kafkaoffsetrollback: ['NAME', 'READY', 'PHASE', 'GROUPS', 'FAILED', 'STARTED', 'AGE'],
    kafkabackupvalidation: ['NAME', 'READY', 'PHASE', 'RESULT', 'CHECKS', 'LAST RUN', 'NEXT RUN', 'AGE'],
  };

  for (const [resource, header] of Object.entries(HEADERS)) {
    test(`get ${resource} prints the columns`, async () => {
      const out = await kube.kubectl(['get', resource, '-n', namespace]);
      const [first = '', row = ''] = out.split('\n');
      assert.deepEqual(first.trim().split(/\s{2,}/), header);
      assert.match(row, new RegExp(`^example-${resource}\\s`));
    });
  }

  test('the Ready and Phase columns show the status', async () => {
    const out = await kube.kubectl(['get', 'kb', 'example-kafkabackup', '-n', namespace]);
    assert.match(out.split('\n')[1] ?? '', /^example-kafkabackup\s+True\s+Ready\s/);
  });

  test('-o wide adds the schedule', async () => {
    const out = await kube.kubectl(['get', 'kb', '-n', namespace, '-o', 'wide']);
    assert.match(out.split('\n')[0] ?? '', /\bSCHEDULE\b.*\bRECORDS\b/);
    assert.match(out, /0 0 \* \* \* \* \*/);
  });

  test('the short names work', async () => {
    for (const short of ['kb', 'kr', 'kor', 'korb', 'kbv']) {
      const out = await kube.kubectl(['get', short, '-n', namespace, '-o', 'name']);
      assert.equal(out.trim().split('\n').length, 1, short);
    }
  });

  test('the kafka-backup category lists all five kinds', async () => {
    const out = await kube.kubectl(['get', 'kafka-backup', '-n', namespace, '-o', 'name']);
    assert.deepEqual(out.trim().split('\n').sort(), [
      'kafkabackup.kafka.oso.sh/example-kafkabackup',
      'kafkabackupvalidation.kafka.oso.sh/example-kafkabackupvalidation',
      'kafkaoffsetreset.kafka.oso.sh/example-kafkaoffsetreset',
      'kafkaoffsetrollback.kafka.oso.sh/example-kafkaoffsetrollback',
      'kafkarestore.kafka.oso.sh/example-kafkarestore',
    ]);
  });

  test("the seed's `kubectl get kafkabackup NAME` still means one KafkaBackup", async () => {
    const out = await kube.kubectl([
      'get',
      'kafkabackup',
      'example-kafkabackup',
      '-n',
      namespace,
      '-o',
      'name',
    ]);
    assert.equal(out.trim(), 'kafkabackup.kafka.oso.sh/example-kafkabackup');
  });

  // Fragments of descriptions (kubectl wraps them, so any whitespace matches a space).
  const EXPLAIN: Record<string, string[]> = {
    'kafkabackup.spec.storage': ['Where backup sets are written', 'storageType <string>', 's3 <Object>'],
    'kafkabackup.spec.schedule': ['seconds-first form', 'standard 5-field form'],
    'kafkabackup.spec.retention.minSuccessful': ['the last good backup always survives'],
    'kafkabackup.spec.kafkaCluster.saslSecret.mechanism': ['PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512'],
    'kafkarestore.spec.pitr': ['Point-in-time window', 'endTime <string>'],
    'kafkarestore.spec.approval': ['AwaitingApproval'],
    kafkarestore: ['kafka.oso.sh/rerun'],
    'kafkaoffsetreset.spec.resetStrategy': ['from-mapping'],
    'kafkaoffsetrollback.spec.snapshotRef': ['snapshot to go back to'],
    'kafkabackupvalidation.spec.checks': ['At least one must be enabled'],
  };
  const fragment = (text: string) =>
    new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/ /g, '\\s+'));

  for (const [path, fragments] of Object.entries(EXPLAIN)) {
    const patterns = fragments.map(fragment);
    test(`explain ${path}`, async () => {
      // The OpenAPI document of a new CRD is published shortly after it is Established.
      let out = '';
      for (let attempt = 0; attempt < 30; attempt++) {
        const result = await kube.tryKubectl(['explain', path]);
        out = result.stdout;
        if (result.code === 0 && patterns.every((p) => p.test(out))) break;
        await new Promise((r) => setTimeout(r, 1000));
      }
      for (const pattern of patterns) assert.match(out, pattern);
    });
  }
});
