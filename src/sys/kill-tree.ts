import { errorMessage } from '../errors.js';
import { listDescendants } from './proc.js';
import { sendSignal } from './signals.js';
import { withSpareDescriptor } from './spare-descriptor.js';

/** Hears why the processes that were to get `signal` could not be listed (no /proc), in a sentence. */
export type CannotList = (message: string) => void;

/** How many times, at most, the descendants are listed again to stop the ones that appeared since. */
const FREEZE_PASSES = 100;

/** This process's descendants, to send them `signal`; none, said through `cannotList`, when they cannot be listed. */
export function descendantsOrNone(signal: NodeJS.Signals, cannotList: CannotList): number[] {
  try {
    return withSpareDescriptor(listDescendants);
  } catch (error) {
    cannotList(`cannot list the processes left to send them ${signal}: ${errorMessage(error)}`);
    return [];
  }
}

/**
 * Kills every descendant of this process, and nothing else: a subreaper's kill(-1), which
 * does not exist (-1 would hit the whole host, or every container of a shared PID namespace).
 * A process that keeps forking would outrun one pass over a list, so every descendant is
 * stopped first (a stopped process cannot fork), pass after pass until none is new, then
 * killed.
 */
export function killDescendants(cannotList: CannotList): void {
  const frozen = new Set<number>();
  for (let pass = 0; pass < FREEZE_PASSES; pass++) {
    const found = descendantsOrNone('SIGSTOP', cannotList).filter((pid) => !frozen.has(pid));
    if (found.length === 0) break;
    for (const pid of found) {
      sendSignal(pid, 'SIGSTOP');
      frozen.add(pid);
    }
  }
  for (const pid of descendantsOrNone('SIGKILL', cannotList)) sendSignal(pid, 'SIGKILL');
}
