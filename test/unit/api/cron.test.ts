/**
 * The schedule rules of the CRDs, evaluated with JavaScript's RegExp (the patterns use only what RE2
 * and JavaScript read the same way). test/integration/api/schedules.test.ts runs the same table
 * through the API server.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CRON_5_FIELDS,
  CRON_FIELD_COUNT,
  CRON_MESSAGES,
  CRON_SECONDS_FIRST,
  CRON_SHORTHAND,
} from '../../../scripts/crds/cron.ts';
import { INVALID_SCHEDULES, VALID_SCHEDULES } from '../../fixtures/invalid-specs.ts';

/** The messages the three CEL rules of `schedule` would give, in rule order. */
function scheduleErrors(schedule: string): string[] {
  const count = new RegExp(CRON_FIELD_COUNT).test(schedule);
  const errors: string[] = [];
  if (!(schedule.startsWith('@') || count)) errors.push(CRON_MESSAGES.fieldCount);
  if (schedule.startsWith('@') && !new RegExp(CRON_SHORTHAND).test(schedule))
    errors.push(CRON_MESSAGES.shorthand);
  if (
    !schedule.startsWith('@') &&
    count &&
    !new RegExp(CRON_5_FIELDS).test(schedule) &&
    !new RegExp(CRON_SECONDS_FIRST).test(schedule)
  ) {
    errors.push(CRON_MESSAGES.fieldValue);
  }
  return errors;
}

describe('schedules', () => {
  for (const schedule of VALID_SCHEDULES) {
    test(`accepts '${schedule}'`, () => assert.deepEqual(scheduleErrors(schedule), []));
  }
  for (const { schedule, message } of INVALID_SCHEDULES) {
    test(`refuses '${schedule}'`, () => {
      const errors = scheduleErrors(schedule);
      assert.equal(errors.length, 1, `exactly one rule should fire: ${errors.join(' / ')}`);
      assert.ok(errors[0]?.startsWith(message), errors[0]);
    });
  }

  test("the seed's 7-field example is seconds-first, not 5-field", () => {
    assert.ok(new RegExp(CRON_SECONDS_FIRST).test('0 0 * * * * *'));
    assert.ok(!new RegExp(CRON_5_FIELDS).test('0 0 * * * * *'));
  });

  test('the patterns need no backslashes (they sit inside CEL string literals)', () => {
    for (const pattern of [CRON_5_FIELDS, CRON_SECONDS_FIRST, CRON_FIELD_COUNT, CRON_SHORTHAND]) {
      assert.ok(!pattern.includes('\\') && !pattern.includes("'"), pattern);
    }
  });
});
