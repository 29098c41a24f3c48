import type { Clock } from '../supervise/clock.js';
import { closeProcessHandle, openProcessHandle, whenAnyEnds } from '../sys/ffi/process-handles.js';
import { withSpareDescriptor } from '../sys/spare-descriptor.js';

/**
 * How soon the processes are listed again when no kernel event can tell of their end (a
 * kernel before 5.3 has no pidfd; poll failed; out of descriptors).
 */
const RELIST_MS = 100;

/**
 * Resolves once `list` names no process, or at `deadline` on `clock`. What it lists need not
 * be Steward's children, so their end may be no SIGCHLD of Steward's: each is waited for
 * through a pidfd, all of them in one poll on one of libuv's threads, and the list is read
 * again after each end (what they started may have been left to Steward, or may still run).
 * `list` leaves out zombies: they have ended. A list that cannot be read ends the wait.
 */
export async function processesEnded(clock: Clock, deadline: number, list: () => number[]): Promise<void> {
  for (;;) {
    const left = deadline - clock.now();
    if (left <= 0) return;
    let pids: number[];
    try {
      pids = withSpareDescriptor(list);
    } catch {
      // /proc cannot be read: nothing to wait for that can be known.
      return;
    }
    if (pids.length === 0) return;
    const handles: number[] = [];
    let unwatched = false;
    for (const pid of pids) {
      const handle = openProcessHandle(pid);
      if (typeof handle === 'number') handles.push(handle);
      else if (handle !== 'ESRCH') unwatched = true;
    }
    try {
      // Every one gone between the listing and now: list again at once.
      if (handles.length === 0 && !unwatched) continue;
      const ended = handles.length === 0 ? undefined : await whenAnyEnds(handles, unwatched ? Math.min(RELIST_MS, left) : left);
      if (ended === undefined) await pause(clock, Math.min(RELIST_MS, left));
    } finally {
      for (const handle of handles) closeProcessHandle(handle);
    }
  }
}

function pause(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => {
    clock.schedule(ms, resolve);
  });
}
