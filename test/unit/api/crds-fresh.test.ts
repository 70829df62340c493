/**
 * crds/ and the Helm chart's CRD templates are exactly what scripts/gen-crds.ts renders from
 * scripts/crds/ (no hand edits, no drift).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { CHART_CRD_DIR, CRD_DIR, renderChartCrds, renderCrds } from '../../../scripts/gen-crds.ts';

function assertFresh(dir: string, rendered: Map<string, string>): void {
  const name = relative(join(CRD_DIR, '..'), dir);
  const committed = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort();
  assert.deepEqual(committed, [...rendered.keys()].sort(), `${name}/ has missing or extra files`);
  for (const [file, text] of rendered) {
    assert.ok(
      readFileSync(join(dir, file), 'utf8') === text,
      `${name}/${file} is stale: run \`node --import tsx scripts/gen-api.ts\` and commit the result`,
    );
  }
}

test('crds/ equals the generated CRDs', () => {
  assertFresh(CRD_DIR, renderCrds());
});

test("the Helm chart's CRD templates equal the generated ones", () => {
  assertFresh(CHART_CRD_DIR, renderChartCrds());
});

test('rendering is deterministic', () => {
  assert.deepEqual([...renderCrds()], [...renderCrds()]);
  assert.deepEqual([...renderChartCrds()], [...renderChartCrds()]);
});
