import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type BackupView,
  decide,
  RETRY_MAX_MS,
  RETRY_MIN_MS,
  retryDelayMs,
  trimHistory,
} from '../../../../runtime/operator/controllers/backup-decisions.ts';
import { parseSchedule } from '../../../../runtime/operator/controllers/backup-schedule.ts';

const at = (iso: string) => new Date(iso);
const hourly = parseSchedule('0 0 * * * *');

function view(
  overrides: Partial<Omit<BackupView, 'status'>> = {},
  status: Partial<BackupView['status']> = {},
): BackupView {
  return {
    generation: 1,
    createdAt: undefined,
    schedule: false,
    suspend: false,
    concurrencyPolicy: 'Forbid',
    continuous: false,
    rerun: undefined,
    ...overrides,
    status: {
      observedGeneration: 1,
      observedRerun: undefined,
      lastScheduleTime: undefined,
      completionTime: undefined,
      lastOutcome: undefined,
      running: false,
      stalledSince: undefined,
      ...status,
    },
  };
}

describe('KafkaBackup decisions', () => {
  const now = at('2026-12-03T12:30:00Z');

  it('runs a backup without a schedule once', () => {
    assert.deepEqual(decide(view(), undefined, undefined, now), {
      kind: 'start',
      reason: 'initial',
      at: now,
      replace: false,
      nextScheduleTime: undefined,
    });
    const done = view(
      {},
      {
        lastScheduleTime: at('2026-12-03T12:00:00Z'),
        completionTime: at('2026-12-03T12:01:00Z'),
        lastOutcome: 'succeeded',
      },
    );
    assert.deepEqual(decide(done, undefined, undefined, now), {
      kind: 'wait',
      requeueAfterMs: undefined,
      nextScheduleTime: undefined,
      skipped: undefined,
    });
  });

  it('runs the missed ticks of a day once, for the latest tick', () => {
    const v = view(
      { schedule: true },
      {
        lastScheduleTime: at('2026-12-02T12:00:00Z'),
        completionTime: at('2026-12-02T12:00:30Z'),
        lastOutcome: 'succeeded',
      },
    );
    const d = decide(v, undefined, hourly, now);
    assert.equal(d.kind, 'start');
    assert.equal(d.kind === 'start' && d.at.toISOString(), '2026-12-03T12:00:00.000Z');
    assert.equal(d.nextScheduleTime?.toISOString(), '2026-12-03T13:00:00.000Z');
  });

  it('does not count ticks before the resource existed as missed', () => {
    const v = view({ schedule: true, createdAt: at('2026-12-03T12:10:00Z') });
    const d = decide(v, undefined, hourly, now);
    assert.equal(d.kind === 'wait' && d.nextScheduleTime?.toISOString(), '2026-12-03T13:00:00.000Z');
  });

  it('waits for the next tick once the current one is served', () => {
    const v = view(
      { schedule: true },
      {
        lastScheduleTime: at('2026-12-03T12:00:00Z'),
        completionTime: at('2026-12-03T12:00:40Z'),
        lastOutcome: 'succeeded',
      },
    );
    const d = decide(v, undefined, hourly, now);
    assert.equal(d.kind, 'wait');
    // Re-checked at least every 5 minutes, else at the tick.
    assert.equal(d.kind === 'wait' && d.requeueAfterMs, 300_000);
    const close = decide(v, undefined, hourly, at('2026-12-03T12:59:50Z'));
    assert.equal(close.kind === 'wait' && close.requeueAfterMs, 10_000);
  });

  it('does not overlap runs: Forbid skips the tick (and it is not run later), Replace replaces', () => {
    const running = { state: 'running' as const, startedAt: at('2026-12-03T11:00:00Z') };
    const v = view({ schedule: true }, { lastScheduleTime: at('2026-12-03T11:00:00Z') });
    const forbid = decide(v, running, hourly, now);
    assert.equal(forbid.kind, 'wait');
    assert.equal(forbid.kind === 'wait' && forbid.skipped?.toISOString(), '2026-12-03T12:00:00.000Z');
    const replace = decide({ ...v, concurrencyPolicy: 'Replace' }, running, hourly, now);
    assert.equal(replace.kind === 'start' && replace.replace, true);
    // The run ended after the skipped tick: that tick is not made up.
    const after = view(
      { schedule: true },
      {
        lastScheduleTime: at('2026-12-03T11:00:00Z'),
        completionTime: at('2026-12-03T12:10:00Z'),
        lastOutcome: 'succeeded',
      },
    );
    assert.equal(decide(after, undefined, hourly, now).kind, 'wait');
  });

  it('starts nothing while suspended, except a requested rerun', () => {
    const v = view(
      { schedule: true, suspend: true },
      { lastScheduleTime: at('2026-12-02T00:00:00Z'), lastOutcome: 'succeeded' },
    );
    const d = decide(v, undefined, hourly, now);
    assert.deepEqual(d, {
      kind: 'wait',
      requeueAfterMs: undefined,
      nextScheduleTime: undefined,
      skipped: undefined,
    });
    const rerun = decide({ ...v, rerun: '2' }, undefined, hourly, now);
    assert.equal(rerun.kind === 'start' && rerun.reason, 'rerun');
    assert.equal(
      decide({ ...v, rerun: '2', status: { ...v.status, observedRerun: '2' } }, undefined, hourly, now).kind,
      'wait',
    );
  });

  it('resumes a run the previous operator process left Running', () => {
    const v = view({}, { lastScheduleTime: at('2026-12-03T12:00:00Z'), running: true });
    const d = decide(v, undefined, undefined, now);
    assert.equal(d.kind === 'start' && d.reason, 'resume');
  });

  it('retries a stalled backup with a growing delay, never in a hot loop', () => {
    assert.equal(retryDelayMs(undefined, now), RETRY_MIN_MS);
    assert.equal(retryDelayMs(at('2026-12-03T12:29:00Z'), now), 60_000);
    assert.equal(retryDelayMs(at('2026-12-03T10:00:00Z'), now), RETRY_MAX_MS);
    const failed = view(
      {},
      {
        lastScheduleTime: at('2026-12-03T12:29:50Z'),
        completionTime: at('2026-12-03T12:29:55Z'),
        lastOutcome: 'failed-retriable',
        stalledSince: at('2026-12-03T12:29:55Z'),
      },
    );
    const d = decide(failed, undefined, undefined, now);
    assert.deepEqual(d, {
      kind: 'wait',
      requeueAfterMs: 5_000,
      nextScheduleTime: undefined,
      skipped: undefined,
    });
    const later = decide(failed, undefined, undefined, at('2026-12-03T12:30:05Z'));
    assert.equal(later.kind === 'start' && later.reason, 'retry');
  });

  it('after a terminal failure runs again only once the spec changed', () => {
    const failed = view(
      {},
      {
        lastScheduleTime: at('2026-12-03T12:00:00Z'),
        completionTime: at('2026-12-03T12:00:05Z'),
        lastOutcome: 'failed-terminal',
      },
    );
    assert.equal(decide(failed, undefined, undefined, now).kind, 'wait');
    assert.equal(decide({ ...failed, generation: 2 }, undefined, undefined, now).kind, 'start');
  });

  it('restarts a continuous backup whose run ended', () => {
    const v = view(
      { continuous: true },
      {
        lastScheduleTime: at('2026-12-03T10:00:00Z'),
        completionTime: at('2026-12-03T12:00:00Z'),
        lastOutcome: 'succeeded',
      },
    );
    const d = decide(v, undefined, undefined, now);
    assert.equal(d.kind === 'start' && d.reason, 'continuous');
    assert.equal(decide(v, { state: 'running', startedAt: now }, undefined, now).kind, 'wait');
  });

  it('keeps the newest successes and failures within their limits', () => {
    const e = (id: string, phase: 'Succeeded' | 'Failed') => ({
      id,
      phase,
      startTime: '',
      completionTime: '',
    });
    const kept = trimHistory(
      [e('5', 'Failed'), e('4', 'Succeeded'), e('3', 'Failed'), e('2', 'Succeeded'), e('1', 'Succeeded')],
      2,
      1,
    );
    assert.deepEqual(
      kept.map((k) => k.id),
      ['5', '4', '2'],
    );
  });
});
