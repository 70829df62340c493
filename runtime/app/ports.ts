import type { SpecContext } from '../config/load.ts';
import { openObjectStore } from '../config/object-store-factory.ts';
import { mountedSecrets, type SecretResolver } from '../config/secrets.ts';
import type { StorageSpec } from '../config/storage.ts';
import type { CheckpointEvent, Progress } from '../engine/progress.ts';
import type { KafkaConnectionConfig } from '../kafka/connection.ts';
import { PlatformaticKafka, type PlatformaticKafkaOptions } from '../kafka/platformatic-adapter.ts';
import type { KafkaPort } from '../kafka/port.ts';
import type { Logger } from '../log.ts';
import type { LiveRunMetrics, MeteredResource, MeterOptions, RunMeter } from '../metrics/live-run-metrics.ts';
import type { CircuitBreakerOptions } from '../storage/circuit-breaker.ts';
import { type Clock, systemClock } from '../storage/clock.ts';
import type { ObjectStore, StorageErrorKind } from '../storage/object-store.ts';
import { classify } from './errors.ts';

/**
 * What a use case needs from the outside, injected so the CLI, the operator and tests each provide
 * their own: Kafka connections, object stores, secrets, a logger and a clock.
 */
export interface AppPorts {
  /** A connection to one cluster (data and consumer-group administration); the use case closes it. */
  readonly connectKafka: (config: KafkaConnectionConfig, options?: KafkaConnectOptions) => KafkaPort;
  /** The store a parsed storage spec names, its secrets read through `secrets`. */
  readonly openStore: (spec: StorageSpec, options?: OpenStoreRequest) => Promise<ObjectStore>;
  readonly secrets: SecretResolver;
  readonly log: Logger;
  readonly clock: Clock;
}

export type KafkaConnectOptions = Pick<
  PlatformaticKafkaOptions,
  'produceAcks' | 'produceTimeoutMs' | 'onRetry'
>;

export interface OpenStoreRequest {
  /** The spec's circuitBreaker; undefined for one-off reads. */
  readonly circuitBreaker?: CircuitBreakerOptions;
  /** Told of every retried storage operation (live metrics). */
  readonly onRetry?: (kind: StorageErrorKind) => void;
}

/** Cancellation and observation of a long run (backup, restore). */
export interface RunControls {
  /** Aborting stops the run at the next batch; the result then says `interrupted`. */
  readonly signal?: AbortSignal;
  /** At most once a second, and once with the final numbers. */
  readonly onProgress?: (progress: Progress) => void;
  /** After every checkpoint made durable in storage. */
  readonly onCheckpoint?: (checkpoint: CheckpointEvent) => void;
  /** Where the spec came from (error messages) and the resource's name (default backup id). */
  readonly context?: SpecContext;
  /**
   * Live metrics of the run, on this registry's families under this resource's labels, unless the
   * spec's `metrics.enabled` is false (runtime/metrics/live-run-metrics.ts).
   */
  readonly metrics?: { readonly live: LiveRunMetrics; readonly resource: MeteredResource };
}

/** The real adapters: @platformatic/kafka and the storage SDKs; secrets mounted unless given. */
export function productionPorts(options: { log: Logger; secrets?: SecretResolver; clock?: Clock }): AppPorts {
  const { log } = options;
  const secrets = options.secrets ?? mountedSecrets;
  const clock = options.clock ?? systemClock;
  return {
    connectKafka: (config, connect = {}) => new PlatformaticKafka(config, { logger: log, ...connect }),
    openStore: (spec, request = {}) =>
      openObjectStore(spec, {
        secrets,
        log,
        clock,
        ...(request.circuitBreaker ? { circuitBreaker: request.circuitBreaker } : {}),
        ...(request.onRetry ? { onRetry: request.onRetry } : {}),
      }),
    secrets,
    log,
    clock,
  };
}

/** The store of a backup or restore run, behind the spec's circuit breaker; retries go to the meter. */
export function openRunStore(
  ports: AppPorts,
  config: { readonly storage: StorageSpec; readonly circuitBreaker?: CircuitBreakerOptions },
  meter?: RunMeter,
): Promise<ObjectStore> {
  return ports.openStore(config.storage, {
    ...(config.circuitBreaker ? { circuitBreaker: config.circuitBreaker } : {}),
    ...(meter ? { onRetry: (kind: StorageErrorKind) => meter.retried('storage', kind) } : {}),
  });
}

/**
 * Runs `work` under the run's meter (none when the run has no metrics or its spec turned them
 * off): the meter sees the run's figures, publishes the last ones when it ends, and counts a
 * failure by the reason its condition names.
 */
export async function metered<T>(
  run: RunControls,
  options: MeterOptions | undefined,
  work: (meter: RunMeter | undefined) => Promise<T>,
): Promise<T> {
  const meter = run.metrics && options ? run.metrics.live.meter(run.metrics.resource, options) : undefined;
  try {
    const result = await work(meter);
    meter?.end();
    return result;
  } catch (error) {
    meter?.fail(classify(error).reason);
    throw error;
  }
}

/** The engine's progress and checkpoint hooks of a run, each also feeding its meter. */
export function runHooks(
  run: RunControls,
  meter: RunMeter | undefined,
): {
  onProgress?: (progress: Progress) => void;
  onCheckpoint?: (checkpoint: CheckpointEvent) => void;
  observer?: RunMeter;
} {
  const onCheckpoint = run.onCheckpoint;
  return {
    ...(run.onProgress ? { onProgress: run.onProgress } : {}),
    ...(meter || onCheckpoint
      ? {
          onCheckpoint: (checkpoint: CheckpointEvent) => {
            meter?.checkpoint(checkpoint);
            onCheckpoint?.(checkpoint);
          },
        }
      : {}),
    ...(meter ? { observer: meter } : {}),
  };
}

/** Runs `use` with a store opened for it, and releases the store's connections however it ends. */
export async function withStore<T>(
  opened: Promise<ObjectStore>,
  use: (store: ObjectStore) => Promise<T>,
): Promise<T> {
  const store = await opened;
  try {
    return await use(store);
  } finally {
    store.close?.();
  }
}

/** Runs `use` with a connection and closes it whatever happens. */
export async function withKafka<T>(
  ports: AppPorts,
  config: KafkaConnectionConfig,
  options: KafkaConnectOptions,
  use: (kafka: KafkaPort) => Promise<T>,
): Promise<T> {
  const kafka = ports.connectKafka(config, options);
  try {
    return await use(kafka);
  } finally {
    await kafka.close();
  }
}
