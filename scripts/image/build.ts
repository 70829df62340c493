/**
 * `npm run image`: builds the operator image without a Docker daemon or a registry, as an OCI
 * archive. Same configuration and layout as the Dockerfile (scripts/image/config.ts, rootfs.sh):
 * bundles the CLI (scripts/bundle-cli.ts), installs the production dependencies from
 * package-lock.json (the bundle loads its native addons from them), puts them with the running
 * Node 24 on a root filesystem, and commits that with buildah.
 *
 *   npm run image                         writes build/image/kafka-backup-k8s.oci.tar
 *   npm run image -- --out F --tag T      another archive path or tag
 *   then: ctr -n k8s.io images import F   (a containerd node), or skopeo/podman to push it
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { bundleCli } from '../bundle-cli.ts';
import { buildahImage } from './buildah.ts';
import { IMAGE_CONFIG, IMAGE_REPOSITORY, IMAGE_VERSION } from './config.ts';

const execFileAsync = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');

export interface BuiltImage {
  readonly archive: string;
  readonly reference: string;
}

/** Files whose content decides the image: a change to any of them makes a new image. */
export async function imageInputs(): Promise<string[]> {
  const { stdout } = await execFileAsync(
    'git',
    [
      'ls-files',
      '-z',
      '--',
      // What the bundle is made of (scripts/bundle-cli.ts): the TypeScript of runtime/, not the
      // chart, the docs or the Lua beside it.
      'runtime/*.ts',
      'scripts/bundle-cli.ts',
      'scripts/image',
      'package.json',
      'package-lock.json',
      'tsconfig.json',
    ],
    { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 },
  );
  return stdout
    .split('\0')
    .filter(Boolean)
    .filter((f) => existsSync(path.join(ROOT, f)))
    .sort();
}

/** A short hash of the image's inputs and of the Node binary it ships. */
export async function imageKey(nodeBinary = process.execPath): Promise<string> {
  const hash = createHash('sha256');
  for (const file of await imageInputs()) {
    hash
      .update(file)
      .update('\0')
      .update(readFileSync(path.join(ROOT, file)))
      .update('\0');
  }
  hash.update(readFileSync(nodeBinary));
  return hash.digest('hex').slice(0, 12);
}

async function step(what: string, command: string, args: string[], cwd: string): Promise<void> {
  process.stderr.write(`image: ${what}\n`);
  try {
    await execFileAsync(command, args, { cwd, maxBuffer: 64 * 1024 * 1024, timeout: 15 * 60_000 });
  } catch (error) {
    const e = error as Error & { stderr?: string; stdout?: string };
    throw new Error(`image: ${what} failed: ${(e.stderr || e.stdout || e.message).trim()}`);
  }
}

export async function buildImage(options: {
  archive: string;
  tag?: string;
  storageDir?: string;
}): Promise<BuiltImage> {
  const reference = `${IMAGE_REPOSITORY}:${options.tag ?? IMAGE_VERSION}`;
  const work = mkdtempSync(path.join(tmpdir(), 'kafka-backup-image-'));
  try {
    const app = path.join(work, 'app');
    process.stderr.write('image: bundling the CLI\n');
    await bundleCli(path.join(app, 'build/cli'));
    copyFileSync(path.join(ROOT, 'package.json'), path.join(app, 'package.json'));
    copyFileSync(path.join(ROOT, 'package-lock.json'), path.join(app, 'package-lock.json'));
    // Exactly the locked production dependencies; no install scripts run (none is needed at run time).
    await step(
      'installing production dependencies',
      'npm',
      ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'],
      app,
    );
    rmSync(path.join(app, 'package-lock.json'));
    const rootfs = path.join(work, 'rootfs');
    await step(
      'assembling the root filesystem',
      'bash',
      [path.join(ROOT, 'scripts/image/rootfs.sh'), process.execPath, app, rootfs],
      ROOT,
    );
    process.stderr.write(`image: committing ${reference} with buildah\n`);
    await buildahImage({
      rootfs,
      config: IMAGE_CONFIG,
      reference,
      archive: options.archive,
      storageDir: options.storageDir ?? path.join(work, 'buildah'),
    });
    return { archive: options.archive, reference };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: path.join(ROOT, 'build/image/kafka-backup-k8s.oci.tar') },
      tag: { type: 'string' },
    },
  });
  const image = await buildImage({ archive: path.resolve(values.out as string), tag: values.tag });
  console.log(`${image.reference} -> ${image.archive}`);
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
