import { callForS6, exitForError } from './call.js';
import { getopt, UsageError } from './getopt.js';

export const USAGE = 's6-svscanctl [ -zabhitqnN ] svscandir';

/**
 * s6-svscanctl: the scan and reap letters have nothing to do in Steward (it watches
 * its services itself); -t, -i, -q and -b stop the container, which is what v2-era
 * finish scripts use `s6-svscanctl -t /var/run/s6/services` for.
 */
export async function s6svscanctl(args: readonly string[]): Promise<number> {
  const { options, operands } = getopt(args, 'zabhitqnN');
  if (operands.length !== 1) throw new UsageError('give the scan directory');
  if (!options.some(({ letter }) => 'tiqb'.includes(letter))) return 0;
  const call = await callForS6('s6-svscanctl', { cmd: 'halt', action: 'halt', exitCode: null });
  if (call.ok || call.error.code === 'ERR_SHUTTING_DOWN') return 0;
  return exitForError('s6-svscanctl', call.error);
}
