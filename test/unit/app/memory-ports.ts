import type { AppPorts } from '../../../runtime/app/ports.ts';
import type { SecretResolver, SecretSource } from '../../../runtime/config/secrets.ts';
import type { StorageSpec } from '../../../runtime/config/storage.ts';
import type { KafkaConnectionConfig } from '../../../runtime/kafka/connection.ts';
import { silentLogger } from '../../../runtime/log.ts';
import { systemClock } from '../../../runtime/storage/clock.ts';
import { MemoryObjectStore } from '../../../runtime/storage/memory.ts';
import type { MemoryKafka } from './memory-kafka.ts';

/** Secrets from a map `name/key -> value`, as the operator's resolver would read them from the API. */
export function mapSecrets(values: Record<string, string>): SecretResolver & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    async read(source: SecretSource) {
      if (source.kind !== 'secret') throw new Error(`only Secrets are readable here, not ${source.kind}`);
      const id = `${source.name}/${source.key}`;
      reads.push(id);
      const value = values[id];
      if (value === undefined) throw new Error(`Secret ${source.name} has no key ${source.key}`);
      return Buffer.from(value);
    },
  };
}

export interface MemoryPorts extends AppPorts {
  /** The connection settings each connectKafka call received (secrets resolved). */
  readonly connections: KafkaConnectionConfig[];
  readonly storesOpened: StorageSpec[];
}

/** Ports over in-memory clusters (by their first bootstrap server) and one in-memory store. */
export function memoryPorts(
  clusters: Record<string, MemoryKafka>,
  options: { store?: MemoryObjectStore; secrets?: SecretResolver } = {},
): MemoryPorts {
  const store = options.store ?? new MemoryObjectStore();
  const connections: KafkaConnectionConfig[] = [];
  const storesOpened: StorageSpec[] = [];
  return {
    connections,
    storesOpened,
    connectKafka: (config) => {
      connections.push(config);
      const cluster = clusters[config.bootstrapServers[0] ?? ''];
      if (!cluster) throw new Error(`no memory cluster at ${config.bootstrapServers.join(',')}`);
      return cluster;
    },
    openStore: async (spec) => {
      storesOpened.push(spec);
      return store;
    },
    secrets: options.secrets ?? mapSecrets({}),
    log: silentLogger,
    clock: systemClock,
  };
}

/** Storage as a spec names it; the memory ports ignore where it points. */
export const storage = { storageType: 'filesystem', filesystem: { path: '/unused' } };
