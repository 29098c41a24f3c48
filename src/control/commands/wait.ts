import { raceWithLimits } from '../../util/race.js';
import { failure, success, type ControlErrorBody, type Request, type Response } from '../protocol.js';
import { resolveTargets, serviceNameOfDir } from '../resolve.js';
import type { ServiceSupervisor } from '../../supervise/supervisor.js';
import { conditionWords, waitForCondition, whyHopeless } from '../wait.js';
import type { CommandContext } from './context.js';

/** Waits until services reach a state, as s6-svwait. */
export async function handleWait(request: Extract<Request, { cmd: 'wait' }>, context: CommandContext): Promise<Response> {
  const startedAt = context.now();
  const supervisors = await resolveOnceKnown(request, context);
  if (!Array.isArray(supervisors)) return { ok: false, error: supervisors };
  // What the boot took counts against the request's own time limit.
  const timeoutMs = request.timeoutMs === 0 ? 0 : Math.max(1, request.timeoutMs - (context.now() - startedAt));
  const outcome = await waitForCondition(supervisors, request.condition, {
    any: request.any,
    timeoutMs,
    abortSignal: context.abortSignal,
  });
  const done = request.any ? outcome.reached.length > 0 : outcome.pending.length === 0 && outcome.failed.length === 0;
  if (done) return success(outcome);
  // With `any`, a failure ends the wait at once (as in s6-svwait -o): that is no timeout.
  if (outcome.failed.length > 0) {
    return failure('ERR_PERMANENT_FAILURE', `will not come up: ${whyHopeless(supervisors, outcome.failed)}`, { names: outcome.failed });
  }
  return failure('ERR_TIMEOUT', `not ${conditionWords(request.condition)} after ${request.timeoutMs} ms: ${outcome.pending.join(', ')}`, { names: outcome.pending });
}

/**
 * The services named; while the boot runs, a name not known yet (a services.d service, read
 * once cont-init.d is done) is waited for until the boot is over, within the request's time:
 * a health check that waits from the container's first second must not fail as unknown.
 */
async function resolveOnceKnown(request: Extract<Request, { cmd: 'wait' }>, context: CommandContext): Promise<ServiceSupervisor[] | ControlErrorBody> {
  const first = resolveTargets(context.target, request);
  const { target } = context;
  if (Array.isArray(first) || first.code !== 'ERR_UNKNOWN_SERVICE' || target.booted?.() !== false || target.whenBooted === undefined) return first;
  // Those services alone when the target can tell: the boot may wait for the waiter (its
  // readiness with S6_CMD_WAIT_FOR_SERVICES), so waiting for the whole boot could never end.
  const names = [...request.names, ...request.dirs.map(serviceNameOfDir)];
  const arrived = target.whenKnown === undefined ? target.whenBooted() : target.whenKnown(names, request.ownProcess);
  if (!(await raceWithLimits(arrived, context.abortSignal, request.timeoutMs))) {
    return { code: 'ERR_TIMEOUT', message: `the boot was not over after ${request.timeoutMs} ms, and ${names.join(', ')} not read yet`, names };
  }
  return resolveTargets(target, request);
}
