import { listDescendants } from './proc.js';
import { sendSignal } from './signals.js';
import { withSpareDescriptor } from './spare-descriptor.js';

/** How many times, at most, the descendants are listed again to stop the ones that appeared since. */
const FREEZE_PASSES = 100;

/**
 * Kills every descendant of this process, and nothing else: a subreaper's kill(-1), which
 * does not exist (-1 would hit the whole host, or every container of a shared PID namespace).
 * A process that keeps forking would outrun one pass over a list, so every descendant is
 * stopped first (a stopped process cannot fork), pass after pass until none is new, then
 * killed. `cannotList` hears why the processes could not be listed (no /proc).
 */
export function killDescendants(cannotList: (error: unknown, signal: NodeJS.Signals) => void): void {
  const descendants = (signal: NodeJS.Signals): number[] => {
    try {
      return withSpareDescriptor(listDescendants);
    } catch (error) {
      cannotList(error, signal);
      return [];
    }
  };
  const frozen = new Set<number>();
  for (let pass = 0; pass < FREEZE_PASSES; pass++) {
    const found = descendants('SIGSTOP').filter((pid) => !frozen.has(pid));
    if (found.length === 0) break;
    for (const pid of found) {
      sendSignal(pid, 'SIGSTOP');
      frozen.add(pid);
    }
  }
  for (const pid of descendants('SIGKILL')) sendSignal(pid, 'SIGKILL');
}
