import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { classify } from '../../../runtime/app/errors.ts';
import { buildEvidenceReport } from '../../../runtime/evidence/report.ts';
import {
  bounded,
  DeadlineExceededError,
  stopSignal,
} from '../../../runtime/operator/controllers/validation-deadline.ts';
import {
  decideValidation,
  nextStalledTry,
  requestId,
  type ValidationView,
} from '../../../runtime/operator/controllers/validation-decision.ts';
import { refersTo, resolveBackupRef } from '../../../runtime/operator/controllers/validation-reference.ts';
import {
  deadlineStatus,
  resultStatus,
  stalledReason,
  stalledStatus,
  startedStatus,
} from '../../../runtime/operator/controllers/validation-status.ts';
import type { KubeObject } from '../../../runtime/operator/resource.ts';
import type { RunSnapshot } from '../../../runtime/operator/runs/runner.ts';
import type { Condition } from '../../../runtime/operator/status.ts';

const now = new Date('2026-12-03T12:00:00Z');
const at = (s: number) => new Date(now.getTime() + s * 1000);
const view = (v: Partial<ValidationView> = {}): ValidationView => ({ generation: 1, rerun: '', ...v });
const stalledSince = (d: Date): Condition[] => [
  { type: 'Stalled', status: 'True', reason: 'BackupNotFound', lastTransitionTime: d.toISOString() },
];
const run = (r: Partial<RunSnapshot>): RunSnapshot => ({
  key: 'k',
  id: 'g1',
  state: 'running',
  startedAt: now,
  ...r,
});

describe('decideValidation', () => {
  test('a new resource starts a run for its generation; done requests stay idle', () => {
    assert.deepEqual(decideValidation(view(), undefined, now), {
      kind: 'start',
      runId: 'g1',
      restart: false,
    });
    for (const phase of ['Completed', 'Failed']) {
      assert.deepEqual(
        decideValidation(view({ phase, observedGeneration: 1, observedRerun: '' }), undefined, now),
        {
          kind: 'idle',
        },
      );
    }
  });

  test('a new rerun annotation value or a new generation is a new request', () => {
    const done = { phase: 'Completed', observedGeneration: 1 };
    assert.equal(requestId(view({ rerun: 'x' })), 'g1-rx');
    assert.deepEqual(decideValidation(view({ ...done, rerun: 'x' }), undefined, now), {
      kind: 'start',
      runId: 'g1-rx',
      restart: false,
    });
    assert.equal(decideValidation(view({ ...done, generation: 2 }), undefined, now).kind, 'start');
  });

  test('activeDeadlineSeconds bounds the run: the deadline is passed on and looked at', () => {
    assert.deepEqual(decideValidation(view({ activeDeadlineSeconds: 60 }), undefined, now), {
      kind: 'start',
      runId: 'g1',
      restart: false,
      deadlineAt: at(60),
    });
    assert.deepEqual(decideValidation(view({ activeDeadlineSeconds: 60 }), run({}), at(20)), {
      kind: 'wait',
      requeueAfterMs: 40_000,
    });
  });

  test('a finished run is recorded; Running in status without a run restarts it with the original deadline', () => {
    const ended = run({ state: 'failed', error: new Error('x') });
    assert.deepEqual(decideValidation(view(), ended, now), { kind: 'record', run: ended });
    const running = view({
      phase: 'Running',
      observedGeneration: 1,
      startTime: now.toISOString(),
      activeDeadlineSeconds: 100,
    });
    assert.deepEqual(decideValidation(running, undefined, at(30)), {
      kind: 'start',
      runId: 'g1',
      restart: true,
      deadlineAt: at(100),
    });
  });

  test('a stalled request waits out its backoff, which doubles with how long it has been stalled', () => {
    const stalled = view({ phase: 'Pending', observedGeneration: 1, conditions: stalledSince(now) });
    assert.deepEqual(decideValidation({ ...stalled, startTime: now.toISOString() }, undefined, at(2)), {
      kind: 'backoff',
      requeueAfterMs: 3_000,
    });
    assert.equal(
      decideValidation({ ...stalled, startTime: now.toISOString() }, undefined, at(5)).kind,
      'start',
    );
    const tries = [0, 5, 10, 20, 40, 80, 160, 320, 620, 920];
    for (let i = 1; i < tries.length; i++) {
      const next = nextStalledTry(now, at(tries[i - 1] as number).toISOString(), now);
      assert.equal((next.getTime() - now.getTime()) / 1000, tries[i], `try ${i}`);
    }
  });
});

describe('resolveBackupRef', () => {
  const storage = { storageType: 's3', s3: { bucket: 'b' } };
  const kb = (name: string, extra: Partial<KubeObject> = {}): KubeObject => ({
    metadata: { name, namespace: 'team' },
    spec: { storage },
    ...extra,
  });
  const lookup = (objects: KubeObject[]) => (k: { namespace: string; name: string }) =>
    objects.find((o) => o.metadata.name === k.name && o.metadata.namespace === k.namespace);

  test('by name: the KafkaBackup storage, its namespace for Secrets, and its backup id', () => {
    const spec = { backupRef: { name: 'nightly' }, checks: { integrity: { enabled: true } } };
    const r = resolveBackupRef(spec, 'team', lookup([kb('nightly')]));
    assert.deepEqual(r, {
      ok: true,
      spec: { backupRef: { storage, backupId: 'nightly' }, checks: { integrity: { enabled: true } } },
      storageNamespace: 'team',
      backupId: 'nightly',
      from: { namespace: 'team', name: 'nightly' },
    });
    const withStatus = kb('nightly', { status: { backupId: 'nightly-20261203' } });
    const latest = resolveBackupRef(spec, 'team', lookup([withStatus]));
    assert.equal(
      latest.ok ? latest.backupId : '',
      'nightly-20261203',
      "the KafkaBackup's last successful set",
    );
    const own = resolveBackupRef(
      { backupRef: { name: 'nightly', backupId: 'chosen' } },
      'team',
      lookup([withStatus]),
    );
    assert.equal(own.ok ? own.backupId : '', 'chosen', 'backupRef.backupId wins');
  });

  test('refersTo: which validations a KafkaBackup change concerns', () => {
    const v = (backupRef: Record<string, unknown>): KubeObject => ({
      metadata: { name: 'v', namespace: 'team' },
      spec: { backupRef },
    });
    const backup = kb('nightly');
    assert.equal(refersTo(v({ name: 'nightly' }), backup), true);
    assert.equal(refersTo(v({ name: 'nightly', namespace: 'other' }), backup), false);
    assert.equal(refersTo(v({ name: 'other' }), backup), false);
    assert.equal(
      refersTo(v({ name: 'nightly', storage, backupId: 'b' }), backup),
      false,
      'storage named directly',
    );
  });

  test('another namespace: its Secrets are read there', () => {
    const other = { ...kb('n'), metadata: { name: 'n', namespace: 'backups' } };
    const r = resolveBackupRef({ backupRef: { name: 'n', namespace: 'backups' } }, 'team', lookup([other]));
    assert.equal(r.ok ? r.storageNamespace : '', 'backups');
  });

  test('direct storage needs no KafkaBackup; a missing one is an actionable problem', () => {
    const direct = resolveBackupRef({ backupRef: { name: '', storage, backupId: 'b1' } }, 'team', lookup([]));
    assert.deepEqual(direct.ok && direct.spec, { backupRef: { storage, backupId: 'b1' } });
    const missing = resolveBackupRef({ backupRef: { name: 'nope' } }, 'team', lookup([]));
    assert.equal(missing.ok, false);
    assert.match(
      missing.ok ? '' : missing.message,
      /KafkaBackup team\/nope .*does not exist.*backupRef\.storage/,
    );
  });
});

describe('validation status', () => {
  const base = { generation: 3, rerun: 'again', conditions: undefined, now };
  const report = (failed: boolean) =>
    buildEvidenceReport({
      backup: { id: 'b1', storage: 's3://bucket' },
      checks: [
        { name: 'segment-integrity', outcome: 'passed', summary: 'all 4 segment object(s) present' },
        ...(failed
          ? [
              {
                name: 'my-hook',
                outcome: 'failed' as const,
                summary: 'custom webhook answered HTTP 500, expected 200',
              },
            ]
          : []),
      ],
      toolVersion: 't',
    });

  test('started: Running, Reconciling, the request observed, an Event', () => {
    const s = startedStatus(base, 'b1', false);
    assert.equal(s.status.phase, 'Running');
    assert.equal(s.status.observedGeneration, 3);
    assert.equal(s.status.observedRerun, 'again');
    const conditions = s.status.conditions as Condition[];
    assert.deepEqual(
      conditions.map((c) => [c.type, c.status, c.observedGeneration, c.lastTransitionTime]),
      [
        ['Ready', 'False', 3, now.toISOString()],
        ['Reconciling', 'True', 3, now.toISOString()],
        ['Stalled', 'False', 3, now.toISOString()],
      ],
    );
    assert.equal(s.event.reason, 'Started');
  });

  test('passed: Completed, Ready, per-check results and the report path', () => {
    const s = resultStatus(base, {
      report: report(false),
      reportPath: 's3://bucket/evidence/b1/r/report.json',
    });
    assert.equal(s.status.phase, 'Completed');
    assert.equal(s.status.validationResult, 'Pass');
    assert.deepEqual(s.status.checkResults, [
      { checkName: 'segment-integrity', outcome: 'Passed', message: 'all 4 segment object(s) present' },
    ]);
    assert.equal(s.status.evidenceReportPath, 's3://bucket/evidence/b1/r/report.json');
    assert.equal((s.status.conditions as Condition[])[0]?.status, 'True');
    assert.deepEqual([s.event.type, s.event.reason, s.result], ['Normal', 'Passed', 'succeeded']);
  });

  test('reports deleted by retentionDays are said', () => {
    const s = resultStatus(base, { report: report(false), pruned: ['validation-20200101T000000Z-aaaaaaaa'] });
    assert.match(String(s.status.message), /; 1 report\(s\) older than evidence\.retentionDays deleted$/);
  });

  test('failed checks: Failed naming them, a Warning Event; undelivered notifications are said', () => {
    const s = resultStatus(base, {
      report: report(true),
      notifications: [{ target: 'slack', delivered: false, error: 'answered HTTP 500' }],
    });
    assert.equal(s.status.phase, 'Failed');
    assert.equal(s.status.validationResult, 'Fail');
    assert.match(
      String(s.status.message),
      /^checks failed: my-hook \(my-hook: custom webhook answered HTTP 500/,
    );
    assert.match(String(s.status.message), /not notified: slack \(answered HTTP 500\)/);
    const ready = (s.status.conditions as Condition[]).find((c) => c.type === 'Ready');
    assert.deepEqual([ready?.status, ready?.reason], ['False', 'ChecksFailed']);
    assert.deepEqual([s.event.type, s.event.reason], ['Warning', 'Failed']);
  });

  test('deadline: Failed DeadlineExceeded; stalled: Pending, Stalled with the reason and when it retries', () => {
    const d = deadlineStatus(base, 30);
    assert.equal(d.status.phase, 'Failed');
    assert.equal((d.status.conditions as Condition[])[0]?.reason, 'DeadlineExceeded');
    const { reason, message } = stalledReason(
      classify(Object.assign(new Error('Secret team/x does not exist'), {})),
    );
    const s = stalledStatus(base, reason, message, 20_000);
    assert.equal(s.status.phase, 'Pending');
    const stalled = (s.status.conditions as Condition[]).find((c) => c.type === 'Stalled');
    assert.equal(stalled?.status, 'True');
    assert.match(stalled?.message ?? '', /Secret team\/x does not exist.*\(retrying in 20s\)$/);
  });
});

describe('run bounds', () => {
  test('the deadline aborts the run signal with DeadlineExceededError and ends the wait at once', async () => {
    const stop = stopSignal(new AbortController().signal, { at: new Date(Date.now() + 50), seconds: 1 });
    const never = new Promise<never>(() => {});
    const started = Date.now();
    await assert.rejects(
      bounded(never, stop.signal),
      (e) => e instanceof DeadlineExceededError && e.seconds === 1,
    );
    assert.ok(Date.now() - started < 1000);
    stop.dispose();
  });

  test('the operator stopping aborts it too; a run that ends first is returned', async () => {
    const parent = new AbortController();
    const stop = stopSignal(parent.signal, undefined);
    assert.equal(await bounded(Promise.resolve('done'), stop.signal), 'done');
    parent.abort();
    assert.equal(stop.signal.aborted, true);
    assert.match(String((stop.signal.reason as Error).message), /operator stopped/);
    stop.dispose();
  });
});
