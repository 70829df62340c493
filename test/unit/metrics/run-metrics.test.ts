import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { RunMetrics, runMetricsOf } from '../../../runtime/metrics/run-metrics.ts';
import { KAFKA_KINDS } from '../../../runtime/operator/resource.ts';

const key = { namespace: 'ns', name: 'nightly' };
const startedAt = new Date('2026-12-03T12:00:00Z');
const endedAt = new Date('2026-12-03T12:00:30Z');

describe('run metrics', () => {
  test('a succeeded run: counted by kind and result, its duration, records and bytes, the last success', async () => {
    const registry = new Registry();
    const metrics = new RunMetrics(registry);
    metrics.runStarted(KAFKA_KINDS.KafkaBackup);
    metrics.runEnded(KAFKA_KINDS.KafkaBackup, key, {
      result: 'succeeded',
      startedAt,
      endedAt,
      records: 10,
      bytes: 2048,
    });
    const text = await registry.metrics();
    assert.match(text, /^kafka_backup_runs_started_total\{kind="KafkaBackup"\} 1$/m);
    assert.match(text, /^kafka_backup_runs_total\{kind="KafkaBackup",result="succeeded"\} 1$/m);
    assert.match(
      text,
      /^kafka_backup_run_duration_seconds_sum\{kind="KafkaBackup",result="succeeded"\} 30$/m,
    );
    assert.match(text, /^kafka_backup_run_records_total\{kind="KafkaBackup"\} 10$/m);
    assert.match(text, /^kafka_backup_run_bytes_total\{kind="KafkaBackup"\} 2048$/m);
    assert.match(
      text,
      /^kafka_backup_last_success_timestamp_seconds\{kind="KafkaBackup",namespace="ns",name="nightly"\} 1796299230$/m,
    );
  });

  test('a failed run sets no last success; a run without a start time has no duration', async () => {
    const registry = new Registry();
    const metrics = new RunMetrics(registry);
    metrics.runEnded(KAFKA_KINDS.KafkaRestore, key, { result: 'failed', startedAt: undefined, endedAt });
    const text = await registry.metrics();
    assert.match(text, /^kafka_backup_runs_total\{kind="KafkaRestore",result="failed"\} 1$/m);
    assert.doesNotMatch(text, /kafka_backup_run_duration_seconds_count\{/);
    assert.doesNotMatch(text, /kafka_backup_last_success_timestamp_seconds\{/);
  });

  test('perResource false (metrics.enabled: false) keeps the series off and drops an older one; totals still count', async () => {
    const registry = new Registry();
    const metrics = new RunMetrics(registry);
    metrics.runEnded(KAFKA_KINDS.KafkaBackup, key, { result: 'succeeded', startedAt, endedAt, records: 1 });
    metrics.runEnded(
      KAFKA_KINDS.KafkaBackup,
      key,
      { result: 'succeeded', startedAt, endedAt, records: 2 },
      { perResource: false },
    );
    const text = await registry.metrics();
    assert.doesNotMatch(text, /kafka_backup_last_success_timestamp_seconds\{/);
    assert.match(text, /^kafka_backup_run_records_total\{kind="KafkaBackup"\} 3$/m);
  });

  test('forget removes the series of a deleted resource only', async () => {
    const registry = new Registry();
    const metrics = new RunMetrics(registry);
    const other = { namespace: 'ns', name: 'other' };
    metrics.runEnded(KAFKA_KINDS.KafkaBackupValidation, key, { result: 'succeeded', startedAt, endedAt });
    metrics.runEnded(KAFKA_KINDS.KafkaBackupValidation, other, { result: 'succeeded', startedAt, endedAt });
    metrics.forget(KAFKA_KINDS.KafkaBackupValidation, key);
    const text = await registry.metrics();
    assert.doesNotMatch(text, /name="nightly"/);
    assert.match(text, /kafka_backup_last_success_timestamp_seconds\{[^}]*name="other"\}/);
    assert.match(text, /^kafka_backup_runs_total\{kind="KafkaBackupValidation",result="succeeded"\} 2$/m);
  });

  test('runMetricsOf: one set per registry, shared by every controller on it', () => {
    const registry = new Registry();
    assert.equal(runMetricsOf(registry), runMetricsOf(registry));
    assert.notEqual(runMetricsOf(registry), runMetricsOf(new Registry()));
  });
});
