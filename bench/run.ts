/**
 * `npm run bench [-- --quick]`: backup and restore throughput, side by side, in one run on one
 * machine, against references measured in the same run like any contender (medians of at least three
 * runs, interleaved with the phase's other contenders, min and max beside them): Kafka's own consumer
 * and producer performance tools (the ceilings),
 * the existing operator's Rust engine (kafka-backup-core, bench/rust-engine/), and the consume and
 * produce paths of two Node clients. Then point-in-time selectivity, incremental cost, the memory
 * bound and the operator's scale. Nothing is asserted: results go to bench/results/ as Markdown and JSON.
 *
 *   --quick              the main case only, small, Kafka's tools and ours (under two minutes)
 *   --only operator-scale  just the operator with BENCH_RESOURCES (1000) KafkaBackups
 *   BENCH_KUBE_API_QPS=-1  the operator's --kube-api-qps for that (default: its own default)
 *   BENCH_OPERATOR_MEMORY_MIB=512  run that operator in a memory cgroup of this size (root), as
 *                        the chart's memory limit confines it in a Pod
 *   BENCH_MB=1024        size of the main topic (MiB of records)
 *   BENCH_RUNS=3         runs per contender
 *   BENCH_PROFILE=1      also CPU-profile one more backup to a volume and restore from MinIO (not
 *                        timed), and list their costliest functions
 *   BENCH_RUST=0         leave the Rust engine out (it is built with cargo the first time)
 *
 * It uses the test environment (Kafka, MinIO and, but for --quick, kube-apiserver): a running one
 * (`npm run env -- up`), or one it starts.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { bundleCli, CLI_BUNDLE } from '../scripts/bundle-cli.ts';
import { type ComponentName, down, findRunningEnv, hasComponent, up } from '../test/env/environment.ts';
import { createTopic, deleteTopic, kafkaConnection, produce } from '../test/env/kafka-client.ts';
import type { EnvState } from '../test/env/state.ts';
import { createS3Bucket, deleteS3Bucket, getS3Object, s3Client } from '../test/env/storage-clients.ts';
import { consumerPerf, producerPerf, writePayloadFile } from './lib/kafka-tools.ts';
import { measure, mustSucceed } from './lib/process.ts';
import {
  type CaseResult,
  type Extras,
  type IncrementalCost,
  writeOperatorScale,
  writeReport,
} from './lib/report.ts';
import { type Figures, figures, round, type Sample, spread } from './lib/stats.ts';
import { type OperatorScale, operatorScale } from './operator-scale.ts';
import {
  type RustEngine,
  type RustStorage,
  rustBackupConfig,
  rustEngine,
  rustRestoreConfig,
} from './rust-engine.ts';

const ROOT = resolve(import.meta.dirname, '..');
const NODE = join(ROOT, 'node_modules/.bin/node');
/** The CLI as installed: the bundled bin (scripts/bundle-cli.ts), bundled at the start of every run. */
const CLI = CLI_BUNDLE;
const CLIENT_PATHS = join(ROOT, 'bench/client-paths.ts');
/** Segments of 16 MiB, as every recorded result used; the engine's default is the CRD's 128 MiB. */
const SEGMENT_MAX_BYTES = 16 * 1024 * 1024;
const CONCURRENCY = 4;

const quick = process.argv.includes('--quick');
const runs = Math.max(3, Number(process.env.BENCH_RUNS ?? 3));
const mainMiB = Number(process.env.BENCH_MB ?? (quick ? 128 : 1024));
const profile = process.env.BENCH_PROFILE === '1';
/** `--only operator-scale`: just the operator's scale (bench/results/operator-scale.*). */
const onlyOperatorScale = process.argv.includes('operator-scale');
const withRust = process.env.BENCH_RUST !== '0' && !quick && !onlyOperatorScale;
const scaleResources = Number(process.env.BENCH_RESOURCES ?? 1000);

function log(message: string): void {
  process.stderr.write(`[bench] ${new Date().toISOString().slice(11, 19)} ${message}\n`);
}

interface Setting {
  readonly env: EnvState;
  readonly workDir: string;
  readonly cliEnv: NodeJS.ProcessEnv;
  readonly bucket: string;
  readonly rust: RustEngine | undefined;
  readonly stamp: string;
}

interface Case {
  readonly name: string;
  readonly recordSize: number;
  readonly partitions: number;
  readonly mib: number;
  /** Every contender (MinIO, Rust, clients) or the volume ones only. */
  readonly full: boolean;
}

const fsStorage = (path: string) => ({ storageType: 'filesystem', filesystem: { path } });

function s3Storage(s: Setting, prefix: string) {
  const s3 = s.env.s3 as NonNullable<EnvState['s3']>;
  return {
    storageType: 's3',
    s3: {
      bucket: s.bucket,
      region: s3.region,
      endpoint: s3.endpoint,
      pathStyle: true,
      allowHttp: true,
      prefix,
      credentialsSecret: { name: 'bench-s3' },
    },
  };
}

function rustS3(s: Setting, prefix: string): RustStorage {
  const s3 = s.env.s3 as NonNullable<EnvState['s3']>;
  return {
    kind: 's3',
    s3: {
      bucket: s.bucket,
      endpoint: s3.endpoint,
      region: s3.region,
      accessKeyId: s3.accessKeyId,
      secretAccessKey: s3.secretAccessKey,
      prefix,
    },
  };
}

interface CliSummary {
  records?: number;
  storedBytes?: number;
  plan?: { bytes?: number };
}

/**
 * One run of our CLI, started as the bin and the image start it (plain `node`, no tsx loader, which
 * would add ~0.3 s to every start); the summary it prints must account for `expected` records.
 */
async function ours(
  s: Setting,
  command: 'backup' | 'restore',
  config: unknown,
  expected: number,
  recordSize: number,
  cpuProfileDir?: string,
): Promise<{ sample: Sample; summary: CliSummary }> {
  const file = join(s.workDir, `run-${Date.now()}-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, stringify(config));
  const nodeArgs = cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`] : [];
  const result = mustSucceed(
    `kafka-backup ${command}`,
    await measure(
      NODE,
      [...nodeArgs, CLI, command, '--config', file, '--output', 'json', '--log-level', 'warn'],
      s.cliEnv,
    ),
  );
  const summary = JSON.parse(result.stdout) as CliSummary;
  if (summary.records !== expected) {
    throw new Error(`kafka-backup ${command}: expected ${expected} records, it reported ${summary.records}`);
  }
  return {
    sample: {
      seconds: result.seconds,
      cpuSeconds: result.cpuSeconds,
      peakRssMiB: result.peakRssKiB / 1024,
      records: expected,
      bytes: expected * recordSize,
    },
    summary,
  };
}

async function rustRun(
  s: Setting,
  command: 'backup' | 'restore',
  config: Record<string, unknown>,
  expected: number,
  recordSize: number,
): Promise<Sample> {
  const rust = s.rust as RustEngine;
  const file = join(s.workDir, `rust-${Date.now()}-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, stringify(config));
  const result = mustSucceed(
    `kafka-backup-core ${command}`,
    await measure(rust.binary, [command, file], { RUST_LOG: 'warn' }),
  );
  const summary = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}') as { records?: number };
  if (command === 'restore' && summary.records !== expected) {
    throw new Error(
      `kafka-backup-core restore: expected ${expected} records, it reported ${summary.records}`,
    );
  }
  if (command === 'backup') {
    // Its backup reports no count: its manifest must list every record, or the run timed less work.
    const stored = await rustBackupRecords(s, config);
    if (stored !== expected) {
      throw new Error(`kafka-backup-core backup: its manifest holds ${stored} of ${expected} records`);
    }
  }
  return {
    seconds: result.seconds,
    cpuSeconds: result.cpuSeconds,
    peakRssMiB: result.peakRssKiB / 1024,
    records: expected,
    bytes: expected * recordSize,
  };
}

/** Records the Rust engine's manifest (`{backupId}/manifest.json`) lists, from a volume or MinIO. */
async function rustBackupRecords(s: Setting, config: Record<string, unknown>): Promise<number> {
  const storage = config.storage as { backend: string; path?: string; prefix?: string };
  const key = `${config.backup_id as string}/manifest.json`;
  const bytes =
    storage.backend === 'filesystem'
      ? readFileSync(join(storage.path as string, key))
      : await getS3Object(
          s3Client(s.env.s3 as NonNullable<EnvState['s3']>),
          s.bucket,
          `${storage.prefix}/${key}`,
        );
  const manifest = JSON.parse(Buffer.from(bytes).toString('utf8')) as {
    topics: { partitions: { segments: { record_count: number }[] }[] }[];
  };
  return manifest.topics
    .flatMap((t) => t.partitions)
    .flatMap((p) => p.segments)
    .reduce((n, seg) => n + seg.record_count, 0);
}

async function clientPath(
  s: Setting,
  client: 'kafkajs' | 'platformatic',
  path: 'consume' | 'produce',
  topic: string,
  c: Case,
  records: number,
): Promise<Sample> {
  const bootstrap = s.env.kafka?.source.bootstrap as string;
  const args = [
    CLIENT_PATHS,
    client,
    path,
    bootstrap,
    topic,
    String(records),
    String(c.recordSize),
    String(c.partitions),
  ];
  const result = mustSucceed(`${client} ${path}`, await measure(NODE, ['--import', 'tsx', ...args]));
  return {
    seconds: result.seconds,
    cpuSeconds: result.cpuSeconds,
    peakRssMiB: result.peakRssKiB / 1024,
    records,
    bytes: records * c.recordSize,
  };
}

/** A contender: one timed run of it (`i`: the run's index, for fresh names). */
interface Contender {
  readonly name: string;
  readonly once: (i: number) => Promise<Sample>;
}

/**
 * Runs every contender `runs` times, interleaved (A B C, A B C, ...), and summarizes each: the
 * machine's speed drifts during a session (the broker flushing what was just written, other
 * load), and interleaving spreads that drift over all of them instead of over whichever ran then.
 */
async function interleaved(contenders: readonly Contender[]): Promise<Figures[]> {
  const samples = contenders.map((): Sample[] => []);
  for (let i = 0; i < runs; i++) {
    for (const [k, c] of contenders.entries()) {
      log(`${c.name}: run ${i + 1} of ${runs}`);
      samples[k]?.push(await c.once(i));
    }
  }
  return contenders.map((c, k) => {
    const f = figures(c.name, samples[k] as Sample[]);
    log(`${c.name}: ${f.mbPerSec.median} MB/s (${f.mbPerSec.min}-${f.mbPerSec.max})`);
    return f;
  });
}

/** One contender run `runs` times on its own. */
async function repeat(name: string, once: (i: number) => Promise<Sample>): Promise<Figures> {
  return (await interleaved([{ name, once }]))[0] as Figures;
}

/** A fresh topic for one run to write into, deleted afterwards (Kafka's disk is not the benchmark's). */
async function intoFreshTopic<T>(s: Setting, name: string, write: (topic: string) => Promise<T>): Promise<T> {
  const source = kafkaConnection(s.env.kafka as NonNullable<EnvState['kafka']>, 'source');
  try {
    return await write(name);
  } finally {
    await deleteTopic(source, name).catch(() => {});
  }
}

async function runCase(s: Setting, c: Case): Promise<CaseResult> {
  const source = kafkaConnection(s.env.kafka as NonNullable<EnvState['kafka']>, 'source');
  const records = Math.floor((c.mib * 2 ** 20) / c.recordSize);
  const topic = `bench-${c.name}-${s.stamp}`;
  const payload = join(s.workDir, `payload-${c.recordSize}.txt`);
  writePayloadFile(payload, c.recordSize);
  await createTopic(source, topic, { partitions: c.partitions });
  log(
    `${c.name}: filling ${topic} with ${records} records of ${c.recordSize} B over ${c.partitions} partition(s)`,
  );
  await producerPerf(s.env, topic, records, payload, c.recordSize);

  const read: Figures[] = [];
  const write: Figures[] = [];
  const key = (n: string) => `${c.name}-${n}-${s.stamp}`;
  const base = { kafkaCluster: { bootstrapServers: [s.env.kafka?.source.bootstrap] }, topics: [topic] };
  const backupConfig = (backupId: string, storage: unknown) => ({
    ...base,
    storage,
    backupId,
    segmentMaxBytes: SEGMENT_MAX_BYTES,
    rateLimiting: { maxConcurrentPartitions: CONCURRENCY },
  });
  const restoreConfig = (backupId: string, storage: unknown, target: string) => ({
    kafkaCluster: base.kafkaCluster,
    storage,
    backupRef: { backupId },
    topicMapping: { [topic]: target },
    createTopics: true,
    rateLimiting: { maxConcurrentPartitions: CONCURRENCY },
  });

  // Reading: the read ceiling, our backups, the Rust engine's, the clients' consume paths.
  const volume = (i: number) => join(s.workDir, `volume-${key(String(i))}`);
  const readers: Contender[] = [
    {
      name: 'Kafka consumer perf tool (read ceiling)',
      once: () => consumerPerf(s.env, topic, records, c.recordSize),
    },
    {
      name: 'kafka-backup backup → volume',
      once: async (i) => {
        const run = await ours(s, 'backup', backupConfig('b', fsStorage(volume(i))), records, c.recordSize);
        // Kept: the restores below read the first run's backup; the others go.
        if (i > 0) rmSync(volume(i), { recursive: true, force: true });
        return run.sample;
      },
    },
  ];
  if (c.full && !quick) {
    // What zstd costs on this machine: the same backup with segments left uncompressed.
    readers.push({
      name: 'kafka-backup backup → volume, compression none',
      once: async (i) => {
        const path = join(s.workDir, `plain-${key(String(i))}`);
        const config = { ...backupConfig('b', fsStorage(path)), compression: 'none' };
        const run = await ours(s, 'backup', config, records, c.recordSize);
        rmSync(path, { recursive: true, force: true });
        return run.sample;
      },
    });
  }
  if (c.full) {
    readers.push({
      name: 'kafka-backup backup → MinIO',
      once: async (i) =>
        (await ours(s, 'backup', backupConfig('b', s3Storage(s, key(`s3-${i}`))), records, c.recordSize))
          .sample,
    });
  }
  if (s.rust) {
    readers.push({
      name: 'Rust engine backup → volume',
      once: async (i) => {
        const path = join(s.workDir, `rust-volume-${key(String(i))}`);
        const config = rustBackupConfig({
          bootstrap: s.env.kafka?.source.bootstrap as string,
          topic,
          backupId: 'b',
          storage: { kind: 'filesystem', path },
          segmentMaxBytes: SEGMENT_MAX_BYTES,
          maxConcurrentPartitions: CONCURRENCY,
        });
        const sample = await rustRun(s, 'backup', config, records, c.recordSize);
        if (i > 0 || !c.full) rmSync(path, { recursive: true, force: true });
        return sample;
      },
    });
    if (c.full) {
      readers.push({
        name: 'Rust engine backup → MinIO',
        once: (i) => {
          const config = rustBackupConfig({
            bootstrap: s.env.kafka?.source.bootstrap as string,
            topic,
            backupId: 'b',
            storage: rustS3(s, key(`rust-s3-${i}`)),
            segmentMaxBytes: SEGMENT_MAX_BYTES,
            maxConcurrentPartitions: CONCURRENCY,
          });
          return rustRun(s, 'backup', config, records, c.recordSize);
        },
      });
    }
  }
  if (c.full && !quick) {
    for (const client of ['kafkajs', 'platformatic'] as const) {
      readers.push({
        name: `${client} consume (client only, no storage)`,
        once: () => clientPath(s, client, 'consume', topic, c, records),
      });
    }
  }
  read.push(...(await interleaved(readers)));
  // Profiled in a run of its own: the profiler's overhead stays out of the timed runs.
  const profiled = profile && c.full ? join(s.workDir, 'profile') : undefined;
  if (profiled) {
    log('kafka-backup backup → volume: one more run, CPU-profiled');
    const path = join(s.workDir, `profiled-${key('backup')}`);
    await ours(s, 'backup', backupConfig('b', fsStorage(path)), records, c.recordSize, profiled);
    rmSync(path, { recursive: true, force: true });
  }

  // Writing: the write ceiling, our restore, the Rust engine's, the clients' produce paths.
  const restoreFrom = c.full ? s3Storage(s, key('s3-0')) : fsStorage(volume(0));
  const writers: Contender[] = [
    {
      name: 'Kafka producer perf tool (write ceiling)',
      once: (i) =>
        intoFreshTopic(s, `${topic}-ceiling-${i}`, async (t) => {
          await createTopic(source, t, { partitions: c.partitions });
          return producerPerf(s.env, t, records, payload, c.recordSize);
        }),
    },
    {
      name: `kafka-backup restore ${c.full ? 'MinIO' : 'volume'} → empty topic`,
      once: (i) =>
        intoFreshTopic(
          s,
          `${topic}-restored-${i}`,
          async (t) =>
            (await ours(s, 'restore', restoreConfig('b', restoreFrom, t), records, c.recordSize)).sample,
        ),
    },
  ];
  if (s.rust) {
    const rustFrom: RustStorage = c.full
      ? rustS3(s, key('rust-s3-0'))
      : { kind: 'filesystem', path: join(s.workDir, `rust-volume-${key('0')}`) };
    if (!c.full) {
      // The volume case kept no Rust backup: make one (not timed) to restore from.
      await rustRun(
        s,
        'backup',
        rustBackupConfig({
          bootstrap: s.env.kafka?.source.bootstrap as string,
          topic,
          backupId: 'b',
          storage: rustFrom,
          segmentMaxBytes: SEGMENT_MAX_BYTES,
          maxConcurrentPartitions: CONCURRENCY,
        }),
        records,
        c.recordSize,
      );
    }
    writers.push({
      name: `Rust engine restore ${c.full ? 'MinIO' : 'volume'} → empty topic`,
      once: (i) =>
        intoFreshTopic(s, `${topic}-rust-restored-${i}`, (t) =>
          rustRun(
            s,
            'restore',
            rustRestoreConfig({
              bootstrap: s.env.kafka?.source.bootstrap as string,
              topic,
              targetTopic: t,
              backupId: 'b',
              storage: rustFrom,
              maxConcurrentPartitions: CONCURRENCY,
            }),
            records,
            c.recordSize,
          ),
        ),
    });
  }
  if (c.full && !quick) {
    for (const client of ['kafkajs', 'platformatic'] as const) {
      writers.push({
        name: `${client} produce (client only, acks=all, idempotent)`,
        once: (i) =>
          intoFreshTopic(s, `${topic}-${client}-${i}`, async (t) => {
            await createTopic(source, t, { partitions: c.partitions });
            return clientPath(s, client, 'produce', t, c, records);
          }),
      });
    }
  }
  write.push(...(await interleaved(writers)));
  const restoreProfiled = profile && c.full ? join(s.workDir, 'restore-profile') : undefined;
  if (restoreProfiled) {
    log('kafka-backup restore: one more run, CPU-profiled');
    await intoFreshTopic(s, `${topic}-profiled`, (t) =>
      ours(s, 'restore', restoreConfig('b', restoreFrom, t), records, c.recordSize, restoreProfiled),
    );
  }
  return {
    name: c.name,
    topic: { records, recordBytes: c.recordSize, partitions: c.partitions, mib: c.mib },
    read,
    write,
    ...(profiled ? { profile: topFunctions(profiled) } : {}),
    ...(restoreProfiled ? { restoreProfile: topFunctions(restoreProfiled) } : {}),
  };
}

/** PITR selectivity, incremental cost, memory bound: the format's promises, measured. */
async function runExtras(s: Setting, main: CaseResult): Promise<Extras> {
  const source = kafkaConnection(s.env.kafka as NonNullable<EnvState['kafka']>, 'source');
  const recordSize = 1024;

  // Point in time: one partition, timestamps spread evenly over 24 hours; restore one hour of it.
  const pitrMiB = Math.max(8, Math.floor(mainMiB / 4));
  const pitrRecords = Math.floor((pitrMiB * 2 ** 20) / recordSize);
  const pitrTopic = `bench-pitr-${s.stamp}`;
  await createTopic(source, pitrTopic, { partitions: 1 });
  const day = 24 * 3600 * 1000;
  const t0 = BigInt(Date.now() - 2 * day);
  const stepMs = day / pitrRecords;
  log(`pitr: filling ${pitrTopic} with ${pitrRecords} records over 24 h of timestamps`);
  const value = Buffer.alloc(recordSize - 16, 'x');
  // 500 records a request keeps each under the broker's 1 MiB request limit.
  for (let i = 0; i < pitrRecords; i += 500) {
    const n = Math.min(500, pitrRecords - i);
    await produce(
      source,
      pitrTopic,
      Array.from({ length: n }, (_, j) => ({
        key: `k${i + j}`.padStart(16, '0'),
        value,
        timestamp: t0 + BigInt(Math.floor((i + j) * stepMs)),
      })),
    );
  }
  const pitrVolume = join(s.workDir, 'pitr-volume');
  const kafkaCluster = { bootstrapServers: [s.env.kafka?.source.bootstrap] };
  const pitrBackup = await ours(
    s,
    'backup',
    {
      kafkaCluster,
      topics: [pitrTopic],
      storage: fsStorage(pitrVolume),
      backupId: 'pitr',
      segmentMaxBytes: Math.max(256 * 1024, Math.floor((pitrMiB * 2 ** 20) / 96)),
    },
    pitrRecords,
    recordSize,
  );
  const windowStart = t0 + BigInt(Math.floor(11 * 3600 * 1000));
  const windowEnd = windowStart + BigInt(3600 * 1000 - 1);
  let inWindow = 0;
  for (let i = 0; i < pitrRecords; i++) {
    const ts = t0 + BigInt(Math.floor(i * stepMs));
    if (ts >= windowStart && ts <= windowEnd) inWindow++;
  }
  const pitrRestore = await intoFreshTopic(s, `${pitrTopic}-hour`, (t) =>
    ours(
      s,
      'restore',
      {
        kafkaCluster,
        storage: fsStorage(pitrVolume),
        backupRef: { backupId: 'pitr' },
        topicMapping: { [pitrTopic]: t },
        createTopics: true,
        pitr: { startTimestamp: String(windowStart), endTimestamp: String(windowEnd) },
      },
      inWindow,
      recordSize,
    ),
  );
  const storedBytes = pitrBackup.summary.storedBytes ?? 0;
  const readBytes = pitrRestore.summary.plan?.bytes ?? 0;
  await deleteTopic(source, pitrTopic).catch(() => {});

  // Incremental: back up, then three times: a run that finds nothing new (what every run costs),
  // 1 % new records, a run that backs them up. Once compressed with zstd as configured, once not:
  // the new records' small segments compress less well than the first run's full ones, so the
  // stored share with zstd says as much about the data as about the format.
  const incrTopic = `bench-incr-${s.stamp}`;
  const incrMiB = Math.max(8, Math.floor(mainMiB / 4));
  const incrRecords = Math.floor((incrMiB * 2 ** 20) / recordSize);
  const payload = join(s.workDir, `payload-${recordSize}.txt`);
  await createTopic(source, incrTopic, { partitions: 6 });
  await producerPerf(s.env, incrTopic, incrRecords, payload, recordSize);
  const added = Math.max(1, Math.floor(incrRecords / 100));
  let inTopic = incrRecords;
  const incremental = async (compression: 'zstd' | 'none'): Promise<IncrementalCost> => {
    const config = {
      kafkaCluster,
      topics: [incrTopic],
      storage: fsStorage(join(s.workDir, `incr-volume-${compression}`)),
      backupId: `incr-${compression}`,
      segmentMaxBytes: SEGMENT_MAX_BYTES,
      compression,
    };
    log(`incremental (${compression}): first run`);
    const first = await ours(s, 'backup', config, inTopic, recordSize);
    const firstRecords = inTopic;
    const idle: number[] = [];
    const bytes: number[] = [];
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      log(
        `incremental (${compression}): a run with nothing new, then one after 1% new data, ${i + 1} of ${runs}`,
      );
      idle.push((await ours(s, 'backup', config, 0, recordSize)).sample.seconds);
      await producerPerf(s.env, incrTopic, added, payload, recordSize);
      inTopic += added;
      // ours() checks that the run read exactly the new records.
      const next = await ours(s, 'backup', config, added, recordSize);
      times.push(next.sample.seconds);
      bytes.push((next.summary.storedBytes ?? 0) / (first.summary.storedBytes ?? 1));
    }
    const nothingNew = spread(idle, 3);
    const fixed = nothingNew.median;
    return {
      compression,
      share: round(added / firstRecords, 4),
      firstRunSeconds: round(first.sample.seconds),
      firstStoredBytes: first.summary.storedBytes ?? 0,
      bytesFraction: spread(bytes, 4),
      secondsFraction: spread(
        times.map((t) => t / first.sample.seconds),
        4,
      ),
      nothingNewSeconds: nothingNew,
      aboveFixedFraction: spread(
        times.map((t) => Math.max(0, t - fixed) / (first.sample.seconds - fixed)),
        4,
      ),
    };
  };
  const incrementalZstd = await incremental('zstd');
  const incrementalNone = await incremental('none');
  await deleteTopic(source, incrTopic).catch(() => {});

  // Memory: the main topic grown to five times its size, backed up whole, against the main backup.
  const mainTopic = `bench-${main.name}-${s.stamp}`;
  const grown = main.topic.records * 5;
  log(`memory: growing ${mainTopic} to ${grown} records`);
  await producerPerf(
    s.env,
    mainTopic,
    grown - main.topic.records,
    join(s.workDir, `payload-${main.topic.recordBytes}.txt`),
    main.topic.recordBytes,
  );
  const big = await repeat(`kafka-backup backup → volume, 5× the data`, async (i) => {
    const path = join(s.workDir, `big-${i}`);
    const run = await ours(
      s,
      'backup',
      {
        kafkaCluster,
        topics: [mainTopic],
        storage: fsStorage(path),
        backupId: 'big',
        segmentMaxBytes: SEGMENT_MAX_BYTES,
        rateLimiting: { maxConcurrentPartitions: CONCURRENCY },
      },
      grown,
      main.topic.recordBytes,
    );
    rmSync(path, { recursive: true, force: true });
    return run.sample;
  });
  const small = main.read.find((f) => f.name === 'kafka-backup backup → volume') as Figures;

  return {
    pitr: {
      records: pitrRecords,
      windowRecords: inWindow,
      windowShare: round(1 / 24, 4),
      backupBytes: storedBytes,
      bytesRead: readBytes,
      fractionRead: round(readBytes / storedBytes, 4),
      ratioToShare: round(readBytes / storedBytes / (1 / 24)),
      restoreSeconds: round(pitrRestore.sample.seconds),
    },
    incremental: { records: incrRecords, added, runs: [incrementalZstd, incrementalNone] },
    memory: {
      smallMiB: main.topic.mib,
      bigMiB: main.topic.mib * 5,
      smallPeakRssMiB: small.peakRssMiB as NonNullable<Figures['peakRssMiB']>,
      bigPeakRssMiB: big.peakRssMiB as NonNullable<Figures['peakRssMiB']>,
      growth: round((big.peakRssMiB?.median ?? 0) / (small.peakRssMiB?.median ?? 1)),
      big,
    },
  };
}

/** Source maps of the bundled CLI's chunks, to name a profile's functions by their place in runtime/. */
const sourceMaps = new Map<string, SourceMap | undefined>();

function sourcePlace(url: string, line: number, column: number): string | undefined {
  if (!url.startsWith('file://') || !url.includes('/build/cli/')) return undefined;
  const file = fileURLToPath(url);
  if (!sourceMaps.has(file)) {
    let map: SourceMap | undefined;
    try {
      map = new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8')));
    } catch {
      map = undefined;
    }
    sourceMaps.set(file, map);
  }
  const entry = sourceMaps.get(file)?.findEntry(line, column);
  if (!entry || !('originalSource' in entry)) return undefined;
  const source = resolve(dirname(file), entry.originalSource);
  return `${source.replace(`${ROOT}/`, '').replace(/^.*node_modules\//, '')}:${entry.originalLine + 1}`;
}

/** The functions with the most self time in a V8 CPU profile. */
function topFunctions(dir: string, limit = 14): { fn: string; selfPercent: number }[] {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) return [];
  const prof = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
    nodes: {
      hitCount?: number;
      callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
    }[];
  };
  const totals = new Map<string, number>();
  let all = 0;
  for (const node of prof.nodes) {
    const hits = node.hitCount ?? 0;
    // Idle time is waiting on Kafka or storage, not a cost of ours: percentages are of busy time.
    if (node.callFrame.functionName === '(idle)') continue;
    all += hits;
    const { functionName, url, lineNumber, columnNumber } = node.callFrame;
    const where = url
      ? (sourcePlace(url, lineNumber, columnNumber) ??
        `${url.replace(`file://${ROOT}/`, '').replace(/^.*node_modules\//, '')}:${lineNumber + 1}`)
      : '';
    const k = `${functionName || '(anonymous)'} ${where}`.trim();
    totals.set(k, (totals.get(k) ?? 0) + hits);
  }
  return [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([fn, hits]) => ({ fn, selfPercent: round((100 * hits) / all) }));
}

async function environment(): Promise<{ env: EnvState; stop: () => Promise<void> }> {
  const running = findRunningEnv();
  const needed: ComponentName[] = ['kafka', 's3', ...(quick ? [] : (['kube'] as const))];
  if (running && needed.every((c) => hasComponent(running.state, c))) {
    log(`using the running test environment ${running.file}`);
    process.env.KAFKA_BACKUP_TEST_ENV = running.file;
    return { env: running.state, stop: async () => {} };
  }
  log(`starting ${needed.join(', ')}`);
  const started = await up([...needed]);
  process.env.KAFKA_BACKUP_TEST_ENV = started.file;
  return { env: started.state, stop: () => down(started.file) };
}

async function runOperatorScale(s: Setting): Promise<OperatorScale | { skipped: string }> {
  if (!s.env.kube) return { skipped: 'the environment has no kube-apiserver' };
  return operatorScale(
    s.env.s3 as NonNullable<EnvState['s3']>,
    s.bucket,
    scaleResources,
    60_000,
    log,
    process.env.BENCH_KUBE_API_QPS,
    process.env.BENCH_OPERATOR_MEMORY_MIB ? Number(process.env.BENCH_OPERATOR_MEMORY_MIB) : undefined,
  );
}

function versions(rust: RustEngine | undefined): Record<string, string> {
  const pkg = (name: string) =>
    (
      JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
  return {
    node: process.version,
    '@platformatic/kafka': pkg('@platformatic/kafka'),
    kafkajs: pkg('kafkajs'),
    ...(rust ? { 'kafka-backup-core': rust.version } : {}),
  };
}

async function main(): Promise<void> {
  const started = Date.now();
  log('bundling the CLI as installed (scripts/bundle-cli.ts)');
  await bundleCli();
  const { env, stop } = await environment();
  if (!env.kafka || !env.s3) throw new Error('the benchmark needs Kafka and MinIO from the test environment');
  const workDir = mkdtempSync(join(tmpdir(), 'kafka-backup-bench-'));
  const secretsDir = join(workDir, 'secrets');
  mkdirSync(join(secretsDir, 'bench-s3'), { recursive: true });
  writeFileSync(join(secretsDir, 'bench-s3', 'AWS_ACCESS_KEY_ID'), env.s3.accessKeyId);
  writeFileSync(join(secretsDir, 'bench-s3', 'AWS_SECRET_ACCESS_KEY'), env.s3.secretAccessKey);
  const client = s3Client(env.s3);
  const bucket = await createS3Bucket(client, 'bench');
  let rust: RustEngine | undefined;
  let rustFailures: { version: string; error: string }[] = [];
  if (withRust) {
    const built = rustEngine(log);
    if ('binary' in built) rust = built;
    rustFailures = [...built.failed];
  }
  const s: Setting = {
    env,
    workDir,
    cliEnv: { KAFKA_BACKUP_SECRETS_DIR: secretsDir },
    bucket,
    rust,
    stamp: Date.now().toString(36),
  };
  const cases: Case[] = quick
    ? [{ name: 'main', recordSize: 1024, partitions: 6, mib: mainMiB, full: true }]
    : [
        { name: 'main', recordSize: 1024, partitions: 6, mib: mainMiB, full: true },
        { name: '1KiB-1p', recordSize: 1024, partitions: 1, mib: Math.floor(mainMiB / 4), full: false },
        { name: '100B-6p', recordSize: 100, partitions: 6, mib: Math.floor(mainMiB / 8), full: false },
        { name: '10KiB-6p', recordSize: 10240, partitions: 6, mib: Math.floor(mainMiB / 4), full: false },
      ];
  try {
    if (onlyOperatorScale) {
      writeOperatorScale(join(ROOT, 'bench/results'), await runOperatorScale(s));
      return;
    }
    const results: CaseResult[] = [];
    for (const c of cases) results.push(await runCase(s, c));
    const extras = quick
      ? undefined
      : { ...(await runExtras(s, results[0] as CaseResult)), operator: await runOperatorScale(s) };
    writeReport(join(ROOT, 'bench/results'), quick ? 'quick' : 'latest', {
      date: new Date().toISOString(),
      quick,
      minutes: round((Date.now() - started) / 60_000, 1),
      machine: {
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model ?? '',
        memoryGiB: round(totalmem() / 2 ** 30),
      },
      versions: versions(rust),
      kafka: env.kafka.libDir.split('/').slice(-2).join('/'),
      parameters: {
        runsPerContender: runs,
        segmentMaxBytes: SEGMENT_MAX_BYTES,
        maxConcurrentPartitions: CONCURRENCY,
        compression: 'zstd',
      },
      rust: rust
        ? { version: rust.version, failed: rustFailures }
        : { failed: rustFailures, skipped: !withRust },
      cases: results,
      ...(extras ? { extras } : {}),
    });
  } finally {
    const source = kafkaConnection(env.kafka, 'source');
    for (const c of cases) await deleteTopic(source, `bench-${c.name}-${s.stamp}`).catch(() => {});
    await deleteS3Bucket(client, bucket).catch(() => {});
    rmSync(workDir, { recursive: true, force: true });
    await stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `[bench] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
