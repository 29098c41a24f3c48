import type { Clock } from '../supervise/clock.js';

/**
 * About how much of a CPU a service start's new process needs to get going: its exec, its
 * interpreter's start, the program's own. Measured on the two-core machine of the benchmarks.
 */
export const SETTLE_PER_START_MS = 0.5;
/** The longest settle time, however many starts went out. */
export const SETTLE_MAX_MS = 50;

/**
 * When the processes of a run of service starts have had the CPU to get going. A boot of a
 * hundred services keeps both CPUs of a small machine busy until the last of them runs: work
 * of PID 1's that serves only observers (the looks at run scripts, the control socket's first
 * answers) done meanwhile delays the services themselves. It waits until the starts are over
 * (the turn queue quiet) and SETTLE_PER_START_MS for each start since the last settled point
 * has passed since the last one, at most SETTLE_MAX_MS: a few starts settle at once, a hundred
 * in 50 ms.
 */
export class StartsSettling {
  /** Starts since the starts last settled. */
  #unsettled = 0;
  #lastStartAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly clock: Clock,
    /** Resolves once no more starts are asked for (TurnQueue.whenQuiet). */
    private readonly quiet: () => Promise<void>,
  ) {}

  /** A service's process was started. */
  started(): void {
    this.#unsettled++;
    this.#lastStartAt = this.clock.now();
  }

  /** The time the starts so far still need, from now; 0 when they have settled. */
  leftMs(): number {
    const settleMs = Math.min(SETTLE_MAX_MS, this.#unsettled * SETTLE_PER_START_MS);
    return Math.max(0, this.#lastStartAt + settleMs - this.clock.now());
  }

  /**
   * Resolves once the starts have settled, `latestMs` from now at the latest, or at once when
   * `abortSignal` is aborted (a stop: what waits is wanted now). Never rejects.
   */
  whenSettled(latestMs: number, abortSignal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      let done = false;
      let cancelSleep = (): void => undefined;
      const finish = (): void => {
        if (done) return;
        done = true;
        cancelLatest();
        cancelSleep();
        abortSignal?.removeEventListener('abort', finish);
        resolve();
      };
      const cancelLatest = this.clock.schedule(latestMs, finish);
      if (abortSignal?.aborted === true) {
        finish();
        return;
      }
      abortSignal?.addEventListener('abort', finish, { once: true });
      const check = (): void => {
        if (done) return;
        const left = this.leftMs();
        if (left === 0) {
          this.#unsettled = 0;
          finish();
          return;
        }
        // Starts that come meanwhile move the end: looked at again then, after the queue is quiet.
        cancelSleep = this.clock.schedule(left, () => {
          this.quiet().then(check, finish);
        });
      };
      this.quiet().then(check, finish);
    });
  }
}
