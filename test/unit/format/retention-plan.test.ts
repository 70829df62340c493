import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  FormatUsageError,
  planRetention,
  type RetentionPolicy,
  type RetentionRun,
} from '../../../runtime/format/index.ts';

const DAY = 86_400_000;
const NOW = 1_800_000_000_000;

/** Runs oldest first; `age` in days of the last commit; seqs increase with age order; `empty`: no records. */
function runs(spec: readonly { final: boolean; ageDays: number; empty?: boolean }[]): RetentionRun[] {
  return spec.map((r, i) => ({
    runId: `run-${i}`,
    firstSeq: i * 3,
    startedAt: NOW - r.ageDays * DAY - 60_000,
    lastCommittedAt: NOW - r.ageDays * DAY,
    final: r.final,
    bytes: r.empty ? 0 : 100 + i,
    segmentCount: r.empty ? 0 : 1,
  }));
}

const holdsRecords = (r: RetentionRun) => r.segmentCount > 0;

const runsArb = fc
  .array(
    fc.record({
      final: fc.boolean(),
      ageDays: fc.double({ min: 0, max: 60, noNaN: true }),
      // A quiet topic on a frequent schedule: many runs store nothing.
      empty: fc.boolean(),
    }),
    { maxLength: 25 },
  )
  // Mostly newer runs are younger; sometimes clocks disagree, which the plan must survive.
  .chain((list) =>
    fc.boolean().map((sorted) => (sorted ? [...list].sort((a, b) => b.ageDays - a.ageDays) : list)),
  )
  .map(runs);

const policyArb: fc.Arbitrary<RetentionPolicy> = fc
  .record({
    keepLast: fc.option(fc.integer({ min: 1, max: 12 }), { nil: undefined }),
    maxAgeDays: fc.option(fc.integer({ min: 1, max: 45 }), { nil: undefined }),
    minSuccessful: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
  })
  .filter((p) => p.keepLast !== undefined || p.maxAgeDays !== undefined)
  .map((p) => Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)));

describe('retention plan (properties)', () => {
  test('only an oldest-first prefix is eligible, and it is the longest one the rules allow', () => {
    fc.assert(
      fc.property(runsArb, policyArb, (list, policy) => {
        const plan = planRetention(list, policy, NOW);
        const ordered = [...list].sort((a, b) => a.firstSeq - b.firstSeq);
        assert.deepEqual(plan.eligible, ordered.slice(0, plan.eligible.length));
        const next = plan.decisions[plan.eligible.length];
        if (next) assert.ok(next.kept === 'within-policy' || next.kept === 'min-successful', next.kept);
      }),
    );
  });

  test('never deletes the newest minSuccessful finished runs with records, nor anything newer than them', () => {
    fc.assert(
      fc.property(runsArb, policyArb, (list, policy) => {
        const plan = planRetention(list, policy, NOW);
        const eligible = new Set(plan.eligible.map((r) => r.runId));
        const finals = list.filter((r) => r.final && holdsRecords(r));
        const protectedRuns = finals.slice(-(policy.minSuccessful ?? 1));
        for (const r of protectedRuns) assert.ok(!eligible.has(r.runId), `${r.runId} is protected`);
        if (finals.length === 0) assert.equal(plan.eligible.length, 0);
        const oldestProtected = protectedRuns[0];
        if (oldestProtected) {
          for (const r of plan.eligible) assert.ok(r.firstSeq < oldestProtected.firstSeq);
        }
      }),
    );
  });

  test('every eligible run is reached by a limit, with the right reasons', () => {
    fc.assert(
      fc.property(runsArb, policyArb, (list, policy) => {
        const plan = planRetention(list, policy, NOW);
        for (const [i, d] of plan.decisions.entries()) {
          const newerWithRecords = list.slice(i + 1).filter(holdsRecords).length;
          const beyondKeepLast = policy.keepLast !== undefined && newerWithRecords >= policy.keepLast;
          const tooOld =
            policy.maxAgeDays !== undefined && d.run.lastCommittedAt < NOW - policy.maxAgeDays * DAY;
          assert.equal(d.reasons.includes('keep-last'), beyondKeepLast);
          assert.equal(d.reasons.includes('max-age'), tooOld);
          if (d.kept === undefined) assert.ok(beyondKeepLast || tooOld);
          if (d.reasons.length === 0) assert.equal(d.kept, 'within-policy');
        }
      }),
    );
  });

  test('keepLast keeps exactly that many runs with records when they include minSuccessful finished ones', () => {
    fc.assert(
      fc.property(
        runsArb,
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 5 }),
        (list, keepLast, min) => {
          const withRecords = list.filter(holdsRecords);
          const newest = withRecords.slice(-keepLast);
          fc.pre(newest.filter((r) => r.final).length >= min);
          const plan = planRetention(list, { keepLast, minSuccessful: min }, NOW);
          const eligible = new Set(plan.eligible.map((r) => r.runId));
          const kept = withRecords.filter((r) => !eligible.has(r.runId));
          assert.deepEqual(kept, newest);
          // Nothing with or without records after the oldest kept run goes.
          const from = list.indexOf(newest[0] as RetentionRun);
          for (const r of list.slice(from)) assert.ok(!eligible.has(r.runId), r.runId);
        },
      ),
    );
  });

  test('empty runs of a quiet topic never push the runs holding the data out', () => {
    const list = runs([
      { final: true, ageDays: 3 },
      { final: true, ageDays: 2 },
      ...Array.from({ length: 6 }, (_, i) => ({ final: true, ageDays: 1 - i / 10, empty: true })),
    ]);
    assert.deepEqual(planRetention(list, { keepLast: 2 }, NOW).eligible, []);
    const plan = planRetention(list, { keepLast: 1 }, NOW);
    assert.deepEqual(
      plan.eligible.map((r) => r.runId),
      ['run-0'],
      'the older run with records goes; the newer one and the empty runs after it stay',
    );
  });

  test('otherwise keepLast keeps as many more as it takes to keep minSuccessful finished runs', () => {
    const list = runs([
      { final: true, ageDays: 9 },
      { final: true, ageDays: 8 },
      { final: true, ageDays: 7 },
      { final: false, ageDays: 6 },
      { final: false, ageDays: 5 },
    ]);
    const plan = planRetention(list, { keepLast: 2, minSuccessful: 1 }, NOW);
    assert.deepEqual(
      plan.eligible.map((r) => r.runId),
      ['run-0', 'run-1'],
    );
    assert.deepEqual(
      plan.decisions.map((d) => d.kept),
      [undefined, undefined, 'min-successful', 'within-policy', 'within-policy'],
    );
  });

  test('a kept run stops the prefix: a candidate behind it is kept and says why', () => {
    // run-1 is young by its clock (e.g. a skewed writer), so it is within maxAgeDays.
    const list = runs([
      { final: true, ageDays: 40 },
      { final: true, ageDays: 1 },
      { final: true, ageDays: 40 },
      { final: true, ageDays: 0 },
    ]);
    const plan = planRetention(list, { maxAgeDays: 30 }, NOW);
    assert.deepEqual(
      plan.decisions.map((d) => [d.run.runId, d.reasons, d.kept]),
      [
        ['run-0', ['max-age'], undefined],
        ['run-1', [], 'within-policy'],
        ['run-2', ['max-age'], 'newer-than-kept'],
        ['run-3', [], 'within-policy'],
      ],
    );
  });

  test('a policy without a limit, or with a limit below 1, is refused', () => {
    assert.throws(() => planRetention([], {}, NOW), FormatUsageError);
    assert.throws(() => planRetention([], { keepLast: 0 }, NOW), /keepLast must be a whole number/);
    assert.throws(() => planRetention([], { keepLast: 1, minSuccessful: 0 }, NOW), /minSuccessful/);
  });
});
