/**
 * What went wrong at the Kafka port, read from the error tree @platformatic/kafka builds
 * (MultipleErrors `errors`, NetworkError `cause`, ResponseError > ProtocolError) and from the socket
 * and TLS errors Node puts at its leaves. The library retries every connection failure alike and
 * reports "Connection to host:port failed." for all of them; this names the real cause.
 *
 * runtime/app/errors.ts maps a kind to its condition reason, class and exit code.
 */
export type KafkaFailureKind =
  | 'name-not-resolved'
  | 'connection-refused'
  | 'connection-timeout'
  | 'connection-closed'
  | 'tls-untrusted'
  | 'tls-hostname'
  | 'tls-not-spoken'
  | 'tls-failed'
  | 'sasl-failed'
  | 'sasl-mechanism'
  | 'unsupported-version'
  | 'not-authorized';

export interface KafkaFailure {
  readonly kind: KafkaFailureKind;
  /** Someone must change something (a Secret, a CA, the spec, an ACL): retrying the same request is pointless. */
  readonly terminal: boolean;
  /** One actionable sentence; never a secret value. */
  readonly message: string;
}

/** What the messages may name: the settings in use (no secret values). */
export interface KafkaFailureContext {
  readonly securityProtocol?: string;
  /** Named when the error does not say which broker failed. */
  readonly bootstrapServers?: readonly string[];
  /** Where the CA came from, e.g. "file /etc/kafka/ca.crt" or "Secret kafka-ca key ca.crt". */
  readonly caSource?: string;
  readonly sasl?: { readonly mechanism: string; readonly username: string };
}

type Node = Error & Record<string, unknown>;

const UNTRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
]);

const AUTHORIZATION: Readonly<Record<string, string>> = {
  TOPIC_AUTHORIZATION_FAILED: 'topic',
  GROUP_AUTHORIZATION_FAILED: 'consumer group',
  CLUSTER_AUTHORIZATION_FAILED: 'cluster',
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: 'transactional id',
  DELEGATION_TOKEN_AUTHORIZATION_FAILED: 'delegation token',
};

/** Every error in the tree, breadth first (causes and aggregated errors), each once. */
export function errorTree(error: unknown): Node[] {
  const out: Node[] = [];
  const seen = new Set<unknown>();
  const queue: unknown[] = [error];
  while (queue.length > 0) {
    const e = queue.shift();
    if (!(e instanceof Error) || seen.has(e)) continue;
    seen.add(e);
    out.push(e as Node);
    if (e.cause !== undefined) queue.push(e.cause);
    const nested = (e as { errors?: unknown }).errors;
    if (Array.isArray(nested)) queue.push(...nested);
  }
  return out;
}

/** The first recognised failure in the tree, terminal ones first; undefined when none is recognised. */
export function diagnoseKafkaFailure(
  error: unknown,
  context: KafkaFailureContext = {},
): KafkaFailure | undefined {
  const tree = errorTree(error);
  let retriable: KafkaFailure | undefined;
  for (const e of tree) {
    const found = diagnoseOne(e, tree, context);
    if (found?.terminal) return found;
    retriable ??= found;
  }
  return retriable;
}

function diagnoseOne(e: Node, tree: Node[], ctx: KafkaFailureContext): KafkaFailure | undefined {
  const code = typeof e.code === 'string' ? e.code : '';
  const apiId = typeof e.apiId === 'string' ? e.apiId : '';
  const where = endpointOf(e, tree, ctx);
  if (apiId === 'UNSUPPORTED_SASL_MECHANISM' || /suitable SASL mechanism/i.test(e.message)) {
    const enabled = enabledMechanisms(tree);
    return terminal(
      'sasl-mechanism',
      `the broker at ${where} does not enable SASL mechanism ${ctx.sasl?.mechanism ?? '(the configured one)'}` +
        (enabled ? `; it enables ${enabled.join(', ')}` : '') +
        ': set the mechanism to one the broker enables and the user has credentials for',
    );
  }
  if (
    apiId === 'SASL_AUTHENTICATION_FAILED' ||
    code === 'PLT_KFK_AUTHENTICATION' ||
    /SASL authentication failed/i.test(e.message)
  ) {
    const who = ctx.sasl ? `user '${ctx.sasl.username}' with ${ctx.sasl.mechanism}` : 'the configured user';
    return terminal(
      'sasl-failed',
      `SASL authentication of ${who} failed at ${where}: check the username and password in the SASL credentials, and that the user has ${ctx.sasl?.mechanism ?? 'SCRAM'} credentials on the cluster`,
    );
  }
  if (apiId in AUTHORIZATION) return authorizationFailure(apiId, namesIn(e), where, ctx);
  if (
    apiId === 'UNSUPPORTED_VERSION' ||
    code === 'PLT_KFK_UNSUPPORTED_API' ||
    code === 'PLT_KFK_UNSUPPORTED'
  ) {
    return terminal(
      'unsupported-version',
      `the broker at ${where} does not support a request this tool needs (${e.message}): Kafka 3.x or later is required`,
    );
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    const host = typeof e.host === 'string' ? e.host : where;
    const names = (e.cert as { subjectaltname?: string } | undefined)?.subjectaltname;
    return terminal(
      'tls-hostname',
      `TLS handshake with ${where} failed: the broker's certificate is not valid for '${host}'` +
        `${names ? ` (it names ${names})` : ''}: connect with a name the certificate lists or set tls.serverName`,
    );
  }
  if (UNTRUSTED.has(code)) {
    const ca = ctx.caSource ? `the CA in ${ctx.caSource}` : 'the system CAs (no CA configured)';
    const why =
      code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID'
        ? `the broker's certificate is not valid now (${e.message})`
        : `the broker's certificate is not signed by ${ca} (${e.message})`;
    return terminal(
      'tls-untrusted',
      `TLS handshake with ${where} failed: ${why}: configure the CA that signed the broker's certificate`,
    );
  }
  if (
    /TLS handshake failed|before secure TLS connection|wrong version number|packet length too long/i.test(
      e.message,
    ) ||
    code === 'ERR_SSL_WRONG_VERSION_NUMBER'
  ) {
    return terminal(
      'tls-not-spoken',
      `TLS handshake with ${where} failed: the listener did not speak TLS; check securityProtocol${ctx.securityProtocol ? ` (${ctx.securityProtocol})` : ''} against the listener at that port`,
    );
  }
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) {
    return terminal('tls-failed', `TLS handshake with ${where} failed: ${e.message}`);
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    const host = typeof e.hostname === 'string' ? e.hostname : where;
    return retriable(
      'name-not-resolved',
      `the name ${host} could not be resolved (check bootstrapServers and DNS)`,
    );
  }
  if (code === 'ECONNREFUSED') return retriable('connection-refused', `connection to ${where} refused`);
  if (code === 'ETIMEDOUT' || code === 'PLT_KFK_TIMEOUT' || /timed? ?out/i.test(e.message)) {
    return retriable('connection-timeout', `connection to ${where} timed out`);
  }
  if (code === 'ECONNRESET' || code === 'EPIPE' || /^Connection closed/i.test(e.message)) {
    // a broker restarting or a proxy dropping the connection: the same request may succeed later
    return retriable('connection-closed', `the connection to ${where} was closed`);
  }
  return undefined;
}

function authorizationFailure(
  apiId: string,
  names: string | undefined,
  where: string,
  ctx: KafkaFailureContext,
): KafkaFailure {
  return terminal(
    'not-authorized',
    `the broker at ${where} denied access to the ${AUTHORIZATION[apiId]}${names ? ` ${names}` : ''} (${apiId})` +
      `${ctx.sasl ? ` for user '${ctx.sasl.username}'` : ''}: grant the ACLs the run needs`,
  );
}

/** Authorization errors a response carries per partition (Fetch), by Kafka error code. */
const AUTHORIZATION_CODES: Readonly<Record<number, string>> = {
  29: 'TOPIC_AUTHORIZATION_FAILED',
  30: 'GROUP_AUTHORIZATION_FAILED',
  31: 'CLUSTER_AUTHORIZATION_FAILED',
};

/**
 * The failure behind an error code a broker answered for one partition, when retrying cannot help
 * (an ACL denies it); undefined for the codes a retry may clear (leader moves, stale metadata).
 */
export function partitionErrorFailure(
  errorCode: number,
  topic: string,
  where: string,
  ctx: KafkaFailureContext = {},
): KafkaFailure | undefined {
  const apiId = AUTHORIZATION_CODES[errorCode];
  return apiId ? authorizationFailure(apiId, topic, where, ctx) : undefined;
}

function terminal(kind: KafkaFailureKind, message: string): KafkaFailure {
  return { kind, terminal: true, message };
}

function retriable(kind: KafkaFailureKind, message: string): KafkaFailure {
  return { kind, terminal: false, message };
}

/** host:port of the failing connection: from the socket error or the library's "Connection to X failed." */
function endpointOf(e: Node, tree: Node[], ctx: KafkaFailureContext): string {
  if (typeof e.address === 'string' && typeof e.port === 'number') return `${e.address}:${e.port}`;
  if (typeof e.host === 'string' && typeof e.port === 'number') return `${e.host}:${e.port}`;
  for (const n of tree) {
    const m = /Connection to (\S+) failed/.exec(n.message);
    if (m?.[1] && errorTree(n).includes(e)) return m[1];
  }
  for (const n of tree) {
    const m = /Connection to (\S+) failed/.exec(n.message);
    if (m?.[1]) return m[1];
  }
  return ctx.bootstrapServers?.length ? ctx.bootstrapServers.join(',') : 'the broker';
}

function enabledMechanisms(tree: Node[]): string[] | undefined {
  for (const n of tree) {
    const mechanisms = (n.response as { mechanisms?: unknown } | undefined)?.mechanisms;
    if (Array.isArray(mechanisms)) return mechanisms.map(String);
  }
  return undefined;
}

/** Topic or group names a protocol error carries (its response, or the path of the failing entry). */
function namesIn(e: Node): string | undefined {
  const names = e.names ?? e.topics ?? e.groups ?? e.topic ?? e.group;
  if (Array.isArray(names) && names.length > 0) return names.map((n) => `'${String(n)}'`).join(', ');
  if (typeof names === 'string' && names !== '') return `'${names}'`;
  return undefined;
}
