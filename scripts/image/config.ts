/**
 * The operator image's configuration: one source for the Dockerfile (checked by a test) and for the
 * daemonless build (`npm run image`, scripts/image/build.ts). Both produce the same layout: a root
 * filesystem holding only Node, its shared libraries, CA certificates, the bundled CLI (`build/cli/`,
 * scripts/bundle-cli.ts) and the production `node_modules` (the native addons it loads) under /app,
 * run as an unprivileged user on a read-only root filesystem (writes go to /tmp, which the
 * Deployment and the run Jobs mount as an emptyDir).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  license: string;
  description: string;
};

/** The image's repository, as `DEFAULT_OPERATOR_IMAGE` in lib/operator.ts and the chart name it. */
export const IMAGE_REPOSITORY = 'ghcr.io/oso/kafka-backup-k8s';
export const IMAGE_VERSION = pkg.version;

export interface ImageConfig {
  readonly user: string;
  readonly workingDir: string;
  readonly entrypoint: readonly string[];
  readonly cmd: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
}

export const IMAGE_CONFIG: ImageConfig = {
  // The distroless "nonroot" user, as the Deployment's securityContext expects.
  user: '65532:65532',
  workingDir: '/app',
  entrypoint: ['/usr/local/bin/node', '/app/build/cli/kafka-backup.js'],
  cmd: ['operator'],
  env: { NODE_ENV: 'production' },
  labels: {
    'org.opencontainers.image.title': 'kafka-backup-k8s',
    'org.opencontainers.image.description': pkg.description,
    'org.opencontainers.image.licenses': pkg.license,
    'org.opencontainers.image.version': pkg.version,
    'org.opencontainers.image.source': 'https://github.com/oso/kafka-backup-k8s',
  },
};
