import type { WaitCondition } from '../../control/protocol.js';
import { callForS6, exitForError, fatal, S6_EXIT } from './call.js';
import { absoluteDirs, firstMissingDir, inScanDir } from './dirs.js';
import { getopt, UsageError } from './getopt.js';
import { underStewardInit } from '../../sys/proc.js';

export const USAGE = 's6-svwait [ -U | -u | -d | -D | -r | -R ] [ -a | -o ] [ -t timeout ] servicedir...';
const CONDITIONS: Record<string, WaitCondition> = { u: 'up', U: 'ready', d: 'down', D: 'finished', r: 'restarted', R: 'restarted-ready' };

/** s6-svwait: 0 when reached, 99 on timeout, or the number of services that failed for good. */
export async function s6svwait(args: readonly string[]): Promise<number> {
  const { options, operands } = getopt(args, 'uUdDrRaot:');
  if (operands.length === 0) throw new UsageError('no service directory');
  let condition: WaitCondition = 'up';
  let any = false;
  let timeoutMs = 0;
  for (const { letter, value } of options) {
    if (letter === 'a') any = false;
    else if (letter === 'o') any = true;
    else if (letter === 't') {
      if (!/^\d+$/.test(value ?? '')) throw new UsageError('-t takes a number of milliseconds');
      timeoutMs = Number(value);
    } else condition = CONDITIONS[letter] ?? condition;
  }
  // A service of the scan directory not in place yet is waited for while Steward boots (it puts
  // them in place one after the other, where s6-overlay links them all before any starts).
  const missing = firstMissingDir(operands.filter((dir) => !inScanDir(dir)));
  if (missing !== null) {
    fatal('s6-svwait', `unable to subscribe to events for ${missing.dir}: ${missing.reason}`);
    return S6_EXIT.system;
  }
  const call = await callForS6('s6-svwait', { cmd: 'wait', dirs: absoluteDirs(operands), condition, any, timeoutMs, ownProcess: underStewardInit() });
  if (call.ok) return 0;
  if (call.error.code === 'ERR_TIMEOUT') {
    fatal('s6-svwait', 'timed out');
    return 99;
  }
  if (call.error.code === 'ERR_PERMANENT_FAILURE') {
    // skarnet's says it in these words, without naming them; the message names them.
    fatal('s6-svwait', `some services reported permanent failure or their supervisor died: ${call.error.message}`);
    return Math.min(98, ('names' in call.error ? call.error.names?.length : undefined) ?? 1);
  }
  if (call.error.code === 'ERR_UNKNOWN_SERVICE') {
    // A directory left to the server above that is still not there once the boot is over.
    const absent = firstMissingDir(operands);
    if (absent !== null) {
      fatal('s6-svwait', `unable to subscribe to events for ${absent.dir}: ${absent.reason}`);
      return S6_EXIT.system;
    }
    // No supervisor there: s6 cannot read its status, a system failure for s6-svwait.
    fatal('s6-svwait', `unable to read the status of ${call.error.names?.join(', ') ?? operands.join(', ')}: s6-supervise not running. ${call.error.hint ?? ''}`.trim());
    return S6_EXIT.system;
  }
  return exitForError('s6-svwait', call.error);
}
