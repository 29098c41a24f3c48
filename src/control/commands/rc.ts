import { failure, success, type Request, type Response } from '../protocol.js';
import { unknownServices } from '../resolve.js';
import type { CommandContext } from './context.js';

/** s6-rc over the service graph: change (up or down, with dependencies), list, listall. */
export async function handleRc(request: Extract<Request, { cmd: 'rc' }>, context: CommandContext): Promise<Response> {
  const rc = context.target.rc;
  if (rc === undefined) return failure('ERR_NOT_RUNNING', 'the service graph is not loaded yet');
  const unknown = rc.unknown(request.names);
  if (unknown.length > 0) return { ok: false, error: unknownServices(context.target, unknown) };
  switch (request.op) {
    case 'list':
      return success({ names: rc.list(request.names, request.active, request.direction) });
    case 'listall':
      return success({ names: rc.listAll(request.names, request.direction, request.active) });
    case 'change': {
      const options = { active: request.active, prune: request.prune, essentialToo: request.essential };
      if (request.dryRun) {
        if (rc.plan === undefined) return failure('ERR_BAD_REQUEST', 'dry runs are not supported here');
        return success({ changed: [], plan: rc.plan(request.direction, request.names, options) });
      }
      // With prune, a change goes both ways.
      const bringsUp = request.direction === 'up' || request.prune;
      const bringsDown = request.direction === 'down' || request.prune;
      if (bringsUp && context.target.isStopping()) return failure('ERR_SHUTTING_DOWN', 'the container is stopping; services are not started any more');
      if (bringsDown && context.target.booted?.() === false) return bootingFailure(request.names);
      // Asked for by a script the boot runs (a cont-init script's s6-rc -u change of a service
      // that depends on base), the change would wait for that script, and the script for it: as
      // s6-rc, which cannot take the lock the boot holds, it fails at once.
      const running = bringsUp && context.target.booted?.() === false ? (rc.runningUps?.(request.names, options) ?? []) : [];
      if (running.length > 0) {
        return failure('ERR_BOOTING', `unable to take locks: the boot is running the up of ${running.join(', ')}, which this change needs; it would wait for the boot, and the boot may be waiting for it`, {
          hint: 'Ask for it once the boot is over (from a longrun, or after the s6-rc line "service legacy-services successfully started"), or put the service in the user bundle so that the boot starts it',
          names: running,
        });
      }
      const outcome = await rc.change(request.direction, request.names, request.timeoutMs, context.abortSignal, options);
      const { transitions } = outcome;
      if (outcome.timedOut) return failure('ERR_TIMEOUT', `the transition did not finish within ${request.timeoutMs} ms`, { names: outcome.failed, transitions });
      if (outcome.failed.length > 0) return failure('ERR_PERMANENT_FAILURE', `some transitions failed: ${outcome.failed.join(', ')}`, { names: outcome.failed, transitions });
      return success({ changed: request.names, transitions });
    }
  }
}

/**
 * Bringing a service down while the boot brings the graph up would not last: the boot would
 * start it afterwards. s6-rc refuses a second transition too (its lock is taken).
 */
export function bootingFailure(names: readonly string[]): Response {
  return failure('ERR_BOOTING', `the boot is still bringing services up, and would start ${names.join(', ')} again: not stopped`, {
    hint: 'Stop it once the boot is over (the s6-rc line "service legacy-services successfully started", or steward wait --up on a service)',
    names,
  });
}
