import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';

import { procDirOfChild } from './proc.js';
import type { ProcessPort } from './spawn.js';

/**
 * A port whose processes get `plan.value` as their oom_score_adj. Each is given it once its
 * start is heard of, before anyone else hears of it. A child takes its value from its parent at
 * its clone, though, and a run script forks at once (`sh -c` in a pipeline, a worker pool),
 * before that write: so this process holds `plan.whileStarting` itself while a start is under
 * way (from the call until the start is heard of), and goes back to `plan.own` once none is:
 * going back down to the value it started with needs no privilege. `refused` hears once of a
 * value the kernel will not take (one below PID 1's own without CAP_SYS_RESOURCE). Returns the
 * reason instead when this process cannot write its own value.
 */
export function withOomScoreAdj(
  port: ProcessPort,
  plan: OomScoreValues,
  refused: (code: string) => void,
  proc = '/proc',
  procDirOf: (pid: number) => string | undefined = procDirOfChild,
): ProcessPort | string {
  let ownFd: number;
  try {
    ownFd = openSync(join(proc, 'self', 'oom_score_adj'), constants.O_WRONLY);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? String(error);
  }
  let saidRefused = false;
  const refusedOnce = (error: unknown): void => {
    if (saidRefused) return;
    saidRefused = true;
    refused((error as NodeJS.ErrnoException).code ?? String(error));
  };
  // Kept open: one write per change, not an open, a write and a close, on every restart's path.
  const setOwn = (adj: number): void => {
    try {
      writeSync(ownFd, `${adj}\n`);
    } catch (error) {
      // Left where it is: at worst PID 1 stays level with its services, as without all this.
      refusedOnce(error);
    }
  };
  const setChild = (pid: number): void => {
    // A /proc of a parent PID namespace numbers processes otherwise: PID there is another
    // process, so the child is looked up by its own numbers there.
    const dir = procDirOf(pid);
    if (dir === undefined) return;
    let fd: number;
    try {
      fd = openSync(join(dir, 'oom_score_adj'), constants.O_WRONLY);
    } catch {
      return; // gone already
    }
    try {
      writeSync(fd, `${plan.value}\n`);
    } catch (error) {
      refusedOnce(error);
    } finally {
      closeSync(fd);
    }
  };
  const raised = plan.whileStarting !== plan.own;
  let underWay = 0;
  const begin = (): void => {
    if (underWay++ === 0 && raised) setOwn(plan.whileStarting);
  };
  const end = (): void => {
    if (--underWay === 0 && raised) setOwn(plan.own);
  };
  return {
    spawn(spec, callbacks) {
      begin();
      let ended = false;
      const endOnce = (): void => {
        if (ended) return;
        ended = true;
        end();
      };
      try {
        port.spawn(spec, {
          ...callbacks,
          onSpawned: (pid) => {
            setChild(pid);
            endOnce();
            callbacks.onSpawned(pid);
          },
          onSpawnError: (error) => {
            endOnce();
            callbacks.onSpawnError(error);
          },
        });
      } catch (error) {
        endOnce();
        throw error;
      }
    },
    signal: (pid, signal) => port.signal(pid, signal),
    ...(port.groupMembers === undefined ? {} : { groupMembers: port.groupMembers.bind(port) }),
  };
}

/** The values withOomScoreAdj gives: to each process, to PID 1 while a start is under way, and PID 1's own. */
export interface OomScoreValues {
  readonly value: number;
  readonly whileStarting: number;
  readonly own: number;
}
