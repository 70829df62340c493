#!/usr/bin/env node
/**
 * The `kafka-backup` executable. The package's bin is this file bundled with everything it loads,
 * build/cli/kafka-backup.js (scripts/bundle-cli.ts; `npm run build`, also run by `npm ci` through
 * `prepare`); from a checkout the sources run with `node --import tsx runtime/cli/main.ts`.
 */

/** The oldest Node.js major the runtime supports (package.json's engines). */
const NODE_MAJOR = 24;

const major = Number(process.versions.node.split('.')[0]);
if (major < NODE_MAJOR) {
  // Checked before anything is loaded: an older Node fails inside a dependency with no such hint.
  process.stderr.write(
    `kafka-backup needs Node.js ${NODE_MAJOR} or later; this is ${process.version}. ` +
      'Install Node.js 24 LTS. (The constructs alone run on Node.js 22 too: @oso/kafka-backup-constructs.)\n',
  );
  process.exitCode = 2;
} else {
  // Compiled code is cached on disk (NODE_COMPILE_CACHE, else the temp directory), so every run
  // after the first starts faster; best effort: a read-only disk leaves it off.
  const { enableCompileCache } = await import('node:module');
  enableCompileCache?.();
  const { main } = await import('./run.ts');
  process.exitCode = await main(process.argv.slice(2));
}
