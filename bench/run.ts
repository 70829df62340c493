/**
 * `npm run bench`: end-to-end throughput and memory of backup and restore, measured against Kafka's
 * own performance tools run in the same session on the same machine (the ceilings). Not a test:
 * nothing is asserted; results go to bench/results/ as JSON and Markdown.
 *
 *   BENCH_MB=1024          size of the benchmark topic (1 KiB records)
 *   BENCH_PARTITIONS=4     its partition count
 *   BENCH_PROFILE=1        also CPU-profile our backup and list the functions that cost the most
 *
 * It uses the test environment (Kafka + MinIO): a running one (`npm run env -- up`), or one it starts.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { down, findRunningEnv, hasComponent, up } from '../test/env/environment.ts';
import { createTopic, kafkaConnection } from '../test/env/kafka-client.ts';
import type { EnvState } from '../test/env/state.ts';
import { createS3Bucket, deleteS3Bucket, s3Client } from '../test/env/storage-clients.ts';

const ROOT = resolve(import.meta.dirname, '..');
const NODE = join(ROOT, 'node_modules/.bin/node');
const CLI = join(ROOT, 'runtime/cli/main.ts');
const RECORD_SIZE = 1024;
/** The segment size of the recorded results (bench/results): the engine default is now the CRD's 128 MiB. */
const BENCH_SEGMENT_MAX_BYTES = 16 * 1024 * 1024;

const sizeMiB = Number(process.env.BENCH_MB ?? 1024);
const partitions = Number(process.env.BENCH_PARTITIONS ?? 4);
const profile = process.env.BENCH_PROFILE === '1';
const records = sizeMiB * 1024;

interface Measurement {
  readonly name: string;
  readonly seconds: number;
  readonly records: number;
  readonly bytes: number;
  readonly mbPerSec: number;
  readonly recordsPerSec: number;
  readonly peakRssMiB?: number;
}

interface ProcessResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly seconds: number;
  readonly peakRssKiB: number;
}

function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

/** Runs a command, sampling its peak resident set (VmHWM) until it exits. */
function measure(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<ProcessResult> {
  return new Promise((resolvePromise, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let peakRssKiB = 0;
    const sample = () => {
      try {
        const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
        const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
        if (hwm) peakRssKiB = Math.max(peakRssKiB, Number(hwm[1]));
      } catch {
        // exited between samples
      }
    };
    const timer = setInterval(sample, 50);
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(timer);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      resolvePromise({ code, stdout, stderr, seconds, peakRssKiB });
    });
  });
}

function mustSucceed(what: string, result: ProcessResult): ProcessResult {
  if (result.code !== 0) {
    throw new Error(
      `${what} failed (exit ${result.code}):\n${result.stderr.slice(-4000)}\n${result.stdout.slice(-2000)}`,
    );
  }
  return result;
}

function rate(name: string, seconds: number, count: number, bytes: number, peakRssKiB?: number): Measurement {
  return {
    name,
    seconds: round(seconds),
    records: count,
    bytes,
    mbPerSec: round(bytes / 1024 / 1024 / seconds),
    recordsPerSec: Math.round(count / seconds),
    ...(peakRssKiB ? { peakRssMiB: round(peakRssKiB / 1024) } : {}),
  };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

function java(env: EnvState, mainClass: string, args: readonly string[]): Promise<ProcessResult> {
  const libDir = env.kafka?.libDir as string;
  return measure('java', ['-Xmx1g', '-cp', `${libDir}/*`, mainClass, ...args]);
}

/** Kafka's producer perf tool, acks=all with idempotence like our restore: the write ceiling. */
async function producerCeiling(env: EnvState, topic: string, count: number): Promise<Measurement> {
  const result = mustSucceed(
    'kafka-producer-perf-test',
    await java(env, 'org.apache.kafka.tools.ProducerPerformance', [
      '--topic',
      topic,
      '--num-records',
      String(count),
      '--record-size',
      String(RECORD_SIZE),
      '--throughput',
      '-1',
      '--producer-props',
      `bootstrap.servers=${env.kafka?.source.bootstrap}`,
      'acks=all',
      'enable.idempotence=true',
      'linger.ms=5',
      'batch.size=262144',
      'compression.type=none',
    ]),
  );
  // "1048576 records sent, 98765.4 records/sec (96.45 MB/sec), ..."
  const summary = /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\)/.exec(result.stdout);
  if (!summary) throw new Error(`unexpected ProducerPerformance output:\n${result.stdout.slice(-1000)}`);
  return rate(
    'Kafka producer perf tool (write ceiling)',
    count / Number(summary[2]),
    count,
    count * RECORD_SIZE,
  );
}

/** Kafka's consumer perf tool: the read ceiling. */
async function consumerCeiling(env: EnvState, topic: string, count: number): Promise<Measurement> {
  const result = mustSucceed(
    'kafka-consumer-perf-test',
    await java(env, 'org.apache.kafka.tools.ConsumerPerformance', [
      '--bootstrap-server',
      env.kafka?.source.bootstrap as string,
      '--topic',
      topic,
      '--messages',
      String(count),
      '--timeout',
      '120000',
    ]),
  );
  // header: start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
  const line = result.stdout
    .trim()
    .split('\n')
    .find((l) => /^\d{4}-\d\d-\d\d/.test(l));
  const cols = line?.split(',').map((c) => c.trim());
  if (!cols || cols.length < 10) throw new Error(`unexpected ConsumerPerformance output:\n${result.stdout}`);
  // fetch.* excludes the group join, which our group-less backup does not pay either.
  const fetchMs = Number(cols[7]);
  const consumed = Number(cols[4]);
  return rate('Kafka consumer perf tool (read ceiling)', fetchMs / 1000, consumed, consumed * RECORD_SIZE);
}

async function ourRun(
  name: string,
  command: 'backup' | 'restore',
  config: unknown,
  env: NodeJS.ProcessEnv,
  workDir: string,
  expectedRecords: number,
  cpuProfileDir?: string,
): Promise<Measurement> {
  const file = join(workDir, `${name.replace(/\W+/g, '-')}.yaml`);
  writeFileSync(file, stringify(config));
  const nodeArgs = cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`] : [];
  const result = mustSucceed(
    `kafka-backup ${command}`,
    await measure(
      NODE,
      [
        ...nodeArgs,
        '--import',
        'tsx',
        CLI,
        command,
        '--config',
        file,
        '--output',
        'json',
        '--log-level',
        'warn',
      ],
      env,
    ),
  );
  const summary = JSON.parse(result.stdout) as { records?: number; bytes?: number };
  if (summary.records !== expectedRecords) {
    throw new Error(`${name}: expected ${expectedRecords} records, the CLI reported ${summary.records}`);
  }
  return rate(name, result.seconds, expectedRecords, expectedRecords * RECORD_SIZE, result.peakRssKiB);
}

/** The functions with the most self time in a V8 CPU profile. */
function topFunctions(dir: string, limit = 12): { fn: string; selfPercent: number }[] {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) return [];
  const prof = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
    nodes: {
      id: number;
      hitCount?: number;
      callFrame: { functionName: string; url: string; lineNumber: number };
    }[];
  };
  const totals = new Map<string, number>();
  let all = 0;
  for (const node of prof.nodes) {
    const hits = node.hitCount ?? 0;
    // Idle time is waiting on Kafka or storage, not a cost of ours: percentages are of busy time.
    if (node.callFrame.functionName === '(idle)') continue;
    all += hits;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url
      ? `${url.replace(`file://${ROOT}/`, '').replace(/^.*node_modules\//, '')}:${lineNumber + 1}`
      : '';
    const key = `${functionName || '(anonymous)'} ${where}`.trim();
    totals.set(key, (totals.get(key) ?? 0) + hits);
  }
  return [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([fn, hits]) => ({ fn, selfPercent: round((100 * hits) / all) }));
}

async function environment(): Promise<{ env: EnvState; stop: () => Promise<void> }> {
  const running = findRunningEnv();
  if (running && hasComponent(running.state, 'kafka') && hasComponent(running.state, 's3')) {
    log(`using the running test environment ${running.file}`);
    return { env: running.state, stop: async () => {} };
  }
  log('starting Kafka and MinIO');
  const started = await up(['kafka', 's3']);
  return { env: started.state, stop: () => down(started.file) };
}

async function main(): Promise<void> {
  const { env, stop } = await environment();
  const kafka = env.kafka;
  const s3 = env.s3;
  if (!kafka || !s3) throw new Error('the benchmark needs Kafka and MinIO from the test environment');
  const workDir = mkdtempSync(join(tmpdir(), 'kafka-backup-bench-'));
  const secretsDir = join(workDir, 'secrets');
  mkdirSync(join(secretsDir, 'bench-s3'), { recursive: true });
  writeFileSync(join(secretsDir, 'bench-s3', 'AWS_ACCESS_KEY_ID'), s3.accessKeyId);
  writeFileSync(join(secretsDir, 'bench-s3', 'AWS_SECRET_ACCESS_KEY'), s3.secretAccessKey);
  const cliEnv = { KAFKA_BACKUP_SECRETS_DIR: secretsDir };
  const client = s3Client(s3);
  const bucket = await createS3Bucket(client, 'bench');
  const source = kafkaConnection(kafka, 'source');
  const stamp = Date.now().toString(36);
  const topic = `bench-${stamp}`;
  const smallTopic = `bench-small-${stamp}`;
  const smallRecords = Math.max(1024, Math.floor(records / 8));
  const s3Storage = (prefix: string) => ({
    storageType: 's3',
    s3: {
      bucket,
      region: s3.region,
      endpoint: s3.endpoint,
      pathStyle: true,
      allowHttp: true,
      prefix,
      credentialsSecret: { name: 'bench-s3' },
    },
  });
  const cluster = { bootstrapServers: [kafka.source.bootstrap] };

  try {
    await createTopic(source, topic, { partitions });
    await createTopic(source, smallTopic, { partitions });
    log(`filling ${topic}: ${records} records of ${RECORD_SIZE} B over ${partitions} partitions`);
    const write = await producerCeiling(env, topic, records);
    await producerCeiling(env, smallTopic, smallRecords);
    await sleep(1000);
    log('measuring the read ceiling');
    const read = await consumerCeiling(env, topic, records);

    log('our backup to MinIO');
    const backupS3 = await ourRun(
      'kafka-backup backup → MinIO (S3)',
      'backup',
      {
        kafkaCluster: cluster,
        topics: [topic],
        storage: s3Storage('s3'),
        backupId: 'bench-s3',
        segmentMaxBytes: BENCH_SEGMENT_MAX_BYTES,
      },
      cliEnv,
      workDir,
      records,
    );
    log('our backup to a volume');
    const profileDir = profile ? join(workDir, 'profile') : undefined;
    const backupFs = await ourRun(
      'kafka-backup backup → volume',
      'backup',
      {
        kafkaCluster: cluster,
        topics: [topic],
        storage: { storageType: 'filesystem', filesystem: { path: join(workDir, 'volume') } },
        backupId: 'bench-fs',
        segmentMaxBytes: BENCH_SEGMENT_MAX_BYTES,
      },
      cliEnv,
      workDir,
      records,
      profileDir,
    );
    log('our backup of a topic 8x smaller (memory must not depend on topic size)');
    const backupSmall = await ourRun(
      'kafka-backup backup → volume, 1/8 of the data',
      'backup',
      {
        kafkaCluster: cluster,
        topics: [smallTopic],
        storage: { storageType: 'filesystem', filesystem: { path: join(workDir, 'volume-small') } },
        backupId: 'bench-small',
        segmentMaxBytes: BENCH_SEGMENT_MAX_BYTES,
      },
      cliEnv,
      workDir,
      smallRecords,
    );
    log('our restore from MinIO into an empty topic');
    const restore = await ourRun(
      'kafka-backup restore MinIO (S3) → empty topic',
      'restore',
      {
        kafkaCluster: cluster,
        storage: s3Storage('s3'),
        backupRef: { backupId: 'bench-s3' },
        topicMapping: { [topic]: `${topic}-restored` },
        createTopics: true,
      },
      cliEnv,
      workDir,
      records,
    );

    const results = {
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: round(totalmem() / 2 ** 30) },
      node: process.version,
      kafkaLibDir: kafka.libDir.split('/').slice(-2).join('/'),
      topic: { records, recordBytes: RECORD_SIZE, partitions, mib: sizeMiB },
      note: 'ProducerPerformance writes one random payload repeated, so the data compresses well (zstd in our backup).',
      ceilings: { write, read },
      ours: { backupS3, backupFs, backupSmall, restore },
      ratios: {
        backupS3VsRead: round(backupS3.mbPerSec / read.mbPerSec),
        backupFsVsRead: round(backupFs.mbPerSec / read.mbPerSec),
        restoreVsWrite: round(restore.mbPerSec / write.mbPerSec),
        peakRssFullVsEighth: round((backupFs.peakRssMiB ?? 0) / (backupSmall.peakRssMiB ?? 1)),
      },
      profile: profileDir ? topFunctions(profileDir) : undefined,
    };
    writeResults(results);
  } finally {
    await deleteS3Bucket(client, bucket).catch(() => {});
    rmSync(workDir, { recursive: true, force: true });
    await stop();
  }
}

function writeResults(results: {
  date: string;
  ceilings: Record<string, Measurement>;
  ours: Record<string, Measurement>;
  ratios: Record<string, number>;
  profile?: { fn: string; selfPercent: number }[] | undefined;
  [k: string]: unknown;
}): void {
  const dir = join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const rows = [...Object.values(results.ceilings), ...Object.values(results.ours)].map(
    (m) => `| ${m.name} | ${m.mbPerSec} | ${m.recordsPerSec} | ${m.seconds} | ${m.peakRssMiB ?? ''} |`,
  );
  const md = [
    `# Benchmark ${results.date}`,
    '',
    '| run | MB/s | records/s | seconds | peak RSS (MiB) |',
    '|---|---:|---:|---:|---:|',
    ...rows,
    '',
    '| ratio | value |',
    '|---|---:|',
    ...Object.entries(results.ratios).map(([k, v]) => `| ${k} | ${v} |`),
    '',
    ...(results.profile
      ? [
          'Biggest self-time costs of the backup to a volume:',
          '',
          '| function | self % |',
          '|---|---:|',
          ...results.profile.map((p) => `| \`${p.fn}\` | ${p.selfPercent} |`),
          '',
        ]
      : []),
  ].join('\n');
  writeFileSync(join(dir, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(dir, 'latest.md'), `${md}\n`);
  process.stdout.write(`${md}\n`);
  log(`written to ${dir}/latest.{json,md}`);
}

main().catch((error: unknown) => {
  process.stderr.write(`[bench] failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
