/**
 * Bundles the `kafka-backup` executable (runtime/cli/main.ts and everything it loads: the Kafka
 * client, the Kubernetes client, the storage SDKs) into build/cli/: the package's bin, the image's
 * entrypoint, and what the CLI and operator tests and the benchmark run. `npm run build` runs it
 * after tsc has checked the types.
 *
 * Why: loaded as ~1,000 separate modules, every start spent about 0.2 s resolving and reading them
 * (about 0.5 s to print --help). Bundled, Node reads one file, plus one chunk per part loaded on
 * demand (the operator, each storage backend): a scheduled run that finds nothing new takes 0.7 of
 * the time it took. The Kafka client's option validators are compiled when first called, not as
 * the client loads (lazyValidators()): that run then took 0.21 s instead of 0.35 (paired, median).
 * The client's Connection reads fetches into reused memory and writes requests without copying
 * them first (rewriteConnection()): a 1 GiB backup 0.82x the time, a restore 0.90x. Runs from source
 * (tsx) have neither; both fail the build, naming what changed, if a client release moves them.
 *
 *   npm run build:cli                       writes build/cli/ (also part of npm run build)
 *   npm run build:cli -- --outdir DIR       elsewhere (the image build)
 */
import { chmodSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { build, type Plugin } from 'esbuild';

const ROOT = resolve(import.meta.dirname, '..');
export const CLI_BUNDLE_DIR = join(ROOT, 'build/cli');
/** The package's bin (package.json), as npm installs it and the image starts it. */
export const CLI_BUNDLE = join(CLI_BUNDLE_DIR, 'kafka-backup.js');

/**
 * Left out of the bundle, loaded from node_modules at run time: native addons, and a module that
 * reads its WebAssembly from beside its own file.
 */
const EXTERNAL = ['@node-rs/crc32', 'lz4-napi', '@platformatic/wasm-utils'];

/** The client's modules that make its options' validators, one per kind of client. */
const CLIENT_OPTIONS = /[\\/]@platformatic[\\/]kafka[\\/]dist[\\/]clients[\\/][^\\/]+[\\/]options\.js$/;
const LAZY_VALIDATOR = join(ROOT, 'runtime/kafka/lazy-validator.ts');
/** The client's Connection, which makes its sockets and writes its requests. */
const CLIENT_CONNECTION = /[\\/]@platformatic[\\/]kafka[\\/]dist[\\/]network[\\/]connection\.js$/;
const CONNECTION_HELPERS = {
  socketReadOptions: join(ROOT, 'runtime/kafka/read-buffers.ts'),
  writeGathered: join(ROOT, 'runtime/kafka/gathered-write.ts'),
};

/** What the bundle changes in the Connection: each text as its source spells it, and its replacement. */
const CONNECTION_EDITS: readonly (readonly [string, string])[] = [
  // Both sockets, TLS and TCP, read into recycled memory when the client was made with readBuffers.
  [
    '{ ...this.#options.tls, ...connectionOptions }',
    '{ ...this.#options.tls, ...connectionOptions, ...__socketReadOptions(this.#options) }',
  ],
  [
    '{ ...connectionOptions, port, host }',
    '{ ...connectionOptions, port, host, ...__socketReadOptions(this.#options) }',
  ],
  // A request is written as its chunks instead of first copied into one new buffer.
  ['payload: writer.buffer,', 'payload: writer.buffers,'],
  ['this.#socket.write(request.payload)', '__writeGathered(this.#socket, request.payload)'],
];

/**
 * The Connection's source with CONNECTION_EDITS made and their helpers imported (from `helpers`):
 * reads into runtime/kafka/read-buffers.ts, writes through runtime/kafka/gathered-write.ts. All or
 * nothing (a request's chunks must not reach a socket that expects one buffer): `missing` names
 * the texts not found exactly once, and then nothing is changed; the build fails on it.
 */
export function rewriteConnection(
  source: string,
  helpers: { readonly socketReadOptions: string; readonly writeGathered: string } = CONNECTION_HELPERS,
): { code: string; missing: string[] } {
  const missing = CONNECTION_EDITS.filter(([text]) => source.split(text).length !== 2).map(([text]) => text);
  if (missing.length > 0) return { code: source, missing };
  let code = source;
  for (const [text, replacement] of CONNECTION_EDITS) code = code.replace(text, () => replacement);
  const imports =
    `import { socketReadOptions as __socketReadOptions } from ${JSON.stringify(helpers.socketReadOptions)};\n` +
    `import { writeGathered as __writeGathered } from ${JSON.stringify(helpers.writeGathered)};\n`;
  return { code: imports + code, missing };
}

/** Rewrites the Connection (rewriteConnection); `found` records what it could not find. */
function connectionEdits(found: { files: number; missing: string[] }): Plugin {
  return {
    name: 'client-connection-reads-and-writes',
    setup(b) {
      b.onLoad({ filter: CLIENT_CONNECTION }, async ({ path }) => {
        const { code, missing } = rewriteConnection(await readFile(path, 'utf8'));
        found.files++;
        found.missing.push(...missing);
        return { contents: code, loader: 'js', resolveDir: resolve(path, '..') };
      });
    },
  };
}

/**
 * The source of one of those modules with each `ajv.compile(schema)` made
 * `lazyCompile(ajv, schema)` (runtime/kafka/lazy-validator.ts, imported from `helper`).
 */
export function compileLazily(source: string, helper: string): { code: string; count: number } {
  let count = 0;
  const code = source.replace(/\bajv\.compile\(/g, () => {
    count++;
    return '__lazyCompile(ajv, ';
  });
  if (count === 0) return { code: source, count };
  return { code: `import { lazyCompile as __lazyCompile } from ${JSON.stringify(helper)};\n${code}`, count };
}

/**
 * Compiles the client's option validators on first use, not as its modules load: ~0.15 s of each
 * start went to ~40 of them, of which a run calls a handful. `found` records the modules it rewrote
 * and those with no call to rewrite, so that a client release that makes them otherwise fails the build
 * instead of going unnoticed.
 */
function lazyValidators(found: { files: number; without: string[] }): Plugin {
  return {
    name: 'lazy-client-validators',
    setup(b) {
      b.onLoad({ filter: CLIENT_OPTIONS }, async ({ path }) => {
        const { code, count } = compileLazily(await readFile(path, 'utf8'), LAZY_VALIDATOR);
        found.files++;
        if (count === 0) found.without.push(path);
        return { contents: code, loader: 'js', resolveDir: resolve(path, '..') };
      });
    },
  };
}

export async function bundleCli(outdir = CLI_BUNDLE_DIR): Promise<void> {
  rmSync(outdir, { recursive: true, force: true });
  const validators = { files: 0, without: [] as string[] };
  const connection = { files: 0, missing: [] as string[] };
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
    plugins: [lazyValidators(validators), connectionEdits(connection)],
  });
  if (result.errors.length > 0) throw new Error(`bundling the CLI failed: ${result.errors.length} errors`);
  if (validators.files === 0 || validators.without.length > 0) {
    const what =
      validators.files === 0
        ? 'the bundle loaded none of its clients/*/options.js modules'
        : `no ajv.compile() left to rewrite in ${validators.without.join(', ')}`;
    throw new Error(
      `@platformatic/kafka no longer makes its option validators as lazyValidators() expects (${what}): ` +
        'update it in scripts/bundle-cli.ts',
    );
  }
  if (connection.files !== 1 || connection.missing.length > 0) {
    const what =
      connection.files !== 1
        ? `the bundle loaded ${connection.files} network/connection.js modules, not one`
        : `no ${connection.missing.map((text) => `'${text}'`).join(' nor ')} in network/connection.js`;
    throw new Error(
      `@platformatic/kafka's Connection no longer reads as CONNECTION_EDITS expects (${what}): ` +
        'update them in scripts/bundle-cli.ts',
    );
  }
  chmodSync(join(outdir, 'kafka-backup.js'), 0o755);
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { outdir: { type: 'string' } } });
  bundleCli(values.outdir ? resolve(values.outdir) : undefined).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
