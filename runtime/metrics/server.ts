/**
 * The HTTP server of /metrics: the operator's (--metrics-bind-address) and the CLI's (a spec's
 * metrics block) are the same server over their registries.
 */
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface BindAddress {
  /** undefined: every interface. */
  readonly host: string | undefined;
  readonly port: number;
}

/**
 * node:http, required when a server is made. Imported as an ES module, Node builds its whole export
 * list, whose WebSocket getter loads undici: ~20 ms of every CLI start, though few runs serve metrics.
 */
function http(): typeof import('node:http') {
  return createRequire(import.meta.url)('node:http') as typeof import('node:http');
}

/** Serves `registry` in the Prometheus text format on GET `path`; anything else is 404. */
export function createMetricsServer(registry: Registry, path = '/metrics'): Server {
  return http().createServer((req, res) => {
    const requested = new URL(req.url ?? '/', 'http://metrics').pathname;
    if (requested !== path || req.method !== 'GET') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
      (error: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(error)}\n`),
    );
  });
}

/** Listens and returns the address actually bound ("127.0.0.1:43121"). */
export function listen(server: Server, address: BindAddress): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => {
      server.off('error', reject);
      const bound = server.address() as AddressInfo;
      resolve(
        bound.family === 'IPv6' ? `[${bound.address}]:${bound.port}` : `${bound.address}:${bound.port}`,
      );
    });
  });
}

export function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
