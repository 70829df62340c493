import type { Logger } from '../log.ts';
import {
  CircuitBreaker,
  type CircuitBreakerOptions,
  withCircuitBreaker,
} from '../storage/circuit-breaker.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { withRetry } from '../storage/retry.ts';
import { readSecret } from './secrets.ts';
import type { StorageSpec } from './storage.ts';

/** Builds the ObjectStore a storage spec names (reading its secrets), with retries and a circuit breaker. */
export async function createObjectStore(
  spec: StorageSpec,
  log: Logger,
  options: { circuitBreaker?: CircuitBreakerOptions } = {},
): Promise<ObjectStore> {
  const warn = { warn: (message: string) => log.warn(message) };
  // The breaker is consulted on every attempt; retries back off while it is open.
  const guard = (store: ObjectStore) =>
    options.circuitBreaker
      ? withCircuitBreaker(
          store,
          new CircuitBreaker(spec.type, {
            ...options.circuitBreaker,
            onStateChange: (state: string) => log.warn('storage circuit breaker changed state', { state }),
          }),
        )
      : store;
  const retry = (store: ObjectStore) =>
    withRetry(guard(store), {
      onRetry: ({ operation, key, attempt, delayMs, error }) =>
        log.warn('storage operation failed; retrying', {
          operation,
          key,
          attempt,
          delayMs,
          error: error.message,
        }),
    });
  switch (spec.type) {
    case 'filesystem': {
      const { FilesystemObjectStore } = await import('../storage/filesystem.ts');
      return retry(new FilesystemObjectStore(spec.path));
    }
    case 's3': {
      const { S3ObjectStore } = await import('../storage/s3.ts');
      const credentials =
        spec.accessKeyId && spec.secretAccessKey
          ? { accessKeyId: readSecret(spec.accessKeyId), secretAccessKey: readSecret(spec.secretAccessKey) }
          : undefined;
      return retry(
        new S3ObjectStore({
          bucket: spec.bucket,
          region: spec.region,
          ...(spec.endpoint ? { endpoint: spec.endpoint } : {}),
          pathStyle: spec.pathStyle,
          allowHttp: spec.allowHttp,
          ...(spec.prefix ? { prefix: spec.prefix } : {}),
          ...(credentials ? { credentials } : {}),
          logger: warn,
        }),
      );
    }
    case 'azure': {
      const { AzureBlobObjectStore } = await import('../storage/azure.ts');
      const auth = spec.useWorkloadIdentity
        ? ({ kind: 'workload-identity' } as const)
        : spec.servicePrincipal
          ? ({
              kind: 'service-principal',
              tenantId: readSecret(spec.servicePrincipal.tenantId),
              clientId: readSecret(spec.servicePrincipal.clientId),
              clientSecret: readSecret(spec.servicePrincipal.clientSecret),
            } as const)
          : spec.sasToken
            ? ({ kind: 'sas', sasToken: readSecret(spec.sasToken) } as const)
            : spec.accountKey
              ? ({ kind: 'account-key', accountKey: readSecret(spec.accountKey) } as const)
              : ({ kind: 'default' } as const);
      return retry(
        new AzureBlobObjectStore({
          accountName: spec.accountName,
          container: spec.container,
          ...(spec.prefix ? { prefix: spec.prefix } : {}),
          ...(spec.endpoint ? { endpoint: spec.endpoint } : {}),
          auth,
        }),
      );
    }
    case 'gcs': {
      const { GcsObjectStore } = await import('../storage/gcs.ts');
      const auth = spec.serviceAccountJson
        ? ({ kind: 'service-account-json', json: readSecret(spec.serviceAccountJson) } as const)
        : spec.endpoint
          ? ({ kind: 'none' } as const)
          : ({ kind: 'adc' } as const);
      return retry(
        new GcsObjectStore({
          bucket: spec.bucket,
          ...(spec.prefix ? { prefix: spec.prefix } : {}),
          ...(spec.endpoint ? { endpoint: spec.endpoint } : {}),
          auth,
        }),
      );
    }
  }
}
