/** imports/ is exactly what `cdk8s import` (via scripts/gen-imports.ts) makes of crds/. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { generateImports, markTypeOnlyImports, REPO } from '../../../scripts/gen-imports.ts';

const IMPORTS = join(REPO, 'imports');

test('imports/ equals a fresh cdk8s import of crds/', () => {
  const fresh = generateImports();
  const committed = readdirSync(IMPORTS)
    .filter((f) => f.endsWith('.ts'))
    .sort();
  assert.deepEqual(committed, [...fresh.keys()].sort(), 'imports/ has missing or extra modules');
  for (const [file, text] of fresh) {
    assert.ok(
      readFileSync(join(IMPORTS, file), 'utf8') === text,
      `imports/${file} is stale: run \`node --import tsx scripts/gen-api.ts\` and commit the result`,
    );
  }
});

test('the fix-up only marks the two cdk8s interfaces as type imports', () => {
  const line = "import { ApiObject, ApiObjectMetadata, GroupVersionKind } from 'cdk8s';";
  assert.equal(
    markTypeOnlyImports(`${line}\nrest`, 'x.ts'),
    "import { ApiObject, type ApiObjectMetadata, type GroupVersionKind } from 'cdk8s';\nrest",
  );
  assert.throws(
    () => markTypeOnlyImports("import { Other } from 'cdk8s';", 'x.ts'),
    /update markTypeOnlyImports/,
  );
});

test('the generated classes load and carry the API group', async () => {
  const mod = await import('../../../imports/kafkabackup-kafka.oso.sh.ts');
  assert.deepEqual(mod.KafkaBackup.GVK, { apiVersion: 'kafka.oso.sh/v1alpha1', kind: 'KafkaBackup' });
});
