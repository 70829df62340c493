import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ClassifiedError, classify } from '../../../../runtime/app/errors.ts';
import { redact } from '../../../../runtime/log.ts';
import { runEndOf } from '../../../../runtime/operator/runs/job-outcome.ts';
import { runWorkerMain } from '../../../../runtime/operator/runs/job-worker.ts';
import { DeadlineExceededError, reportError } from '../../../../runtime/operator/runs/run-errors.ts';
import {
  decodeReport,
  encodeReport,
  MalformedReportError,
  TERMINATION_MESSAGE_LIMIT,
} from '../../../../runtime/operator/runs/termination-message.ts';

const pod = (message: string | undefined, exitCode = 0) => ({
  name: 'p',
  conditions: [],
  terminated: { exitCode, ...(message !== undefined ? { message } : {}), finishedAt: '2026-01-01T00:00:10Z' },
});

describe('termination message protocol', () => {
  test('a result round-trips; a large one is compressed under the kubelet limit', () => {
    const result = { runId: 'r1', records: 42, bytes: 1000 };
    assert.deepEqual(decodeReport(encodeReport({ v: 1, ok: true, result })), { v: 1, ok: true, result });
    const big = {
      groups: Array.from({ length: 400 }, (_, i) => ({ group: `consumer-group-${i}`, status: 'reset' })),
    };
    const encoded = encodeReport({ v: 1, ok: true, result: big });
    assert.ok(encoded.startsWith('gz:'));
    assert.ok(encoded.length <= TERMINATION_MESSAGE_LIMIT);
    assert.deepEqual(decodeReport(encoded), { v: 1, ok: true, result: big });
  });

  test('a result too large even compressed becomes a clear failure, never a truncated success', () => {
    const noise = Array.from({ length: 2000 }, (_, i) => `${i}-${Math.random().toString(36)}`);
    const report = decodeReport(encodeReport({ v: 1, ok: true, result: noise }));
    assert.equal(report.ok, false);
    assert.match(report.ok ? '' : report.error.message, /does not fit the 4096-byte termination message/);
  });

  test('a registered Secret value never reaches the message', () => {
    redact('hunter2-very-secret');
    const encoded = encodeReport({
      v: 1,
      ok: false,
      error: reportError(new Error('login with hunter2-very-secret refused')),
    });
    assert.ok(!encoded.includes('hunter2-very-secret'));
  });

  test('missing, foreign or malformed messages are refused', () => {
    for (const message of [
      undefined,
      '',
      'Error: killed',
      '{"v":2,"ok":true,"result":1}',
      '{"v":1,"ok":true}',
      '{"v":1,"ok":false,"error":{}}',
      'gz:!!!',
    ]) {
      assert.throws(() => decodeReport(message), MalformedReportError, String(message));
    }
  });

  test('the classification survives the trip: classify() on the rebuilt error equals the original', () => {
    const original = new ClassifiedError(
      { class: 'retriable', reason: 'BrokerUnreachable', exitCode: 4 },
      'refused',
    );
    const end = runEndOf('ns/j', { state: 'failed', reason: 'BackoffLimitExceeded', message: '' }, [
      pod(encodeReport({ v: 1, ok: false, error: reportError(original) }), 4),
    ]);
    assert.equal(end.state, 'failed');
    const c = classify(end.state === 'failed' ? end.error : undefined);
    assert.deepEqual(c, { class: 'retriable', reason: 'BrokerUnreachable', exitCode: 4, message: 'refused' });
    assert.deepEqual(end.endedAt, new Date('2026-01-01T00:00:10Z'));
  });

  test('a deadline stays a DeadlineExceededError, from the report or from the Job condition', () => {
    const reported = runEndOf('ns/j', { state: 'failed', reason: 'PodFailurePolicy', message: '' }, [
      pod(
        encodeReport({ v: 1, ok: false, error: reportError(new DeadlineExceededError(30, 'too slow')) }),
        1,
      ),
    ]);
    assert.ok(reported.state === 'failed' && reported.error instanceof DeadlineExceededError);
    assert.equal(reported.state === 'failed' && reported.error.message, 'too slow');
    const byJob = runEndOf('ns/j', { state: 'failed', reason: 'DeadlineExceeded', message: '' }, [], 30);
    assert.ok(byJob.state === 'failed' && byJob.error instanceof DeadlineExceededError);
    assert.equal(byJob.state === 'failed' && (byJob.error as DeadlineExceededError).seconds, 30);
  });

  test('a Job that ended without a readable report is a failed run saying so, even when it completed', () => {
    for (const [state, pods] of [
      [{ state: 'complete' as const }, [pod(undefined, 0)]],
      [{ state: 'complete' as const }, []],
      [{ state: 'failed' as const, reason: 'BackoffLimitExceeded', message: 'x' }, [pod('OOM', 137)]],
    ] as const) {
      const end = runEndOf('ns/j', state, pods);
      assert.equal(end.state, 'failed');
      const c = classify(end.state === 'failed' ? end.error : undefined);
      assert.equal(c.reason, 'Internal');
      assert.match(c.message, /without a run report.*kubectl logs job\/ns\/j/);
    }
  });
});

describe('kafka-backup run (the Job side)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'run-worker-'));
  const termination = join(dir, 'termination-log');

  test('an invalid request: exit 2 and a classified InvalidConfig report', async () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ kind: 'nope', runId: 1 }));
    const code = await runWorkerMain([
      '--request',
      file,
      '--termination-log',
      termination,
      '--log-level',
      'error',
    ]);
    assert.equal(code, 2);
    const report = decodeReport(readFileSync(termination, 'utf8'));
    assert.equal(report.ok, false);
    assert.equal(!report.ok && report.error.reason, 'InvalidConfig');
    assert.match(!report.ok ? report.error.message : '', /kind must be one of/);
  });

  test('a spec the CLI refuses (a Secret key not mounted): exit 2, the CLI’s message, no Secret value', async () => {
    const secrets = join(dir, 'secrets');
    process.env.KAFKA_BACKUP_SECRETS_DIR = secrets;
    const file = join(dir, 'request.json');
    writeFileSync(
      file,
      JSON.stringify({
        kind: 'offset-rollback',
        owner: {
          apiVersion: 'kafka.oso.sh/v1alpha1',
          kind: 'KafkaOffsetRollback',
          namespace: 'ns',
          name: 'rb',
          uid: 'u',
        },
        runId: 'r',
        spec: {
          kafkaCluster: {
            bootstrapServers: ['127.0.0.1:1'],
            securityProtocol: 'SASL_PLAINTEXT',
            saslSecret: { name: 'kafka-sasl', mechanism: 'SCRAM-SHA-512' },
          },
          snapshotRef: { name: 'snap-1', storage: { storageType: 'filesystem', filesystem: { path: dir } } },
        },
        secrets: [{ namespace: 'ns', name: 'kafka-sasl' }],
      }),
    );
    try {
      const code = await runWorkerMain([
        '--request',
        file,
        '--termination-log',
        termination,
        '--log-level',
        'error',
      ]);
      const report = decodeReport(readFileSync(termination, 'utf8'));
      assert.equal(code, 2, JSON.stringify(report));
      assert.equal(!report.ok && report.error.exitCode, 2);
      assert.match(!report.ok ? report.error.message : '', /kafka-sasl/);
    } finally {
      delete process.env.KAFKA_BACKUP_SECRETS_DIR;
    }
  });

  test('a missing --request is a usage error with a report', async () => {
    assert.equal(await runWorkerMain(['--termination-log', termination]), 2);
    assert.equal(decodeReport(readFileSync(termination, 'utf8')).ok, false);
  });
});
