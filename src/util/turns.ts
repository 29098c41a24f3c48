import { monotonicMs } from './monotonic.js';

/**
 * How long work handed out by a TurnQueue may hold the thread before Node gets to poll:
 * about eight service starts, as many as koffi runs on libuv's threads at once.
 */
export const TURN_SLICE_MS = 5;

/**
 * Shares the thread between a long run of small jobs and everything else. Starting a
 * service is a few hundred microseconds of work here (reading and copying its directory,
 * preparing the spawn); a boot that started five hundred in one go held the thread for a
 * third of a second, in which no signal, control request or finished spawn was heard.
 * Waiters are let through in the order they asked, as long as the current slice of
 * TURN_SLICE_MS lasts; then the next ones wait for a later turn of the event loop, after
 * Node has polled for I/O.
 */
export class TurnQueue {
  readonly #waiting: (() => void)[] = [];
  #scheduled = false;
  /** When the current slice began; undefined until the first waiter. */
  #sliceStart: number | undefined;
  /** How many turns were asked for so far: a turn of the event loop that adds none is a quiet one. */
  #asked = 0;

  constructor(
    private readonly sliceMs = TURN_SLICE_MS,
    private readonly now: () => number = monotonicMs,
  ) {}

  /** Resolves at once within the current slice, else in a later turn of the event loop. */
  next(): Promise<void> {
    this.#asked++;
    const now = this.now();
    this.#sliceStart ??= now;
    if (this.#waiting.length === 0 && now - this.#sliceStart < this.sliceMs) return Promise.resolve();
    return new Promise((resolve) => {
      this.#waiting.push(resolve);
      this.#schedule();
    });
  }

  /**
   * Resolves in the first turn of the event loop in which nobody asked for a turn and nobody
   * waits: a run of jobs (the boot's service starts) is over, or stopped for something else
   * (a cont-init script running). For work that may wait that long: it then does not hold
   * back the run. One immediate per turn while the run goes on, none otherwise. With
   * `latestMs`, after that long at the latest, for work that must not wait out a long run.
   */
  whenQuiet(latestMs?: number): Promise<void> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (): void => {
        done = true;
        clearTimeout(latest);
        resolve();
      };
      const latest = latestMs === undefined ? undefined : setTimeout(finish, latestMs);
      let askedBefore = this.#asked;
      const check = (): void => {
        if (done) return;
        if (this.#asked === askedBefore && this.#waiting.length === 0) {
          finish();
          return;
        }
        askedBefore = this.#asked;
        setImmediate(check);
      };
      setImmediate(check);
    });
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    // An immediate queued from an immediate runs in the next turn, after the poll.
    setImmediate(() => {
      this.#scheduled = false;
      this.#sliceStart = this.now();
      // The waiters let through run after this callback, in order, each asking again if it
      // has more to do; those still waiting once the slice is over get another turn.
      const resolve = this.#waiting.shift();
      resolve?.();
      if (this.#waiting.length > 0) this.#drainWithinSlice();
    });
  }

  /** Lets further waiters through, one per microtask, while the slice lasts. */
  #drainWithinSlice(): void {
    queueMicrotask(() => {
      if (this.#waiting.length === 0) return;
      if (this.now() - (this.#sliceStart ?? 0) >= this.sliceMs) {
        this.#schedule();
        return;
      }
      this.#waiting.shift()?.();
      this.#drainWithinSlice();
    });
  }
}
