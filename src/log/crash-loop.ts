/**
 * Keeps a crash loop from flooding the container's log. A service that dies within seconds of
 * each start is restarted every second or so, forever (s6 does so in silence); two lines per
 * restart would be over 170,000 lines a day. After a few such deaths in a row its lines are
 * replaced by one summary, then a reminder whose interval doubles from one minute to an hour.
 * A run that lasts, or a stop that was asked for, brings back the usual lines.
 */

/** A run shorter than this that ends on its own counts towards a crash loop. */
export const SHORT_RUN_MS = 10_000;
/** Deaths in a row, each after a short run, that make a crash loop. */
export const CRASH_LOOP_DEATHS = 3;
const FIRST_REMINDER_MS = 60_000;
const LONGEST_REMINDER_MS = 3_600_000;

interface Loop {
  /** Short runs that ended on their own, in a row. */
  deaths: number;
  quiet: boolean;
  /** Deaths not reported since the last line about this service. */
  untold: number;
  lastToldAt: number;
  reminderMs: number;
}

/** What to say about an unexpected death. */
export type DeathReport =
  | { readonly kind: 'each' }
  | { readonly kind: 'loop-begins'; readonly deaths: number }
  | { readonly kind: 'silent' }
  | { readonly kind: 'reminder'; readonly untold: number; readonly sinceMs: number };

export class CrashLoops {
  readonly #loops = new Map<string, Loop>();

  constructor(private readonly now: () => number) {}

  /** A death the service did not ask for, after a run of `runMs`. */
  died(name: string, runMs: number): DeathReport {
    if (runMs >= SHORT_RUN_MS) {
      // It ran a while: whatever came before, this death is news.
      this.settled(name);
      return { kind: 'each' };
    }
    const loop = this.#loops.get(name) ?? { deaths: 0, quiet: false, untold: 0, lastToldAt: 0, reminderMs: FIRST_REMINDER_MS };
    this.#loops.set(name, loop);
    loop.deaths++;
    if (!loop.quiet) {
      if (loop.deaths < CRASH_LOOP_DEATHS) return { kind: 'each' };
      Object.assign(loop, { quiet: true, untold: 0, lastToldAt: this.now() });
      return { kind: 'loop-begins', deaths: loop.deaths };
    }
    loop.untold++;
    const sinceMs = this.now() - loop.lastToldAt;
    if (sinceMs < loop.reminderMs) return { kind: 'silent' };
    const untold = loop.untold;
    Object.assign(loop, { untold: 0, lastToldAt: this.now(), reminderMs: Math.min(loop.reminderMs * 2, LONGEST_REMINDER_MS) });
    return { kind: 'reminder', untold, sinceMs };
  }

  /** Whether each start of the service is worth a line: not in a crash loop. */
  showsStarts(name: string): boolean {
    return this.#loops.get(name)?.quiet !== true;
  }

  /** A stop that was asked for, or a service no longer wanted up: its next deaths are news again. */
  settled(name: string): void {
    this.#loops.delete(name);
  }
}
