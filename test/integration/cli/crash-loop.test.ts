import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { need, uniqueName } from '../../env/fixture.ts';
import { type ConsumedRecord, createTopic, deleteTopic, type TestRecord } from '../../env/kafka-client.ts';
import { createS3Bucket, deleteS3Bucket, s3Client } from '../../env/storage-clients.ts';
import { content, fidelityRecords, produceAll, readTopic, testConnection } from '../engine/helpers.ts';
import { type CliRun, runCli, startCli, workspace } from './cli-helpers.ts';

/**
 * A crash loop, as a Pod evicted, OOM-killed or retried over and over would live it: every run of a
 * backup (while a producer keeps writing) and of a restore is killed with SIGKILL at a random moment
 * and rerun with the same configuration, several times over; then one last run completes. The target
 * must hold every source record exactly once, in order, byte for byte. Storage is S3 (MinIO): the
 * lease and the commits rely on its conditional writes.
 *
 * The kill moments come from a seeded generator: `CRASH_LOOP_SEED=<n>` replays a failed run (the seed
 * is printed as a diagnostic and in every assertion message).
 */
const seed = Number(process.env.CRASH_LOOP_SEED ?? Math.floor(Math.random() * 2 ** 31));

function mulberry32(a: number): () => number {
  let x = a >>> 0;
  return () => {
    x = (x + 0x6d2b79f5) >>> 0;
    let t = x;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/**
 * The fidelity records (null/empty keys and values, duplicate and null headers, odd timestamps) with
 * their non-empty values grown to 1-2.5 KB: a chunk of 1000 records then needs two or more produce
 * requests (at most ~900 KiB each), so kills and checkpoints land between the requests of one chunk.
 */
function paddedRecords(count: number, partitions: number, seedValue: number): TestRecord[] {
  const next = mulberry32(seedValue ^ 0x5eed);
  return fidelityRecords(count, partitions, seedValue).map((r) =>
    r.value === null || r.value.length === 0
      ? r
      : {
          ...r,
          value: Buffer.from(
            Array.from({ length: 800 + Math.floor(next() * 800) }, () => Math.floor(next() * 256)),
          ),
        },
  );
}

describe(`crash loop: repeated SIGKILL during backup and restore (seed ${seed})`, {
  timeout: 900_000,
}, () => {
  const random = mulberry32(seed);
  const source = testConnection('source');
  const target = testConnection('target');
  const topic = uniqueName('crash');
  const restored = `${topic}-copy`;
  const repartitioned = `${topic}-rp`;
  const partitions = 4;
  const total = 80_000;
  const s3 = need('s3');
  const client = s3Client(s3);
  let bucket: string;
  let ws: Awaited<ReturnType<typeof workspace>>;
  let env: Record<string, string>;
  let storage: Record<string, unknown>;
  let original: ConsumedRecord[][];
  // Restores are killed at any moment of their first 2.5 s: before the fix, a checkpoint taken while a
  // chunk's produce requests were in flight, followed by a kill, stranded every rerun.
  const restoreKills = { after: /./, withinMs: 2500 };

  before(async () => {
    ws = await workspace();
    bucket = await createS3Bucket(client, 'crash');
    await ws.writeSecret('minio', 'AWS_ACCESS_KEY_ID', s3.accessKeyId);
    await ws.writeSecret('minio', 'AWS_SECRET_ACCESS_KEY', s3.secretAccessKey);
    env = { KAFKA_BACKUP_SECRETS_DIR: ws.secretsDir };
    storage = {
      storageType: 's3',
      s3: {
        bucket,
        region: s3.region,
        endpoint: s3.endpoint,
        pathStyle: true,
        allowHttp: true,
        prefix: 'crash',
        credentialsSecret: { name: 'minio' },
      },
    };
    await createTopic(source, topic, { partitions });
  });
  after(async () => {
    await deleteTopic(source, topic).catch(() => {});
    await deleteTopic(target, restored).catch(() => {});
    await deleteTopic(target, repartitioned).catch(() => {});
    await deleteS3Bucket(client, bucket).catch(() => {});
    await ws.cleanup();
  });

  /** When to kill a run: 0 to `withinMs` after the first line matching `after` in its log. */
  interface KillMoment {
    readonly after: RegExp;
    readonly withinMs: number;
  }

  /**
   * Runs the command `kills` times, each killed with SIGKILL at a random moment (a run that finishes
   * first is fine, and counted), then once to completion. `during(i)` runs alongside killed run i
   * (the producer). Returns the last run.
   */
  async function crashLoop(
    args: string[],
    kills: number,
    moment: KillMoment,
    t: { diagnostic(message: string): void },
    during: (run: number) => Promise<void> = async () => {},
  ): Promise<CliRun> {
    const moments: string[] = [];
    for (let i = 0; i < kills; i++) {
      const run = startCli(args, env);
      const alongside = during(i);
      const delayMs = Math.floor(random() * moment.withinMs);
      let timer: NodeJS.Timeout | undefined;
      run
        .until((err) => moment.after.test(err))
        .then(() => {
          timer = setTimeout(() => run.kill('SIGKILL'), delayMs);
        })
        .catch(() => {});
      const ended = await run.done;
      clearTimeout(timer);
      await alongside;
      moments.push(ended.signal === 'SIGKILL' ? `${delayMs} ms` : 'finished first');
      assert.ok(
        ended.signal === 'SIGKILL' || ended.code === 0,
        `seed ${seed}: run ${i + 1} of '${args.join(' ')}' failed by itself (exit ${ended.code}):\n${ended.stderr}`,
      );
    }
    if (kills > 0) t.diagnostic(`${args[0]}: ${moments.join(', ')} after the first log line`);
    const last = await runCli([...args, '--output', 'json'], env);
    assert.equal(last.code, 0, `seed ${seed}: the final ${args[0]} failed:\n${last.stderr}`);
    return last;
  }

  test('backups killed while a producer writes, then restores killed repeatedly: the target equals the source', async (t) => {
    t.diagnostic(`seed ${seed} (replay with CRASH_LOOP_SEED=${seed})`);
    const backupConfig = await ws.writeConfig('backup.yaml', {
      kafkaCluster: { bootstrapServers: [need('kafka').source.bootstrap] },
      topics: [topic],
      storage,
      backupId: 'crash',
      // Segments of many records: a restore chunk (1000 records) then spans several produce requests.
      segmentMaxBytes: 4 * 1024 * 1024,
      checkpoint: { intervalSecs: 1 },
      rateLimiting: { recordsPerSec: 25_000, maxConcurrentPartitions: partitions },
    });
    // The producer writes while every killed backup runs: a sixth of the records alongside each run,
    // in small batches spread over the run, so each run starts behind and records keep arriving.
    const records = paddedRecords(total, partitions, seed);
    const kills = 6;
    const slice = Math.ceil(total / kills);
    const anyTime = { after: /./, withinMs: 3000 };
    await crashLoop(['backup', '--config', backupConfig], kills, anyTime, t, async (run) => {
      const mine = records.slice(run * slice, (run + 1) * slice);
      for (let i = 0; i < mine.length; i += 2000) {
        await produceAll(source, topic, mine.slice(i, i + 2000));
        await new Promise((r) => setTimeout(r, 100));
      }
    });
    await crashLoop(['backup', '--config', backupConfig], 0, anyTime, t);
    original = await readTopic(source, topic);
    assert.equal(
      original.reduce((n, p) => n + p.length, 0),
      total,
    );

    const restoreConfig = await ws.writeConfig('restore.yaml', {
      kafkaCluster: { bootstrapServers: [need('kafka').target.bootstrap] },
      backupRef: { backupId: 'crash' },
      storage,
      topicMapping: { [topic]: restored },
      createTopics: true,
      checkpointIntervalSecs: 1,
      // Slow enough to be killed several times, fast enough that checkpoints often fall while a chunk's
      // produce requests are in flight.
      rateLimiting: { bytesPerSec: 10_000_000, maxConcurrentPartitions: partitions },
    });
    await crashLoop(['restore', '--config', restoreConfig], 6, restoreKills, t);
    const copy = await readTopic(target, restored);
    for (let p = 0; p < partitions; p++) {
      const want = (original[p] as ConsumedRecord[]).map((r) => content(r));
      const got = (copy[p] as ConsumedRecord[]).map((r) => content(r));
      assert.equal(got.length, want.length, `seed ${seed}: partition ${p} holds every record exactly once`);
      assert.deepEqual(got, want, `seed ${seed}: partition ${p}: key, value, headers, timestamp and order`);
    }
  });

  test('a repartitioning restore (4 -> 3 partitions by key) killed repeatedly: each record once, key order kept', async (t) => {
    assert.ok(original, 'needs the backup of the previous test');
    const restoreConfig = await ws.writeConfig('restore-rp.yaml', {
      kafkaCluster: { bootstrapServers: [need('kafka').target.bootstrap] },
      backupRef: { backupId: 'crash' },
      storage,
      topicMapping: { [topic]: repartitioned },
      repartitioning: { [repartitioned]: { targetPartitions: 3, strategy: 'murmur2' } },
      createTopics: true,
      checkpointIntervalSecs: 1,
      // Slow enough to be killed several times, fast enough that checkpoints often fall while a chunk's
      // produce requests are in flight.
      rateLimiting: { bytesPerSec: 10_000_000, maxConcurrentPartitions: partitions },
    });
    await crashLoop(['restore', '--config', restoreConfig], 4, restoreKills, t);
    const copy = (await readTopic(target, repartitioned)).flat();
    const all = original.flat();
    const asText = (r: ConsumedRecord) =>
      JSON.stringify(content(r), (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
    assert.equal(copy.length, all.length, `seed ${seed}: every record exactly once`);
    assert.deepEqual(copy.map(asText).sort(), all.map(asText).sort(), `seed ${seed}: the same records`);
    // Records of one key go to one target partition, in their source order.
    const byKey = (rs: ConsumedRecord[]) => {
      const m = new Map<string, string[]>();
      for (const r of rs) {
        if (r.key === null) continue;
        const k = r.key.toString('hex');
        m.set(k, [...(m.get(k) ?? []), asText(r)]);
      }
      return m;
    };
    const want = byKey(all);
    const got = byKey(copy);
    for (const [key, sequence] of want) {
      assert.deepEqual(got.get(key), sequence, `seed ${seed}: order of key ${key}`);
    }
  });
});
