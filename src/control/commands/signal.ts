import { parseSignal } from '../../sys/signals.js';
import { failure, success, type Request, type Response } from '../protocol.js';
import { resolveTargets } from '../resolve.js';
import type { CommandContext } from './context.js';
import { refusedSignal } from './refused-signal.js';

/** Sends a signal to services' run processes (or their process groups, as s6-svc -P/-C/-K). */
export function handleSignal(request: Extract<Request, { cmd: 'signal' }>, context: CommandContext): Response {
  const signal = parseSignal(request.signal);
  if (signal === undefined) {
    return failure('ERR_BAD_SIGNAL', `${JSON.stringify(request.signal)} is not a signal`, { hint: 'Use a name such as HUP, TERM, USR1, or a number' });
  }
  const supervisors = resolveTargets(context.target, request);
  if (!Array.isArray(supervisors)) return { ok: false, error: supervisors };
  const refused = refusedSignal(supervisors);
  if (refused !== undefined) return refused;
  const sent: string[] = [];
  const notRunning: string[] = [];
  for (const supervisor of supervisors) {
    const pid = supervisor.status.pid;
    // A run process leads its own group (it is started in a new session), so -pid is its group.
    const delivered = pid !== null && (request.group ? supervisor.signalGroup(signal) : supervisor.signal(signal));
    (delivered ? sent : notRunning).push(supervisor.name);
  }
  if (sent.length === 0) return failure('ERR_NOT_RUNNING', `not running: ${notRunning.join(', ')}`, { names: notRunning });
  return success({ signal, sent, notRunning });
}
