/**
 * The health probe server (/healthz, /readyz) and the metrics server (/metrics), bound to the
 * addresses of --health-probe-bind-address and --metrics-bind-address. Answers follow the
 * Kubernetes components' convention: 200 "ok", or 500 with one line per failed check.
 */
import { createServer, type Server } from 'node:http';
import type { BindAddress } from '../metrics/server.ts';

export { type BindAddress, close, createMetricsServer, listen } from '../metrics/server.ts';

/**
 * Parses ":8080", "127.0.0.1:8080", "[::1]:8080" (port 0: any free port). "0" and "" turn the
 * server off (undefined), as in controller-runtime.
 */
export function parseBindAddress(flag: string, value: string): BindAddress | undefined {
  if (value === '0' || value === '') return undefined;
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value);
  const port = Number(match?.[3]);
  if (!match || port > 65535) {
    throw new Error(
      `${flag}: expected [host]:port (e.g. :8080 or 127.0.0.1:8080), or 0 to disable, got "${value}"`,
    );
  }
  const host = match[1] ?? match[2];
  return { host: host || undefined, port };
}

/** One named check: returns undefined when fine, else why not. */
export type Check = () => string | undefined;

export interface ProbeChecks {
  readonly healthz: Readonly<Record<string, Check>>;
  readonly readyz: Readonly<Record<string, Check>>;
}

export function createProbeServer(checks: ProbeChecks): Server {
  return createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://probe').pathname;
    const set = path === '/healthz' ? checks.healthz : path === '/readyz' ? checks.readyz : undefined;
    if (!set || req.method !== 'GET') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    const failures: string[] = [];
    for (const [name, check] of Object.entries(set)) {
      let reason: string | undefined;
      try {
        reason = check();
      } catch (error) {
        reason = error instanceof Error ? error.message : String(error);
      }
      if (reason !== undefined) failures.push(`[-]${name} failed: ${reason}`);
    }
    if (failures.length === 0) {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    }
    res
      .writeHead(500, { 'content-type': 'text/plain' })
      .end(`${failures.join('\n')}\n${path.slice(1)} check failed\n`);
  });
}
