/**
 * Images the test node runs, built without a daemon and cached outside the repo by content:
 * the sandbox ("pause") image from tools/pause, and the operator image from this checkout
 * (scripts/image/build.ts, the same build as `npm run image`).
 */
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { join } from 'node:path';
import { buildImage, imageKey } from '../../scripts/image/build.ts';
import { buildahImage } from '../../scripts/image/buildah.ts';
import { IMAGE_REPOSITORY, IMAGE_VERSION } from '../../scripts/image/config.ts';
import { importImage } from './components/node.ts';
import { goTool } from './go-tools.ts';
import { run } from './process.ts';
import type { NodeInfo } from './state.ts';

export interface OciImage {
  /** The name the node knows it by (what a Pod's `image:` says). */
  readonly reference: string;
  /** The OCI archive to import. */
  readonly archive: string;
}

const inFlight = new Map<string, Promise<OciImage>>();

/** Builds the archive once per key: concurrent callers share the build, later ones find the file. */
function cached(
  archive: string,
  reference: string,
  build: (tmp: string) => Promise<void>,
): Promise<OciImage> {
  let p = inFlight.get(archive);
  if (!p) {
    p = (async () => {
      if (!existsSync(archive)) {
        mkdirSync(join(archive, '..'), { recursive: true });
        const tmp = `${archive}.${process.pid}.tmp`;
        await build(tmp);
        renameSync(tmp, archive);
      }
      return { reference, archive };
    })();
    inFlight.set(archive, p);
  }
  return p;
}

export async function pauseImage(cacheDir: string): Promise<OciImage> {
  const binary = await goTool('pause', 'pause');
  const key = createHash('sha256').update(readFileSync(binary)).digest('hex').slice(0, 12);
  const reference = `localhost/kafka-backup-test/pause:${key}`;
  return cached(join(cacheDir, 'images', `pause-${key}.oci.tar`), reference, async (tmp) => {
    const work = mkdtempSync(join(cacheDir, 'images', 'pause-'));
    try {
      const rootfs = join(work, 'rootfs');
      mkdirSync(rootfs);
      copyFileSync(binary, join(rootfs, 'pause'));
      chmodSync(join(rootfs, 'pause'), 0o755);
      await buildahImage({
        rootfs,
        reference,
        archive: tmp,
        storageDir: join(work, 'buildah'),
        config: {
          user: '65535:65535',
          workingDir: '/',
          entrypoint: ['/pause'],
          cmd: [],
          env: {},
          labels: {},
        },
      });
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
}

/** The operator image of this checkout, tagged `<version>-dev.<content key>`. */
export async function operatorImage(cacheDir: string): Promise<OciImage> {
  const key = await imageKey();
  const tag = `${IMAGE_VERSION}-dev.${key}`;
  return cached(
    join(cacheDir, 'images', `kafka-backup-k8s-${key}.oci.tar`),
    `${IMAGE_REPOSITORY}:${tag}`,
    async (tmp) => {
      await buildImage({ archive: tmp, tag });
    },
  );
}

/** Imports an image into the test node's containerd (what a registry pull would do in a cluster). */
export async function loadIntoNode(node: NodeInfo, image: OciImage): Promise<void> {
  await importImage(node.containerdSocket, image.archive);
}

/** The image configuration inside an OCI archive (index -> manifest -> config). */
export async function archiveConfig(archive: string): Promise<{
  User?: string;
  WorkingDir?: string;
  Entrypoint?: string[];
  Cmd?: string[];
  Env?: string[];
  Labels?: Record<string, string>;
}> {
  const read = async (member: string) => JSON.parse(await run('tar', ['-xOf', archive, member]));
  const blob = (digest: string) => `blobs/${digest.replace(':', '/')}`;
  const index = (await read('index.json')) as { manifests: Array<{ digest: string }> };
  const manifest = (await read(blob((index.manifests[0] as { digest: string }).digest))) as {
    config: { digest: string };
  };
  return ((await read(blob(manifest.config.digest))) as { config: object }).config;
}
