/**
 * The normalized service model. Every source (the s6-overlay legacy directories,
 * s6-rc.d, a native config file) compiles into these fully resolved records, so the
 * supervisor never sees an optional field or an unparsed value.
 */

/** s6's defaults for a service directory: finish gets 5 s; supervise/death_tally keeps 100 deaths, 4096 at most. */
export const DEFAULT_TIMEOUT_FINISH_MS = 5000;
export const DEFAULT_DEATH_TALLY = 100;
export const MAX_DEATH_TALLY = 4096;

export interface LongrunDefinition {
  readonly kind: 'longrun';
  /** Name as s6 knows it: "nginx", or "nginx/log" for a logger. */
  readonly name: string;
  /** Where the definition was read from, for messages. */
  readonly sourceDir: string;
  /** Working directory of run and finish: the live copy of the service directory. */
  readonly liveDir: string;
  readonly runPath: string;
  readonly finishPath: string | null;
  readonly notificationFd: number | null;
  /** After the down-signal, SIGKILL after this many ms; 0 never kills. */
  readonly timeoutKillMs: number;
  /** The finish script is killed after this many ms; 0 lets it run forever. */
  readonly timeoutFinishMs: number;
  /** How many deaths s6's supervise/death_tally keeps (max-death-tally; 100, at most 4096). */
  readonly maxDeathTally: number;
  readonly downSignal: NodeJS.Signals;
  /** A `down` file: not started at boot, only on request. */
  readonly startsDown: boolean;
  /** Minimum time between two starts, as s6's 1 s throttle. */
  readonly minRestartIntervalMs: number;
  /** Name of the service that reads this one's stdout (its logger), if any. */
  readonly loggerName: string | null;
  /** Names of the services whose stdout this one reads: a logger's producers (several: a funnel). */
  readonly producers: readonly string[];
}

