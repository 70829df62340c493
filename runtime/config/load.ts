import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { BackupOptions } from '../engine/backup.ts';
import type { RepartitionStrategy } from '../engine/partitioner.ts';
import type { RestoreOptions } from '../engine/restore.ts';
import type { RetentionPolicy } from '../format/retention-plan.ts';
import type { Compression, EncryptionKey } from '../format/types.ts';
import type { KafkaConnectionConfig } from '../kafka/connection.ts';
import type { RestoreOffsetHandling } from '../offsets/after-restore.ts';
import type { CircuitBreakerOptions } from '../storage/circuit-breaker.ts';
import { type KafkaClusterSpec, readKafkaCluster, resolveKafkaCluster } from './kafka-cluster.ts';
import { type MetricsSettings, readMetrics } from './metrics.ts';
import { ConfigError, Reader } from './reader.ts';
import { REMOVED_FIELDS } from './removed-fields.ts';
import {
  mountedSecrets,
  resolveField,
  resolveSecretBytes,
  type SecretResolver,
  type SecretSource,
  secretField,
} from './secrets.ts';
import { readStorage, type StorageSpec } from './storage.ts';

/**
 * Configuration from the `spec` of a KafkaBackup or KafkaRestore resource, as a plain object: the
 * operator passes the resource's spec, the CLI the YAML file it read (the spec, or a whole resource
 * with apiVersion/kind/metadata/spec), so one YAML serves both. Secrets are never inline: the spec
 * names them and they are read through the injected SecretResolver (mounted files, paths or
 * variables for the CLI; the Kubernetes API for the operator).
 */
export interface BackupConfig {
  readonly kind: 'backup';
  readonly kafka: KafkaConnectionConfig;
  readonly storage: StorageSpec;
  readonly circuitBreaker?: CircuitBreakerOptions;
  readonly options: Omit<BackupOptions, 'signal'>;
  /** `retention`, when enabled: which runs a prune after each successful run deletes. */
  readonly retention?: RetentionSettings;
  /** The `metrics` block, when the spec has one. */
  readonly metrics?: MetricsSettings;
}

/** The spec's `retention` block (CRD: at least one of keepLast and maxAgeDays when enabled). */
export interface RetentionSettings extends RetentionPolicy {
  readonly minSuccessful: number;
  /** Report what would be deleted, delete nothing. */
  readonly dryRun: boolean;
}

export interface RestoreConfig {
  readonly kind: 'restore';
  readonly kafka: KafkaConnectionConfig;
  readonly storage: StorageSpec;
  readonly circuitBreaker?: CircuitBreakerOptions;
  readonly options: Omit<RestoreOptions, 'signal'>;
  readonly produceAcks: -1 | 0 | 1;
  readonly produceTimeoutMs: number;
  /** What happens to consumer group offsets after the data (autoConsumerGroups, offsetReset). */
  readonly offsetHandling: RestoreOffsetHandling;
  /** The `metrics` block, when the spec has one. */
  readonly metrics?: MetricsSettings;
}

/** Only storage (for list, describe, verify): any backup or restore file works. */
export interface StorageConfig {
  readonly storage: StorageSpec;
  readonly backupId?: string;
  readonly encryption?: EncryptionKey;
}

/** Where a spec came from, for error messages, and the resource's name (the default backup id). */
export interface SpecContext {
  /** A file path or a resource reference, e.g. `KafkaBackup prod/nightly`. */
  readonly source: string;
  readonly name?: string;
}

/** The parsed YAML of a configuration file. */
export function readConfigDocument(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(file, [`cannot read it: ${(error as NodeJS.ErrnoException).code ?? error}`]);
  }
  try {
    return parse(text, { intAsBigInt: false });
  } catch (error) {
    throw new ConfigError(file, [`not valid YAML: ${(error as Error).message}`]);
  }
}

/** A document that is a whole resource (apiVersion/kind/metadata/spec) or only its spec. */
export function specOf(doc: unknown): { spec: unknown; kind?: string; name?: string; namespace?: string } {
  const root = new Reader(doc);
  if (!(root.has('spec') && root.has('kind'))) return { spec: doc };
  const kind = root.string('kind');
  const metadata = root.object('metadata');
  const name = metadata?.string('name');
  const namespace = metadata?.string('namespace');
  return {
    spec: root.value.spec,
    ...(kind ? { kind } : {}),
    ...(name ? { name } : {}),
    ...(namespace ? { namespace } : {}),
  };
}

/** The file's spec with its context: the YAML is read once and parsed by the *FromSpec functions. */
export function readConfigFile(file: string): {
  spec: unknown;
  kind?: string;
  /** metadata.namespace of a whole resource (it names the CLI's metric series). */
  namespace?: string;
  context: SpecContext;
} {
  const { spec, kind, name, namespace } = specOf(readConfigDocument(file));
  return {
    spec,
    ...(kind ? { kind } : {}),
    ...(namespace ? { namespace } : {}),
    context: { source: file, ...(name ? { name } : {}) },
  };
}

export function fail(context: SpecContext, problems: readonly string[]): void {
  if (problems.length > 0) throw new ConfigError(context.source, problems);
}

export async function loadBackupConfig(
  file: string,
  secrets: SecretResolver = mountedSecrets,
): Promise<BackupConfig> {
  const { spec, context } = readConfigFile(file);
  return backupConfigFromSpec(spec, secrets, context);
}

export async function loadRestoreConfig(
  file: string,
  secrets: SecretResolver = mountedSecrets,
): Promise<RestoreConfig> {
  const { spec, context } = readConfigFile(file);
  return restoreConfigFromSpec(spec, secrets, context);
}

export async function loadStorageConfig(
  file: string,
  secrets: SecretResolver = mountedSecrets,
): Promise<StorageConfig> {
  const { spec, context } = readConfigFile(file);
  return storageConfigFromSpec(spec, secrets, context);
}

/**
 * `backupRef` in its concrete form: `storage` and `backupId`. `name` and `namespace` (a KafkaBackup
 * resource) are accepted, not resolved: the operator turns them into the concrete form first.
 */
export function readBackupRef(r: Reader): { storage?: StorageSpec; backupId?: string } {
  const ref = r.object('backupRef');
  if (!ref) return {};
  const backupId = ref.string('backupId');
  const s = ref.object('storage');
  const storage = s ? readStorage(s) : undefined;
  ref.accept('name', 'namespace');
  ref.finish();
  return { ...(storage ? { storage } : {}), ...(backupId ? { backupId } : {}) };
}

export function readRequiredKafka(r: Reader): KafkaClusterSpec | undefined {
  const kafkaReader = r.object('kafkaCluster');
  if (!kafkaReader) r.problem('kafkaCluster', 'is required');
  return kafkaReader ? readKafkaCluster(kafkaReader) : undefined;
}

/** A KafkaBackup spec: validated, every unknown field refused, its secrets read through `secrets`. */
export async function backupConfigFromSpec(
  spec: unknown,
  secrets: SecretResolver,
  context: SpecContext,
): Promise<BackupConfig> {
  const r = new Reader(spec);
  const name = context.name;
  const kafkaSpec = readRequiredKafka(r);
  const storage = readRequiredStorage(r);
  const topics = r.strings('topics');
  if (topics.length === 0) r.problem('topics', 'is required: list topic names or patterns (e.g. "orders-*")');
  const exclude = r.strings('excludeTopics');
  const includeInternal = r.boolean('includeInternalTopics', false);
  const backupId = r.string('backupId') ?? name ?? 'kafka-backup';
  const compression = r.oneOf('compression', ['zstd', 'lz4', 'gzip', 'none'] as const, 'zstd') as Compression;
  const compressionLevel = r.integer('compressionLevel', { min: 1, max: 22 });
  const encryptionSource = readEncryption(r);
  const segmentMaxBytes = r.integer('segmentMaxBytes', { min: 1024 });
  const segmentMaxIntervalMs = r.integer('segmentMaxIntervalMs', { min: 1 });
  const continuous = r.boolean('continuous', false);
  const stopAtCurrentOffsets = r.boolean('stopAtCurrentOffsets', !continuous);
  if (continuous && stopAtCurrentOffsets) {
    r.problem('continuous', 'continuous and stopAtCurrentOffsets exclude each other; set only one');
  }
  const pollIntervalMs = r.integer('pollIntervalMs', { min: 1 });
  const consumerGroupSnapshot = r.boolean('consumerGroupSnapshot', false);
  // Recorded in backup.json's labels when the backup is created (the manifest's descriptor).
  const sourceClusterId = r.string('sourceClusterId');
  const checkpoint = r.object('checkpoint');
  const checkpointEnabled = checkpoint?.boolean('enabled', true) ?? true;
  const intervalSecs = checkpoint?.integer('intervalSecs', { min: 1 }) ?? 30;
  checkpoint?.removed('storage', REMOVED_FIELDS.checkpointStorage.reason);
  checkpoint?.finish();
  const rate = readRateLimiting(r);
  const circuitBreaker = readCircuitBreaker(r);
  const retention = readRetention(r);
  const metrics = readMetrics(r, { partitionLabels: true });
  // Fields of the resource that the operator acts on; the CLI runs one backup now.
  r.accept(
    'schedule',
    'timeZone',
    'suspend',
    'concurrencyPolicy',
    'successfulRunsHistoryLimit',
    'failedRunsHistoryLimit',
    'activeDeadlineSeconds',
    'mode',
  );
  // Original offsets are kept in the format (never added to records): incremental runs, resume and
  // offset translation all need them, so they cannot be left out.
  if (r.boolean('includeOffsetHeaders', true) === false) {
    r.problems.push(
      'includeOffsetHeaders: false is not supported: every backup records the original offsets in its format ' +
        '(never as record headers), since incremental runs, resume and consumer offset translation need them; ' +
        'remove the field or set it to true',
    );
  }
  r.finish();
  const kafka = kafkaSpec ? await resolveKafkaCluster(kafkaSpec, secrets, r.problems) : undefined;
  const encryption = await resolveEncryption(encryptionSource, secrets, r.problems);
  fail(context, r.problems);
  return {
    kind: 'backup',
    kafka: kafka as KafkaConnectionConfig,
    storage: storage as StorageSpec,
    ...(circuitBreaker ? { circuitBreaker } : {}),
    ...(retention ? { retention } : {}),
    ...(metrics ? { metrics } : {}),
    options: {
      backupId,
      topics: { include: topics, exclude, includeInternal },
      continuous,
      compression,
      ...(compressionLevel !== undefined ? { compressionLevel } : {}),
      ...(encryption ? { encryption } : {}),
      ...(segmentMaxBytes !== undefined ? { segmentMaxBytes } : {}),
      ...(segmentMaxIntervalMs !== undefined ? { segmentMaxIntervalMs } : {}),
      checkpointIntervalMs: checkpointEnabled ? intervalSecs * 1000 : 5000,
      ...(pollIntervalMs !== undefined ? { pollIntervalMs } : {}),
      consumerGroupSnapshot,
      ...(sourceClusterId ? { labels: { sourceClusterId } } : {}),
      ...(rate.maxConcurrentPartitions ? { maxConcurrentPartitions: rate.maxConcurrentPartitions } : {}),
      rateLimits: rate.limits,
    },
  };
}

/**
 * A KafkaRestore spec, offset handling included: validated, every unknown field refused, its secrets
 * read through `secrets`. `backupRef.name` (another resource) is accepted but not resolved here: the
 * operator resolves it into `backupRef.storage` and `backupRef.backupId` before calling.
 */
export async function restoreConfigFromSpec(
  spec: unknown,
  secrets: SecretResolver,
  context: SpecContext,
): Promise<RestoreConfig> {
  const r = new Reader(spec);
  const kafkaSpec = readRequiredKafka(r);
  let { storage, backupId } = readBackupRef(r);
  if (!storage) storage = readRequiredStorage(r);
  else r.accept('storage');
  const topics = r.strings('topics');
  const excludeTopics = r.strings('excludeTopics');
  const pitr = r.object('pitr');
  let startTime: bigint | undefined;
  let endTime: bigint | undefined;
  if (pitr) {
    startTime = pitr.bigint('startTimestamp') ?? time(pitr, 'startTime');
    endTime = pitr.bigint('endTimestamp') ?? time(pitr, 'endTime');
    pitr.finish();
    if (startTime !== undefined && endTime !== undefined && startTime > endTime) {
      r.problem('pitr', 'the start is after the end');
    }
  }
  const toOffset = r.bigint('toOffset');
  const topicMapping = Object.fromEntries(r.map('topicMapping', (v, p) => str(r, v, p)));
  const partitionMapping: Record<number, number> = {};
  for (const [k, v] of r.map('partitionMapping', (v, p) => int(r, v, p))) {
    if (!/^\d+$/.test(k)) r.problems.push(`partitionMapping.${k}: keys are source partition numbers`);
    else partitionMapping[Number(k)] = v;
  }
  const repartitioning = Object.fromEntries(
    r.map('repartitioning', (v, p) => {
      const o = new Reader(v, p, r.problems);
      const strategy = o.oneOf('strategy', ['murmur2', 'automatic', 'round-robin'] as const, 'murmur2');
      const targetPartitions = o.integer('targetPartitions', { min: 1 });
      if (targetPartitions === undefined) o.problem('targetPartitions', 'is required');
      o.finish();
      return {
        strategy: (strategy === 'murmur2' ? 'murmur2' : 'round-robin') as RepartitionStrategy,
        targetPartitions: targetPartitions ?? 1,
      };
    }),
  );
  const topicConfigOverrides = Object.fromEntries(
    r.map('topicConfigs', (v, p) => {
      const o = new Reader(v, p, r.problems);
      const out: Record<string, string> = {};
      for (const [k, val] of Object.entries(o.value)) out[k] = String(val);
      return out;
    }),
  );
  const encryptionSource = readEncryption(r);
  const rate = readRateLimiting(r);
  const produceBatchSize = r.integer('produceBatchSize', { min: 1, max: 100_000 }) ?? 1000;
  const acks = r.integer('produceAcks') ?? -1;
  if (acks !== -1 && acks !== 0 && acks !== 1) r.problem('produceAcks', 'must be -1 (all), 0 or 1');
  const produceTimeoutMs = r.integer('produceTimeoutMs', { min: 1 }) ?? 30_000;
  const createTopics = r.boolean('createTopics', false);
  const defaultReplicationFactor = r.integer('defaultReplicationFactor', { min: -1 });
  const purgeTopics = r.boolean('purgeTopics', false);
  const dryRun = r.boolean('dryRun', false);
  const restoreId = r.string('restoreId');
  const checkpointIntervalSecs = r.integer('checkpointIntervalSecs', { min: 1 });
  const circuitBreaker = readCircuitBreaker(r);
  // Read before any data moves, so an unsupported choice fails early.
  const offsetHandling = readOffsetHandling(r);
  const metrics = readMetrics(r, { partitionLabels: false });
  // Handled by the operator (approvals, deadlines).
  r.accept('approval', 'activeDeadlineSeconds');
  r.finish();
  const kafka = kafkaSpec ? await resolveKafkaCluster(kafkaSpec, secrets, r.problems) : undefined;
  const encryption = await resolveEncryption(encryptionSource, secrets, r.problems);
  fail(context, r.problems);
  const bounds = {
    ...(startTime !== undefined ? { startTime } : {}),
    ...(endTime !== undefined ? { endTime } : {}),
    ...(toOffset !== undefined ? { toOffset } : {}),
  };
  return {
    kind: 'restore',
    kafka: kafka as KafkaConnectionConfig,
    storage: storage as StorageSpec,
    ...(circuitBreaker ? { circuitBreaker } : {}),
    produceAcks: acks as -1 | 0 | 1,
    produceTimeoutMs,
    offsetHandling,
    ...(metrics ? { metrics } : {}),
    options: {
      ...(backupId ? { backupId } : {}),
      ...(restoreId ? { restoreId } : {}),
      topics,
      excludeTopics,
      topicMapping,
      partitionMapping,
      repartitioning,
      bounds,
      ...(encryption ? { encryption } : {}),
      createTopics,
      ...(defaultReplicationFactor !== undefined ? { defaultReplicationFactor } : {}),
      topicConfigOverrides,
      purgeTopics,
      produceBatchSize,
      ...(rate.maxConcurrentPartitions ? { maxConcurrentPartitions: rate.maxConcurrentPartitions } : {}),
      rateLimits: rate.limits,
      dryRun,
      ...(checkpointIntervalSecs ? { checkpointIntervalMs: checkpointIntervalSecs * 1000 } : {}),
      targetIdentity: kafka?.bootstrapServers.join(',') ?? '',
    },
  };
}

/**
 * Storage (and the backup to look at) from any spec holding one (for list, describe, verify): only
 * the fields read here are checked, so a backup or a restore file both work.
 */
export async function storageConfigFromSpec(
  spec: unknown,
  secrets: SecretResolver,
  context: SpecContext,
): Promise<StorageConfig> {
  const r = new Reader(spec);
  const name = context.name;
  const ref = r.object('backupRef');
  let storage: StorageSpec | undefined;
  let backupId = r.string('backupId') ?? name;
  if (ref) {
    backupId = ref.string('backupId') ?? backupId;
    const s = ref.object('storage');
    if (s) storage = readStorage(s);
  }
  if (!storage) storage = readRequiredStorage(r);
  const encryption = await resolveEncryption(readEncryption(r), secrets, r.problems);
  fail(context, r.problems);
  return {
    storage: storage as StorageSpec,
    ...(backupId ? { backupId } : {}),
    ...(encryption ? { encryption } : {}),
  };
}

/**
 * `circuitBreaker` guards the storage: after failureThreshold consecutive outages calls fail fast
 * until resetTimeoutSecs have passed, then trial calls close it again. Enabled by default, as in the CRD.
 * operationTimeoutMs (default 30 s, as in the CRD) bounds each metadata call and in-memory write.
 */
/** `retention`; undefined unless enabled (a disabled block is still checked for unknown fields). */
function readRetention(r: Reader): RetentionSettings | undefined {
  const o = r.object('retention');
  if (!o) return undefined;
  const enabled = o.boolean('enabled', false);
  const keepLast = o.integer('keepLast', { min: 1, max: 100_000 });
  const maxAgeDays = o.integer('maxAgeDays', { min: 1, max: 36_500 });
  const minSuccessful = o.integer('minSuccessful', { min: 1, max: 100_000 }) ?? 1;
  const dryRun = o.boolean('dryRun', false);
  o.finish();
  if (!enabled) return undefined;
  if (keepLast === undefined && maxAgeDays === undefined) {
    o.problem(
      'enabled',
      'retention is enabled without a limit: set retention.maxAgeDays, retention.keepLast or both, or set enabled: false',
    );
    return undefined;
  }
  return {
    minSuccessful,
    dryRun,
    ...(keepLast !== undefined ? { keepLast } : {}),
    ...(maxAgeDays !== undefined ? { maxAgeDays } : {}),
  };
}

function readCircuitBreaker(r: Reader): CircuitBreakerOptions | undefined {
  const o = r.object('circuitBreaker');
  const enabled = o?.boolean('enabled', true) ?? true;
  const failureThreshold = o?.integer('failureThreshold', { min: 1 });
  const resetTimeoutSecs = o?.integer('resetTimeoutSecs', { min: 1 });
  const successThreshold = o?.integer('successThreshold', { min: 1 });
  const operationTimeoutMs = o?.integer('operationTimeoutMs', { min: 1 }) ?? 30_000;
  o?.finish();
  if (!enabled) return undefined;
  return {
    operationTimeoutMs,
    ...(failureThreshold ? { failureThreshold } : {}),
    ...(resetTimeoutSecs ? { resetTimeoutMs: resetTimeoutSecs * 1000 } : {}),
    ...(successThreshold ? { successThreshold } : {}),
  };
}

function readRequiredStorage(r: Reader): StorageSpec | undefined {
  const s = r.object('storage');
  if (!s) {
    r.problem('storage', 'is required');
    return undefined;
  }
  return readStorage(s);
}

function readRateLimiting(r: Reader): {
  limits: { recordsPerSec?: number; bytesPerSec?: number };
  maxConcurrentPartitions?: number;
} {
  const o = r.object('rateLimiting');
  if (!o) return { limits: {} };
  const recordsPerSec = o.integer('recordsPerSec', { min: 0 }) ?? 0;
  const bytesPerSec = o.integer('bytesPerSec', { min: 0 }) ?? 0;
  const maxConcurrentPartitions = o.integer('maxConcurrentPartitions', { min: 1, max: 1024 });
  o.finish();
  return {
    limits: { ...(recordsPerSec > 0 ? { recordsPerSec } : {}), ...(bytesPerSec > 0 ? { bytesPerSec } : {}) },
    ...(maxConcurrentPartitions ? { maxConcurrentPartitions } : {}),
  };
}

/**
 * `encryption: {keySecret: {name, key}}` (the CRD) or `{keyFile}` / `{keyEnv}`: 32 bytes, given raw,
 * base64 or hex.
 */
export function readEncryption(r: Reader): SecretSource | undefined {
  const o = r.object('encryption');
  if (!o) return undefined;
  o.oneOf('algorithm', ['AES-256-GCM'] as const, 'AES-256-GCM');
  let source: SecretSource | undefined;
  const secret = o.object('keySecret');
  if (secret) {
    const name = secret.requiredString('name');
    source = { kind: 'secret', name, key: secret.string('key') ?? 'encryption.key' };
    secret.finish();
  }
  source = secretField(o, 'key', { secret: true }) ?? source;
  o.finish();
  if (!source) o.problem('keySecret', 'an encryption key is required (keySecret, keyFile or keyEnv)');
  return source;
}

export async function resolveEncryption(
  source: SecretSource | undefined,
  secrets: SecretResolver,
  problems: string[],
): Promise<EncryptionKey | undefined> {
  if (!source) return undefined;
  const key = await resolveField(problems, 'encryption', async () =>
    decodeKey(await resolveSecretBytes(secrets, source)),
  );
  return key ? { key } : undefined;
}

/**
 * What a KafkaRestore spec asks for after the data: `autoConsumerGroups: true` commits the translated
 * offsets of every group in the backup's snapshot; `offsetReset` (enabled) handles the listed groups:
 * `header-based`/`auto` commit, `dry-run` only reports the plan, `manual` leaves the mapping for a
 * later KafkaOffsetReset.
 */
function readOffsetHandling(r: Reader): RestoreOffsetHandling {
  const handling = readOffsetMode(r);
  const rollback = r.object('rollback');
  const snapshot = rollback?.boolean('snapshotBeforeRestore', true) ?? true;
  // autoRollbackOnFailure and snapshotRetentionHours are the operator's (it rolls back after a
  // failed commit, and deletes the snapshot when it expires).
  rollback?.accept('autoRollbackOnFailure', 'snapshotRetentionHours');
  rollback?.removed('snapshotStorage', REMOVED_FIELDS.snapshotStorage.reason);
  rollback?.finish();
  return snapshot ? handling : { ...handling, snapshot: false };
}

function readOffsetMode(r: Reader): RestoreOffsetHandling {
  const auto = r.boolean('autoConsumerGroups', false);
  const o = r.object('offsetReset');
  if (!o) return auto ? { mode: 'commit' } : { mode: 'none' };
  const enabled = o.boolean('enabled', false);
  const groups = o.strings('consumerGroups');
  const strategy = (o.string('strategy') ?? 'manual').toLowerCase().replace('_', '-');
  o.finish();
  if (!enabled || strategy === 'manual') return auto ? { mode: 'commit' } : { mode: 'none' };
  if (strategy === 'dry-run') return { mode: 'plan', groups };
  if (strategy === 'header-based' || strategy === 'auto') return { mode: 'commit', groups };
  o.problem(
    'strategy',
    `${strategy} is not supported: use header-based (commit the offsets translated through the restore ` +
      'mapping, exact per record), dry-run or manual',
  );
  return { mode: 'none' };
}

export function decodeKey(bytes: Uint8Array): Uint8Array {
  if (bytes.length === 32) return new Uint8Array(bytes);
  const t = Buffer.from(bytes).toString('utf8').trim();
  if (/^[0-9a-fA-F]{64}$/.test(t)) return new Uint8Array(Buffer.from(t, 'hex'));
  const b64 = Buffer.from(t, 'base64');
  if (b64.length === 32 && /^[A-Za-z0-9+/_-]+=*$/.test(t)) return new Uint8Array(b64);
  throw new Error('the encryption key must be 32 bytes (raw, 64 hex digits or base64)');
}

function time(r: Reader, key: string): bigint | undefined {
  const v = r.string(key);
  if (v === undefined) return undefined;
  const ms = Date.parse(v);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(v) || Number.isNaN(ms)) {
    r.problem(key, `expected an RFC 3339 time like 2026-01-31T12:00:00Z (got ${JSON.stringify(v)})`);
    return undefined;
  }
  return BigInt(ms);
}

function str(r: Reader, v: unknown, p: string): string | undefined {
  if (typeof v === 'string' && v.length > 0) return v;
  r.problems.push(`${p}: expected a topic name`);
  return undefined;
}

function int(r: Reader, v: unknown, p: string): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  r.problems.push(`${p}: expected a partition number`);
  return undefined;
}
