import { realpathSync } from 'node:fs';

import { writeErr } from '../output.js';
import { outliveTheShutdown } from '../call.js';
import { callForS6, exitForError, fatal, S6_EXIT } from './call.js';
import { missingDirReason, serviceDirArgument } from './dirs.js';
import { getopt, UsageError } from './getopt.js';

export const USAGE = 's6-svscanctl [ -zabhitqnN ] svscandir';

/**
 * s6-svscanctl: -a scans the scan directory (a service directory copied there is supervised),
 * -h and -n scan and stop the services whose directory left it; -t, -i, -q and -b stop the
 * container, which is what v2-era finish scripts use `s6-svscanctl -t /var/run/s6/services`
 * for. -z has nothing to do: Steward reaps as soon as a child dies.
 */
export async function s6svscanctl(args: readonly string[]): Promise<number> {
  const { options, operands } = getopt(args, 'zabhitqnN');
  if (operands.length !== 1) throw new UsageError('give the scan directory');
  const letters = options.map(({ letter }) => letter).join('');
  const refusal = await checkScanDir(operands[0] ?? '');
  if (refusal !== null) return refusal;
  if (/[ahnN]/.test(letters)) {
    const scan = await callForS6('s6-svscanctl', { cmd: 'scan', prune: /[hnN]/.test(letters) });
    if (!scan.ok && scan.error.code !== 'ERR_SHUTTING_DOWN') return exitForError('s6-svscanctl', scan.error);
    if (scan.ok) for (const problem of (scan.result as { problems?: string[] }).problems ?? []) writeErr(`s6-svscanctl: warning: ${problem}\n`);
  }
  if (!/[tiqb]/.test(letters)) return 0;
  const leave = outliveTheShutdown();
  const call = await callForS6('s6-svscanctl', { cmd: 'halt', action: 'halt', exitCode: null, requester: process.pid });
  if (call.ok || call.error.code === 'ERR_SHUTTING_DOWN') return leave(0);
  return leave(exitForError('s6-svscanctl', call.error));
}

/**
 * Only Steward's scan directory has a scanner listening: a missing directory is a system
 * failure (111), another directory has no s6-svscan (100), as with s6's own s6-svscanctl.
 * Checked first, so `-t` on a mistyped or private directory does not stop the container.
 * Returns the exit code to leave with, or null when `dir` is Steward's.
 */
async function checkScanDir(dir: string): Promise<number | null> {
  const reason = missingDirReason(dir);
  if (reason !== null) {
    fatal('s6-svscanctl', `unable to control ${dir}: ${reason}`);
    return S6_EXIT.system;
  }
  const ping = await callForS6('s6-svscanctl', { cmd: 'ping' });
  if (!ping.ok) {
    if (ping.error.code !== 'ERR_CONTROL_UNAVAILABLE') return exitForError('s6-svscanctl', ping.error);
    fatal('s6-svscanctl', `unable to control ${dir}: supervisor not listening (Steward's control socket cannot be reached: ${ping.error.message})`);
    return S6_EXIT.usage;
  }
  const scanDir = (ping.result as { scanDir?: unknown }).scanDir;
  // A Steward that does not say which is its scan directory: as before, trust the caller.
  if (typeof scanDir !== 'string') return null;
  if (canonical(dir) === canonical(scanDir)) return null;
  fatal('s6-svscanctl', `unable to control ${dir}: supervisor not listening (Steward's scan directory is ${scanDir})`);
  return S6_EXIT.usage;
}

/** A directory as the system resolves it: /var/run/s6/services and /run/service are one. */
function canonical(dir: string): string {
  const named = serviceDirArgument(dir);
  try {
    return realpathSync(named);
  } catch {
    return named;
  }
}
