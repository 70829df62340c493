import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { type KafkaConnectionConfig, usesSasl, usesTls } from './connection.ts';

/**
 * The @platformatic/kafka client options for one connection config: bootstrap servers, timeouts,
 * TLS (CA, mutual TLS, server name, keepalive) and SASL. Every client of the cluster (the engine's
 * admin, fetchers and producers, the offsets tooling) is built from this, so a security setting
 * cannot apply to one and not another. `role` names the client in broker logs.
 */
export function clientOptions(c: KafkaConnectionConfig, role: string) {
  const tls: TlsOptions | undefined = usesTls(c.securityProtocol)
    ? {
        ...(c.tls?.ca ? { ca: c.tls.ca } : {}),
        ...(c.tls?.cert ? { cert: c.tls.cert, key: c.tls.key } : {}),
        ...(c.tls?.serverName ? { servername: c.tls.serverName } : {}),
        ...(c.connection?.tcpKeepalive === false
          ? {}
          : { keepAlive: true, keepAliveInitialDelay: (c.connection?.keepaliveTimeSecs ?? 60) * 1000 }),
      }
    : undefined;
  const sasl =
    usesSasl(c.securityProtocol) && c.sasl
      ? { mechanism: c.sasl.mechanism, username: c.sasl.username, password: c.sasl.password }
      : undefined;
  return {
    clientId: `${c.clientId ?? 'kafka-backup'}-${role}`,
    bootstrapBrokers: [...c.bootstrapServers],
    connectTimeout: c.connection?.connectTimeoutMs ?? 10_000,
    requestTimeout: c.connection?.requestTimeoutMs ?? 60_000,
    retries: 5,
    retryDelay: 250,
    ...(tls ? { tls } : {}),
    ...(sasl ? { sasl } : {}),
  };
}
