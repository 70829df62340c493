import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { freePort } from '../ports.ts';
import { startProcess, waitFor } from '../process.ts';
import type { AzureInfo, ComponentContext, Started } from '../state.ts';

const require = createRequire(import.meta.url);
const ACCOUNT = 'devstoreaccount1';

/**
 * Starts Azurite's Blob service (from npm) on loopback. The account has Azurite's well-known dev
 * name but a key random per environment (AZURITE_ACCOUNTS), so a client that ignores the
 * configured credentials fails instead of passing with the documented default key.
 */
export async function startAzurite(ctx: ComponentContext): Promise<Started<AzureInfo>> {
  // Azurite needs Node >= 22: run it on the project's Node (the `node` devDependency), never the
  // Node that happens to be first on the PATH.
  const node = join(dirname(require.resolve('node/package.json')), 'bin', 'node');
  const main = require.resolve('azurite/dist/src/blob/main.js');
  const port = await freePort();
  const accountKey = randomBytes(64).toString('base64');
  const blobEndpoint = `http://127.0.0.1:${port}/${ACCOUNT}`;
  const info: AzureInfo = {
    blobEndpoint,
    accountName: ACCOUNT,
    accountKey,
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${ACCOUNT};AccountKey=${accountKey};BlobEndpoint=${blobEndpoint};`,
  };
  const proc = startProcess({
    name: 'azurite',
    command: node,
    args: [
      main,
      '--blobHost',
      '127.0.0.1',
      '--blobPort',
      String(port),
      '--location',
      ctx.dataDir,
      // The SDK is usually newer than the emulator; its API version header would be refused.
      '--skipApiVersionCheck',
      '--disableTelemetry',
    ],
    cwd: ctx.dataDir,
    logFile: join(ctx.logDir, 'azurite.log'),
    env: { AZURITE_ACCOUNTS: `${ACCOUNT}:${accountKey}` },
  });
  const service = new BlobServiceClient(blobEndpoint, new StorageSharedKeyCredential(ACCOUNT, accountKey), {
    retryOptions: { maxTries: 1 },
  });
  await waitFor(proc, `an authenticated Get Blob Service Properties on ${blobEndpoint}`, async () => {
    await service.getProperties();
    return true;
  });
  return { info, processes: [{ name: proc.name, pid: proc.pid, logFile: proc.logFile }] };
}
