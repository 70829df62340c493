import { join } from 'node:path';
import { goTool } from '../go-tools.ts';
import { freePort } from '../ports.ts';
import { startProcess, waitFor } from '../process.ts';
import type { ComponentContext, GcsInfo, Started } from '../state.ts';

/**
 * Starts fake-gcs-server (built from the Go module proxy) over plain HTTP on loopback, storing
 * objects on disk. The public host and external URL are set to the real address so that the
 * resumable-upload Location URLs it hands to clients point back at it.
 */
export async function startFakeGcs(ctx: ComponentContext): Promise<Started<GcsInfo>> {
  const server = await goTool('fakegcs', 'fake-gcs-server');
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const info: GcsInfo = { endpoint: `http://${address}`, projectId: 'kafka-backup-test' };
  const proc = startProcess({
    name: 'fake-gcs-server',
    command: server,
    args: [
      '-scheme',
      'http',
      '-host',
      '127.0.0.1',
      '-port',
      String(port),
      '-backend',
      'filesystem',
      '-filesystem-root',
      join(ctx.dataDir, 'data'),
      '-public-host',
      address,
      '-external-url',
      info.endpoint,
    ],
    logFile: join(ctx.logDir, 'fake-gcs-server.log'),
  });
  await waitFor(proc, `GET ${info.endpoint}/storage/v1/b (list buckets)`, async () => {
    const response = await fetch(`${info.endpoint}/storage/v1/b?project=${info.projectId}`);
    return response.ok;
  });
  return { info, processes: [{ name: proc.name, pid: proc.pid, logFile: proc.logFile }] };
}
