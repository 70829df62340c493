import type {
  ConnectionSettings,
  KafkaConnectionConfig,
  SaslMechanism,
  SecurityProtocol,
} from '../kafka/connection.ts';
import type { Reader } from './reader.ts';
import { REMOVED_FIELDS } from './removed-fields.ts';
import {
  describeSource,
  resolveField,
  resolveSecretText,
  type SecretReadOptions,
  type SecretResolver,
  type SecretSource,
  secretField,
  secretRef,
} from './secrets.ts';

const PROTOCOLS: readonly SecurityProtocol[] = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'];
const MECHANISMS: readonly SaslMechanism[] = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'];

/**
 * `kafkaCluster` as parsed: the connection settings with its secrets still references, so parsing
 * stays synchronous and the secrets are read afterwards through the injected SecretResolver.
 */
export interface KafkaClusterSpec {
  readonly path: string;
  readonly bootstrapServers: readonly string[];
  readonly securityProtocol: SecurityProtocol;
  readonly clientId?: string;
  readonly ca?: SecretSource;
  readonly cert?: SecretSource;
  readonly key?: SecretSource;
  readonly serverName?: string;
  readonly mechanism?: SaslMechanism;
  /** Plain text (the CLI's `sasl.username`) or a secret. */
  readonly username?: SecretSource | string;
  readonly password?: SecretSource;
  readonly connection?: ConnectionSettings;
}

/**
 * `kafkaCluster` as the CRD spells it (bootstrapServers, securityProtocol, tlsSecret, caSecret,
 * saslSecret, connection.*), plus file/env forms for the CLI (`tls.caFile`, `sasl.passwordEnv`, ...).
 */
export function readKafkaCluster(r: Reader): KafkaClusterSpec {
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
    c.removed('keepaliveIntervalSecs', REMOVED_FIELDS.keepaliveIntervalSecs.reason);
    c.finish();
  }
  r.finish();
  const saslUsed = securityProtocol === 'SASL_SSL' || securityProtocol === 'SASL_PLAINTEXT';
  if (saslUsed && !mechanism) r.problems.push(`${r.path}: ${securityProtocol} needs saslSecret or sasl`);

  return {
    path: r.path,
    bootstrapServers,
    securityProtocol,
    ...(clientId ? { clientId } : {}),
    ...(ca[0] ? { ca: ca[0] } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    ...(serverName ? { serverName } : {}),
    ...(mechanism ? { mechanism } : {}),
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    ...(connection ? { connection: stripUndefined(connection) } : {}),
  };
}

/**
 * Reads the secrets the spec names (only those its securityProtocol uses); a missing one becomes a
 * problem naming the field and where it was looked for.
 */
export async function resolveKafkaCluster(
  spec: KafkaClusterSpec,
  secrets: SecretResolver,
  problems: string[],
): Promise<KafkaConnectionConfig> {
  const read = async (
    source: SecretSource | undefined,
    what: string,
    options: SecretReadOptions = {},
  ): Promise<string | undefined> =>
    source
      ? resolveField(problems, `${spec.path}: ${what}`, () => resolveSecretText(secrets, source, options))
      : undefined;
  const tlsUsed = spec.securityProtocol === 'SSL' || spec.securityProtocol === 'SASL_SSL';
  const caPem = tlsUsed ? await read(spec.ca, 'TLS CA') : undefined;
  const certPem = tlsUsed ? await read(spec.cert, 'TLS client certificate') : undefined;
  const keyPem = tlsUsed ? await read(spec.key, 'TLS client key') : undefined;
  const saslUsed = spec.securityProtocol === 'SASL_SSL' || spec.securityProtocol === 'SASL_PLAINTEXT';
  const user =
    typeof spec.username === 'string'
      ? spec.username
      : saslUsed
        ? // Not a secret: authentication errors name the user (the password is what is kept secret).
          await read(spec.username, 'SASL username', { sensitive: false })
        : undefined;
  const pass = saslUsed ? await read(spec.password, 'SASL password') : undefined;
  return {
    bootstrapServers: spec.bootstrapServers,
    securityProtocol: spec.securityProtocol,
    ...(spec.clientId ? { clientId: spec.clientId } : {}),
    ...(tlsUsed
      ? {
          tls: {
            ...(caPem ? { ca: caPem } : {}),
            ...(caPem && spec.ca ? { caSource: describeSource(spec.ca) } : {}),
            ...(certPem ? { cert: certPem } : {}),
            ...(keyPem ? { key: keyPem } : {}),
            ...(spec.serverName ? { serverName: spec.serverName } : {}),
          },
        }
      : {}),
    ...(saslUsed && spec.mechanism && user !== undefined && pass !== undefined
      ? { sasl: { mechanism: spec.mechanism, username: user, password: pass } }
      : {}),
    ...(spec.connection ? { connection: spec.connection } : {}),
  };
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
