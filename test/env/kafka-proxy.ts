/**
 * The source Kafka cluster behind toxiproxy. A Kafka client connects to the addresses the broker
 * advertises, so a proxy in front of the bootstrap port alone is bypassed after the first metadata
 * response. The source cluster's PROXIED listener advertises a port nothing listens on
 * (`SourceKafkaInfo.proxied`); the proxy made here listens on exactly that port, so the bootstrap
 * connection and every broker connection after it cross toxiproxy and feel its toxics.
 *
 * One proxy at a time: the advertised port is a single address. Test files using it must not run
 * concurrently with each other.
 */
import { need } from './fixture.ts';
import { ToxiproxyClient } from './storage-clients.ts';

/** The proxy's name in toxiproxy; fixed, so a proxy left over by a killed test run is replaced. */
const PROXY_NAME = 'kafka-source-proxied';

export interface SourceKafkaProxy {
  /** Bootstrap address for a client whose traffic must all cross the proxy: '127.0.0.1:<advertisedPort>'. */
  readonly bootstrap: string;
  /** The proxy's name, for adding and removing toxics through `toxiproxy`. */
  readonly name: string;
  readonly toxiproxy: ToxiproxyClient;
  /** Cuts every open connection and refuses new ones (`enabled: false`) until `restore()`. */
  cut(): Promise<void>;
  restore(): Promise<void>;
  /**
   * A broker that stops answering: connections stay open but no data passes either way (toxiproxy's
   * `timeout` toxic with no timeout), until `unstall()`. Only request timeouts can notice it.
   */
  stall(): Promise<void>;
  unstall(): Promise<void>;
  /** Deletes the proxy; the advertised port is then closed again. Safe to call twice. */
  cleanup(): Promise<void>;
}

/** Creates the toxiproxy proxy that makes the source cluster's PROXIED listener reachable. */
export async function proxySourceKafka(): Promise<SourceKafkaProxy> {
  const { proxied } = need('kafka').source;
  if (!proxied) {
    throw new Error(
      'the running test environment predates the PROXIED Kafka listener: restart it (npm run env -- down, then up)',
    );
  }
  const { apiUrl } = need('toxiproxy');
  const toxiproxy = new ToxiproxyClient(apiUrl);
  const listen = `127.0.0.1:${proxied.advertisedPort}`;
  await toxiproxy.deleteProxy(PROXY_NAME).catch(() => {}); // left over by a killed run
  await toxiproxy.createProxy(PROXY_NAME, proxied.upstream, listen);

  // ToxiproxyClient covers latency and resets; the rest of toxiproxy's HTTP API is called directly.
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${apiUrl}/proxies/${PROXY_NAME}${path}`, {
      method,
      headers: body === undefined ? undefined : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) {
      throw new Error(
        `toxiproxy ${method} ${path || '/'} failed: HTTP ${response.status} ${await response.text()}`,
      );
    }
  };
  // POST /proxies/{name} updates fields; disabling closes every connection.
  const setEnabled = (enabled: boolean) => call('POST', '', { enabled });
  const STREAMS = ['upstream', 'downstream'] as const;
  let deleted = false;
  return {
    bootstrap: listen,
    name: PROXY_NAME,
    toxiproxy,
    cut: () => setEnabled(false),
    restore: () => setEnabled(true),
    stall: async () => {
      for (const stream of STREAMS) {
        await call('POST', '/toxics', {
          name: `stall-${stream}`,
          type: 'timeout',
          stream,
          toxicity: 1,
          attributes: { timeout: 0 },
        });
      }
    },
    unstall: async () => {
      for (const stream of STREAMS) await call('DELETE', `/toxics/stall-${stream}`);
    },
    cleanup: async () => {
      if (deleted) return;
      deleted = true;
      await toxiproxy.deleteProxy(PROXY_NAME);
    },
  };
}
