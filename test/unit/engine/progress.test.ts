import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Progress, ProgressTracker, throttleProgress } from '../../../runtime/engine/progress.ts';

test('progress reports percent of the known total and no percent without one', () => {
  const tracker = new ProgressTracker(200);
  tracker.advance(50, 5000);
  assert.equal(tracker.snapshot().percent, 25);
  assert.equal(new ProgressTracker().snapshot().percent, undefined);
  assert.equal(new ProgressTracker(0).snapshot().percent, 100);
});

test('throttled progress reaches the caller at most once per interval, and flush delivers the last numbers', () => {
  let now = 0;
  const seen: number[] = [];
  const throttle = throttleProgress(
    (p: Progress) => seen.push(p.records),
    1000,
    () => now,
  );
  const at = (records: number) => ({ ...new ProgressTracker().snapshot(), records });
  throttle.report(at(1));
  now = 400;
  throttle.report(at(2));
  now = 999;
  throttle.report(at(3));
  now = 1000;
  throttle.report(at(4));
  now = 1500;
  throttle.report(at(5));
  throttle.flush();
  throttle.flush(); // nothing new: not repeated
  assert.deepEqual(seen, [1, 4, 5]);
});

test('a throttled report is delivered when the quiet period ends, without another report', async () => {
  const seen: number[] = [];
  const throttle = throttleProgress((p: Progress) => seen.push(p.records), 200);
  const at = (records: number) => ({ ...new ProgressTracker().snapshot(), records });
  throttle.report(at(1));
  throttle.report(at(2));
  assert.deepEqual(seen, [1]);
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.deepEqual(seen, [1, 2]);
  throttle.flush(); // already delivered: not repeated
  assert.deepEqual(seen, [1, 2]);
});
