/**
 * The API server refuses every entry of test/fixtures/invalid-specs.ts with an error that names the
 * field and says what is wrong, accepts every valid spec, and freezes started one-shot specs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { KubeClient } from '../../env/kube-client.ts';
import {
  ALLOWED_UPDATES_AFTER_START,
  INVALID_SPECS,
  INVALID_UPDATES,
  type Kind,
  type Spec,
  VALID_SPECS,
} from '../../fixtures/invalid-specs.ts';
import { installCrds, resourceYaml, slug } from './crd-install.ts';

const kube = KubeClient.admin();
let namespace: string;

before(async () => {
  await installCrds(kube);
  namespace = await kube.createNamespace('api-specs');
});
// The objects the update tests create go with their namespace.
after(() => kube.deleteNamespace(namespace));

function dryRunCreate(kind: Kind, name: string, spec: Spec) {
  return kube.tryKubectl(['create', '--dry-run=server', '-n', namespace, '-f', '-'], {
    input: resourceYaml(kind, name, spec),
  });
}

describe('valid specs are accepted', () => {
  for (const entry of VALID_SPECS) {
    test(`${entry.kind}: ${entry.name}`, async () => {
      const result = await dryRunCreate(entry.kind, slug(entry.name), entry.spec);
      assert.equal(
        result.code,
        0,
        `expected ${entry.kind} '${entry.name}' to be accepted:\n${result.stderr}`,
      );
    });
  }
});

describe('invalid specs are refused, naming the field', () => {
  test('the table has at least 40 entries with unique names', () => {
    assert.ok(INVALID_SPECS.length >= 40, `only ${INVALID_SPECS.length} entries`);
    const names = INVALID_SPECS.map((e) => `${e.kind}/${e.name}`);
    assert.equal(new Set(names).size, names.length);
  });

  for (const entry of INVALID_SPECS) {
    test(`${entry.kind}: ${entry.name}`, async () => {
      const result = await dryRunCreate(entry.kind, slug(entry.name), entry.spec);
      assert.notEqual(result.code, 0, `expected ${entry.kind} '${entry.name}' to be refused`);
      assert.ok(
        result.stderr.includes(entry.field),
        `the error should name ${entry.field}:\n${result.stderr}`,
      );
      assert.ok(
        result.stderr.includes(entry.message),
        `the error should contain "${entry.message}":\n${result.stderr}`,
      );
    });
  }
});

async function createStarted(kind: Kind, name: string, spec: Spec): Promise<void> {
  await kube.kubectl(['create', '-n', namespace, '-f', '-'], { input: resourceYaml(kind, name, spec) });
  // What the operator does right before it acts; from then on the one-shot spec is frozen.
  await kube.kubectl([
    'patch',
    kind.toLowerCase(),
    name,
    '-n',
    namespace,
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify({ status: { phase: 'Running', startTime: '2024-12-01T12:00:00Z' } }),
  ]);
}

function replace(kind: Kind, name: string, spec: Spec) {
  return kube.tryKubectl(['apply', '--server-side', '--force-conflicts', '-n', namespace, '-f', '-'], {
    input: resourceYaml(kind, name, spec),
  });
}

describe('one-shot specs are immutable once started', () => {
  for (const entry of INVALID_UPDATES) {
    test(`${entry.kind}: ${entry.name} is refused`, async () => {
      const name = slug(`started-${entry.name}`);
      await createStarted(entry.kind, name, entry.spec);
      const result = await replace(entry.kind, name, entry.update);
      assert.notEqual(result.code, 0, 'expected the update to be refused');
      assert.ok(result.stderr.includes(entry.field), result.stderr);
      assert.ok(result.stderr.includes(entry.message), result.stderr);
    });

    test(`${entry.kind}: ${entry.name} is allowed before the start`, async () => {
      const name = slug(`pending-${entry.name}`);
      await kube.kubectl(['create', '-n', namespace, '-f', '-'], {
        input: resourceYaml(entry.kind, name, entry.spec),
      });
      const result = await replace(entry.kind, name, entry.update);
      assert.equal(result.code, 0, result.stderr);
    });
  }

  for (const entry of ALLOWED_UPDATES_AFTER_START) {
    test(`${entry.kind}: ${entry.name} is allowed after the start`, async () => {
      const name = slug(`allowed-${entry.name}`);
      await createStarted(entry.kind, name, entry.spec);
      const result = await replace(entry.kind, name, entry.update);
      assert.equal(result.code, 0, result.stderr);
      const stored = await kube.getJson<{ spec: Spec }>([entry.kind.toLowerCase(), name, '-n', namespace]);
      for (const [key, value] of Object.entries(entry.update)) {
        assert.deepEqual(stored.spec[key] !== undefined ? pick(stored.spec[key], value) : undefined, value);
      }
    });
  }
});

/** The parts of `actual` that `expected` names (the server adds defaults). */
function pick(actual: unknown, expected: unknown): unknown {
  if (Array.isArray(expected) || typeof expected !== 'object' || expected === null) return actual;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(expected)) {
    out[key] = pick((actual as Record<string, unknown>)[key], (expected as Record<string, unknown>)[key]);
  }
  return out;
}
