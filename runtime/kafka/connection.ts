/**
 * Resolved connection settings of one cluster: what the adapter needs, with secrets already read
 * from files or the environment (never from the configuration file itself).
 */
export type SecurityProtocol = 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL';
export type SaslMechanism = 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512';

export interface KafkaConnectionConfig {
  readonly bootstrapServers: readonly string[];
  readonly securityProtocol: SecurityProtocol;
  readonly clientId?: string;
  readonly tls?: {
    /** PEM of the CA(s) that signed the brokers' certificates; the system roots when absent. */
    readonly ca?: string;
    /** Client certificate and key (PEM) for mutual TLS. */
    readonly cert?: string;
    readonly key?: string;
    readonly serverName?: string;
    /** Where the CA came from (a file, a variable, a Secret), for error messages. */
    readonly caSource?: string;
  };
  readonly sasl?: {
    readonly mechanism: SaslMechanism;
    readonly username: string;
    readonly password: string;
  };
  readonly connection?: ConnectionSettings;
}

export interface ConnectionSettings {
  /** Independent connections to each broker; partitions are spread over them. Default 4. */
  readonly connectionsPerBroker?: number;
  readonly tcpKeepalive?: boolean;
  readonly keepaliveTimeSecs?: number;
  readonly tcpNodelay?: boolean;
  readonly connectTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
}

export const DEFAULT_CONNECTIONS_PER_BROKER = 4;

export function usesTls(protocol: SecurityProtocol): boolean {
  return protocol === 'SSL' || protocol === 'SASL_SSL';
}

export function usesSasl(protocol: SecurityProtocol): boolean {
  return protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL';
}

/** Checks that the settings agree with the protocol; returns what is wrong, for a clear error. */
export function connectionProblems(config: KafkaConnectionConfig): string[] {
  const problems: string[] = [];
  if (config.bootstrapServers.length === 0)
    problems.push('bootstrapServers is empty: list at least one host:port');
  for (const server of config.bootstrapServers) {
    if (!/^[^:\s]+:\d+$/.test(server)) problems.push(`bootstrap server '${server}' is not host:port`);
  }
  if (usesSasl(config.securityProtocol) && !config.sasl) {
    problems.push(`securityProtocol ${config.securityProtocol} needs SASL credentials (saslSecret or sasl)`);
  }
  if (!usesSasl(config.securityProtocol) && config.sasl) {
    problems.push(
      `SASL credentials are set but securityProtocol is ${config.securityProtocol}; use SASL_SSL or SASL_PLAINTEXT`,
    );
  }
  if (config.tls && !usesTls(config.securityProtocol)) {
    problems.push(
      `TLS settings are set but securityProtocol is ${config.securityProtocol}; use SSL or SASL_SSL`,
    );
  }
  if (Boolean(config.tls?.cert) !== Boolean(config.tls?.key)) {
    problems.push('mutual TLS needs both a client certificate and its key');
  }
  const perBroker = config.connection?.connectionsPerBroker;
  if (perBroker !== undefined && (!Number.isInteger(perBroker) || perBroker < 1)) {
    problems.push('connection.connectionsPerBroker must be a positive integer');
  }
  return problems;
}
