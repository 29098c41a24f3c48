import { constants, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';

import type { ProcessPort } from './spawn.js';

/**
 * The kernel's OOM killer takes the process with the highest badness: its resident memory,
 * plus oom_score_adj thousandths of the memory it may use (the container's limit, under a
 * memory cgroup). Steward's Node process holds tens of MB, more than a php-fpm or gunicorn
 * worker: under `docker run -m` it would be the one killed, and the whole container with it,
 * where s6-overlay's few-hundred-KiB s6-svscan loses a worker. So every process Steward starts
 * gets an oom_score_adj above PID 1's, by as much as its memory weighs against the limit.
 * Lowering PID 1's own below where it started would need CAP_SYS_RESOURCE, which containers
 * lack; raising it, and lowering it back, needs nothing.
 */

const OOM_SCORE_ADJ_MAX = 1000;
const OOM_SCORE_ADJ_MIN = -1000;
/** Room for PID 1 to grow before a service of no memory at all would weigh less than it. */
const GROWTH_ALLOWANCE = 2;
/** cgroup v1 says "no limit" with a number near 2^63. */
const UNLIMITED_V1 = 2 ** 62;

/** STEWARD_OOM_SCORE_ADJ: computed, left alone, or the value itself. */
export type OomScoreSetting = { readonly mode: 'auto' } | { readonly mode: 'off' } | { readonly mode: 'value'; readonly value: number };

/** STEWARD_OOM_SCORE_ADJ's text as a setting; undefined when it is none of auto, off or -1000 to 1000. */
export function parseOomScoreSetting(raw: string | undefined): OomScoreSetting | undefined {
  const text = raw?.trim().toLowerCase() ?? '';
  if (text === '' || text === 'auto') return { mode: 'auto' };
  if (text === 'off') return { mode: 'off' };
  if (!/^-?\d+$/.test(text)) return undefined;
  const value = Number(text);
  return value >= OOM_SCORE_ADJ_MIN && value <= OOM_SCORE_ADJ_MAX ? { mode: 'value', value } : undefined;
}

/** What the processes Steward starts get, and why, for the boot's report. */
export interface OomScorePlan {
  readonly value: number;
  readonly own: number;
  /** The memory the computation weighed PID 1 against, in bytes, and where it was read. */
  readonly limit?: { readonly bytes: number; readonly source: string };
}

/**
 * The oom_score_adj for the processes Steward starts; undefined when there is nothing to do
 * (off, or PID 1 already at the top, or /proc unreadable).
 */
export function planOomScore(setting: OomScoreSetting, ownRssBytes: number, proc = '/proc', cgroupRoot = '/sys/fs/cgroup'): OomScorePlan | undefined {
  if (setting.mode === 'off') return undefined;
  const own = readOwnOomScoreAdj(proc);
  if (own === undefined) return undefined;
  if (setting.mode === 'value') return setting.value === own ? undefined : { value: setting.value, own };
  if (own >= OOM_SCORE_ADJ_MAX) return undefined;
  const limit = memoryLimit(proc, cgroupRoot);
  if (limit === undefined) return undefined;
  const offset = Math.max(1, Math.ceil((GROWTH_ALLOWANCE * ownRssBytes * 1000) / limit.bytes));
  return { value: Math.min(OOM_SCORE_ADJ_MAX, own + offset), own, limit };
}

function readOwnOomScoreAdj(proc: string): number | undefined {
  try {
    const value = Number(readFileSync(join(proc, 'self', 'oom_score_adj'), 'utf8').trim());
    return Number.isInteger(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The memory the kernel weighs badness against: the lowest memory cgroup limit from this
 * process's cgroup up to the root it can see (cgroup v2's memory.max, v1's
 * memory.limit_in_bytes), or the machine's memory when no limit is set or none can be read.
 */
export function memoryLimit(proc = '/proc', cgroupRoot = '/sys/fs/cgroup'): { bytes: number; source: string } | undefined {
  let lowest: { bytes: number; source: string } | undefined;
  for (const file of cgroupLimitFiles(proc, cgroupRoot)) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8').trim();
    } catch {
      continue;
    }
    const bytes = text === 'max' ? Infinity : Number(text);
    if (!Number.isFinite(bytes) || bytes <= 0 || bytes >= UNLIMITED_V1) continue;
    if (lowest === undefined || bytes < lowest.bytes) lowest = { bytes, source: file };
  }
  if (lowest !== undefined) return lowest;
  try {
    const match = /^MemTotal:\s+(\d+) kB$/m.exec(readFileSync(join(proc, 'meminfo'), 'utf8'));
    return match?.[1] === undefined ? undefined : { bytes: Number(match[1]) * 1024, source: join(proc, 'meminfo') };
  } catch {
    return undefined;
  }
}

/** The limit files of this process's memory cgroup and of each parent above it, deepest first. */
function cgroupLimitFiles(proc: string, cgroupRoot: string): string[] {
  let lines: string[];
  try {
    lines = readFileSync(join(proc, 'self', 'cgroup'), 'utf8').split('\n');
  } catch {
    return [];
  }
  const files: string[] = [];
  for (const line of lines) {
    const [, controllers, path] = /^\d+:([^:]*):(.*)$/.exec(line) ?? [];
    if (controllers === undefined || path === undefined) continue;
    const v1 = controllers.split(',').includes('memory');
    if (!v1 && controllers !== '') continue;
    const base = v1 ? join(cgroupRoot, 'memory') : cgroupRoot;
    const name = v1 ? 'memory.limit_in_bytes' : 'memory.max';
    // Inside a container the path may name the cgroup as the host sees it while the mount shows
    // the container's own cgroup as the root: each level that exists is read.
    for (let dir = join(base, path).replace(/\/+$/, ''); dir.startsWith(base); dir = dirname(dir)) {
      if (existsSync(join(dir, name))) files.push(join(dir, name));
      if (dir === base) break;
    }
  }
  return files;
}

/**
 * A port whose processes start with `value` as their oom_score_adj. A child takes its value
 * from its parent at its clone, and a run script forks at once (`sh -c` in a pipeline, a
 * worker pool), before any write to its own file could come; so this process holds `value`
 * itself while a start is under way (from the call until the start is heard of), and goes back
 * to `own` once none is: going back down to the value it started with needs no privilege.
 * Undefined, with the reason, when this process cannot change its own value.
 */
export function withOomScoreAdj(port: ProcessPort, value: number, own: number, proc = '/proc'): ProcessPort | string {
  let fd: number;
  try {
    fd = openSync(join(proc, 'self', 'oom_score_adj'), constants.O_WRONLY);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? String(error);
  }
  // Kept open: one write per change, not an open, a write and a close, on every restart's path.
  const set = (adj: number): void => {
    try {
      writeSync(fd, `${adj}\n`);
    } catch {
      // Left where it is: at worst PID 1 stays level with its services, as without all this.
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
