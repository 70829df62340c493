import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  decideOneShot,
  type OneShotInput,
  runIdOf,
  stalledRetryMs,
} from '../../../../runtime/operator/controllers/one-shot-decision.ts';

const now = new Date('2026-12-03T12:00:00Z');
const base: OneShotInput = {
  generation: 1,
  rerun: '',
  status: {},
  approval: { policy: 'Automatic', approved: false },
  now,
};
const started = {
  phase: 'Running',
  observedGeneration: 1,
  observedRerun: '',
  startTime: '2026-12-03T11:59:00Z',
};

describe('decideOneShot', () => {
  test('a new resource is prepared, approved at once with policy Automatic', () => {
    assert.deepEqual(decideOneShot(base), { action: 'prepare', fresh: true, approved: true });
  });

  test('policy Manual: prepared but not approved until approved is true', () => {
    const manual = { ...base, approval: { policy: 'Manual' as const, approved: false } };
    assert.deepEqual(decideOneShot(manual), { action: 'prepare', fresh: true, approved: false });
    const waiting = {
      ...manual,
      status: { phase: 'AwaitingApproval', observedGeneration: 1, observedRerun: '' },
    };
    assert.deepEqual(decideOneShot(waiting), { action: 'awaiting-approval' });
    // Approving changes the generation: prepared again, now approved.
    const approved = { ...waiting, generation: 2, approval: { policy: 'Manual' as const, approved: true } };
    assert.deepEqual(decideOneShot(approved), { action: 'prepare', fresh: true, approved: true });
  });

  test('a running run is watched, with the time left before activeDeadlineSeconds', () => {
    const input = {
      ...base,
      status: started,
      activeDeadlineSeconds: 120,
      run: { state: 'running' as const, id: runIdOf('') },
    };
    assert.deepEqual(decideOneShot(input), { action: 'watch', deadlineInMs: 60_000 });
    assert.deepEqual(decideOneShot({ ...input, activeDeadlineSeconds: 30 }), { action: 'deadline-exceeded' });
    const { activeDeadlineSeconds: _, ...noDeadline } = input;
    assert.deepEqual(decideOneShot(noDeadline), { action: 'watch' });
  });

  test('an ended run is finished with its state', () => {
    for (const state of ['succeeded', 'failed'] as const) {
      const input = { ...base, status: started, run: { state, id: runIdOf('') } };
      assert.deepEqual(decideOneShot(input), { action: 'finish', state });
    }
  });

  test('after an operator restart a resource Running without a run is resumed (not fresh), deadline still counted', () => {
    assert.deepEqual(decideOneShot({ ...base, status: started }), {
      action: 'prepare',
      fresh: false,
      approved: true,
    });
    assert.deepEqual(decideOneShot({ ...base, status: started, activeDeadlineSeconds: 10 }), {
      action: 'deadline-exceeded',
    });
  });

  test('final phases are done until the rerun annotation changes', () => {
    for (const phase of ['Completed', 'Failed', 'PartiallyCompleted', 'RolledBack']) {
      const status = { ...started, phase };
      assert.deepEqual(decideOneShot({ ...base, status }), { action: 'done' });
      assert.deepEqual(decideOneShot({ ...base, rerun: 'again-1', status }), {
        action: 'prepare',
        fresh: true,
        approved: true,
      });
    }
  });

  test('a failure before any start is looked at again when the spec changes (new generation)', () => {
    const status = { phase: 'Failed', observedGeneration: 1, observedRerun: '' };
    assert.deepEqual(decideOneShot({ ...base, status }), { action: 'done' });
    assert.deepEqual(decideOneShot({ ...base, generation: 2, status }), {
      action: 'prepare',
      fresh: true,
      approved: true,
    });
  });

  test('a run of an older rerun value in the runner is not ours: the status decides', () => {
    const input = {
      ...base,
      status: { ...started, phase: 'Completed' },
      run: { state: 'succeeded' as const, id: runIdOf('old') },
    };
    assert.deepEqual(decideOneShot(input), { action: 'done' });
  });

  test('the rerun annotation changed while a run goes: that run is finished first', () => {
    const input = {
      ...base,
      rerun: 'new',
      status: started,
      run: { state: 'running' as const, id: runIdOf('') },
    };
    assert.deepEqual(decideOneShot(input), { action: 'watch' });
  });

  test('Stalled retries back off from 5 s to at most 5 min, never a hot loop', () => {
    assert.equal(
      stalledRetryMs(1, () => 0),
      5_000,
    );
    assert.equal(
      stalledRetryMs(2, () => 0),
      10_000,
    );
    assert.equal(
      stalledRetryMs(30, () => 0),
      300_000,
    );
    assert.ok(stalledRetryMs(1, () => 1) >= 4_000);
  });
});
