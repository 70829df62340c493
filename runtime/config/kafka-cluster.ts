import type { KafkaConnectionConfig, SaslMechanism, SecurityProtocol } from '../kafka/connection.ts';
import type { Reader } from './reader.ts';
import { readSecret, type SecretSource, secretField, secretRef } from './secrets.ts';

const PROTOCOLS: readonly SecurityProtocol[] = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'];
const MECHANISMS: readonly SaslMechanism[] = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'];

/**
 * `kafkaCluster` as the CRD spells it (bootstrapServers, securityProtocol, tlsSecret, caSecret,
 * saslSecret, connection.*), plus file/env forms for the CLI (`tls.caFile`, `sasl.passwordEnv`, ...).
 * Secrets are read here; a missing file or variable is reported with the field that named it.
 */
export function readKafkaCluster(r: Reader): KafkaConnectionConfig {
  const bootstrapServers = r.strings('bootstrapServers');
  if (bootstrapServers.length === 0 && !r.problems.some((p) => p.includes('bootstrapServers'))) {
    r.problem('bootstrapServers', 'is required: list at least one host:port');
  }
  const securityProtocol = r.oneOf('securityProtocol', PROTOCOLS, 'PLAINTEXT');
  const clientId = r.string('clientId');

  const ca: SecretSource[] = [];
  let cert: SecretSource | undefined;
  let key: SecretSource | undefined;
  let serverName: string | undefined;
  const tlsSecret = r.object('tlsSecret');
  if (tlsSecret) {
    const name = tlsSecret.requiredString('name');
    const caKey = tlsSecret.string('caKey') ?? 'ca.crt';
    const certKey = tlsSecret.string('certKey');
    const keyKey = tlsSecret.string('keyKey');
    tlsSecret.finish();
    ca.push({ kind: 'secret', name, key: caKey });
    if (certKey) cert = { kind: 'secret', name, key: certKey };
    if (keyKey) key = { kind: 'secret', name, key: keyKey };
  }
  const caSecret = r.object('caSecret');
  if (caSecret) {
    const source = secretRef(caSecret, 'caKey', 'ca.crt');
    caSecret.finish();
    // A separate CA secret overrides the CA of tlsSecret (Strimzi's <cluster>-cluster-ca-cert).
    if (source) ca.splice(0, ca.length, source);
  }
  const tls = r.object('tls');
  if (tls) {
    const caFile = secretField(tls, 'ca', { secret: false });
    if (caFile) ca.splice(0, ca.length, caFile);
    cert = secretField(tls, 'cert', { secret: false }) ?? cert;
    key = secretField(tls, 'key', { secret: true }) ?? key;
    serverName = tls.string('serverName');
    tls.finish();
  }

  let mechanism: SaslMechanism | undefined;
  let username: SecretSource | string | undefined;
  let password: SecretSource | undefined;
  const saslSecret = r.object('saslSecret');
  if (saslSecret) {
    const name = saslSecret.requiredString('name');
    mechanism = saslSecret.oneOf('mechanism', MECHANISMS);
    if (!mechanism && !saslSecret.has('mechanism')) saslSecret.problem('mechanism', 'is required');
    username = { kind: 'secret', name, key: saslSecret.string('usernameKey') ?? 'username' };
    password = { kind: 'secret', name, key: saslSecret.string('passwordKey') ?? 'password' };
    saslSecret.finish();
  }
  const sasl = r.object('sasl');
  if (sasl) {
    mechanism = sasl.oneOf('mechanism', MECHANISMS) ?? mechanism;
    if (!mechanism) sasl.problem('mechanism', 'is required');
    username = sasl.string('username') ?? secretField(sasl, 'username', { secret: false }) ?? username;
    password = secretField(sasl, 'password', { secret: true }) ?? password;
    if (!username) sasl.problem('username', 'is required (username, usernameFile or usernameEnv)');
    if (!password) sasl.problem('password', 'is required (passwordFile or passwordEnv)');
    sasl.finish();
  }

  const c = r.object('connection');
  const connection = c
    ? {
        connectionsPerBroker: c.integer('connectionsPerBroker', { min: 1, max: 64 }),
        tcpKeepalive: c.boolean('tcpKeepalive', true),
        keepaliveTimeSecs: c.integer('keepaliveTimeSecs', { min: 1 }),
        tcpNodelay: c.boolean('tcpNodelay', true),
        connectTimeoutMs: c.integer('connectTimeoutMs', { min: 1 }),
        requestTimeoutMs: c.integer('requestTimeoutMs', { min: 1 }),
      }
    : undefined;
  if (c) {
    c.accept('keepaliveIntervalSecs'); // the OS applies its own probe interval; accepted for CRD compatibility
    c.finish();
  }
  r.finish();

  const read = (source: SecretSource | undefined, what: string): string | undefined => {
    if (!source) return undefined;
    try {
      return readSecret(source);
    } catch (error) {
      r.problems.push(`${r.path}: ${what}: ${(error as Error).message}`);
      return undefined;
    }
  };
  const tlsUsed = securityProtocol === 'SSL' || securityProtocol === 'SASL_SSL';
  const caPem = tlsUsed ? read(ca[0], 'TLS CA') : undefined;
  const certPem = tlsUsed ? read(cert, 'TLS client certificate') : undefined;
  const keyPem = tlsUsed ? read(key, 'TLS client key') : undefined;
  const saslUsed = securityProtocol === 'SASL_SSL' || securityProtocol === 'SASL_PLAINTEXT';
  if (saslUsed && !mechanism) r.problems.push(`${r.path}: ${securityProtocol} needs saslSecret or sasl`);
  const user =
    typeof username === 'string' ? username : saslUsed ? read(username, 'SASL username') : undefined;
  const pass = saslUsed ? read(password, 'SASL password') : undefined;

  return {
    bootstrapServers,
    securityProtocol,
    ...(clientId ? { clientId } : {}),
    ...(tlsUsed
      ? {
          tls: {
            ...(caPem ? { ca: caPem } : {}),
            ...(certPem ? { cert: certPem } : {}),
            ...(keyPem ? { key: keyPem } : {}),
            ...(serverName ? { serverName } : {}),
          },
        }
      : {}),
    ...(saslUsed && mechanism && user !== undefined && pass !== undefined
      ? { sasl: { mechanism, username: user, password: pass } }
      : {}),
    ...(connection ? { connection: stripUndefined(connection) } : {}),
  };
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
