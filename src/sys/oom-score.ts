import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { memoryLimit } from './memory-limit.js';

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
  /**
   * What PID 1 holds while a start is under way, for the child to inherit at its clone: half
   * way from its own value to `value`, so that the processes already running at `value` still
   * outrank it should the OOM killer run then (the new process's exec charges memory), and
   * what the new process forks before it is given `value` still outranks PID 1 afterwards.
   */
  readonly whileStarting: number;
  readonly own: number;
  /** The memory the computation weighed PID 1 against, in bytes, and where it was read. */
  readonly limit?: { readonly bytes: number; readonly source: string };
}

/**
 * The oom_score_adj for the processes Steward starts; undefined when there is nothing to do
 * (off, PID 1 at the top or exempt, or /proc unreadable).
 */
export function planOomScore(setting: OomScoreSetting, ownRssBytes: number, proc = '/proc', cgroupRoot = '/sys/fs/cgroup'): OomScorePlan | undefined {
  if (setting.mode === 'off') return undefined;
  const own = readOwnOomScoreAdj(proc);
  if (own === undefined) return undefined;
  if (setting.mode === 'value') return setting.value === own ? undefined : { value: setting.value, whileStarting: halfWay(own, setting.value), own };
  // At the top, nothing is above; at the bottom, the runtime exempted the container from the OOM
  // killer altogether (-1000): raising its processes would make them killable.
  if (own >= OOM_SCORE_ADJ_MAX || own <= OOM_SCORE_ADJ_MIN) return undefined;
  const limit = memoryLimit(proc, cgroupRoot);
  if (limit === undefined) return undefined;
  // At least 2: PID 1 holds half of it while starting, and must stay below the other half.
  const offset = Math.max(2, Math.ceil((GROWTH_ALLOWANCE * ownRssBytes * 1000) / limit.bytes));
  const value = Math.min(OOM_SCORE_ADJ_MAX, own + offset);
  return { value, whileStarting: halfWay(own, value), own, limit };
}

/**
 * Half way up from `own` to `value`, rounded down, so that the processes at `value` stay above
 * PID 1 while it holds it (a step of 1 leaves PID 1 where it is); `own` when `value` is not
 * above it (lowering a child is for after its start).
 */
function halfWay(own: number, value: number): number {
  return value > own ? own + Math.floor((value - own) / 2) : own;
}

function readOwnOomScoreAdj(proc: string): number | undefined {
  try {
    const value = Number(readFileSync(join(proc, 'self', 'oom_score_adj'), 'utf8').trim());
    return Number.isInteger(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
