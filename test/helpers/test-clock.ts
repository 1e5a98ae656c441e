import type { Clock } from "../../src/core/shared/clock.js";

/** A clock the test sets (`time`) or moves (`advanceSeconds`); `now()` returns a copy. */
export class TestClock implements Clock {
  constructor(public time: Date) {}
  now(): Date {
    return new Date(this.time);
  }
  advanceSeconds(seconds: number): void {
    this.time = new Date(this.time.getTime() + seconds * 1000);
  }
}
