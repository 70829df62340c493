/** crds/ is exactly what scripts/gen-crds.ts renders from scripts/crds/ (no hand edits, no drift). */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CRD_DIR, renderCrds } from '../../../scripts/gen-crds.ts';

test('crds/ equals the generated CRDs', () => {
  const rendered = renderCrds();
  const committed = readdirSync(CRD_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .sort();
  assert.deepEqual(committed, [...rendered.keys()].sort(), 'crds/ has missing or extra files');
  for (const [file, text] of rendered) {
    assert.ok(
      readFileSync(join(CRD_DIR, file), 'utf8') === text,
      `crds/${file} is stale: run \`node --import tsx scripts/gen-api.ts\` and commit the result`,
    );
  }
});

test('rendering is deterministic', () => {
  assert.deepEqual([...renderCrds()], [...renderCrds()]);
});
