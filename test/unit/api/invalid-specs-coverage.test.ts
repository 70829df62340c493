/**
 * The invalid-spec table covers every CEL rule of the CRDs: each distinct rule message is the
 * expected message of at least one entry (or, for the immutability rule, of an update entry).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { INVALID_SCHEDULES, INVALID_SPECS, INVALID_UPDATES } from '../../fixtures/invalid-specs.ts';
import { loadCrds, rootSchema, walk } from './crd-schemas.ts';

test('every CEL rule is exercised by the invalid-spec table', () => {
  const expected = [
    ...INVALID_SPECS.map((e) => e.message),
    ...INVALID_UPDATES.map((e) => e.message),
    ...INVALID_SCHEDULES.map((e) => e.message),
  ];
  const uncovered = new Set<string>();
  for (const crd of loadCrds()) {
    for (const [, node] of walk(rootSchema(crd))) {
      for (const rule of node['x-kubernetes-validations'] ?? []) {
        const message = rule.message ?? '';
        if (!expected.some((fragment) => message.startsWith(fragment))) uncovered.add(message);
      }
    }
  }
  assert.deepEqual([...uncovered], []);
});

test('every kind has invalid entries, and every entry names a spec field', () => {
  const kinds = new Set(INVALID_SPECS.map((e) => e.kind));
  assert.equal(kinds.size, 5);
  for (const entry of INVALID_SPECS) assert.match(entry.field, /^spec(\.|\[|$)/, entry.name);
});
