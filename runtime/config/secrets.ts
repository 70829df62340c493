import { readFileSync } from 'node:fs';
import path from 'node:path';
import { redact } from '../log.ts';
import type { Reader } from './reader.ts';

/**
 * Where a secret value comes from. Never the configuration file itself:
 * - `file`: a path (e.g. a mounted Kubernetes Secret key);
 * - `env`: an environment variable;
 * - `secret`: the CRD form `{name, key}`, read from `<secretsDir>/<name>/<key>` - the layout of a
 *   Secret mounted as a volume. secretsDir is $KAFKA_BACKUP_SECRETS_DIR, default /var/run/secrets/kafka-backup.
 */
export type SecretSource =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'env'; readonly name: string }
  | { readonly kind: 'secret'; readonly name: string; readonly key: string };

/**
 * The port through which every secret a spec names is read: the CLI reads mounted files and
 * variables (`mountedSecrets`); the operator reads Secrets through the Kubernetes API (and refuses
 * the file and env forms, which would read the controller's own files).
 */
export interface SecretResolver {
  /**
   * The secret's bytes, registered for redaction unless `sensitive` is false; rejects with a
   * message naming the secret and how to provide it.
   */
  read(source: SecretSource, options?: SecretReadOptions): Promise<Uint8Array>;
}

export interface SecretReadOptions {
  /**
   * false for values kept in Secrets that are not secret and that messages must be able to name
   * (a SASL username). Default true: redacted wherever it would be logged or reported.
   */
  readonly sensitive?: boolean;
}

/** The CLI's resolver: paths, environment variables and Secrets mounted under secretsDir(). */
export const mountedSecrets: SecretResolver = {
  read: async (source, options) => readSecretBytes(source, options),
};

/**
 * A text value (password, PEM, username) through a resolver, registered for redaction unless it is
 * not sensitive; one trailing newline dropped.
 */
export async function resolveSecretText(
  resolver: SecretResolver,
  source: SecretSource,
  options: SecretReadOptions = {},
): Promise<string> {
  const text = Buffer.from(await resolver.read(source, options))
    .toString('utf8')
    .replace(/\r?\n$/, '');
  if (options.sensitive !== false) redact(text);
  return text;
}

/** A binary secret (an encryption key) through a resolver, registered for redaction. */
export async function resolveSecretBytes(
  resolver: SecretResolver,
  source: SecretSource,
): Promise<Uint8Array> {
  const bytes = await resolver.read(source);
  redact(Buffer.from(bytes).toString('utf8').trim());
  return bytes;
}

/**
 * Resolves one secret for a spec field; a failure becomes a problem of that field (so every missing
 * secret is reported at once, with the spec's other problems) and the result is undefined.
 */
export async function resolveField<T>(
  problems: string[],
  field: string,
  read: () => Promise<T>,
): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    problems.push(`${field}: ${(error as Error).message}`);
    return undefined;
  }
}

export function secretsDir(): string {
  return process.env.KAFKA_BACKUP_SECRETS_DIR ?? '/var/run/secrets/kafka-backup';
}

export function describeSource(source: SecretSource): string {
  switch (source.kind) {
    case 'file':
      return `file ${source.path}`;
    case 'env':
      return `environment variable ${source.name}`;
    case 'secret':
      return `secret ${source.name} key ${source.key} (${path.join(secretsDir(), source.name, source.key)})`;
  }
}

/** Reads a secret; the value is registered for redaction in logs. Trailing newlines of files are kept off. */
export function readSecret(
  source: SecretSource,
  options: { trim?: boolean } & SecretReadOptions = {},
): string {
  let value: string | undefined;
  if (source.kind === 'env') {
    value = process.env[source.name];
    if (value === undefined || value === '') {
      throw new Error(`${describeSource(source)} is not set; export it before running kafka-backup`);
    }
  } else {
    const file = source.kind === 'file' ? source.path : path.join(secretsDir(), source.name, source.key);
    try {
      value = readFileSync(file, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new Error(
        `cannot read ${describeSource(source)}: ${code === 'ENOENT' ? 'no such file' : code}; ` +
          'check the path, or mount the secret there',
      );
    }
  }
  const out = options.trim === false ? value : value.replace(/\r?\n$/, '');
  if (options.sensitive !== false) redact(out);
  return out;
}

/**
 * Reads `<prefix>File` / `<prefix>Env` pairs (e.g. passwordFile / passwordEnv) from a mapping.
 * Inline values under `<prefix>` itself are refused when `secret` is true.
 */
export function secretField(
  r: Reader,
  prefix: string,
  options: { secret: boolean },
): SecretSource | undefined {
  const file = r.string(`${prefix}File`);
  const env = r.string(`${prefix}Env`);
  if (options.secret && r.has(prefix)) {
    r.problem(prefix, `inline secrets are not accepted; use ${prefix}File or ${prefix}Env`);
  }
  if (file && env) r.problem(prefix, `set only one of ${prefix}File and ${prefix}Env`);
  if (file) return { kind: 'file', path: file };
  if (env) return { kind: 'env', name: env };
  return undefined;
}

/** The CRD form of a reference: `{name, <keyField>}` with a default key. */
export function secretRef(r: Reader, keyField: string, defaultKey: string): SecretSource | undefined {
  const name = r.requiredString('name');
  const key = r.string(keyField) ?? defaultKey;
  return name ? { kind: 'secret', name, key } : undefined;
}

/** Reads a binary secret (an encryption key): files byte for byte, variables as text. */
export function readSecretBytes(source: SecretSource, options: SecretReadOptions = {}): Buffer {
  if (source.kind === 'env') return Buffer.from(readSecret(source, options), 'utf8');
  const file = source.kind === 'file' ? source.path : path.join(secretsDir(), source.name, source.key);
  try {
    const bytes = readFileSync(file);
    if (options.sensitive !== false) redact(bytes.toString('utf8').trim());
    return bytes;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(
      `cannot read ${describeSource(source)}: ${code === 'ENOENT' ? 'no such file' : code}; ` +
        'check the path, or mount the secret there',
    );
  }
}
