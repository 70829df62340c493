import { plainMessage, validateField } from './validation/index.ts';

/** Options shared by every way of writing a schedule. */
export interface ScheduleOptions {
  /**
   * IANA time zone the expression is evaluated in, e.g. `Europe/Berlin`.
   * Runs follow daylight-saving changes of that zone.
   * @default 'UTC'
   */
  readonly timeZone?: string;
}

/** Days of the week, numbered as in the seconds-first cron form (SUN = 1 ... SAT = 7 is avoided by using names). */
export enum DayOfWeek {
  SUNDAY = 'SUN',
  MONDAY = 'MON',
  TUESDAY = 'TUE',
  WEDNESDAY = 'WED',
  THURSDAY = 'THU',
  FRIDAY = 'FRI',
  SATURDAY = 'SAT',
}

/** Which of the accepted cron forms an expression uses. */
export type CronForm = 'standard' | 'seconds' | 'seconds-and-year' | 'shorthand';

const SHORTHANDS = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];

interface FieldRule {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
  readonly question?: boolean;
  /** The largest step: the number of values the field has (a week has 7 days whatever the numbering). */
  readonly maxStep: number;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const SECOND: FieldRule = { name: 'second', min: 0, max: 59, maxStep: 60 };
const MINUTE: FieldRule = { name: 'minute', min: 0, max: 59, maxStep: 60 };
const HOUR: FieldRule = { name: 'hour', min: 0, max: 23, maxStep: 24 };
const DAY_OF_MONTH: FieldRule = { name: 'day-of-month', min: 1, max: 31, question: true, maxStep: 31 };
const MONTH: FieldRule = { name: 'month', min: 1, max: 12, names: MONTHS, maxStep: 12 };
/** POSIX numbering: 0 and 7 are Sunday. */
const DAY_OF_WEEK: FieldRule = {
  name: 'day-of-week',
  min: 0,
  max: 7,
  names: DAYS,
  question: true,
  maxStep: 7,
};
/** The seed operator's (Rust `cron` crate) numbering in the seconds-first form: 1 = Sunday ... 7 = Saturday. */
const DAY_OF_WEEK_FROM_SUNDAY_1: FieldRule = { ...DAY_OF_WEEK, min: 1 };
const YEAR: FieldRule = { name: 'year', min: 1970, max: 2199, maxStep: 9999 };

const FORMS: Record<number, { form: CronForm; fields: readonly FieldRule[] }> = {
  5: { form: 'standard', fields: [MINUTE, HOUR, DAY_OF_MONTH, MONTH, DAY_OF_WEEK] },
  6: { form: 'seconds', fields: [SECOND, MINUTE, HOUR, DAY_OF_MONTH, MONTH, DAY_OF_WEEK_FROM_SUNDAY_1] },
  7: {
    form: 'seconds-and-year',
    fields: [SECOND, MINUTE, HOUR, DAY_OF_MONTH, MONTH, DAY_OF_WEEK_FROM_SUNDAY_1, YEAR],
  },
};

/**
 * Checks the shape of a cron expression and returns a problem, or undefined when it is valid.
 *
 * Accepted: the standard 5-field form (`min hour dom month dow`), the seconds-first 6-field form
 * of the original operator (`sec min hour dom month dow`), the 7-field form with a trailing year
 * (`0 0 * * * * *`), and the shorthands `@hourly`, `@daily`, `@weekly`, `@monthly`, `@yearly`.
 */
export function cronProblem(expression: string): string | undefined {
  const trimmed = expression.trim();
  if (trimmed !== expression || trimmed.length === 0) {
    return 'the expression is empty or has leading or trailing spaces; write it like "0 0 * * * *"';
  }
  if (trimmed.startsWith('@')) {
    return SHORTHANDS.includes(trimmed)
      ? undefined
      : `unknown shorthand "${trimmed}"; use one of ${SHORTHANDS.join(', ')}`;
  }
  const parts = trimmed.split(/\s+/);
  const shape = FORMS[parts.length];
  if (!shape) {
    return (
      `it has ${parts.length} fields; use 5 (min hour day-of-month month day-of-week), ` +
      '6 (seconds first) or 7 (seconds first, year last) fields'
    );
  }
  for (const [i, rule] of shape.fields.entries()) {
    const problem = fieldProblem(parts[i] as string, rule);
    if (problem) return `${rule.name} field "${parts[i]}": ${problem}`;
  }
  return undefined;
}

function fieldProblem(field: string, rule: FieldRule): string | undefined {
  if (field === '?') return rule.question ? undefined : `'?' is only allowed in day-of-month and day-of-week`;
  for (const item of field.split(',')) {
    const [range, step, extra] = item.split('/');
    if (extra !== undefined || range === undefined || range === '')
      return `"${item}" is not a value, range or step`;
    if (step !== undefined && !/^[0-9]+$/.test(step)) return `step "${step}" must be a positive number`;
    if (step !== undefined && Number(step) === 0) return 'a step of 0 never fires; use 1 or more';
    if (step !== undefined && Number(step) > rule.maxStep)
      return `a step above ${rule.maxStep} fires at most once; write the value instead`;
    if (range === '*') continue;
    const ends = range.split('-');
    if (ends.length > 2) return `"${range}" is not a range like 1-5`;
    const values: number[] = [];
    for (const [i, end] of ends.entries()) {
      // In the 5-field form SUN ending a range is 7, so MON-SUN means the whole week.
      const value =
        i === 1 && rule === DAY_OF_WEEK && end.toUpperCase() === 'SUN' ? 7 : tokenValue(end, rule);
      if (value === undefined) {
        return `"${end}" is not a number between ${rule.min} and ${rule.max}${rule.names ? ` or a name (${rule.names[0]}...)` : ''}`;
      }
      values.push(value);
    }
    if (values.length === 2 && (values[0] as number) > (values[1] as number)) {
      return `range "${range}" runs backwards; write the smaller value first`;
    }
  }
  return undefined;
}

function tokenValue(token: string, rule: FieldRule): number | undefined {
  const named = rule.names?.indexOf(token.toUpperCase()) ?? -1;
  if (named >= 0) return named + rule.min; // JAN = 1; SUN = 0 or 1 by the form's numbering
  if (!/^[0-9]+$/.test(token)) return undefined;
  const value = Number(token);
  return value >= rule.min && value <= rule.max ? value : undefined;
}

/** Checks an IANA time zone name; returns a problem or undefined. */
export function timeZoneProblem(timeZone: string): string | undefined {
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(timeZone)) {
    return `"${timeZone}" is not an IANA time zone name like Europe/Berlin or UTC`;
  }
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return undefined;
  } catch {
    return `"${timeZone}" is not a known IANA time zone; see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones`;
  }
}

const HOUR_DIVISORS = [1, 2, 3, 4, 6, 8, 12];
const MINUTE_DIVISORS = [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30];

/**
 * When a scheduled backup runs: a cron expression plus a time zone.
 *
 * Helpers write the seconds-first form of the original operator, so the YAML also applies to it.
 */
export class Schedule {
  /**
   * Any cron expression in one of the accepted forms (see `cronProblem`): for example the seed's
   * `0 0 * * * * *` (hourly, seconds first, with a year field) or the standard `0 2 * * *`.
   */
  public static cron(expression: string, options: ScheduleOptions = {}): Schedule {
    return new Schedule(expression, options);
  }

  /** Every hour, on the hour. */
  public static hourly(options: ScheduleOptions = {}): Schedule {
    return new Schedule('0 0 * * * *', options);
  }

  /** Every `hours` hours from midnight; `hours` must divide 24 so the gap is always the same. */
  public static everyHours(hours: number, options: ScheduleOptions = {}): Schedule {
    if (!HOUR_DIVISORS.includes(hours)) {
      throw new Error(
        `Schedule.everyHours(${hours}): use one of ${HOUR_DIVISORS.join(', ')} so runs are evenly spaced ` +
          '(cron restarts the count at midnight); for other patterns use Schedule.cron()',
      );
    }
    return new Schedule(hours === 1 ? '0 0 * * * *' : `0 0 */${hours} * * *`, options);
  }

  /** Every `minutes` minutes from the full hour; `minutes` must divide 60. */
  public static everyMinutes(minutes: number, options: ScheduleOptions = {}): Schedule {
    if (!MINUTE_DIVISORS.includes(minutes)) {
      throw new Error(
        `Schedule.everyMinutes(${minutes}): use one of ${MINUTE_DIVISORS.join(', ')} so runs are evenly spaced; ` +
          'for other patterns use Schedule.cron()',
      );
    }
    return new Schedule(minutes === 1 ? '0 * * * * *' : `0 */${minutes} * * * *`, options);
  }

  /** Once a day at `hour:minute` in the schedule's time zone. */
  public static dailyAt(hour: number, minute = 0, options: ScheduleOptions = {}): Schedule {
    checkClock('dailyAt', hour, minute);
    return new Schedule(`0 ${minute} ${hour} * * *`, options);
  }

  /** Once a week on `day` at `hour:minute` in the schedule's time zone. */
  public static weeklyOn(day: DayOfWeek, hour: number, minute = 0, options: ScheduleOptions = {}): Schedule {
    checkClock('weeklyOn', hour, minute);
    return new Schedule(`0 ${minute} ${hour} * * ${day}`, options);
  }

  /** The cron expression as written to `spec.schedule`. */
  public readonly expressionString: string;
  /** The IANA time zone, or undefined for UTC. */
  public readonly timeZone?: string;
  /** Which cron form the expression uses. */
  public readonly form: CronForm;

  private constructor(expression: string, options: ScheduleOptions) {
    // The API server's verdict decides (the CRD's CEL rules, evaluated here); cronProblem() only
    // adds which field is wrong.
    const [violation] = validateField('KafkaBackup', 'spec.schedule', expression);
    if (violation) {
      const detail = cronProblem(expression);
      throw new Error(`schedule "${expression}": ${plainMessage(violation)}${detail ? ` (${detail})` : ''}`);
    }
    if (options.timeZone !== undefined) {
      const [tzViolation] = validateField('KafkaBackup', 'spec.timeZone', options.timeZone);
      // Beyond the CRD's shape check, the zone must exist: the operator could not compute run times otherwise.
      const tzProblem = tzViolation ? plainMessage(tzViolation) : timeZoneProblem(options.timeZone);
      if (tzProblem) throw new Error(`schedule timeZone: ${tzProblem}`);
    }
    this.expressionString = expression;
    this.timeZone = options.timeZone;
    this.form = expression.startsWith('@')
      ? 'shorthand'
      : ((FORMS[expression.split(/\s+/).length]?.form ?? 'standard') as CronForm);
  }
}

function checkClock(helper: string, hour: number, minute: number): void {
  if (!Number.isInteger(hour) || hour < 0 || hour > 23) {
    throw new Error(`Schedule.${helper}: hour must be a whole number from 0 to 23, got ${hour}`);
  }
  if (!Number.isInteger(minute) || minute < 0 || minute > 59) {
    throw new Error(`Schedule.${helper}: minute must be a whole number from 0 to 59, got ${minute}`);
  }
}
