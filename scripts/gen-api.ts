/**
 * Regenerates everything derived from the API source in scripts/crds/, in dependency order:
 * crds/*.yaml, then imports/ (cdk8s import of crds/), then docs/api/.
 *
 *   node --import tsx scripts/gen-api.ts
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

for (const script of ['gen-crds.ts', 'gen-imports.ts', 'gen-api-docs.ts']) {
  execFileSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, script)], {
    stdio: 'inherit',
  });
}
