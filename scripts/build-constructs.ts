/**
 * Builds the constructs-only package, packages/constructs (`@oso/kafka-backup-constructs`): lib/ and
 * imports/ compiled, crds/ beside them (the constructs validate against those at synth time). A cdk8s
 * app gets the constructs without the operator's, engine's and CLI's dependencies.
 *
 *   npm run build:constructs                 build packages/constructs/
 *   npm run build:constructs -- --pack DIR   and `npm pack` it into DIR (prints the tarball's path)
 */
import { execFileSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
export const CONSTRUCTS_PACKAGE = join(root, 'packages/constructs');

/** Builds the package; with `packInto`, packs it there and returns the tarball's path. */
export function buildConstructsPackage(packInto?: string): string | undefined {
  rmSync(join(CONSTRUCTS_PACKAGE, 'build'), { recursive: true, force: true });
  rmSync(join(CONSTRUCTS_PACKAGE, 'crds'), { recursive: true, force: true });
  execFileSync(join(root, 'node_modules/.bin/tsc'), ['-p', join(CONSTRUCTS_PACKAGE, 'tsconfig.json')], {
    stdio: 'inherit',
  });
  cpSync(join(root, 'crds'), join(CONSTRUCTS_PACKAGE, 'crds'), { recursive: true });
  if (!packInto) return undefined;
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', resolve(packInto)], {
    cwd: CONSTRUCTS_PACKAGE,
    encoding: 'utf8',
  });
  const [packed] = JSON.parse(out) as { filename: string }[];
  if (!packed) throw new Error(`npm pack printed no file: ${out}`);
  return join(resolve(packInto), packed.filename);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { pack: { type: 'string' } } });
  const tarball = buildConstructsPackage(values.pack);
  console.log(tarball ?? `built ${CONSTRUCTS_PACKAGE}`);
}
