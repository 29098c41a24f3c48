import { failure, success, type Request, type Response } from '../protocol.js';
import { resolveTargets } from '../resolve.js';
import { waitForCondition, whyHopeless } from '../wait.js';
import type { CommandContext } from './context.js';

/** Waits until services reach a state, as s6-svwait. */
export async function handleWait(request: Extract<Request, { cmd: 'wait' }>, context: CommandContext): Promise<Response> {
  const supervisors = resolveTargets(context.target, request);
  if (!Array.isArray(supervisors)) return { ok: false, error: supervisors };
  const outcome = await waitForCondition(supervisors, request.condition, {
    any: request.any,
    timeoutMs: request.timeoutMs,
    abortSignal: context.abortSignal,
  });
  const done = request.any ? outcome.reached.length > 0 : outcome.pending.length === 0 && outcome.failed.length === 0;
  if (done) return success(outcome);
  // With `any`, a failure ends the wait at once (as in s6-svwait -o): that is no timeout.
  if (outcome.failed.length > 0) {
    return failure('ERR_PERMANENT_FAILURE', `will not come up: ${whyHopeless(supervisors, outcome.failed)}`, { names: outcome.failed });
  }
  return failure('ERR_TIMEOUT', `not ${request.condition} after ${request.timeoutMs} ms: ${outcome.pending.join(', ')}`, { names: outcome.pending });
}
