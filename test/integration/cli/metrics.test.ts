import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { need, uniqueName } from '../../env/fixture.ts';
import { createTopic, deleteTopic } from '../../env/kafka-client.ts';
import { fidelityRecords, produceAll, readTopic, testConnection } from '../engine/helpers.ts';
import { parseJsonOutput, runCli, startCli, workspace } from './cli-helpers.ts';

/** A port nothing listens on now (bound and released). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

type Families = ReturnType<typeof parsePrometheusTextFormat>;

/** One sample of a family whose labels include `match`; undefined when there is none. */
function sample(families: Families, name: string, match: Record<string, string> = {}): number | undefined {
  const metric = families
    .find((f) => f.name === name)
    ?.metrics.find((m) => Object.entries(match).every(([k, v]) => m.labels?.[k] === v));
  return metric?.value === undefined ? undefined : Number(metric.value);
}

/** Scrapes the endpoint and parses the answer with a Prometheus text-format parser. */
async function scrape(url: string): Promise<Families> {
  const response = await fetch(url);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parsePrometheusTextFormat(await response.text());
}

async function eventually<T>(what: string, probe: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 60_000;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await probe();
    if (done(last)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what}: not reached in 60 s (last: ${JSON.stringify(last)})`);
}

describe('the CLI serves Prometheus metrics', { timeout: 300_000 }, () => {
  const source = testConnection('source');
  const target = testConnection('target');
  const topic = uniqueName('metered');
  const restored = uniqueName('metered-restored');
  const resource = { kind: 'KafkaBackup', namespace: 'prod', name: 'orders-stream' };
  let ws: Awaited<ReturnType<typeof workspace>>;
  let store: string;
  const cluster = () => ({ bootstrapServers: [need('kafka').source.bootstrap] });

  before(async () => {
    ws = await workspace();
    store = `${ws.dir}/store`;
    await createTopic(source, topic, { partitions: 3 });
  });
  after(async () => {
    await deleteTopic(source, topic).catch(() => {});
    await deleteTopic(target, restored).catch(() => {});
    await ws.cleanup();
  });

  test('a continuous backup, scraped while records arrive: counters rise by exactly what was produced, lag falls to 0', async () => {
    const port = await freePort();
    const config = await ws.writeConfig('stream.yaml', {
      apiVersion: 'kafka.oso.sh/v1alpha1',
      kind: 'KafkaBackup',
      metadata: { name: resource.name, namespace: resource.namespace },
      spec: {
        kafkaCluster: cluster(),
        topics: [topic],
        storage: { storageType: 'filesystem', filesystem: { path: store } },
        backupId: 'stream',
        continuous: true,
        segmentMaxIntervalMs: 300,
        checkpoint: { intervalSecs: 1 },
        metrics: {
          bindAddress: '127.0.0.1',
          port,
          path: '/kafka-backup',
          updateIntervalMs: 100,
          maxPartitionLabels: 2,
        },
      },
    });
    const cli = startCli(['backup', '-c', config]);
    try {
      await cli.until((stderr) => stderr.includes('"msg":"serving metrics"'));
      const url = `http://127.0.0.1:${port}/kafka-backup`;
      assert.equal((await fetch(`http://127.0.0.1:${port}/metrics`)).status, 404, 'only the configured path');
      const first = await scrape(url);
      assert.equal(sample(first, 'kafka_backup_records_total', resource), 0, 'listed before any record');
      assert.equal(sample(first, 'kafka_backup_run_in_progress', resource), 1);
      assert.equal(sample(first, 'kafka_backup_runs_started_total', { kind: 'KafkaBackup' }), 1);
      assert.ok(
        first.some((f) => f.name === 'process_resident_memory_bytes'),
        'process figures on the endpoint',
      );

      let produced = 0;
      for (const [count, seed] of [
        [900, 1],
        [600, 2],
      ] as const) {
        await produceAll(source, topic, fidelityRecords(count, 3, seed));
        produced += count;
        const families = await eventually(
          `records_total ${produced} and lag 0`,
          () => scrape(url),
          (f) => {
            const records = sample(f, 'kafka_backup_records_total', resource) ?? 0;
            assert.ok(records <= produced, `counted ${records} of ${produced} produced`);
            return records === produced && sample(f, 'kafka_backup_lag_records', resource) === 0;
          },
        );
        assert.ok((sample(families, 'kafka_backup_bytes_total', resource) ?? 0) > produced * 10);
      }
      const settled = await eventually(
        'a commit after the last records',
        () => scrape(url),
        (f) =>
          (sample(f, 'kafka_backup_commits_total', resource) ?? 0) >= 1 &&
          (sample(f, 'kafka_backup_segments_total', resource) ?? 0) >= 1,
      );
      // maxPartitionLabels: 2 → partitions 0 and 1 have their own series, partition 2 is summed as __other__.
      const lagSeries = settled.find((f) => f.name === 'kafka_backup_partition_lag_records')?.metrics ?? [];
      assert.deepEqual(
        lagSeries.map((m) => [m.labels?.topic, m.labels?.partition, m.value]).sort(),
        [
          [topic, '0', '0'],
          [topic, '1', '0'],
          ['__other__', '__other__', '0'],
        ].sort(),
      );
      const lastCommit = sample(settled, 'kafka_backup_last_commit_timestamp_seconds', resource) ?? 0;
      assert.ok(Math.abs(Date.now() / 1000 - lastCommit) < 120, `last commit ${lastCommit}`);
      assert.ok((sample(settled, 'kafka_backup_stored_bytes_total', resource) ?? 0) > 0);
      assert.equal(sample(settled, 'kafka_backup_errors_total', resource), undefined, 'no failure');
    } finally {
      cli.kill('SIGTERM');
    }
    const run = await cli.done;
    assert.equal(run.code, 0, run.stderr);
  });

  test('a restore, scraped while it produces, and its textfile: progress, records and the run result', async () => {
    const port = await freePort();
    const file = path.join(ws.dir, 'restore.prom');
    const config = await ws.writeConfig('restore.yaml', {
      kafkaCluster: { bootstrapServers: [need('kafka').target.bootstrap] },
      backupRef: { storage: { storageType: 'filesystem', filesystem: { path: store } }, backupId: 'stream' },
      topicMapping: { [topic]: restored },
      createTopics: true,
      restoreId: 'metered',
      // Slow enough to be scraped while it runs: 100-record batches, one partition at a time, 500/s.
      rateLimiting: { recordsPerSec: 500, maxConcurrentPartitions: 1 },
      produceBatchSize: 100,
      metrics: { bindAddress: '127.0.0.1', port, updateIntervalMs: 100 },
    });
    const cli = startCli(['restore', '-c', config, '--metrics-file', file, '-o', 'json']);
    const labels = { kind: 'KafkaRestore', name: 'metered' };
    await cli.until((stderr) => stderr.includes('"msg":"serving metrics"'));
    const running = await eventually(
      'a scrape mid-restore',
      () => scrape(`http://127.0.0.1:${port}/metrics`),
      (f) => (sample(f, 'kafka_backup_records_total', labels) ?? 0) > 0,
    );
    assert.equal(sample(running, 'kafka_backup_run_in_progress', labels), 1);
    assert.equal(sample(running, 'kafka_backup_run_expected_records', labels), 1500);
    const ratio = sample(running, 'kafka_backup_run_progress_ratio', labels) ?? -1;
    assert.ok(ratio > 0 && ratio < 1, `progress ${ratio} while running`);
    const run = await cli.done;
    assert.equal(run.code, 0, run.stderr);
    const result = parseJsonOutput(run);
    assert.equal(result.records, 1500);

    const families = parsePrometheusTextFormat(await readFile(file, 'utf8'));
    assert.equal(sample(families, 'kafka_backup_records_total', labels), 1500);
    assert.equal(sample(families, 'kafka_backup_bytes_total', labels), result.bytes);
    assert.equal(sample(families, 'kafka_backup_run_progress_ratio', labels), 1);
    assert.equal(sample(families, 'kafka_backup_run_in_progress', labels), 0);
    assert.ok((sample(families, 'kafka_backup_segments_total', labels) ?? 0) >= 1, 'segments read');
    assert.ok((sample(families, 'kafka_backup_commits_total', labels) ?? 0) >= 1, 'checkpoints');
    assert.equal(
      sample(families, 'kafka_backup_runs_total', { kind: 'KafkaRestore', result: 'succeeded' }),
      1,
    );
    assert.equal(sample(families, 'kafka_backup_run_records_total', { kind: 'KafkaRestore' }), 1500);
    assert.ok(sample(families, 'kafka_backup_last_success_timestamp_seconds', labels));
    const partitions = await readTopic(target, restored);
    assert.equal(partitions.flat().length, 1500, 'the metered restore restored everything');
  });

  test('a one-shot backup writes its final figures to --metrics-file, matching its result', async () => {
    const file = path.join(ws.dir, 'backup.prom');
    const config = await ws.writeConfig('one-shot.yaml', {
      kafkaCluster: cluster(),
      topics: [topic],
      storage: { storageType: 'filesystem', filesystem: { path: `${ws.dir}/one-shot-store` } },
      backupId: 'one-shot',
    });
    const run = await runCli(['backup', '-c', config, '--metrics-file', file, '-o', 'json']);
    assert.equal(run.code, 0, run.stderr);
    const result = parseJsonOutput(run);
    const families = parsePrometheusTextFormat(await readFile(file, 'utf8'));
    const labels = { kind: 'KafkaBackup', namespace: '', name: 'one-shot' };
    assert.equal(result.records, 1500);
    assert.equal(sample(families, 'kafka_backup_records_total', labels), result.records);
    assert.equal(sample(families, 'kafka_backup_bytes_total', labels), result.bytes);
    assert.equal(sample(families, 'kafka_backup_stored_bytes_total', labels), result.storedBytes);
    assert.equal(sample(families, 'kafka_backup_segments_total', labels), result.segments);
    assert.equal(sample(families, 'kafka_backup_commits_total', labels), result.commits);
    assert.equal(sample(families, 'kafka_backup_lag_records', labels), 0);
    assert.equal(sample(families, 'kafka_backup_run_expected_records', labels), 1500);
    assert.equal(
      sample(families, 'kafka_backup_runs_total', { kind: 'KafkaBackup', result: 'succeeded' }),
      1,
    );
    assert.deepEqual(
      (await readdir(ws.dir)).filter((f) => f.endsWith('.tmp')),
      [],
      'written through a temporary file, renamed',
    );
  });

  test('a run handed to a Job (kafka-backup run) serves its metrics block from the Pod the same way', async () => {
    const port = await freePort();
    const owner = {
      apiVersion: 'kafka.oso.sh/v1alpha1',
      kind: 'KafkaBackup',
      namespace: 'team-a',
      name: 'orders-job',
      uid: '6f1c2a9e-0000-4000-8000-000000000001',
    };
    const request = path.join(ws.dir, 'request.json');
    await writeFile(
      request,
      JSON.stringify({
        kind: 'backup',
        owner,
        runId: 'metrics-job',
        secrets: [],
        spec: {
          kafkaCluster: cluster(),
          topics: [topic],
          storage: { storageType: 'filesystem', filesystem: { path: `${ws.dir}/job-store` } },
          continuous: true,
          segmentMaxIntervalMs: 300,
          checkpoint: { intervalSecs: 1 },
          metrics: { bindAddress: '127.0.0.1', port, updateIntervalMs: 100 },
        },
      }),
    );
    const termination = path.join(ws.dir, 'termination-log');
    const worker = startCli(['run', '--request', request, '--termination-log', termination]);
    const labels = { kind: 'KafkaBackup', namespace: 'team-a', name: 'orders-job' };
    try {
      await worker.until((stderr) => stderr.includes('"msg":"serving metrics"'));
      const families = await eventually(
        'the Job run read the topic',
        () => scrape(`http://127.0.0.1:${port}/metrics`),
        (f) =>
          sample(f, 'kafka_backup_records_total', labels) === 1500 &&
          sample(f, 'kafka_backup_lag_records', labels) === 0,
      );
      assert.equal(sample(families, 'kafka_backup_run_in_progress', labels), 1);
    } finally {
      worker.kill('SIGTERM');
    }
    const run = await worker.done;
    assert.equal(run.code, 0, run.stderr);
    assert.match(await readFile(termination, 'utf8'), /"ok":true/);
  });

  test('a port in use fails the run before anything is read or written (exit 2)', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as { port: number };
    try {
      const untouched = `${ws.dir}/untouched-store`;
      const config = await ws.writeConfig('taken.yaml', {
        kafkaCluster: cluster(),
        topics: [topic],
        storage: { storageType: 'filesystem', filesystem: { path: untouched } },
        backupId: 'taken',
        metrics: { bindAddress: '127.0.0.1', port },
      });
      const run = await runCli(['backup', '-c', config]);
      assert.equal(run.code, 2, run.stderr);
      assert.match(
        run.stderr,
        new RegExp(`metrics: cannot listen on 127\\.0\\.0\\.1:${port}: port ${port} is in use`),
      );
      assert.match(run.stderr, /Nothing was read or written/);
      await assert.rejects(readdir(untouched), /ENOENT/, 'no storage was created');
      const badPath = await ws.writeConfig('bad-path.yaml', {
        kafkaCluster: cluster(),
        topics: [topic],
        storage: { storageType: 'filesystem', filesystem: { path: untouched } },
        backupId: 'taken',
        metrics: { path: 'metrics' },
      });
      const bad = await runCli(['backup', '-c', badPath]);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /metrics\.path: expected a URL path starting with '\/'/);
      await assert.rejects(readdir(untouched), /ENOENT/);
    } finally {
      holder.close();
    }
  });
});
