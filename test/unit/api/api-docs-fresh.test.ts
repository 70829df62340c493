/** docs/api/ is what scripts/gen-api-docs.ts makes of crds/, and documents every field. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DOCS_DIR, renderApiDocs } from '../../../scripts/gen-api-docs.ts';
import { loadCrds, rootSchema } from './crd-schemas.ts';

test('docs/api equals the generated reference', () => {
  for (const [file, text] of renderApiDocs()) {
    let committed = '';
    try {
      committed = readFileSync(join(DOCS_DIR, file), 'utf8');
    } catch {}
    assert.ok(
      committed === text,
      `docs/api/${file} is stale: run \`node --import tsx scripts/gen-api.ts\` and commit the result`,
    );
  }
});

test('each kind page lists every top-level spec and status field', () => {
  const pages = renderApiDocs();
  for (const crd of loadCrds()) {
    const page = pages.get(`${crd.spec.names.plural}.md`) ?? '';
    const root = rootSchema(crd);
    for (const part of ['spec', 'status'] as const) {
      for (const field of Object.keys(root.properties?.[part]?.properties ?? {})) {
        assert.ok(page.includes(`| \`${part}.${field}\` |`), `${crd.spec.names.kind}: ${part}.${field}`);
      }
    }
  }
});
