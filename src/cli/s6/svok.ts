import { callForS6, exitForError } from './call.js';
import { absoluteDirs, missingDirReason } from './dirs.js';
import { getopt, UsageError } from './getopt.js';

export const USAGE = 's6-svok servicedir';

/** s6-svok's answer when nothing supervises the directory (a missing one included, as s6's). */
const NOT_SUPERVISED = 1;

/** s6-svok: 0 when Steward supervises the service directory, 1 when nothing does. Prints nothing. */
export async function s6svok(args: readonly string[]): Promise<number> {
  const { operands } = getopt(args, '');
  if (operands.length !== 1) throw new UsageError('give exactly one service directory');
  const dir = operands[0] ?? '';
  if (missingDirReason(dir) !== null) return NOT_SUPERVISED;
  const call = await callForS6('s6-svok', { cmd: 'status', dirs: absoluteDirs([dir]) });
  if (call.ok) return (call.result as { services: unknown[] }).services.length > 0 ? 0 : NOT_SUPERVISED;
  // No Steward to ask, or a directory it does not supervise.
  if (call.error.code === 'ERR_UNKNOWN_SERVICE' || call.error.code === 'ERR_CONTROL_UNAVAILABLE') return NOT_SUPERVISED;
  return exitForError('s6-svok', call.error);
}
