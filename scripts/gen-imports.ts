/**
 * Regenerates imports/ from crds/ with `cdk8s import`, driven by the `imports:` list of cdk8s.yaml
 * (one module per kind, e.g. imports/kafkabackup-kafka.oso.sh.ts).
 *
 * One deterministic fix-up follows the import: cdk8s writes
 * `import { ApiObject, ApiObjectMetadata, GroupVersionKind } from 'cdk8s'`, whose last two names are
 * interfaces. Under this package's `verbatimModuleSyntax` that line fails both `tsc` and, at run
 * time, Node's ESM loader ("does not provide an export named 'ApiObjectMetadata'"), so they are
 * marked `type`. Nothing else is touched; the files are never edited by hand.
 *
 *   node --import tsx scripts/gen-imports.ts            write imports/
 *   node --import tsx scripts/gen-imports.ts --out DIR  write somewhere else (the freshness test)
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '..');
const CDK8S_CLI = join(REPO, 'node_modules', 'cdk8s-cli', 'bin', 'cdk8s');

const CDK8S_IMPORT_LINE = "import { ApiObject, ApiObjectMetadata, GroupVersionKind } from 'cdk8s';";
const TYPE_ONLY_IMPORT_LINE =
  "import { ApiObject, type ApiObjectMetadata, type GroupVersionKind } from 'cdk8s';";

export function markTypeOnlyImports(source: string, file: string): string {
  if (!source.includes(CDK8S_IMPORT_LINE)) {
    throw new Error(
      `${file}: cdk8s import no longer writes "${CDK8S_IMPORT_LINE}"; update markTypeOnlyImports() in scripts/gen-imports.ts for the new cdk8s-cli output`,
    );
  }
  return source.replace(CDK8S_IMPORT_LINE, TYPE_ONLY_IMPORT_LINE);
}

/** Runs `cdk8s import` into a scratch directory and returns file name -> content. */
export function generateImports(): Map<string, string> {
  const scratch = mkdtempSync(join(tmpdir(), 'kafka-backup-imports-'));
  try {
    // Runs with the Node that runs this script (24), not whatever `node` is first on PATH.
    execFileSync(process.execPath, [CDK8S_CLI, 'import', '--output', scratch, '--check-upgrade', 'false'], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CDK8S_CHECK_UPGRADE: 'false' },
    });
    const files = new Map<string, string>();
    for (const name of readdirSync(scratch).sort()) {
      if (!name.endsWith('.ts')) continue;
      files.set(name, markTypeOnlyImports(readFileSync(join(scratch, name), 'utf8'), name));
    }
    if (files.size === 0)
      throw new Error('cdk8s import wrote no TypeScript files; check the imports list in cdk8s.yaml');
    return files;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function main(): void {
  const outIndex = process.argv.indexOf('--out');
  const out = outIndex > 0 ? resolve(process.argv[outIndex + 1] ?? '') : join(REPO, 'imports');
  const files = generateImports();
  mkdirSync(out, { recursive: true });
  // Stale modules (a kind renamed or removed) must disappear too.
  for (const name of readdirSync(out)) if (name.endsWith('.ts') && !files.has(name)) rmSync(join(out, name));
  for (const [name, text] of files) writeFileSync(join(out, name), text);
  console.log(`wrote ${files.size} modules to ${out}`);
}

if (import.meta.main) main();
