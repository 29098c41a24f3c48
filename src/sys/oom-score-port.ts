import { constants, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';

import type { ProcessPort } from './spawn.js';

/**
 * A port whose processes start with `value` as their oom_score_adj. A child takes its value
 * from its parent at its clone, and a run script forks at once (`sh -c` in a pipeline, a
 * worker pool), before any write to its own file could come; so this process holds `value`
 * itself while a start is under way (from the call until the start is heard of), and goes back
 * to `own` once none is: going back down to the value it started with needs no privilege.
 * `refused` hears once of a value the kernel will not take (one below `own` without
 * CAP_SYS_RESOURCE). Returns the reason instead when this process cannot write its own value.
 */
export function withOomScoreAdj(port: ProcessPort, value: number, own: number, refused: (code: string) => void, proc = '/proc'): ProcessPort | string {
  let fd: number;
  try {
    fd = openSync(join(proc, 'self', 'oom_score_adj'), constants.O_WRONLY);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? String(error);
  }
  let saidRefused = false;
  // Kept open: one write per change, not an open, a write and a close, on every restart's path.
  const set = (adj: number): void => {
    try {
      writeSync(fd, `${adj}\n`);
    } catch (error) {
      // Left where it is: at worst PID 1 stays level with its services, as without all this.
      if (saidRefused) return;
      saidRefused = true;
      refused((error as NodeJS.ErrnoException).code ?? String(error));
    }
  };
  let underWay = 0;
  const begin = (): void => {
    if (underWay++ === 0) set(value);
  };
  const end = (): void => {
    if (--underWay === 0) set(own);
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
