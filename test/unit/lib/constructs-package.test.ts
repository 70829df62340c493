import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';

interface Manifest {
  name: string;
  version: string;
  license: string;
  type: string;
  engines: { node: string };
  exports: unknown;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

const read = (path: string) =>
  JSON.parse(readFileSync(new URL(`../../../${path}`, import.meta.url), 'utf8')) as Manifest;

test('the constructs package follows the full package: version, exports, and the same cdk8s versions', () => {
  const full = read('package.json');
  const constructs = read('packages/constructs/package.json');
  assert.equal(constructs.name, '@oso/kafka-backup-constructs');
  assert.equal(constructs.version, full.version);
  assert.equal(constructs.license, full.license);
  assert.equal(constructs.type, full.type);
  assert.deepEqual(constructs.exports, full.exports);
  assert.equal(constructs.engines.node, '>=22');
  // What lib/ imports, and nothing else; the ranges admit exactly the versions the project tests.
  assert.deepEqual(Object.keys(constructs.dependencies ?? {}), ['cdk8s-plus-34']);
  assert.equal(constructs.dependencies?.['cdk8s-plus-34'], full.dependencies?.['cdk8s-plus-34']);
  for (const [name, range] of Object.entries(constructs.peerDependencies ?? {})) {
    assert.equal(range, `^${full.dependencies?.[name]}`, name);
  }
  assert.deepEqual(Object.keys(constructs.peerDependencies ?? {}).sort(), ['cdk8s', 'constructs']);
});

test('lib/ and imports/ import only what the constructs package brings (node builtins, cdk8s, constructs)', () => {
  const constructs = read('packages/constructs/package.json');
  const allowed = new Set([
    ...Object.keys(constructs.dependencies ?? {}),
    ...Object.keys(constructs.peerDependencies ?? {}),
  ]);
  const root = new URL('../../../', import.meta.url);
  const imported = new Set<string>();
  for (const dir of ['lib', 'imports']) {
    for (const file of readdirSync(new URL(dir, root), { recursive: true, encoding: 'utf8' })) {
      if (!file.endsWith('.ts')) continue;
      const text = readFileSync(new URL(`${dir}/${file}`, root), 'utf8');
      for (const m of text.matchAll(/^(?:import|export)\b[^;]*?from '([^'.][^']*)'/gm)) {
        const specifier = m[1] as string;
        if (specifier.startsWith('node:')) continue;
        imported.add(
          specifier.startsWith('@')
            ? specifier.split('/').slice(0, 2).join('/')
            : (specifier.split('/')[0] as string),
        );
      }
    }
  }
  assert.ok(imported.has('cdk8s'));
  assert.deepEqual(
    [...imported].filter((name) => !allowed.has(name)),
    [],
  );
});
