import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { errorMessage } from '../../errors.js';
import type { ServiceSupervisor } from '../../supervise/supervisor.js';
import { parseSignal } from '../../sys/signals.js';
import { failure, success, type Action, type Request, type Response, type StateAction } from '../protocol.js';
import { resolveTargets } from '../resolve.js';
import { statusRecord } from '../status.js';
import { baselineOf, conditionWords, waitForCondition, whyHopeless } from '../wait.js';
import type { CommandContext } from './context.js';
import { controlGraphNames, graphOnlyNames } from './graph-names.js';
import type { RcOperations } from '../target.js';
import { bootingFailure } from './rc.js';
import { refusedSignal } from './refused-signal.js';

/**
 * Changes what services should be doing (start, stop, restart, once, no-restart, the
 * down file), then, when asked, waits for the outcome. Mirrors s6-svc's letters.
 */
export async function handleControl(request: Extract<Request, { cmd: 'control' }>, context: CommandContext): Promise<Response> {
  const graphNames = graphOnlyNames(request, context);
  const longruns = graphNames.length === 0 ? request : { ...request, names: request.names.filter((name) => !graphNames.includes(name)) };
  const supervisors = resolveTargets(context.target, longruns);
  if (!Array.isArray(supervisors)) return { ok: false, error: supervisors };
  if (context.target.isStopping() && request.actions.some((action) => action === 'up' || action === 'once' || action === 'restart' || action === 'restart-or-start')) {
    return failure('ERR_SHUTTING_DOWN', 'the container is stopping; services are not started any more');
  }
  if (context.target.booted?.() === false && request.actions.some((action) => action === 'down' || action === 'no-restart')) {
    // Not started yet, but the boot will start it: a stop now would not last.
    const notYetStarted = supervisors.filter((supervisor) => !supervisor.definition.startsDown && supervisor.status.starts === 0 && supervisor.status.pid === null && !supervisor.status.spawning);
    if (notYetStarted.length > 0) return bootingFailure(notYetStarted.map((supervisor) => supervisor.name));
  }
  const rc = context.target.rc;
  if (graphNames.length > 0 && rc !== undefined) {
    if (supervisors.length > 0) {
      return failure('ERR_BAD_REQUEST', `name longruns and s6-rc oneshots or bundles in separate calls: ${graphNames.join(', ')} ${graphNames.length > 1 ? 'are' : 'is'} in the graph`, {
        hint: `For example: steward ${verbOf(request.actions)} ${graphNames.join(' ')}`,
        names: graphNames,
      });
    }
    return controlGraphNames(request, graphNames, rc, context);
  }
  const badSignal = request.actions.find((action) => action.includes(':') && parseSignal(action.slice(action.indexOf(':') + 1)) === undefined);
  if (badSignal !== undefined) return failure('ERR_BAD_SIGNAL', `${JSON.stringify(badSignal)} does not name a signal`);
  // Before anything changes, what depends on them included.
  const refused = request.actions.some(sendsSignal) ? refusedSignal(supervisors) : undefined;
  if (refused !== undefined) return refused;
  // Awaited only when there is something to start or stop first: otherwise the actions apply at once.
  // Before any change starts them: a restart the graph carries out counts as one.
  const baselines = new Map(supervisors.map((supervisor) => [supervisor.name, baselineOf(supervisor)]));
  const starting = startDependencies(request, supervisors, context);
  const dependencies = starting === undefined ? stopWithDependents(request, supervisors, context) : starting.pending;
  if (dependencies !== undefined) {
    const failed = await dependencies;
    if (failed !== undefined) return failed;
  }
  for (const supervisor of supervisors) {
    // Brought up by a change under way, after what it needs: not started here before them.
    if (starting?.leftToGraph.has(supervisor.name) === true) continue;
    for (const action of request.actions) {
      try {
        apply(action, supervisor);
      } catch (error) {
        // The down file's directory is gone (removed by hand, say): said as such, not as a bug.
        return failure('ERR_NOT_RUNNING', `${action} for ${supervisor.name}: ${errorMessage(error)}`, {
          hint: `Its directory ${supervisor.definition.liveDir} may be gone; restart the container to recreate it`,
          names: [supervisor.name],
        });
      }
    }
  }
  if (request.wait !== null) {
    const outcome = await waitForCondition(supervisors, request.wait, {
      any: false,
      timeoutMs: request.timeoutMs,
      abortSignal: context.abortSignal,
      baselines,
      stoppedIsHopeless: request.actions.some((action) => action === 'up' || action === 'once' || action === 'restart-or-start'),
    });
    if (outcome.failed.length > 0) {
      return failure('ERR_PERMANENT_FAILURE', `will not come up: ${whyHopeless(supervisors, outcome.failed)}`, { names: outcome.failed });
    }
    if (outcome.pending.length > 0) {
      return failure('ERR_TIMEOUT', `not ${conditionWords(request.wait)} after ${request.timeoutMs} ms: ${outcome.pending.join(', ')}`, { names: outcome.pending });
    }
  }
  const now = context.now();
  return success({ services: supervisors.map((supervisor) => statusRecord(context.target, supervisor, now)) });
}

/** The steward command a request's actions come from, for a hint. */
function verbOf(actions: readonly Action[]): string {
  if (actions.includes('restart-or-start')) return 'restart';
  if (actions.includes('once')) return 'once';
  return actions.includes('down') ? 'stop' : 'start';
}

/** Actions that signal the run process: down, restarts and the signals themselves. */
function sendsSignal(action: Action): boolean {
  return action === 'down' || action === 'restart' || action === 'restart-or-start' || action.includes(':');
}

function apply(action: Action, supervisor: ServiceSupervisor): void {
  const signalAction = /^(group-)?signal:(.+)$/.exec(action);
  if (signalAction !== null) {
    const signal = parseSignal(signalAction[2] ?? '');
    const pid = supervisor.status.pid;
    if (signal === undefined || pid === null) return;
    // The run process leads its own group (new session), so -pid is the group.
    if (signalAction[1] === undefined) supervisor.signal(signal);
    else supervisor.signalGroup(signal);
    return;
  }
  switch (action as StateAction) {
    case 'up':
      supervisor.up();
      return;
    case 'down':
      supervisor.down();
      return;
    case 'restart':
      // s6-svc -r: the down-signal only, as s6-supervise sends it.
      supervisor.restart({ resume: false });
      return;
    case 'restart-or-start':
      // steward restart: running again afterwards, and kept up, whatever it was before.
      supervisor.restart();
      supervisor.up();
      return;
    case 'once':
      supervisor.once();
      return;
    case 'no-restart':
      supervisor.down({ signal: false });
      return;
    case 'down-file':
      writeFileSync(join(supervisor.definition.liveDir, 'down'), '');
      return;
    case 'no-down-file':
      rmSync(join(supervisor.definition.liveDir, 'down'), { force: true });
      return;
  }
}

/**
 * `steward stop NAME` on an s6-rc longrun that services still up depend on takes them down
 * first, as `s6-rc -d change` does (a Kubernetes preStop hook stopping the database must not
 * leave the app running without it); the longrun itself goes down with them. Only for
 * services given by name, as startDependencies. Returns a failure when the change failed.
 */
function stopWithDependents(request: Extract<Request, { cmd: 'control' }>, supervisors: readonly ServiceSupervisor[], context: CommandContext): Promise<Response | undefined> | undefined {
  const rc = context.target.rc;
  if (rc === undefined || !request.actions.includes('down') || request.actions.some((action) => action === 'up' || action === 'once' || action === 'restart-or-start')) return undefined;
  const named = new Set(request.names);
  const up = new Set(rc.list([], true));
  const cascading = supervisors
    .filter((supervisor) => named.has(supervisor.name) && rc.unknown([supervisor.name]).length === 0)
    .filter((supervisor) => rc.listAll([supervisor.name], 'down').some((name) => name !== supervisor.name && up.has(name)))
    .map((supervisor) => supervisor.name);
  if (cascading.length === 0) return undefined;
  return rc.change('down', cascading, request.timeoutMs, context.abortSignal).then((outcome) => {
    if (outcome.timedOut) return failure('ERR_TIMEOUT', `what depends on ${cascading.join(', ')} was not down after ${request.timeoutMs} ms`, { names: outcome.failed });
    if (outcome.failed.length > 0) return failure('ERR_PERMANENT_FAILURE', `could not bring down what depends on ${cascading.join(', ')}: ${outcome.failed.join(', ')} failed`, { names: outcome.failed });
    return undefined;
  });
}

/**
 * `steward start NAME` on an s6-rc longrun whose dependencies are down (a oneshot stopped with
 * it, say) brings them up first, as `s6-rc -u change` does; it would otherwise run without what
 * it needs. Only for services given by name: s6-svc, which names directories, stays s6's
 * low-level command. Returns a failure when a dependency could not be brought up.
 */
function startDependencies(
  request: Extract<Request, { cmd: 'control' }>,
  supervisors: readonly ServiceSupervisor[],
  context: CommandContext,
): { readonly pending: Promise<Response | undefined> | undefined; readonly leftToGraph: ReadonlySet<string> } | undefined {
  const rc = context.target.rc;
  if (rc === undefined || !request.actions.some((action) => action === 'up' || action === 'once' || action === 'restart-or-start')) return undefined;
  const named = new Set(request.names);
  const inGraph = supervisors.filter((supervisor) => named.has(supervisor.name) && rc.unknown([supervisor.name]).length === 0);
  const waiting = inGraph.filter((supervisor) => context.target.dependenciesOf(supervisor.name).some((dependency) => context.target.dependencyUp?.(dependency) === false)).map((supervisor) => supervisor.name);
  // A start of one the graph has down (a steward stop took it down) goes through the graph too,
  // as s6-rc -u change records it up: the container's stop then takes it down before what it
  // depends on, with its down-signal, and a stop of a dependency takes it down again. Once the
  // boot is over only: a cont-init script's start would wait for the boot that waits for it.
  const upInGraph = (request.actions.includes('up') || request.actions.includes('restart-or-start')) && context.target.booted?.() !== false ? new Set(rc.list([], true)) : undefined;
  const downInGraph = upInGraph === undefined ? [] : inGraph.map((supervisor) => supervisor.name).filter((name) => !upInGraph.has(name) && !waiting.includes(name));
  let ownChange: Promise<Response | undefined> | undefined;
  if (downInGraph.length > 0) {
    // Not the client's signal: the change is carried out even once a --no-wait client has gone
    // (within the request's time when it waits: see changeTimeoutMs). A client that waits hears
    // how it went: it fails as s6-rc -u change fails, within the longrun's timeout-up (taken
    // down again then), rather than after the client's whole --timeout.
    const change = rc.change('up', downInGraph, changeTimeoutMs(request), new AbortController().signal);
    if (request.wait === null) change.then(() => undefined, () => undefined);
    else ownChange = change.then((outcome) => changeFailure(outcome, downInGraph, request.timeoutMs), () => undefined);
  }
  // The change brings up the longruns themselves after what they need, and a failure is said by
  // what failed, dependency or longrun. With --no-wait it is left to go on, and they are not
  // started before it; `once` is applied when it is over (the change starts them to stay up):
  // afterwards here, or once they run, by not restarting them.
  let dependencies: Promise<Response | undefined> | undefined;
  const once = request.actions.includes('once');
  if (waiting.length > 0) {
    if (request.wait === null) {
      rc.change('up', waiting, changeTimeoutMs(request), new AbortController().signal).then(
        (outcome) => {
          if (!once || outcome.failed.length > 0 || outcome.timedOut) return;
          for (const supervisor of supervisors) if (waiting.includes(supervisor.name)) supervisor.down({ signal: false });
        },
        () => undefined,
      );
    } else {
      dependencies = rc.change('up', waiting, request.timeoutMs, context.abortSignal).then((outcome) => changeFailure(outcome, waiting, request.timeoutMs));
    }
  }
  // Started by a change: not started again here (a restart on top would run them twice). One
  // still running (started outside the graph) is restarted all the same.
  const notRunning = (name: string): boolean => {
    const status = supervisors.find((supervisor) => supervisor.name === name)?.status;
    return status !== undefined && status.pid === null && !status.spawning;
  };
  const byChange = request.actions.includes('restart-or-start') ? [...waiting, ...downInGraph].filter(notRunning) : request.wait === null ? waiting : [];
  const pending = ownChange === undefined ? dependencies : dependencies === undefined ? ownChange : Promise.all([ownChange, dependencies]).then((failures) => failures.find((each) => each !== undefined));
  return { pending, leftToGraph: new Set(byChange) };
}

/**
 * The time a change for a start may take: the client's --timeout when it waits; with --no-wait,
 * which waits for nothing, none (each longrun's own timeout-up still applies), as s6-rc -u change
 * without -t: a start handed to the graph is carried out, not dropped when a slow dependency is
 * still starting after the client's time.
 */
function changeTimeoutMs(request: Extract<Request, { cmd: 'control' }>): number {
  return request.wait === null ? 0 : request.timeoutMs;
}

/** How a change that brought up the named longruns went, as a failure, or undefined when it did. */
function changeFailure(outcome: Awaited<ReturnType<RcOperations['change']>>, names: readonly string[], timeoutMs: number): Response | undefined {
  if (outcome.timedOut) return failure('ERR_TIMEOUT', `not up after ${timeoutMs} ms: ${names.join(', ')}`, { names: outcome.failed });
  if (outcome.failed.length === 0) return undefined;
  const reasons = outcome.transitions.filter((step) => step.event === 'failed').map((step) => `${step.name}: ${step.reason ?? 'it failed'}`);
  return failure('ERR_PERMANENT_FAILURE', `unable to start ${reasons.length > 0 ? reasons.join('; ') : outcome.failed.join(', ')}`, { names: outcome.failed });
}
