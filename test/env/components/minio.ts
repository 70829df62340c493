import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { goTool } from '../go-tools.ts';
import { freePorts } from '../ports.ts';
import { startProcess, waitFor } from '../process.ts';
import type { ComponentContext, S3Info, Started } from '../state.ts';

const REGION = 'us-east-1';

/**
 * Starts a single-drive MinIO server (built from the Go module proxy) on loopback, with root
 * credentials random per environment so that nothing can pass by using MinIO's well-known defaults.
 */
export async function startMinio(ctx: ComponentContext): Promise<Started<S3Info>> {
  const minio = await goTool('minio', 'minio');
  const [apiPort, consolePort] = await freePorts(2);
  const info: S3Info = {
    endpoint: `http://127.0.0.1:${apiPort}`,
    region: REGION,
    accessKeyId: `minio-${randomBytes(6).toString('hex')}`,
    secretAccessKey: randomBytes(24).toString('hex'),
  };
  const proc = startProcess({
    name: 'minio',
    command: minio,
    // --certs-dir keeps MinIO out of ~/.minio; the console address is pinned to loopback too,
    // since MinIO would otherwise pick a random port on all interfaces.
    args: [
      'server',
      '--certs-dir',
      join(ctx.dataDir, 'certs'),
      '--address',
      `127.0.0.1:${apiPort}`,
      '--console-address',
      `127.0.0.1:${consolePort}`,
      join(ctx.dataDir, 'data'),
    ],
    logFile: join(ctx.logDir, 'minio.log'),
    env: {
      MINIO_ROOT_USER: info.accessKeyId,
      MINIO_ROOT_PASSWORD: info.secretAccessKey,
      MINIO_BROWSER: 'off',
      MINIO_SITE_REGION: REGION,
      MINIO_UPDATE: 'off',
    },
  });
  await waitFor(proc, `GET ${info.endpoint}/minio/health/ready`, async () => {
    const response = await fetch(`${info.endpoint}/minio/health/ready`);
    return response.ok;
  });
  return { info, processes: [{ name: proc.name, pid: proc.pid, logFile: proc.logFile }] };
}
