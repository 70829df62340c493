/**
 * The schedule rules of the CRDs, evaluated with JavaScript's RegExp (the patterns use only what RE2
 * and JavaScript read the same way). test/integration/api/schedules.test.ts runs the same table
 * through the API server.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
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

describe('schedules, generated', () => {
  const POSITIONS = {
    second: [0, 59],
    minute: [0, 59],
    hour: [0, 23],
    dayOfMonth: [1, 31],
    month: [1, 12],
    dayOfWeek: [0, 7],
    // Seconds-first form: the seed operator's numbering, 1 = Sunday ... 7 = Saturday (0 is refused).
    dayOfWeekFromSunday1: [1, 7],
    year: [1970, 2199],
  } as const;
  type Position = keyof typeof POSITIONS;
  const FIVE: Position[] = ['minute', 'hour', 'dayOfMonth', 'month', 'dayOfWeek'];
  const SEVEN: Position[] = [
    'second',
    'minute',
    'hour',
    'dayOfMonth',
    'month',
    'dayOfWeekFromSunday1',
    'year',
  ];

  /** A valid field: *, a value, a range, a list or a step, within the position's range. */
  const field = (p: Position) => {
    const [lo, hi] = POSITIONS[p];
    const value = fc.integer({ min: lo, max: hi });
    return fc.oneof(
      fc.constant('*'),
      value.map(String),
      fc.tuple(value, value).map(([a, b]) => `${Math.min(a, b)}-${Math.max(a, b)}`),
      fc.array(value, { minLength: 2, maxLength: 4 }).map((v) => v.join(',')),
      fc.integer({ min: 1, max: 30 }).map((n) => `*/${n}`),
    );
  };

  test('any in-range 5-field, 6-field or 7-field expression is accepted', () => {
    const forms = fc.oneof(
      fc.tuple(...FIVE.map(field)),
      fc.tuple(...SEVEN.slice(0, 6).map(field)),
      fc.tuple(...SEVEN.map(field)),
    );
    fc.assert(fc.property(forms, (fields) => assert.deepEqual(scheduleErrors(fields.join(' ')), [])));
  });

  test('one out-of-range value anywhere is refused with the field-value message', () => {
    const form = fc.constantFrom(FIVE, SEVEN.slice(0, 6), SEVEN);
    fc.assert(
      fc.property(form, fc.nat(), fc.integer({ min: 1, max: 40 }), (positions, at, excess) => {
        const index = at % positions.length;
        const fields = positions.map((p, i) => {
          if (i !== index) return '*';
          const [, hi] = POSITIONS[p];
          return String(hi + excess);
        });
        const schedule = fields.join(' ');
        // The field count is valid, so exactly the value rule fires.
        assert.deepEqual(scheduleErrors(schedule), [CRON_MESSAGES.fieldValue], schedule);
      }),
    );
  });
});
