import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { CliMetrics } from '../../../runtime/cli/metrics.ts';
import { METRICS_DEFAULTS, meterOptions, readMetrics } from '../../../runtime/config/metrics.ts';
import { Reader } from '../../../runtime/config/reader.ts';
import { silentLogger } from '../../../runtime/log.ts';

const read = (metrics: unknown, partitionLabels = true) => {
  const r = new Reader({ metrics });
  const settings = readMetrics(r, { partitionLabels });
  return { settings, problems: r.problems };
};

describe('the metrics block', () => {
  test("absent: no CLI endpoint, and the operator's defaults for the meter", () => {
    const r = new Reader({});
    assert.equal(readMetrics(r, { partitionLabels: true }), undefined);
    assert.deepEqual(meterOptions(undefined), { updateIntervalMs: 500, maxPartitionLabels: 100 });
  });

  test('the CRD defaults fill what is not set; enabled: false turns the meter off', () => {
    assert.deepEqual(read({ port: 9100 }).settings, { ...METRICS_DEFAULTS, port: 9100 });
    assert.equal(meterOptions(read({ enabled: false }).settings), undefined);
    assert.deepEqual(meterOptions(read({ updateIntervalMs: 50, maxPartitionLabels: 3 }).settings), {
      updateIntervalMs: 50,
      maxPartitionLabels: 3,
    });
  });

  test('bad values are named with what to write instead', () => {
    assert.deepEqual(read({ path: 'metrics' }).problems, [
      `metrics.path: expected a URL path starting with '/' (e.g. /metrics), got "metrics"`,
    ]);
    assert.match(read({ port: 70000 }).problems.join(), /metrics\.port/);
    assert.match(read({ bindAddress: ' ' }).problems.join(), /metrics\.bindAddress: expected an IP address/);
    assert.match(read({ updateIntervalMs: 0 }).problems.join(), /metrics\.updateIntervalMs/);
    // KafkaRestore has no per-partition series, so no maxPartitionLabels.
    assert.match(read({ maxPartitionLabels: 5 }, false).problems.join(), /metrics\.maxPartitionLabels/);
    assert.match(read({ prot: 1 }).problems.join(), /metrics\.prot/);
  });
});

describe('the CLI metrics', () => {
  const context = { source: 'backup.yaml', name: 'orders' };

  test('a taken port fails before any data moves, saying what to change', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as { port: number }).port;
    try {
      await assert.rejects(
        CliMetrics.open({
          kind: 'KafkaBackup',
          spec: { metrics: { bindAddress: '127.0.0.1', port } },
          context,
          log: silentLogger,
        }),
        (error: Error) => {
          assert.match(
            error.message,
            new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: port ${port} is in use`),
          );
          assert.match(error.message, /set metrics\.port to a free port, or metrics\.enabled: false/);
          return true;
        },
      );
    } finally {
      holder.close();
    }
  });

  test('a metrics file in a missing directory or on a directory is refused up front', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kb-metrics-'));
    await assert.rejects(
      CliMetrics.open({
        kind: 'KafkaBackup',
        spec: {},
        context,
        file: join(dir, 'no/such.prom'),
        log: silentLogger,
      }),
      /--metrics-file: the directory .*no does not exist/,
    );
    await assert.rejects(
      CliMetrics.open({ kind: 'KafkaBackup', spec: {}, context, file: dir, log: silentLogger }),
      /--metrics-file: .* is a directory/,
    );
  });

  test('no block and no file: nothing; a disabled block with a file: the file only', async () => {
    assert.equal(
      await CliMetrics.open({ kind: 'KafkaBackup', spec: {}, context, log: silentLogger }),
      undefined,
    );
    const file = join(mkdtempSync(join(tmpdir(), 'kb-metrics-')), 'run.prom');
    const metrics = await CliMetrics.open({
      kind: 'KafkaRestore',
      spec: { metrics: { enabled: false } },
      context: { source: 'restore.yaml' },
      namespace: 'prod',
      file,
      log: silentLogger,
    });
    assert.ok(metrics);
    metrics.ended({ result: 'succeeded', records: 7, bytes: 70 });
    await metrics.close();
    const families = parsePrometheusTextFormat(readFileSync(file, 'utf8'));
    const runs = families.find((f) => f.name === 'kafka_backup_runs_total');
    assert.deepEqual(
      runs?.metrics.map((m) => [m.labels, m.value]),
      [[{ kind: 'KafkaRestore', result: 'succeeded' }, '1']],
    );
    assert.ok(!families.some((f) => f.name.startsWith('process_')), 'node_exporter has process_* of its own');
  });
});
