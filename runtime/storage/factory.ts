import type { AzureAuth } from './azure.ts';
import { CircuitBreaker, type CircuitState, withCircuitBreaker } from './circuit-breaker.ts';
import type { Clock } from './clock.ts';
import { FilesystemObjectStore } from './filesystem.ts';
import type { GcsAuth } from './gcs.ts';
import type { ObjectStore } from './object-store.ts';
import { StorageError } from './object-store.ts';
import type { StorageLogger } from './prefix.ts';
import { TokenBucket, withRateLimit } from './rate-limit.ts';
import { type RetryPolicy, withRetry } from './retry.ts';

/**
 * The CRD's `storage` block (KafkaBackup.spec.storage, backupRef.storage), without the secret
 * references: the caller resolves those into StorageCredentials. `filesystem` is a CLI addition
 * for a plain directory. A `pvc` is resolved to the directory its claim is mounted at before it
 * gets here (runtime/config/storage.ts), which checks the mount.
 */
export interface StorageConfig {
  readonly storageType: 's3' | 'azure' | 'gcs' | 'filesystem';
  readonly s3?: {
    readonly bucket: string;
    readonly region: string;
    readonly endpoint?: string;
    readonly pathStyle?: boolean;
    readonly allowHttp?: boolean;
    readonly prefix?: string;
  };
  readonly azure?: {
    readonly container: string;
    readonly accountName: string;
    readonly prefix?: string;
    readonly endpoint?: string;
    readonly useWorkloadIdentity?: boolean;
  };
  readonly gcs?: {
    readonly bucket: string;
    readonly prefix?: string;
    readonly endpoint?: string;
    readonly projectId?: string;
  };
  readonly filesystem?: { readonly path: string };
}

/** Secret material, read by the caller from Kubernetes Secrets, environment variables or files. */
export interface StorageCredentials {
  readonly s3?: {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly sessionToken?: string;
  };
  readonly azure?:
    | { readonly accountKey: string }
    | { readonly sasToken: string }
    | { readonly tenantId: string; readonly clientId: string; readonly clientSecret: string }
    | { readonly connectionString: string };
  readonly gcs?: { readonly serviceAccountJson: string };
}

/** The CRD's rateLimiting.bytesPerSec and circuitBreaker blocks, plus the retry policy. */
export interface ResilienceConfig {
  /** false disables retries. */
  readonly retry?: RetryPolicy | false;
  /** 0 or undefined: unlimited. */
  readonly bytesPerSecond?: number;
  readonly circuitBreaker?: {
    readonly enabled?: boolean;
    readonly failureThreshold?: number;
    readonly resetTimeoutSecs?: number;
    readonly successThreshold?: number;
    readonly operationTimeoutMs?: number;
  };
  readonly onCircuitStateChange?: (state: CircuitState) => void;
}

export interface CreateStoreOptions {
  readonly resilience?: ResilienceConfig;
  readonly logger?: StorageLogger;
  readonly clock?: Clock;
}

/**
 * The one object store factory (the CLI and the operator both come here): an adapter for `config`,
 * wrapped in rate limit → retry → circuit breaker (outermost first).
 */
export async function createObjectStore(
  config: StorageConfig,
  credentials: StorageCredentials = {},
  options: CreateStoreOptions = {},
): Promise<ObjectStore> {
  const adapter = await createAdapter(config, credentials, options);
  return withResilience(adapter, options.resilience ?? {}, options.clock);
}

export function withResilience(store: ObjectStore, r: ResilienceConfig, clock?: Clock): ObjectStore {
  let wrapped = store;
  const cb = r.circuitBreaker;
  if (cb?.enabled !== false) {
    wrapped = withCircuitBreaker(
      wrapped,
      new CircuitBreaker(store.description, {
        failureThreshold: cb?.failureThreshold ?? 5,
        resetTimeoutMs: (cb?.resetTimeoutSecs ?? 60) * 1000,
        successThreshold: cb?.successThreshold ?? 1,
        ...(cb?.operationTimeoutMs ? { operationTimeoutMs: cb.operationTimeoutMs } : {}),
        ...(clock ? { clock } : {}),
        ...(r.onCircuitStateChange ? { onStateChange: r.onCircuitStateChange } : {}),
      }),
    );
  }
  if (r.retry !== false) wrapped = withRetry(wrapped, { ...(clock ? { clock } : {}), ...(r.retry ?? {}) });
  if (r.bytesPerSecond && r.bytesPerSecond > 0) {
    wrapped = withRateLimit(wrapped, new TokenBucket(r.bytesPerSecond, clock ? { clock } : {}));
  }
  return wrapped;
}

/** The cloud SDKs are loaded only for the storage in use: each adds seconds to a CLI start. */
export async function createAdapter(
  config: StorageConfig,
  credentials: StorageCredentials = {},
  options: Pick<CreateStoreOptions, 'logger'> = {},
): Promise<ObjectStore> {
  const type = config.storageType;
  const missing = (block: string): never => {
    throw new StorageError(
      'fatal',
      `storageType is ${type} but storage.${block} is missing: add it or change storageType`,
    );
  };
  switch (type) {
    case 's3': {
      const s3 = config.s3 ?? missing('s3');
      const { S3ObjectStore } = await import('./s3.ts');
      return new S3ObjectStore({
        ...s3,
        ...(credentials.s3 ? { credentials: credentials.s3 } : {}),
        ...(options.logger ? { logger: options.logger } : {}),
      });
    }
    case 'azure': {
      const az = config.azure ?? missing('azure');
      const { AzureBlobObjectStore } = await import('./azure.ts');
      return new AzureBlobObjectStore({
        ...az,
        auth: azureAuth(az.useWorkloadIdentity ?? false, credentials.azure),
      });
    }
    case 'gcs': {
      const gcs = config.gcs ?? missing('gcs');
      const auth: GcsAuth = credentials.gcs
        ? { kind: 'service-account-json', json: credentials.gcs.serviceAccountJson }
        : gcs.endpoint
          ? { kind: 'none' } // a custom endpoint without a key: an emulator
          : { kind: 'adc' };
      const { GcsObjectStore } = await import('./gcs.ts');
      return new GcsObjectStore({ ...gcs, auth });
    }
    case 'filesystem': {
      const fsConfig = config.filesystem ?? missing('filesystem');
      return new FilesystemObjectStore(fsConfig.path);
    }
    default:
      throw new StorageError(
        'fatal',
        `unknown storageType '${String(type)}': use s3, azure, gcs or filesystem`,
      );
  }
}

function azureAuth(useWorkloadIdentity: boolean, creds: StorageCredentials['azure']): AzureAuth {
  if (useWorkloadIdentity && creds) {
    throw new StorageError(
      'fatal',
      'azure: useWorkloadIdentity and a credentials secret are mutually exclusive: keep one',
    );
  }
  if (useWorkloadIdentity) return { kind: 'workload-identity' };
  if (!creds)
    return process.env.AZURE_FEDERATED_TOKEN_FILE ? { kind: 'workload-identity' } : { kind: 'default' };
  if ('connectionString' in creds)
    return { kind: 'connection-string', connectionString: creds.connectionString };
  if ('sasToken' in creds) return { kind: 'sas', sasToken: creds.sasToken };
  if ('clientSecret' in creds) return { kind: 'service-principal', ...creds };
  return { kind: 'account-key', accountKey: creds.accountKey };
}
