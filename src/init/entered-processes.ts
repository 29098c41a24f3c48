import type { Clock } from '../supervise/clock.js';
import { listEnteredProcesses } from '../sys/proc.js';
import { withSpareDescriptor } from '../sys/spare-descriptor.js';
import { processesEnded } from './processes-ended.js';

/**
 * Resolves once no process that entered the container from outside (docker exec, kubectl
 * exec) is left, or at `deadline` on `clock`. They are not Steward's children, so their end
 * is no SIGCHLD of Steward's (see processesEnded). s6-overlay gives them the whole
 * S6_KILL_GRACETIME after its TERM, whatever they do; here the wait ends with the last of them.
 */
export function enteredProcessesEnded(clock: Clock, deadline: number, list: () => number[] = listEnteredProcesses): Promise<void> {
  return processesEnded(clock, deadline, list);
}

/** Whether any process entered the container from outside is left (none when /proc cannot be read). */
export function enteredProcessesLeft(list: () => number[] = listEnteredProcesses): boolean {
  try {
    return withSpareDescriptor(list).length > 0;
  } catch {
    return false;
  }
}
