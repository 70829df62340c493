/**
 * The Rust engine of the existing operator, as a benchmark contender: bench/rust-engine/ is a small
 * harness over the published `kafka-backup-core` crate (its CLI crate is not published), built with
 * cargo into a target directory cached outside the repository. When the pinned version does not
 * build here, the next published ones are tried, and the report names the one that ran.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { cacheDir } from '../test/env/cache.ts';

const HARNESS = resolve(import.meta.dirname, 'rust-engine');
const CACHE = join(cacheDir(), 'rust-engine');
/** Tried in order: the pinned version first. */
const VERSIONS = ['0.25.2', '0.25.1', '0.25.0', '0.24.0'];

export interface RustEngine {
  readonly binary: string;
  readonly version: string;
  /** Versions that did not build, with the reason, for the report. */
  readonly failed: readonly { version: string; error: string }[];
}

function build(version: string, log: (m: string) => void): { ok: true } | { ok: false; error: string } {
  // Each version builds in a copy of the harness whose manifest pins it (the repository's stays as is).
  const dir = join(CACHE, `harness-${version}`);
  mkdirSync(join(dir, 'src'), { recursive: true });
  const manifest = readFileSync(join(HARNESS, 'Cargo.toml'), 'utf8').replace(
    /kafka-backup-core = "=[^"]+"/,
    `kafka-backup-core = "=${version}"`,
  );
  writeFileSync(join(dir, 'Cargo.toml'), manifest);
  copyFileSync(join(HARNESS, 'src/main.rs'), join(dir, 'src/main.rs'));
  // The committed lock file pins the pinned version's dependencies; other versions resolve anew.
  if (version === VERSIONS[0]) copyFileSync(join(HARNESS, 'Cargo.lock'), join(dir, 'Cargo.lock'));
  log(`building the Rust engine harness with kafka-backup-core ${version} (cached after the first time)`);
  const result = spawnSync('cargo', ['build', '--release', '--quiet'], {
    cwd: dir,
    env: { ...process.env, CARGO_TARGET_DIR: join(CACHE, 'target') },
    encoding: 'utf8',
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  if (result.status === 0) return { ok: true };
  const error = (result.stderr || result.error?.message || `exit ${result.status}`)
    .trim()
    .split('\n')
    .slice(-6)
    .join(' ');
  return { ok: false, error };
}

/** Builds (or finds built) the harness; undefined with the reasons when no version builds. */
export function rustEngine(
  log: (m: string) => void,
): RustEngine | { failed: { version: string; error: string }[] } {
  const failed: { version: string; error: string }[] = [];
  const binary = join(CACHE, 'target/release/kafka-backup-core-bench');
  for (const version of VERSIONS) {
    const stamp = join(CACHE, 'built-version');
    if (existsSync(binary) && existsSync(stamp) && readFileSync(stamp, 'utf8') === version) {
      return { binary, version, failed };
    }
    const result = build(version, log);
    if (result.ok) {
      writeFileSync(stamp, version);
      return { binary, version, failed };
    }
    log(`kafka-backup-core ${version} did not build: ${result.error}`);
    failed.push({ version, error: result.error });
  }
  return { failed };
}

export interface RustStorage {
  readonly kind: 'filesystem' | 's3';
  readonly path?: string;
  readonly s3?: {
    readonly bucket: string;
    readonly endpoint: string;
    readonly region: string;
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly prefix: string;
  };
}

function storage(s: RustStorage): Record<string, unknown> {
  if (s.kind === 'filesystem') return { backend: 'filesystem', path: s.path };
  const s3 = s.s3 as NonNullable<RustStorage['s3']>;
  return {
    backend: 's3',
    bucket: s3.bucket,
    region: s3.region,
    endpoint: s3.endpoint,
    access_key: s3.accessKeyId,
    secret_key: s3.secretAccessKey,
    prefix: s3.prefix,
    path_style: true,
    allow_http: true,
  };
}

/**
 * Its backup configured as ours runs: one-shot to the current end, zstd, the same segment size and
 * partition concurrency, READ_COMMITTED (its default).
 */
export function rustBackupConfig(options: {
  bootstrap: string;
  topic: string;
  backupId: string;
  storage: RustStorage;
  segmentMaxBytes: number;
  maxConcurrentPartitions: number;
}): Record<string, unknown> {
  return {
    mode: 'backup',
    backup_id: options.backupId,
    source: { bootstrap_servers: [options.bootstrap], topics: { include: [options.topic] } },
    storage: storage(options.storage),
    backup: {
      compression: 'zstd',
      segment_max_bytes: options.segmentMaxBytes,
      stop_at_current_offsets: true,
      continuous: false,
      max_concurrent_partitions: options.maxConcurrentPartitions,
    },
  };
}

/** Its restore into a new topic of the same cluster, acks=all and idempotent like ours. */
export function rustRestoreConfig(options: {
  bootstrap: string;
  topic: string;
  targetTopic: string;
  backupId: string;
  storage: RustStorage;
  maxConcurrentPartitions: number;
}): Record<string, unknown> {
  return {
    mode: 'restore',
    backup_id: options.backupId,
    target: { bootstrap_servers: [options.bootstrap], topics: { include: [options.topic] } },
    storage: storage(options.storage),
    restore: {
      topic_mapping: { [options.topic]: options.targetTopic },
      create_topics: true,
      produce_acks: -1,
      idempotent_producer: true,
      max_concurrent_partitions: options.maxConcurrentPartitions,
    },
  };
}
