import type { SpecContext } from '../config/load.ts';
import { openObjectStore } from '../config/object-store-factory.ts';
import { mountedSecrets, type SecretResolver } from '../config/secrets.ts';
import type { StorageSpec } from '../config/storage.ts';
import type { CheckpointEvent, Progress } from '../engine/progress.ts';
import type { KafkaConnectionConfig } from '../kafka/connection.ts';
import { PlatformaticKafka, type PlatformaticKafkaOptions } from '../kafka/platformatic-adapter.ts';
import type { KafkaPort } from '../kafka/port.ts';
import type { Logger } from '../log.ts';
import type { CircuitBreakerOptions } from '../storage/circuit-breaker.ts';
import { type Clock, systemClock } from '../storage/clock.ts';
import type { ObjectStore } from '../storage/object-store.ts';

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

export type KafkaConnectOptions = Pick<PlatformaticKafkaOptions, 'produceAcks' | 'produceTimeoutMs'>;

export interface OpenStoreRequest {
  /** The spec's circuitBreaker; undefined for one-off reads. */
  readonly circuitBreaker?: CircuitBreakerOptions;
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
      }),
    secrets,
    log,
    clock,
  };
}

/** The store of a backup or restore run, behind the spec's circuit breaker. */
export function openRunStore(
  ports: AppPorts,
  config: { readonly storage: StorageSpec; readonly circuitBreaker?: CircuitBreakerOptions },
): Promise<ObjectStore> {
  return ports.openStore(
    config.storage,
    config.circuitBreaker ? { circuitBreaker: config.circuitBreaker } : {},
  );
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
