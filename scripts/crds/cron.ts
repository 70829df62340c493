/**
 * The shape of a schedule, as RE2 regular expressions that CEL's `matches()` evaluates in the API
 * server. Two forms are accepted because both are in use: the seed operator's seconds-first form
 * (6 fields, or 7 with a trailing year, e.g. `0 0 * * * * *`) and the standard 5-field form of
 * Kubernetes CronJobs. Field values are range-checked per position, so `0 60 * * * *` fails at
 * admission rather than at the first tick. `*` and `?` are written as `[*]` and `[?]` so the
 * patterns need no backslashes inside CEL string literals.
 */

const MONTHS = 'JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC';
const DAYS = 'SUN|MON|TUE|WED|THU|FRI|SAT';

/** One value per field position; names are case-insensitive. */
const VALUE = {
  second: '[0-5]?[0-9]',
  minute: '[0-5]?[0-9]',
  hour: '(?:[01]?[0-9]|2[0-3])',
  dayOfMonth: '(?:0?[1-9]|[12][0-9]|3[01])',
  month: `(?:0?[1-9]|1[0-2]|(?i:${MONTHS}))`,
  // 5-field cron: 0 and 7 are Sunday (POSIX).
  dayOfWeek: `(?:[0-7]|(?i:${DAYS}))`,
  // Seconds-first form: the seed operator's numbering (Rust `cron` crate), 1 = Sunday ... 7 = Saturday.
  dayOfWeekFromSunday1: `(?:[1-7]|(?i:${DAYS}))`,
  year: '(?:19[7-9][0-9]|2[01][0-9][0-9])',
} as const;

type Position = keyof typeof VALUE;

/** `*`, a value or a range, optionally with a step; lists with commas; `?` where cron allows it. */
function field(position: Position): string {
  const v = VALUE[position];
  const element = `(?:[*]|${v}(?:-${v})?)(?:/[0-9]{1,4})?`;
  const list = `${element}(?:,${element})*`;
  return position === 'dayOfMonth' || position === 'dayOfWeek' || position === 'dayOfWeekFromSunday1'
    ? `(?:[?]|${list})`
    : list;
}

const SEP = ' +';

function fields(positions: readonly Position[]): string {
  return positions.map(field).join(SEP);
}

/** Standard cron: minute hour day-of-month month day-of-week. */
export const CRON_5_FIELDS = `^${fields(['minute', 'hour', 'dayOfMonth', 'month', 'dayOfWeek'])}$`;

/** Seed form: second minute hour day-of-month month day-of-week [year]. */
export const CRON_SECONDS_FIRST = `^${fields(['second', 'minute', 'hour', 'dayOfMonth', 'month', 'dayOfWeekFromSunday1'])}(?:${SEP}${field('year')})?$`;

/** Field count only: 5, 6 or 7 fields separated by spaces. */
export const CRON_FIELD_COUNT = '^[^ ]+(?: +[^ ]+){4,6}$';

export const CRON_SHORTHANDS = [
  '@yearly',
  '@annually',
  '@monthly',
  '@weekly',
  '@daily',
  '@midnight',
  '@hourly',
];

export const CRON_SHORTHAND = `^(?:${CRON_SHORTHANDS.join('|')})$`;

export const CRON_MESSAGES = {
  fieldCount:
    "schedule must be a cron expression with 5 fields (minute hour day-of-month month day-of-week, e.g. '0 * * * *'), 6 or 7 seconds-first fields (second minute hour day-of-month month day-of-week [year], e.g. '0 0 * * * * *'), or a shorthand such as @hourly or @daily",
  shorthand: `schedule uses an unknown shorthand: use one of ${CRON_SHORTHANDS.join(', ')}, or write the cron fields`,
  fieldValue:
    "schedule has a field out of range or malformed: each field is *, a value, a range a-b, a list a,b or a step x/n; second and minute 0-59, hour 0-23, day-of-month 1-31 or ?, month 1-12 or JAN-DEC, day-of-week 0-7 (0 and 7 = Sunday) in 5 fields and 1-7 (1 = Sunday) seconds first, or SUN-SAT or ?, year 1970-2199; e.g. '0 30 2 * * MON-FRI' or '30 2 * * 1-5'",
} as const;
