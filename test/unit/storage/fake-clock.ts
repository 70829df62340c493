import type { Clock } from '../../../runtime/storage/clock.ts';

/** Virtual time: sleep() advances it at once and records what was asked. */
export class FakeClock implements Clock {
  time = 0;
  readonly sleeps: number[] = [];
  now(): number {
    return this.time;
  }
  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.time += Math.max(0, ms);
  }
}
