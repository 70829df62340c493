/**
 * The CRDs are structural and self-documenting: every node has a type and every property a
 * description (kubectl explain), nothing escapes pruning, every CEL rule has a message, and every
 * string, list and map a CEL rule can reach is bounded (the API server's CEL cost budget).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadCrds, rootSchema, type SchemaNode, walk } from './crd-schemas.ts';

const crds = loadCrds();

describe('crds/ structure', () => {
  test('five CRDs, one per kind, in kafka.oso.sh/v1alpha1', () => {
    assert.deepEqual(crds.map((c) => c.spec.names.kind).sort(), [
      'KafkaBackup',
      'KafkaBackupValidation',
      'KafkaOffsetReset',
      'KafkaOffsetRollback',
      'KafkaRestore',
    ]);
    for (const crd of crds) {
      assert.equal(crd.file, `${crd.spec.names.plural}.kafka.oso.sh.yaml`);
      assert.equal(crd.metadata.name, `${crd.spec.names.plural}.kafka.oso.sh`);
      assert.equal(crd.spec.group, 'kafka.oso.sh');
      assert.equal(crd.spec.scope, 'Namespaced');
      assert.deepEqual(
        crd.spec.versions.map((v) => [v.name, v.served, v.storage]),
        [['v1alpha1', true, true]],
      );
    }
  });

  for (const crd of crds) {
    const kind = crd.spec.names.kind;
    const root = rootSchema(crd);

    describe(kind, () => {
      test('every schema node has a type', () => {
        const untyped = [...walk(root)].filter(([, node]) => typeof node.type !== 'string').map(([p]) => p);
        assert.deepEqual(untyped, []);
      });

      test('every property has a description, except metadata (the API server owns it)', () => {
        const missing = [...walk(root)]
          .filter(([path, node]) => path !== '' && path !== 'metadata' && !node.description?.trim())
          .map(([path]) => path);
        assert.deepEqual(missing, []);
      });

      test('nothing escapes pruning: no preserve-unknown-fields, no untyped additionalProperties', () => {
        for (const [path, node] of walk(root)) {
          assert.equal(node['x-kubernetes-preserve-unknown-fields'], undefined, path);
          assert.equal(node['x-kubernetes-int-or-string'], undefined, path);
          assert.notEqual(node.additionalProperties, true, path);
          if (node.additionalProperties !== undefined) assert.equal(node.properties, undefined, path);
        }
      });

      test('every string, list and map is bounded (CEL cost budget, etcd object size)', () => {
        for (const [path, node] of walk(root)) {
          if (path === 'apiVersion' || path === 'kind') continue;
          if (node.type === 'string')
            assert.ok(node.maxLength !== undefined || node.enum, `${path} has no maxLength`);
          if (node.type === 'array') assert.ok(node.maxItems !== undefined, `${path} has no maxItems`);
          if (node.type === 'object' && node.additionalProperties) {
            assert.ok(node.maxProperties !== undefined, `${path} has no maxProperties`);
          }
        }
      });

      test('every CEL rule has a message that says how to fix it', () => {
        const rules = [...walk(root)].flatMap(([path, node]) =>
          (node['x-kubernetes-validations'] ?? []).map((r) => ({ path, ...r })),
        );
        assert.ok(rules.length > 0);
        for (const rule of rules) {
          assert.ok(rule.message && rule.message.length > 20, `${rule.path}: ${rule.rule}`);
          // An actionable message names the remedy (set, remove, use, ...) or shows a correct value (e.g.).
          assert.match(
            rule.message,
            /\b(set|remove|use|add|keep|swap|lower|write|enable|disable|create|delete|widen|name|give)\b|e\.g\./i,
            `${rule.path}: "${rule.message}" does not say how to fix it`,
          );
        }
      });

      test('defaults are valid against their own enum', () => {
        for (const [path, node] of walk(root)) {
          if (node.default === undefined || !node.enum) continue;
          assert.ok(node.enum.includes(node.default), `${path}: default ${String(node.default)} not in enum`);
        }
      });

      test('status subresource, status schema with conditions and observedGeneration', () => {
        const version = crd.spec.versions[0];
        assert.deepEqual(version?.subresources, { status: {} });
        const status = root.properties?.status as SchemaNode;
        assert.equal(status.type, 'object');
        for (const field of [
          'phase',
          'message',
          'observedGeneration',
          'conditions',
          'startTime',
          'completionTime',
        ]) {
          assert.ok(status.properties?.[field], `status.${field}`);
        }
        const condition = status.properties?.conditions?.items as SchemaNode;
        assert.deepEqual(Object.keys(condition.properties ?? {}).sort(), [
          'lastTransitionTime',
          'message',
          'observedGeneration',
          'reason',
          'status',
          'type',
        ]);
        assert.equal(status.properties?.conditions?.['x-kubernetes-list-type'], 'map');
      });

      test('printer columns start with Ready and Phase and end with Age; shared category; short name', () => {
        const columns = crd.spec.versions[0]?.additionalPrinterColumns.map((c) => c.name) ?? [];
        assert.deepEqual(columns.slice(0, 2), ['Ready', 'Phase']);
        assert.equal(columns.at(-1), 'Age');
        assert.deepEqual(crd.spec.names.categories, ['kafka-backup']);
        assert.notEqual(crd.spec.names.categories[0], crd.spec.names.singular);
        const shortName = {
          KafkaBackup: 'kb',
          KafkaRestore: 'kr',
          KafkaOffsetReset: 'kor',
          KafkaOffsetRollback: 'korb',
          KafkaBackupValidation: 'kbv',
        }[kind];
        assert.deepEqual(crd.spec.names.shortNames, [shortName]);
      });
    });
  }

  test('the rerun annotation is documented on every kind', () => {
    for (const crd of crds) assert.match(rootSchema(crd).description ?? '', /kafka\.oso\.sh\/rerun/);
  });

  test('one-shot kinds freeze their spec once started; KafkaBackup does not', () => {
    const immutable = crds
      .filter((crd) =>
        (rootSchema(crd)['x-kubernetes-validations'] ?? []).some((r) => r.rule.includes('oldSelf')),
      )
      .map((crd) => crd.spec.names.kind)
      .sort();
    assert.deepEqual(immutable, [
      'KafkaBackupValidation',
      'KafkaOffsetReset',
      'KafkaOffsetRollback',
      'KafkaRestore',
    ]);
  });
});
