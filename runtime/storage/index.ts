/**
 * The storage port and its adapters. Engine code depends on ObjectStore only; the factory turns the
 * CRD's storage block plus resolved credentials into an adapter wrapped in rate limit, retry and a
 * circuit breaker.
 */
export { type AzureAuth, AzureBlobObjectStore, type AzureStoreConfig } from './azure.ts';
export {
  CircuitBreaker,
  type CircuitBreakerOptions,
  type CircuitState,
  withCircuitBreaker,
} from './circuit-breaker.ts';
export { type Clock, systemClock } from './clock.ts';
export {
  type CreateStoreOptions,
  createAdapter,
  createObjectStore,
  type ResilienceConfig,
  type StorageConfig,
  type StorageCredentials,
  withResilience,
} from './factory.ts';
export { FilesystemObjectStore } from './filesystem.ts';
export { type GcsAuth, GcsObjectStore, type GcsStoreConfig } from './gcs.ts';
export { MemoryObjectStore } from './memory.ts';
export * from './object-store.ts';
export type { StorageLogger } from './prefix.ts';
export { TokenBucket, withRateLimit } from './rate-limit.ts';
export { type RetryPolicy, withRetry } from './retry.ts';
export { S3ObjectStore, type S3StoreConfig } from './s3.ts';
