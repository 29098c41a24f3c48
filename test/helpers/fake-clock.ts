import type { Clock } from '../../src/supervise/clock.js';

interface Timer {
  readonly at: number;
  readonly order: number;
  readonly callback: () => void;
}

/**
 * A clock that only moves when a test says so. Timers fire in time order (ties in the
 * order they were scheduled), including timers that callbacks schedule during an advance.
 */
export class FakeClock implements Clock {
  #now: number;
  #order = 0;
  readonly #timers = new Set<Timer>();

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  schedule(ms: number, callback: () => void): () => void {
    const timer: Timer = { at: this.#now + Math.max(0, ms), order: this.#order++, callback };
    this.#timers.add(timer);
    return () => {
      this.#timers.delete(timer);
    };
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void {
    if (ms < 0) throw new RangeError(`cannot advance by a negative time (${ms})`);
    const target = this.#now + ms;
    for (let next = this.#nextDue(target); next !== undefined; next = this.#nextDue(target)) {
      this.#timers.delete(next);
      this.#now = next.at;
      next.callback();
    }
    this.#now = target;
  }

  /** How many timers are scheduled and not yet fired or cancelled. */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  /** Milliseconds until the next timer fires, or undefined when none is scheduled. */
  get nextTimerIn(): number | undefined {
    const next = this.#nextDue(Infinity);
    return next === undefined ? undefined : next.at - this.#now;
  }

  #nextDue(limit: number): Timer | undefined {
    let best: Timer | undefined;
    for (const timer of this.#timers) {
      if (timer.at > limit) continue;
      if (best === undefined || timer.at < best.at || (timer.at === best.at && timer.order < best.order)) best = timer;
    }
    return best;
  }
}
