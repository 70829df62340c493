import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decideScheduledValidation,
  restingPhase,
  type ScheduledValidation,
  type ValidationScheduleSpec,
} from '../../../../runtime/operator/controllers/validation-schedule.ts';

const at = (iso: string) => new Date(iso);
const now = at('2026-12-03T12:30:00Z');

function validation(
  spec: Partial<ValidationScheduleSpec> = {},
  status: Record<string, unknown> = {},
  extra: Partial<Omit<ScheduledValidation, 'spec' | 'status'>> = {},
): ScheduledValidation {
  return {
    spec: { schedule: '0 0 * * * *', ...spec },
    generation: 1,
    createdAt: at('2026-12-01T00:00:00Z'),
    rerun: '',
    status: { observedGeneration: 1, ...status },
    ...extra,
  };
}

const stalled = (since: string) => ({
  phase: 'Pending',
  conditions: [{ type: 'Stalled', status: 'True', reason: 'StorageUnavailable', lastTransitionTime: since }],
});

describe('scheduled KafkaBackupValidation decisions', () => {
  it('a new validation waits for its first tick (ticks before it existed are not missed runs)', () => {
    const step = decideScheduledValidation(
      validation({}, {}, { createdAt: at('2026-12-03T12:10:00Z') }),
      undefined,
      now,
    );
    assert.equal(step.kind, 'wait');
    assert.deepEqual(step.kind === 'wait' && step.nextScheduleTime, at('2026-12-03T13:00:00Z'));
    assert.equal(step.kind === 'wait' && step.requeueAfterMs, 300_000, 're-checked at least every 5 minutes');
  });

  it('runs at its tick, serving that tick (status.lastScheduleTime)', () => {
    const step = decideScheduledValidation(
      validation(
        {},
        { lastScheduleTime: '2026-12-03T11:00:00Z', completionTime: '2026-12-03T11:00:05Z', phase: 'Ready' },
      ),
      undefined,
      now,
    );
    assert.deepEqual(step, {
      kind: 'start',
      reason: 'scheduled',
      at: at('2026-12-03T12:00:00Z'),
      replace: false,
      nextScheduleTime: at('2026-12-03T13:00:00Z'),
    });
  });

  it('an operator down for a day runs once, for the latest missed tick, then waits', () => {
    const down = validation(
      {},
      { lastScheduleTime: '2026-12-02T11:00:00Z', completionTime: '2026-12-02T11:00:05Z' },
    );
    const step = decideScheduledValidation(down, undefined, now);
    assert.deepEqual([step.kind, step.kind === 'start' && step.at], ['start', at('2026-12-03T12:00:00Z')]);
    const after = validation(
      {},
      { lastScheduleTime: '2026-12-03T12:00:00Z', completionTime: '2026-12-03T12:00:05Z', phase: 'Ready' },
    );
    assert.equal(decideScheduledValidation(after, undefined, now).kind, 'wait');
  });

  it('checks that failed do not retry: the next tick runs', () => {
    const failed = validation(
      {},
      { phase: 'Failed', lastScheduleTime: '2026-12-03T12:00:00Z', completionTime: '2026-12-03T12:00:05Z' },
    );
    const step = decideScheduledValidation(failed, undefined, now);
    assert.deepEqual([step.kind, step.kind === 'wait' && step.requeueAfterMs], ['wait', 300_000]);
  });

  it('never overlaps: Forbid skips a tick while a run goes, Replace replaces the run', () => {
    const busy = { lastScheduleTime: '2026-12-03T11:00:00Z', phase: 'Running' };
    const run = { state: 'running' as const, startedAt: at('2026-12-03T11:00:00Z') };
    const forbid = decideScheduledValidation(validation({}, busy), run, now);
    assert.deepEqual(
      [forbid.kind, forbid.kind === 'wait' && forbid.skipped],
      ['wait', at('2026-12-03T12:00:00Z')],
    );
    const replace = decideScheduledValidation(validation({ concurrencyPolicy: 'Replace' }, busy), run, now);
    assert.deepEqual(
      [replace.kind, replace.kind === 'start' && replace.replace, replace.kind === 'start' && replace.at],
      ['start', true, at('2026-12-03T12:00:00Z')],
    );
  });

  it('suspend starts nothing and has no next run; a rerun request still runs', () => {
    const suspended = validation({ suspend: true }, { lastScheduleTime: '2026-12-03T11:00:00Z' });
    assert.deepEqual(decideScheduledValidation(suspended, undefined, now), {
      kind: 'wait',
      requeueAfterMs: undefined,
      nextScheduleTime: undefined,
      skipped: undefined,
    });
    const rerun = decideScheduledValidation({ ...suspended, rerun: '2' }, undefined, now);
    assert.deepEqual([rerun.kind, rerun.kind === 'start' && rerun.reason], ['start', 'rerun']);
    const observed = validation({ suspend: true }, { observedRerun: '2' }, { rerun: '2' });
    assert.equal(decideScheduledValidation(observed, undefined, now).kind, 'wait');
  });

  it('Running in status with no run here (an operator restart): started again', () => {
    const step = decideScheduledValidation(
      validation({}, { phase: 'Running', lastScheduleTime: '2026-12-03T12:00:00Z' }),
      undefined,
      now,
    );
    assert.deepEqual([step.kind, step.kind === 'start' && step.reason], ['start', 'resume']);
  });

  it('a run that could not work (Stalled) is retried after a backoff that grows, before the next tick', () => {
    const fresh = validation(
      {},
      {
        ...stalled('2026-12-03T12:29:55Z'),
        lastScheduleTime: '2026-12-03T12:00:00Z',
        completionTime: '2026-12-03T12:29:55Z',
      },
    );
    const early = decideScheduledValidation(fresh, undefined, now);
    assert.deepEqual([early.kind, early.kind === 'wait' && early.requeueAfterMs], ['wait', 5_000]);
    const due = decideScheduledValidation(fresh, undefined, at('2026-12-03T12:30:05Z'));
    assert.deepEqual([due.kind, due.kind === 'start' && due.reason], ['start', 'retry']);
    const long = validation(
      {},
      {
        ...stalled('2026-12-03T12:00:00Z'),
        lastScheduleTime: '2026-12-03T12:00:00Z',
        completionTime: '2026-12-03T12:29:00Z',
      },
    );
    const later = decideScheduledValidation(long, undefined, now);
    assert.deepEqual([later.kind, later.kind === 'wait' && later.requeueAfterMs], ['wait', 240_000]);
  });

  it('5 fields and a time zone: the next run in that zone', () => {
    const step = decideScheduledValidation(
      validation({ schedule: '0 6 * * *', timeZone: 'America/New_York' }, {}, { createdAt: now }),
      undefined,
      now,
    );
    assert.deepEqual(step.kind === 'wait' && step.nextScheduleTime, at('2026-12-04T11:00:00Z'));
  });

  it('an expression or a zone croner cannot run is InvalidSchedule, saying what to fix', () => {
    const backwards = decideScheduledValidation(validation({ schedule: '0 0 5-2 * * *' }), undefined, now);
    assert.equal(backwards.kind, 'invalid');
    assert.match(
      backwards.kind === 'invalid' ? backwards.message : '',
      /fix spec\.schedule or spec\.timeZone$/,
    );
    const zone = decideScheduledValidation(validation({ timeZone: 'Mars/Olympus' }), undefined, now);
    assert.match(
      zone.kind === 'invalid' ? zone.message : '',
      /timeZone "Mars\/Olympus" is not a known IANA time zone/,
    );
  });

  it('between ticks the phase is the outcome of the last run', () => {
    assert.equal(restingPhase({ validationResult: 'Pass' }), 'Ready');
    assert.equal(restingPhase({ validationResult: 'Warn' }), 'Ready');
    assert.equal(restingPhase({ validationResult: 'Fail' }), 'Failed');
    assert.equal(restingPhase({}), 'Pending');
  });
});
