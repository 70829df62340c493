import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { Registry } from 'prom-client';
import type { Progress } from '../../../runtime/engine/progress.ts';
import {
  LiveRunMetrics,
  liveRunMetricsOf,
  OTHER_PARTITIONS,
} from '../../../runtime/metrics/live-run-metrics.ts';
import { runMetricsOf } from '../../../runtime/metrics/run-metrics.ts';

const resource = { kind: 'KafkaBackup', namespace: 'ns', name: 'orders' };
const labels = { kind: 'KafkaBackup', namespace: 'ns', name: 'orders' };

function progress(records: number, bytes: number, extra: Partial<Progress> = {}): Progress {
  return {
    records,
    bytes,
    storedBytes: 0,
    totalRecords: undefined,
    percent: undefined,
    elapsedMs: 1000,
    recordsPerSec: records,
    bytesPerSec: bytes,
    etaMs: undefined,
    ...extra,
  };
}

/** Every sample of the registry, parsed with a Prometheus text-format parser. */
async function scrape(registry: Registry) {
  const families = parsePrometheusTextFormat(await registry.metrics());
  const value = (name: string, match: Record<string, string> = labels): number | undefined => {
    const family = families.find((f) => f.name === name);
    const metric = family?.metrics.find((m) => Object.entries(match).every(([k, v]) => m.labels?.[k] === v));
    return metric?.value === undefined ? undefined : Number(metric.value);
  };
  const series = (name: string) => families.find((f) => f.name === name)?.metrics ?? [];
  return { families, value, series };
}

describe('live run metrics', () => {
  test('counters rise by what the run moved, published at the meter interval and at its end', async () => {
    const registry = new Registry();
    const meter = liveRunMetricsOf(registry).meter(resource, {
      updateIntervalMs: 20,
      maxPartitionLabels: 100,
    });
    let s = await scrape(registry);
    assert.equal(s.value('kafka_backup_records_total'), 0, 'the series exist from the start');
    assert.equal(s.value('kafka_backup_run_in_progress'), 1);

    meter.progress(progress(100, 1000, { totalRecords: 400, percent: 25 }));
    s = await scrape(registry);
    assert.equal(s.value('kafka_backup_records_total'), 0, 'not published before the interval');
    await new Promise((r) => setTimeout(r, 60));
    s = await scrape(registry);
    assert.equal(s.value('kafka_backup_records_total'), 100);
    assert.equal(s.value('kafka_backup_bytes_total'), 1000);
    assert.equal(s.value('kafka_backup_run_expected_records'), 400);
    assert.equal(s.value('kafka_backup_run_progress_ratio'), 0.25);

    meter.progress(progress(400, 4000, { totalRecords: 400, percent: 100 }));
    meter.segmentWritten(512);
    meter.segmentWritten(256);
    meter.checkpoint({ at: 1_700_000_000_000, records: 400, final: true });
    meter.retried('storage', 'transient');
    meter.retried('kafka', 'connection-refused');
    meter.retried('kafka', 'connection-refused');
    meter.end();
    s = await scrape(registry);
    assert.equal(s.value('kafka_backup_records_total'), 400, 'counted once, not added per snapshot');
    assert.equal(s.value('kafka_backup_bytes_total'), 4000);
    assert.equal(s.value('kafka_backup_segments_total'), 2);
    assert.equal(s.value('kafka_backup_stored_bytes_total'), 768);
    assert.equal(s.value('kafka_backup_commits_total'), 1);
    assert.equal(s.value('kafka_backup_last_commit_timestamp_seconds'), 1_700_000_000);
    assert.equal(s.value('kafka_backup_run_progress_ratio'), 1);
    assert.equal(s.value('kafka_backup_run_in_progress'), 0);
    assert.equal(
      s.value('kafka_backup_retries_total', { ...labels, source: 'kafka', class: 'connection-refused' }),
      2,
    );
    assert.equal(
      s.value('kafka_backup_retries_total', { ...labels, source: 'storage', class: 'transient' }),
      1,
    );

    // A second run of the same resource adds to the counters.
    const second = liveRunMetricsOf(registry).meter(resource, {
      updateIntervalMs: 1000,
      maxPartitionLabels: 100,
    });
    second.progress(progress(50, 500));
    second.fail('BrokerUnreachable');
    s = await scrape(registry);
    assert.equal(s.value('kafka_backup_records_total'), 450);
    assert.equal(s.value('kafka_backup_errors_total', { ...labels, reason: 'BrokerUnreachable' }), 1);
    assert.equal(s.value('kafka_backup_run_expected_records'), undefined, 'a run without a total has none');
  });

  test('per-partition lag up to maxPartitionLabels, the rest summed into one series, and the total', async () => {
    const registry = new Registry();
    const meter = new LiveRunMetrics(registry).meter(resource, {
      updateIntervalMs: 10_000,
      maxPartitionLabels: 2,
    });
    meter.partition('b', 0, 10n, 30n);
    meter.partition('a', 1, 0n, 5n);
    meter.partition('a', 0, 7n, 7n);
    meter.partition('c', 3, 40n, 10n); // past the end (continuous, after a truncation): no negative lag
    meter.publish();
    let s = await scrape(registry);
    const lag = (topic: string, partition: string) =>
      s.value('kafka_backup_partition_lag_records', { ...labels, topic, partition });
    assert.equal(lag('a', '0'), 0);
    assert.equal(lag('a', '1'), 5);
    assert.equal(lag('b', '0'), undefined, 'beyond the bound');
    assert.equal(lag(OTHER_PARTITIONS, OTHER_PARTITIONS), 20);
    assert.equal(s.series('kafka_backup_partition_lag_records').length, 3);
    assert.equal(s.value('kafka_backup_lag_records'), 25);

    meter.partition('a', 1, 5n, 5n);
    meter.partition('b', 0, 30n, 30n);
    meter.end();
    s = await scrape(registry);
    assert.equal(lag('a', '1'), 0);
    assert.equal(s.value('kafka_backup_lag_records'), 0, 'falls to 0 when the run has read everything');
  });

  test('0 means every partition has its own series', async () => {
    const registry = new Registry();
    const meter = liveRunMetricsOf(registry).meter(resource, {
      updateIntervalMs: 10_000,
      maxPartitionLabels: 0,
    });
    for (let p = 0; p < 5; p++) meter.partition('t', p, 0n, 1n);
    meter.end();
    const s = await scrape(registry);
    assert.equal(s.series('kafka_backup_partition_lag_records').length, 5);
  });

  test('forgetting a resource removes every series it had, and a new run drops the old partitions', async () => {
    const registry = new Registry();
    const live = liveRunMetricsOf(registry);
    const other = { kind: 'KafkaRestore', namespace: 'ns', name: 'orders' };
    const first = live.meter(resource, { updateIntervalMs: 10_000, maxPartitionLabels: 10 });
    first.partition('old', 0, 0n, 3n);
    first.retried('kafka', 'no-leader');
    first.fail('KafkaUnavailable');
    live.meter(other).end();
    const second = live.meter(resource, { updateIntervalMs: 10_000, maxPartitionLabels: 10 });
    second.partition('new', 0, 0n, 1n);
    second.end();
    let s = await scrape(registry);
    assert.deepEqual(
      s.series('kafka_backup_partition_lag_records').map((m) => m.labels?.topic),
      ['new'],
    );

    runMetricsOf(registry).forget({ kind: 'KafkaBackup' }, { namespace: 'ns', name: 'orders' });
    s = await scrape(registry);
    for (const family of s.families) {
      if (!family.name.startsWith('kafka_backup_')) continue;
      for (const m of family.metrics) {
        assert.notEqual(m.labels?.kind === 'KafkaBackup' && m.labels?.name, 'orders', `${family.name} left`);
      }
    }
    assert.equal(
      s.value('kafka_backup_records_total', { kind: 'KafkaRestore', name: 'orders' }),
      0,
      'others stay',
    );
  });
});
