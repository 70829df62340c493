import { stat } from 'node:fs/promises';
import type { Logger } from '../log.ts';
import type { CircuitBreakerOptions } from '../storage/circuit-breaker.ts';
import type { Clock } from '../storage/clock.ts';
import { createObjectStore, type StorageConfig, type StorageCredentials } from '../storage/factory.ts';
import type { ObjectStore, StorageErrorKind } from '../storage/object-store.ts';
import { ConfigError } from './reader.ts';
import { describeSource, resolveSecretText, type SecretResolver, type SecretSource } from './secrets.ts';
import type { PvcMount, StorageSpec } from './storage.ts';

export interface OpenStoreOptions {
  readonly secrets: SecretResolver;
  readonly log: Logger;
  /** Undefined: no circuit breaker (one-off commands); the spec's circuitBreaker otherwise. */
  readonly circuitBreaker?: CircuitBreakerOptions;
  readonly clock?: Clock;
  /** Told of every retried operation, with the kind of the failure (transient, throttled): live metrics. */
  readonly onRetry?: (kind: StorageErrorKind) => void;
}

/**
 * Opens the store a parsed storage spec names: its secrets are read through the resolver, then the
 * one factory (runtime/storage/factory.ts) builds the adapter with retries (logged) and the breaker.
 */
export async function openObjectStore(spec: StorageSpec, options: OpenStoreOptions): Promise<ObjectStore> {
  const { log, circuitBreaker } = options;
  if (spec.type === 'filesystem' && spec.claim) await requireMounted(spec.claim);
  return createObjectStore(storageConfig(spec), await storageCredentials(spec, options.secrets), {
    logger: { warn: (message) => log.warn(message) },
    ...(options.clock ? { clock: options.clock } : {}),
    resilience: {
      retry: {
        onRetry: ({ operation, key, attempt, delayMs, error }) => {
          log.warn('storage operation failed; retrying', {
            operation,
            key,
            attempt,
            delayMs,
            error: error.message,
          });
          options.onRetry?.(error.kind);
        },
      },
      circuitBreaker: circuitBreaker
        ? {
            ...(circuitBreaker.failureThreshold ? { failureThreshold: circuitBreaker.failureThreshold } : {}),
            ...(circuitBreaker.resetTimeoutMs
              ? { resetTimeoutSecs: circuitBreaker.resetTimeoutMs / 1000 }
              : {}),
            ...(circuitBreaker.successThreshold ? { successThreshold: circuitBreaker.successThreshold } : {}),
            ...(circuitBreaker.operationTimeoutMs
              ? { operationTimeoutMs: circuitBreaker.operationTimeoutMs }
              : {}),
          }
        : { enabled: false },
      onCircuitStateChange: (state) => log.warn('storage circuit breaker changed state', { state }),
    },
  });
}

/** The factory's form of the spec (a pvc is already resolved to its mount path). */
function storageConfig(spec: StorageSpec): StorageConfig {
  switch (spec.type) {
    case 'filesystem':
      return { storageType: 'filesystem', filesystem: { path: spec.path } };
    case 's3':
      return {
        storageType: 's3',
        s3: {
          bucket: spec.bucket,
          region: spec.region,
          ...(spec.endpoint ? { endpoint: spec.endpoint } : {}),
          pathStyle: spec.pathStyle,
          allowHttp: spec.allowHttp,
          ...(spec.prefix ? { prefix: spec.prefix } : {}),
        },
      };
    case 'azure':
      return {
        storageType: 'azure',
        azure: {
          accountName: spec.accountName,
          container: spec.container,
          ...(spec.prefix ? { prefix: spec.prefix } : {}),
          ...(spec.endpoint ? { endpoint: spec.endpoint } : {}),
          useWorkloadIdentity: spec.useWorkloadIdentity,
        },
      };
    case 'gcs':
      return {
        storageType: 'gcs',
        gcs: {
          bucket: spec.bucket,
          ...(spec.prefix ? { prefix: spec.prefix } : {}),
          ...(spec.endpoint ? { endpoint: spec.endpoint } : {}),
        },
      };
  }
}

async function storageCredentials(spec: StorageSpec, secrets: SecretResolver): Promise<StorageCredentials> {
  // A missing credential is a configuration problem (exit 2, InvalidConfig), not a storage outage.
  const read = (source: SecretSource) =>
    resolveSecretText(secrets, source).catch((error: Error) => {
      throw new ConfigError('the storage credentials', [`${describeSource(source)}: ${error.message}`]);
    });
  switch (spec.type) {
    case 'filesystem':
      return {};
    case 's3':
      return spec.accessKeyId && spec.secretAccessKey
        ? {
            s3: {
              accessKeyId: await read(spec.accessKeyId),
              secretAccessKey: await read(spec.secretAccessKey),
            },
          }
        : {};
    case 'azure': {
      const sp = spec.servicePrincipal;
      if (sp) {
        return {
          azure: {
            tenantId: await read(sp.tenantId),
            clientId: await read(sp.clientId),
            clientSecret: await read(sp.clientSecret),
          },
        };
      }
      if (spec.sasToken) return { azure: { sasToken: await read(spec.sasToken) } };
      if (spec.accountKey) return { azure: { accountKey: await read(spec.accountKey) } };
      return {};
    }
    case 'gcs':
      return spec.serviceAccountJson
        ? { gcs: { serviceAccountJson: await read(spec.serviceAccountJson) } }
        : {};
  }
}

/**
 * A claim's directory must exist before anything is written: the filesystem store creates the
 * directories it writes to, so an unmounted claim would otherwise receive the backup in the
 * container's own disk, lost with the container.
 */
async function requireMounted(claim: PvcMount): Promise<void> {
  const mounted = await stat(claim.mountPath).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (mounted) return;
  const create = claim.createRequested
    ? ' pvc.create needs each run in a Pod of its own that mounts the claim, which this version does not have: create the claim yourself.'
    : '';
  throw new ConfigError(`storage.pvc (claim '${claim.name}')`, [
    `the claim is not mounted at ${claim.mountPath}: mount it there (the operator's Deployment or the CLI's container, at $KAFKA_BACKUP_PVC_ROOT/<claimName>), or use object storage. Nothing was written.${create}`,
  ]);
}
