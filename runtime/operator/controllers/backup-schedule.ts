/**
 * Next-run times of a KafkaBackup's `schedule`, computed by croner, in the semantics of each form
 * the CRD accepts (scripts/crds/cron.ts, lib/schedule.ts):
 * - 5 fields (`min hour dom month dow`): POSIX cron, 0 and 7 = Sunday, a restricted day-of-month
 *   and day-of-week fire on either (OR), as Kubernetes CronJobs do;
 * - 6 or 7 fields, seconds first (`sec min hour dom month dow [year]`): the previous operator's Rust
 *   `cron` crate, 1 = Sunday ... 7 = Saturday, day-of-month AND day-of-week, `5/5` = from 5 every 5;
 * - `@hourly`, `@daily`, `@midnight`, `@weekly`, `@monthly`, `@yearly`, `@annually`.
 */
import { Cron, type CronOptions } from 'croner';

export class ScheduleError extends Error {
  override readonly name = 'ScheduleError';
}

export interface CronSchedule {
  /** The first run strictly after `after`, or undefined when the schedule never fires again. */
  next(after: Date): Date | undefined;
  /** The latest run at or before `at`, or undefined when there was none. */
  latest(at: Date): Date | undefined;
}

/** Throws a ScheduleError naming what to fix when the expression or the zone cannot be used. */
export function parseSchedule(expression: string, timeZone = 'UTC'): CronSchedule {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    throw new ScheduleError(
      `timeZone "${timeZone}" is not a known IANA time zone: use a name such as UTC or Europe/London`,
    );
  }
  const fields = expression.trim().split(/\s+/).length;
  const options: CronOptions = {
    paused: true,
    timezone: timeZone,
    sloppyRanges: true,
    ...(expression.startsWith('@')
      ? {}
      : fields === 5
        ? { mode: '5-part', domAndDow: false }
        : { mode: '6-or-7-parts', alternativeWeekdays: true, domAndDow: true }),
  };
  let cron: Cron;
  try {
    cron = new Cron(expression, options);
  } catch (error) {
    throw new ScheduleError(
      `schedule "${expression}" (timeZone ${timeZone}) cannot be evaluated: ${(error as Error).message.replace(/^CronPattern: /, '')}`,
    );
  }
  return {
    next: (after) => cron.nextRun(after) ?? undefined,
    // previousRuns looks strictly before a whole second; runs fall on whole seconds.
    latest: (at) => cron.previousRuns(1, new Date(Math.floor(at.getTime() / 1000) * 1000 + 1000))[0],
  };
}
