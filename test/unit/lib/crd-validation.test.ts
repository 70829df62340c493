import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { validateSpec } from '../../../lib/index.ts';
import { compileRule, isTransitionRule, loadCrds, type SchemaNode } from '../../../lib/validation/index.ts';
import { INVALID_SPECS, VALID_SPECS } from '../../fixtures/invalid-specs.ts';

describe('synth-time validation with the CRDs of crds/', () => {
  test('every CEL rule of every CRD is understood by the synth-time interpreter', () => {
    let rules = 0;
    const visit = (node: SchemaNode | undefined): void => {
      if (!node) return;
      for (const rule of node['x-kubernetes-validations'] ?? []) {
        assert.doesNotThrow(() => compileRule(rule.rule), rule.rule);
        rules++;
      }
      for (const child of Object.values(node.properties ?? {})) visit(child);
      visit(node.items);
      if (typeof node.additionalProperties === 'object') visit(node.additionalProperties);
    };
    const crds = loadCrds();
    assert.deepEqual([...crds.keys()].sort(), [
      'KafkaBackup',
      'KafkaBackupValidation',
      'KafkaOffsetReset',
      'KafkaOffsetRollback',
      'KafkaRestore',
    ]);
    for (const crd of crds.values()) visit(crd.schema);
    assert.ok(rules >= 100, `expected the CRDs' rules, found ${rules}`);
  });

  test('accepts every valid spec of the fixture table', () => {
    for (const { name, kind, spec } of VALID_SPECS) {
      assert.deepEqual(validateSpec(kind, spec), [], name);
    }
  });

  test(`refuses each of the ${INVALID_SPECS.length} invalid specs naming the same field and message as the API server`, () => {
    assert.ok(INVALID_SPECS.length >= 40);
    const misses: string[] = [];
    for (const { name, kind, spec, field, message } of INVALID_SPECS) {
      const violations = validateSpec(kind, spec);
      if (!violations.some((v) => v.field === field && v.message.includes(message))) {
        misses.push(`${name}: expected ${field}: …${message}…, got ${JSON.stringify(violations)}`);
      }
    }
    assert.deepEqual(misses, []);
  });

  test('transition rules (immutability once started) are recognised and not run on create', () => {
    const rules = [...loadCrds().values()].flatMap((crd) => crd.schema['x-kubernetes-validations'] ?? []);
    assert.ok(rules.some(isTransitionRule), 'the one-shot kinds freeze their spec once started');
  });
});
