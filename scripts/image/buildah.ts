/**
 * Builds an OCI image from a prepared root filesystem with buildah, without a daemon or a
 * registry: `buildah from scratch`, one layer holding the whole root filesystem, the image
 * configuration, then an OCI archive that `ctr images import` (or `podman load`, `skopeo copy`)
 * takes. Storage lives under `storageDir`, so nothing touches /var/lib/containers.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ImageConfig } from './config.ts';

const execFileAsync = promisify(execFile);

export interface BuildahImage {
  /** The root filesystem to put in the image's one layer. */
  readonly rootfs: string;
  readonly config: ImageConfig;
  /** The image's name inside the archive, e.g. `ghcr.io/oso/kafka-backup-k8s:0.1.0`. */
  readonly reference: string;
  /** The OCI archive to write (replaced if present). */
  readonly archive: string;
  /** buildah's private storage (root and run root below it). */
  readonly storageDir: string;
}

export async function buildahImage(image: BuildahImage): Promise<void> {
  const storage = [
    '--root',
    path.join(image.storageDir, 'root'),
    '--runroot',
    path.join(image.storageDir, 'run'),
    // vfs works on any filesystem and needs no kernel overlay support; images here are small.
    '--storage-driver',
    'vfs',
  ];
  const buildah = async (args: string[]): Promise<string> => {
    try {
      const { stdout } = await execFileAsync('buildah', [...storage, ...args], {
        maxBuffer: 16 * 1024 * 1024,
        timeout: 10 * 60_000,
      });
      return stdout.trim();
    } catch (error) {
      const e = error as Error & { stderr?: string; code?: string };
      if (e.code === 'ENOENT') {
        throw new Error(
          'buildah is not installed: install it with `apt-get install buildah` (Debian/Ubuntu)',
        );
      }
      throw new Error(`buildah ${args.join(' ')} failed: ${e.stderr?.trim() || e.message}`);
    }
  };
  mkdirSync(image.storageDir, { recursive: true });
  const container = await buildah(['from', '--quiet', 'scratch']);
  try {
    await buildah(['copy', '--quiet', container, `${image.rootfs}/`, '/']);
    const c = image.config;
    await buildah([
      'config',
      '--user',
      c.user,
      '--workingdir',
      c.workingDir,
      '--entrypoint',
      JSON.stringify(c.entrypoint),
      '--cmd',
      JSON.stringify(c.cmd),
      ...Object.entries(c.env).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
      ...Object.entries(c.labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]),
      container,
    ]);
    // No io.buildah.version label: the image carries only the labels the Dockerfile declares too.
    const id = await buildah([
      'commit',
      '--quiet',
      '--format',
      'oci',
      '--identity-label=false',
      container,
      image.reference,
    ]);
    rmSync(image.archive, { force: true });
    mkdirSync(path.dirname(image.archive), { recursive: true });
    await buildah(['push', '--quiet', id, `oci-archive:${image.archive}:${image.reference}`]);
    await buildah(['rmi', '--force', id]).catch(() => undefined);
  } finally {
    await buildah(['rm', container]).catch(() => undefined);
  }
}
