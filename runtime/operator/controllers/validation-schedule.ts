/**
 * THE SEAM for `spec.schedule` of KafkaBackupValidation. Deciding when a scheduled run is due
 * (the seed's seconds-first cron and the 5-field form, `timeZone`, `suspend`, no overlap,
 * `lastScheduleTime`/`nextScheduleTime`) belongs to the schedule module written with the
 * KafkaBackup controller; the integrator connects it here by passing a `ValidationScheduler` to
 * `validationController`. Without one, a scheduled validation is reported Stalled
 * (`ScheduleUnavailable`) instead of pretending to run on a schedule.
 */
export interface ScheduleState {
  /** spec.schedule, spec.timeZone, spec.suspend, spec.concurrencyPolicy as written. */
  readonly schedule: string;
  readonly timeZone?: string;
  readonly suspend: boolean;
  /** status.lastScheduleTime. */
  readonly lastScheduleTime?: Date;
  /** A run of this resource is going now. */
  readonly running: boolean;
}

export interface ScheduleDecision {
  /** Start a run now; its id (written to history) is `runId`. */
  readonly due: boolean;
  readonly runId?: string;
  /** For status.nextScheduleTime and the next reconcile. */
  readonly next?: Date;
  /** Suspended, or a problem with the expression, said in status. */
  readonly message?: string;
}

/** Decides whether a scheduled validation run is due at `now`. */
export type ValidationScheduler = (state: ScheduleState, now: Date) => ScheduleDecision;
