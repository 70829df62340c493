import { setTimeout as delay } from 'node:timers/promises';

/** Time as the resilience wrappers see it; tests pass a fake one. */
export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => (ms > 0 ? delay(ms) : Promise.resolve()),
};
