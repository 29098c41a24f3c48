import { writeErr } from '../output.js';
import { callForS6, exitForError } from './call.js';
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
  if (/[ahnN]/.test(letters)) {
    const scan = await callForS6('s6-svscanctl', { cmd: 'scan', prune: /[hnN]/.test(letters) });
    if (!scan.ok && scan.error.code !== 'ERR_SHUTTING_DOWN') return exitForError('s6-svscanctl', scan.error);
    if (scan.ok) for (const problem of (scan.result as { problems?: string[] }).problems ?? []) writeErr(`s6-svscanctl: warning: ${problem}\n`);
  }
  if (!/[tiqb]/.test(letters)) return 0;
  const call = await callForS6('s6-svscanctl', { cmd: 'halt', action: 'halt', exitCode: null });
  if (call.ok || call.error.code === 'ERR_SHUTTING_DOWN') return 0;
  return exitForError('s6-svscanctl', call.error);
}
