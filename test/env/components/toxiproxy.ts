import { join } from 'node:path';
import { goTool } from '../go-tools.ts';
import { freePort } from '../ports.ts';
import { startProcess, waitFor } from '../process.ts';
import type { ComponentContext, Started, ToxiproxyInfo } from '../state.ts';

/**
 * Starts toxiproxy (built from the Go module proxy) with its control API on loopback. It starts
 * with no proxies: each test creates its own (see storage-clients.ts `ToxiproxyClient`).
 */
export async function startToxiproxy(ctx: ComponentContext): Promise<Started<ToxiproxyInfo>> {
  const server = await goTool('toxiproxy', 'toxiproxy-server');
  const port = await freePort();
  const info: ToxiproxyInfo = { apiUrl: `http://127.0.0.1:${port}` };
  const proc = startProcess({
    name: 'toxiproxy',
    command: server,
    args: ['-host', '127.0.0.1', '-port', String(port)],
    logFile: join(ctx.logDir, 'toxiproxy.log'),
  });
  await waitFor(proc, `GET ${info.apiUrl}/version`, async () => {
    const response = await fetch(`${info.apiUrl}/version`);
    return response.ok;
  });
  return { info, processes: [{ name: proc.name, pid: proc.pid, logFile: proc.logFile }] };
}
