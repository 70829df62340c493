/**
 * Bundles the `kafka-backup` executable (runtime/cli/main.ts and everything it loads: the Kafka
 * client, the Kubernetes client, the storage SDKs) into build/cli/: the package's bin, the image's
 * entrypoint, and what the CLI and operator tests and the benchmark run. `npm run build` runs it
 * after tsc has checked the types.
 *
 * Why: loaded as ~1,000 separate modules, every start spent about 0.2 s resolving and reading them
 * (about 0.5 s to print --help). Bundled, Node reads one file, plus one chunk per part loaded on
 * demand (the operator, each storage backend): a scheduled run that finds nothing new takes 0.7 of
 * the time it took.
 *
 *   npm run build:cli                       writes build/cli/ (also part of npm run build)
 *   npm run build:cli -- --outdir DIR       elsewhere (the image build)
 */
import { chmodSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const ROOT = resolve(import.meta.dirname, '..');
export const CLI_BUNDLE_DIR = join(ROOT, 'build/cli');
/** The package's bin (package.json), as npm installs it and the image starts it. */
export const CLI_BUNDLE = join(CLI_BUNDLE_DIR, 'kafka-backup.js');

/**
 * Left out of the bundle, loaded from node_modules at run time: native addons, and a module that
 * reads its WebAssembly from beside its own file.
 */
const EXTERNAL = ['@node-rs/crc32', 'lz4-napi', '@platformatic/wasm-utils'];

export async function bundleCli(outdir = CLI_BUNDLE_DIR): Promise<void> {
  rmSync(outdir, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: { 'kafka-backup': 'runtime/cli/main.ts' },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    external: EXTERNAL,
    chunkNames: 'chunks/[name]-[hash]',
    // CommonJS dependencies call require(); an ES module has none of its own.
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);",
    },
    legalComments: 'linked',
    // For reading profiles and stack traces against runtime/ (the benchmark maps its profiles);
    // Node loads them only with --enable-source-maps, and the image leaves them out.
    sourcemap: 'linked',
    sourcesContent: false,
    logLevel: 'warning',
  });
  if (result.errors.length > 0) throw new Error(`bundling the CLI failed: ${result.errors.length} errors`);
  chmodSync(join(outdir, 'kafka-backup.js'), 0o755);
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { outdir: { type: 'string' } } });
  bundleCli(values.outdir ? resolve(values.outdir) : undefined).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
