import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { cronProblem } from '../../../../lib/schedule.ts';
import { validateField } from '../../../../lib/validation/index.ts';
import { parseSchedule, ScheduleError } from '../../../../runtime/operator/controllers/backup-schedule.ts';

const crdAccepts = (expression: string) =>
  validateField('KafkaBackup', 'spec.schedule', expression).length === 0;

/** Values around and beyond each field's range, names, ranges (also backwards), steps (also 0), lists. */
function fieldArbitrary(min: number, max: number, names: readonly string[] = [], question = false) {
  const value = fc.oneof(
    fc.integer({ min: Math.max(0, min - 1), max: max + 1 }).map(String),
    ...(names.length ? [fc.constantFrom(...names)] : []),
  );
  const element = fc
    .tuple(
      fc.oneof(
        fc.constant('*'),
        value,
        fc.tuple(value, value).map(([a, b]) => `${a}-${b}`),
      ),
      fc.option(fc.integer({ min: 0, max: max + 2 }), { nil: undefined }),
    )
    .map(([range, step]) => (step === undefined ? range : `${range}/${step}`));
  const list = fc.array(element, { minLength: 1, maxLength: 3 }).map((items) => items.join(','));
  return question ? fc.oneof(list, fc.constant('?')) : list;
}

const MONTHS = ['JAN', 'FEB', 'jun', 'DEC'];
const DAYS = ['SUN', 'MON', 'fri', 'SAT'];
const second = fieldArbitrary(0, 59);
const minute = fieldArbitrary(0, 59);
const hour = fieldArbitrary(0, 23);
const dom = fieldArbitrary(1, 31, [], true);
const month = fieldArbitrary(1, 12, MONTHS);
const dow5 = fieldArbitrary(0, 7, DAYS, true);
const dow6 = fieldArbitrary(1, 7, DAYS, true);
const year = fieldArbitrary(1970, 2199);

const expression = fc.oneof(
  fc.tuple(minute, hour, dom, month, dow5).map((f) => f.join(' ')),
  fc.tuple(second, minute, hour, dom, month, dow6).map((f) => f.join(' ')),
  fc.tuple(second, minute, hour, dom, month, dow6, year).map((f) => f.join(' ')),
  fc.constantFrom('@hourly', '@daily', '@midnight', '@weekly', '@monthly', '@yearly', '@annually', '@often'),
);

describe('backup schedule', () => {
  it('lib/schedule.ts, the CRD rules and the next-run computation agree on every expression', () => {
    fc.assert(
      fc.property(
        expression,
        fc.date({ min: new Date('2000-01-01'), max: new Date('2150-01-01'), noInvalidDate: true }),
        (e, now) => {
          const problem = cronProblem(e);
          const admitted = crdAccepts(e);
          // What lib accepts, the API server admits: constructs never synthesize a rejected spec.
          if (problem === undefined) assert.ok(admitted, `lib accepts "${e}" but the CRD rejects it`);
          if (!admitted) return;
          // The CRD's regular expressions cannot see everything (a range written backwards, a step
          // beyond the field): for what it admits, the operator decides exactly as lib does, and
          // what lib rejects ends Stalled with the library's reason instead of never running.
          let schedule: ReturnType<typeof parseSchedule> | undefined;
          let error: unknown;
          try {
            schedule = parseSchedule(e);
          } catch (caught) {
            error = caught;
          }
          if (problem !== undefined) {
            assert.ok(
              error instanceof ScheduleError,
              `lib rejects "${e}" (${problem}) but the operator schedules it`,
            );
            return;
          }
          assert.ok(schedule, `lib accepts "${e}" but the operator cannot schedule it: ${error}`);
          const next = schedule.next(now);
          if (next) {
            assert.ok(next > now);
            assert.equal(schedule.latest(next)?.getTime(), next.getTime());
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('numbers the day of week 1=SUN..7=SAT in the seconds-first form and 0/7=SUN in the 5-field form', () => {
    const from = new Date('2026-12-02T12:00:00Z'); // a Wednesday
    const weekday = (e: string) => parseSchedule(e).next(from)?.getUTCDay();
    assert.equal(weekday('0 0 0 * * 1'), 0);
    assert.equal(weekday('0 0 0 * * 7'), 6);
    assert.equal(weekday('0 0 0 * * SUN'), 0);
    assert.equal(weekday('0 0 0 * * 2 *'), 1);
    assert.equal(weekday('0 0 * * 0'), 0);
    assert.equal(weekday('0 0 * * 7'), 0);
    assert.equal(weekday('0 0 * * 1'), 1);
  });

  it('joins day-of-month and day-of-week with AND in the seconds-first form and OR in the 5-field form', () => {
    const from = new Date('2026-12-02T12:00:00Z');
    // The 1st that is a Monday (1=SUN, so MON=2): 2027-02-01.
    assert.equal(parseSchedule('0 0 0 1 * 2').next(from)?.toISOString(), '2027-02-01T00:00:00.000Z');
    // The 1st or any Monday: Monday 2026-12-07.
    assert.equal(parseSchedule('0 0 1 * 1').next(from)?.toISOString(), '2026-12-07T00:00:00.000Z');
  });

  it('honours the year field and the time zone', () => {
    const from = new Date('2026-12-02T12:00:00Z');
    assert.equal(parseSchedule('0 0 0 1 1 * 2028').next(from)?.toISOString(), '2028-01-01T00:00:00.000Z');
    assert.equal(parseSchedule('0 0 0 1 1 * 2020').next(from), undefined);
    assert.equal(
      parseSchedule('0 0 2 * * *', 'Europe/Berlin').next(from)?.toISOString(),
      '2026-12-03T01:00:00.000Z',
    );
    assert.equal(
      parseSchedule('*/5 * * * * *').latest(new Date('2026-12-02T12:00:07.500Z'))?.toISOString(),
      '2026-12-02T12:00:05.000Z',
    );
  });

  it('names what to fix when the time zone does not exist', () => {
    assert.throws(() => parseSchedule('0 0 * * *', 'Mars/Olympus'), ScheduleError);
  });
});
