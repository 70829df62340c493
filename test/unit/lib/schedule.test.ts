import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cronProblem, DayOfWeek, Schedule } from '../../../lib/index.ts';
import { INVALID_SCHEDULES, VALID_SCHEDULES } from '../../fixtures/invalid-specs.ts';

describe('Schedule', () => {
  test('accepts the seed example (seconds first, with a year) and the other forms', () => {
    for (const expression of [
      '0 0 * * * * *',
      '0 0 */6 * * * *',
      '0 30 2 * * *',
      '0 2 * * *',
      '*/15 * * * *',
      '0 0 12 ? * MON-FRI',
      '0 0 0 1 JAN,jul ? 2030-2035',
      '@hourly',
      '@daily',
    ]) {
      assert.equal(cronProblem(expression), undefined, expression);
      assert.equal(Schedule.cron(expression).expressionString, expression);
    }
  });

  test('names the form of each expression', () => {
    assert.equal(Schedule.cron('0 2 * * *').form, 'standard');
    assert.equal(Schedule.cron('0 0 2 * * *').form, 'seconds');
    assert.equal(Schedule.cron('0 0 * * * * *').form, 'seconds-and-year');
    assert.equal(Schedule.cron('@weekly').form, 'shorthand');
  });

  test('refuses malformed expressions with the reason', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /empty or has leading or trailing spaces/],
      [' 0 2 * * *', /empty or has leading or trailing spaces/],
      ['* * * *', /it has 4 fields; use 5 .* 6 .* or 7/],
      ['0 0 0 * * * * *', /it has 8 fields/],
      ['60 * * * *', /minute field "60": "60" is not a number between 0 and 59/],
      ['0 24 * * *', /hour field "24"/],
      ['0 0 0 0 * *', /day-of-month field "0"/],
      ['0 0 0 * 13 *', /month field "13"/],
      ['0 0 0 * * 8', /day-of-week field "8"/],
      ['0 0 0 * * * 1969', /year field "1969"/],
      ['0 0 0 * * * 2200', /year field "2200"/],
      ['? * * * *', /'\?' is only allowed in day-of-month and day-of-week/],
      ['*/0 * * * *', /a step of 0 never fires/],
      ['5-1 * * * *', /runs backwards/],
      ['@every5m', /unknown shorthand "@every5m"/],
      ['a b c d e', /minute field "a"/],
    ];
    for (const [expression, message] of cases) {
      assert.match(cronProblem(expression) ?? 'accepted', message, JSON.stringify(expression));
    }
  });

  test('Schedule.cron() refuses exactly what the CRD refuses, with its message and the detail', () => {
    assert.throws(
      () => Schedule.cron('60 * * * *'),
      /schedule "60 \* \* \* \*": schedule has a field out of range or malformed.* \(minute field "60"/,
    );
    assert.throws(
      () => Schedule.cron('* * * *'),
      /schedule must be a cron expression with 5 fields .*\(it has 4 fields/,
    );
    assert.throws(() => Schedule.cron('@every5m'), /schedule uses an unknown shorthand/);
    assert.throws(() => Schedule.cron(''), /should be at least 1 chars long/);
    // The CRD's shape rule allows these; so does the construct (the operator decides what they mean).
    for (const accepted of ['*/0 * * * *', '5-1 * * * *', '0 0 0 * * * 2150']) {
      assert.equal(Schedule.cron(accepted).expressionString, accepted);
    }
  });

  test('helpers write the seconds-first form the original operator understands', () => {
    assert.equal(Schedule.hourly().expressionString, '0 0 * * * *');
    assert.equal(Schedule.everyHours(6).expressionString, '0 0 */6 * * *');
    assert.equal(Schedule.everyHours(1).expressionString, '0 0 * * * *');
    assert.equal(Schedule.everyMinutes(15).expressionString, '0 */15 * * * *');
    assert.equal(Schedule.dailyAt(2, 30).expressionString, '0 30 2 * * *');
    assert.equal(Schedule.dailyAt(23).expressionString, '0 0 23 * * *');
    assert.equal(Schedule.weeklyOn(DayOfWeek.SUNDAY, 3).expressionString, '0 0 3 * * SUN');
  });

  test('helpers refuse uneven or impossible values', () => {
    assert.throws(() => Schedule.everyHours(5), /everyHours\(5\): use one of 1, 2, 3, 4, 6, 8, 12/);
    assert.throws(() => Schedule.everyHours(0), /everyHours\(0\)/);
    assert.throws(() => Schedule.everyMinutes(7), /everyMinutes\(7\): use one of/);
    assert.throws(() => Schedule.dailyAt(24), /hour must be a whole number from 0 to 23, got 24/);
    assert.throws(() => Schedule.dailyAt(1, 60), /minute must be a whole number from 0 to 59, got 60/);
    assert.throws(() => Schedule.dailyAt(1.5), /hour must be a whole number/);
  });

  test('carries a time zone and refuses unknown zones', () => {
    assert.equal(Schedule.dailyAt(2, 0, { timeZone: 'Europe/Berlin' }).timeZone, 'Europe/Berlin');
    assert.equal(Schedule.hourly().timeZone, undefined);
    assert.throws(() => Schedule.hourly({ timeZone: 'Mars/Olympus' }), /not a known IANA time zone/);
    assert.throws(
      () => Schedule.hourly({ timeZone: 'Europe Berlin' }),
      /timeZone must be an IANA time zone name/,
    );
  });
});

describe('Schedule agrees with the API server', () => {
  test('accepts every schedule the API server accepts and refuses every one it refuses', () => {
    for (const schedule of VALID_SCHEDULES) {
      assert.equal(Schedule.cron(schedule).expressionString, schedule);
    }
    for (const { schedule, message } of INVALID_SCHEDULES) {
      assert.throws(
        () => Schedule.cron(schedule),
        (e: Error) => e.message.includes(message),
        schedule,
      );
    }
  });
});
