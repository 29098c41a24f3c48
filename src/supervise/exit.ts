import type { Termination } from '../sys/spawn.js';

/**
 * How a run ended, as data. The same record feeds the restart decision, the finish
 * script's arguments, the status output and the log line.
 */
export interface ServiceExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly durationMs: number;
  /** When it ended, by the supervisor's clock. */
  readonly at: number;
  /** True when Steward asked it to stop, or it ended right after a signal an administrator sent it through Steward (s6-svc -t); false when it died on its own. */
  readonly requested: boolean;
}

export function describeTermination(termination: Termination): string {
  if (termination.signal !== null) return `killed by ${termination.signal}`;
  return `exited ${termination.code ?? 0}`;
}

/** Exit status as a shell reports it: the code, or 128 + the signal number. */
export function shellStatus(termination: Termination, signalNumber: (signal: NodeJS.Signals) => number): number {
  if (termination.signal !== null) return 128 + signalNumber(termination.signal);
  return termination.code ?? 0;
}
