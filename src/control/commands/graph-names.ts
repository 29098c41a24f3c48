import { failure, success, type Action, type Request, type Response } from '../protocol.js';
import type { RcOperations } from '../target.js';
import type { CommandContext } from './context.js';
import { bootingFailure } from './rc.js';

/** What `steward start`, `stop` and `restart` mean for an s6-rc oneshot or bundle: a transition, as s6-rc -u / -d change. */
const GRAPH_ACTIONS: ReadonlySet<Action> = new Set(['up', 'down', 'restart', 'restart-or-start', 'once']);

/**
 * The names a control request gives that are no supervised longrun but an s6-rc oneshot
 * or bundle: those are brought up or down through the graph, with their dependencies
 * (or dependents), as `s6-rc change` does. Empty when there is no graph.
 */
export function graphOnlyNames(request: Extract<Request, { cmd: 'control' }>, context: CommandContext): string[] {
  const rc = context.target.rc;
  if (rc === undefined) return [];
  return request.names.filter((name) => !context.target.supervisors.has(name) && rc.unknown([name]).length === 0);
}

/** Carries out the actions on oneshots and bundles, in order; waits for each transition unless the request waits for nothing. */
export async function controlGraphNames(
  request: Extract<Request, { cmd: 'control' }>,
  names: readonly string[],
  rc: RcOperations,
  context: CommandContext,
): Promise<Response> {
  const unsupported = request.actions.find((action) => !GRAPH_ACTIONS.has(action));
  if (unsupported !== undefined) {
    return failure('ERR_BAD_REQUEST', `${names.join(', ')} ${names.length > 1 ? 'are s6-rc oneshots or bundles' : 'is an s6-rc oneshot or bundle'}: only start, stop, restart and once apply, not ${unsupported}`, {
      hint: 'Signals and the down file apply to longruns; a oneshot runs its up script when started and its down script when stopped',
      names,
    });
  }
  if (context.target.booted?.() === false && request.actions.some((action) => action !== 'up' && action !== 'once')) return bootingFailure(names);
  const run = async (): Promise<{ failed: string[]; timedOut: boolean }> => {
    let outcome: { failed: string[]; timedOut: boolean } = { failed: [], timedOut: false };
    for (const action of request.actions) {
      if (action === 'down' || action === 'restart' || action === 'restart-or-start') {
        // A restart runs a oneshot's down script, then its up script; what went down with it
        // (its dependents: a oneshot in `user` takes the services.d services along) comes back.
        const upBefore = action === 'down' ? [] : rc.list([], true);
        outcome = await rc.change('down', names, request.timeoutMs, context.abortSignal);
        if (outcome.failed.length > 0) break;
        if (action === 'down') continue;
        outcome = await rc.change('up', [...new Set([...names, ...upBefore])], request.timeoutMs, context.abortSignal);
      } else {
        outcome = await rc.change('up', names, request.timeoutMs, context.abortSignal);
      }
      if (outcome.failed.length > 0) break;
    }
    return outcome;
  };
  if (request.wait === null) {
    // Without a wait the answer comes at once; what the transition does is in the status and the log.
    void run().catch(() => undefined);
    return success({ changed: names });
  }
  const outcome = await run();
  if (outcome.timedOut) return failure('ERR_TIMEOUT', `not done after ${request.timeoutMs} ms: ${outcome.failed.join(', ')}`, { names: outcome.failed });
  if (outcome.failed.length > 0) return failure('ERR_PERMANENT_FAILURE', `failed: ${outcome.failed.join(', ')}`, { names: outcome.failed });
  return success({ changed: names });
}
