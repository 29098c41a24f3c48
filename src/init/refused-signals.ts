import { readFileSync } from 'node:fs';

import type { Reporter } from '../log/reporter.js';
import { setSignalRefusedListener, SIGNAL_PERMISSION_HINT } from '../sys/signals.js';

/** Processes told about at most: a container that lacks CAP_KILL hears it once per process, not per signal. */
const MAX_TOLD = 64;

/**
 * Says once per process that the kernel refused to signal it, with the program's name and
 * what to do; the process keeps running, as under s6-supervise, whose kill() may fail too.
 */
export function reportRefusedSignals(reporter: Reporter): void {
  const told = new Set<number>();
  setSignalRefusedListener((pid, signal) => {
    const target = Math.abs(pid);
    if (told.has(target) || told.size >= MAX_TOLD) return;
    told.add(target);
    const whom = pid === -1 ? 'every process' : `${pid < 0 ? 'the process group of ' : ''}pid ${target}${commandOf(target)}`;
    reporter.warn('steward', `not permitted to send ${signal} to ${whom} (EPERM): it keeps running. ${SIGNAL_PERMISSION_HINT}`);
  });
}

function commandOf(pid: number): string {
  try {
    return ` (${readFileSync(`/proc/${pid}/comm`, 'utf8').trim()})`;
  } catch {
    return '';
  }
}
