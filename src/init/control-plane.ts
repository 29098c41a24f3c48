import { existsSync, lstatSync } from 'node:fs';
import { join } from 'node:path';

import type { Server } from 'node:http';

import { sendRequest, socketPath } from '../control/client.js';
import { parseHttpAddress, probeServer } from '../control/http.js';
import { ControlServer } from '../control/server.js';
import { statusSocketPath } from '../control/status-socket.js';
import type { RcTransition } from '../control/protocol.js';
import type { ControlTarget, RcOperations, RcSelectionOptions, RcStep } from '../control/target.js';
import { type ChangePlan, changePlan, closedSelection, complementOf, selectionOf, transitionWaves } from '../graph/rc-selection.js';
import type { RcAtomic } from '../model/rc.js';
import { raceWithLimits } from '../util/race.js';
import { errnoCode, errorMessage } from '../errors.js';
import { lookupGroup } from '../sys/accounts.js';
import { sessionOf } from '../sys/proc.js';
import type { InitContext } from './context.js';
import { writeExitCode } from './runtime-dir.js';
import type { ServiceSet } from './service-set.js';
import type { ServiceScanner } from './scan.js';
import type { Engine, EngineEvents } from '../graph/engine.js';
import { runsOn } from '../supervise/supervisor.js';

/** The container as the control plane sees it. */
export function controlTarget(
  context: InitContext,
  services: ServiceSet,
  startedAt: number,
  engine: () => Engine | undefined,
  boot: { readonly done: () => boolean; readonly over: Promise<void> },
  scanner: ServiceScanner,
): ControlTarget {
  const servicesD = join(context.settings.legacyEtcDir ?? context.settings.etcDir, 'services.d');
  const whenKnown = arrivals(services, boot.over, (name, ownProcess) => mayArrive(engine(), servicesD, name, ownProcess === true));
  return {
    supervisors: services.supervisors,
    startedAt,
    isStopping: () => context.shutdown.reason !== undefined,
    halt(action, exitCode, via = 'through the control socket', requester) {
      // An exit code still counts while stopping, until the last stage reads it: the last writer
      // wins, as with s6-overlay's exit code file.
      if (exitCode !== null) writeExitCode(context.layout, exitCode);
      if (context.shutdown.reason !== undefined) return false;
      context.reporter.info('steward', `${action} requested ${via}`);
      // Read now, while the one that asked waits for the answer: a boot script's own halt lets it end by itself.
      const fromSession = requester === undefined ? undefined : sessionOf(requester);
      return context.shutdown.request({ kind: 'halt', ...(fromSession === undefined ? {} : { fromSession }), ...(action === 'halt' ? {} : { action }) });
    },
    dependenciesOf: (name) => [...(engine()?.graph.dependencies.get(name) ?? [])].filter((dependency) => !isStage(engine(), dependency)),
    // A longrun by its supervisor: one stopped outside the graph (steward stop) is not up; one
    // running but not to be restarted (s6-svc -O, as Frigate's run script does) still is.
    dependencyUp: (name) => {
      const current = engine();
      if (current?.graph.atomics.get(name)?.kind === 'longrun') {
        const status = services.supervisors.get(name)?.status;
        return current.state(name) === 'up' && status !== undefined && runsOn(status);
      }
      return current?.state(name) === 'up';
    },
    get rc() {
      const current = engine();
      return current === undefined ? undefined : rcOperations(current, context.layout.serviceDir, context.shutdown.signal);
    },
    booted: boot.done,
    whenBooted: () => boot.over,
    whenKnown,
    startFailures: () => {
      const current = engine();
      if (current === undefined) return [];
      return [...current.graph.atomics.keys()].flatMap((name) => {
        const state = current.state(name);
        const reason = current.whyNotUp(name);
        return (state === 'failed' || state === 'blocked') && reason !== undefined ? [{ name, state, reason }] : [];
      });
    },
    scan: (prune) => scanner.scan(prune),
    scanDir: context.layout.serviceDir,
    oneshots: () => {
      const current = engine();
      if (current === undefined) return [];
      return [...current.graph.atomics.values()]
        .filter((atomic) => atomic.kind === 'oneshot' && atomic.up.kind !== 'builtin')
        .map((atomic) => {
          const { startedAt, upAt } = current.timing(atomic.name);
          // Whole epoch milliseconds, as every other time the control plane gives.
          return { name: atomic.name, state: current.state(atomic.name) ?? 'down', startedAt: roundOrNull(startedAt), upAt: roundOrNull(upAt) };
        });
    },
  };
}

/**
 * Serves the control socket, and next to it the status socket, open to every user for the
 * requests that only read (s6-svstat and steward status as any user, as s6's status files are
 * world-readable). A failure here is reported and the container runs on without them:
 * supervising matters more than being controllable.
 */
/** The control plane once served: closed at the end; asked to let answered clients read first. */
export interface ControlPlane {
  close(): Promise<void>;
  /** Resolves once the clients answered so far have closed their connections, or after `timeoutMs`. */
  answeredClientsGone(timeoutMs: number): Promise<void>;
}

export async function startControlPlane(context: InitContext, target: ControlTarget, env: NodeJS.ProcessEnv, startsPaused: () => Promise<void>): Promise<ControlPlane | undefined> {
  const path = socketPath(env, context.settings.runDir);
  const groupName = env['STEWARD_CONTROL_GROUP']?.trim() ?? '';
  let group: number | null = null;
  if (groupName !== '') {
    group = lookupGroup(groupName) ?? null;
    if (group === null) context.reporter.error('steward', `STEWARD_CONTROL_GROUP=${groupName} is not a group here; the control socket stays private. Use a group name from /etc/group or a number`);
  }
  const now = (): number => context.clock.now();
  const ownsDirectory = (env['STEWARD_SOCKET'] ?? '') === '';
  let server = new ControlServer(path, target, { group, now, ownsDirectory });
  const statusServer = new ControlServer(statusSocketPath(path), target, { group: null, now, readOnly: true });
  try {
    // Bound now, before any service starts: a client that connects early waits in the
    // socket's backlog. Answering can wait until the boot's starts are on their way.
    try {
      server.bind();
    } catch (error) {
      // A group this user may not give files to (not one of its groups, as non-root): the
      // socket stays private, as for a group that does not exist, rather than lost.
      if (group === null || (errnoCode(error) !== 'EPERM' && errnoCode(error) !== 'EACCES')) throw error;
      context.reporter.error('steward', `STEWARD_CONTROL_GROUP=${groupName}: cannot give the control socket to that group (${errnoCode(error) ?? ''}; Steward runs as uid ${process.getuid?.() ?? '?'}, not a member); the control socket stays private. Run Steward as a member of the group, or as root`);
      await server.close();
      group = null;
      server = new ControlServer(path, target, { group, now, ownsDirectory });
      server.bind();
    }
    statusServer.bind();
    // Answering loads Node's net module and its listening machinery, milliseconds of this
    // thread that would hold back a hundred service starts: once they have gone out.
    await startsPaused();
    await server.serve();
    await statusServer.serve();
  } catch (error) {
    context.reporter.error('steward', `cannot serve the control socket at ${path}: ${errorMessage(error)}; steward status and the s6 commands will not work`);
    await Promise.all([server.close(), statusServer.close()]);
    return undefined;
  }
  context.reporter.debug('steward', `control socket at ${path}${group === null ? '' : ` (group ${groupName})`}, status socket at ${statusServer.path}`);
  return {
    close: async () => void (await Promise.all([server.close(), statusServer.close()])),
    answeredClientsGone: (timeoutMs) => server.answeredClientsGone(timeoutMs),
  };
}

/** Serves the probe endpoints when STEWARD_HTTP asks for them; a failure is reported, not fatal. */
export async function startProbeEndpoint(context: InitContext, target: ControlTarget, env: NodeJS.ProcessEnv): Promise<Server | undefined> {
  const setting = env['STEWARD_HTTP']?.trim() ?? '';
  if (setting === '') return undefined;
  let address;
  try {
    address = parseHttpAddress(setting);
  } catch (error) {
    context.reporter.error('steward', errorMessage(error));
    return undefined;
  }
  const server = await probeServer(target, () => context.clock.now());
  let host = address.host;
  try {
    try {
      await listen(server, address.port, host);
    } catch (error) {
      // Every address asked for, on a host without IPv6: IPv4's.
      const code = errnoCode(error);
      if (address.fallbackHost === undefined || (code !== 'EAFNOSUPPORT' && code !== 'EADDRNOTAVAIL')) throw error;
      host = address.fallbackHost;
      await listen(server, address.port, host);
    }
  } catch (error) {
    context.reporter.error('steward', `cannot serve the probe endpoints on ${host}:${address.port}: ${errorMessage(error)}${probeBindHint(errnoCode(error), address.port)}`);
    return undefined;
  }
  context.reporter.info('steward', `probe endpoints on http://${host.includes(':') ? `[${host}]` : host}:${address.port}/ (/healthz, /readyz, /status)`);
  return server;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/**
 * Whether a service not supervised yet can still come during the boot: an s6-rc longrun, a
 * services.d service (read once cont-init.d is done: a health check run from the container's
 * first second waits for it), or, once services.d is being started, any name (a scan may add
 * it). Otherwise a wait fails at once, as s6's on a directory that is not there, rather than
 * hold the boot: a cont-init script waiting for a service no tree has (v1's s6-fdholderd, in an
 * image without v2's files) would wait for a boot that waits for it.
 */
function mayArrive(engine: Engine | undefined, servicesD: string, name: string, askedByOwnProcess: boolean): boolean {
  // One of Steward's own processes (the stage 2 hook, a cont-init.d script, a oneshot) asking
  // before services.d is read could wait for what comes after it: for ever. Under s6-overlay,
  // the directory is not there yet, and s6-svwait fails at once; so does this wait.
  if (askedByOwnProcess && (engine === undefined || (engine.graph.atomics.get(name)?.kind !== 'longrun' && engine.state('legacy-services') === 'down'))) return false;
  // Before the graph is read (the stage 2 hook runs), which names it holds is not known yet.
  if (engine === undefined || engine.graph.atomics.get(name)?.kind === 'longrun') return true;
  if (engine.state('legacy-services') !== 'down') return true;
  // A logger is NAME/log: its directory is in the service's.
  return name !== '' && !name.split('/').includes('..') && existsSync(join(servicesD, name, 'run'));
}

/**
 * Waits for services to be supervised with their directory in place (as each services.d
 * service is, once read and copied), or for the boot to be over, whichever comes first; at
 * once for names that cannot come (see mayArrive).
 */
function arrivals(services: ServiceSet, bootOver: Promise<void>, mayCome: (name: string, ownProcess?: boolean) => boolean): (names: readonly string[], ownProcess?: boolean) => Promise<void> {
  const waiting = new Set<{ readonly names: readonly string[]; readonly resolve: () => void }>();
  const known = (names: readonly string[]): boolean => names.every((name) => services.supervisors.has(name));
  services.whenInstalled(() => {
    for (const waiter of waiting) {
      if (!known(waiter.names)) continue;
      waiting.delete(waiter);
      waiter.resolve();
    }
  });
  return (names, ownProcess) =>
    new Promise<void>((resolve) => {
      if (known(names) || names.some((name) => !services.supervisors.has(name) && !mayCome(name, ownProcess))) {
        resolve();
        return;
      }
      const waiter = { names, resolve };
      waiting.add(waiter);
      void bootOver.then(() => {
        if (waiting.delete(waiter)) resolve();
      });
    });
}

/** s6-overlay's own stages (fix-attrs, legacy-cont-init...) are not shown as dependencies. */
function isStage(engine: Engine | undefined, name: string): boolean {
  const atomic = engine?.graph.atomics.get(name);
  return atomic?.kind === 'oneshot' && atomic.up.kind === 'builtin';
}

/** The changes asked of each engine, one after the other: the last one's end. */
const changeQueues = new WeakMap<Engine, { tail: Promise<unknown> }>();

function changeQueueOf(engine: Engine): { tail: Promise<unknown> } {
  let queue = changeQueues.get(engine);
  if (queue === undefined) {
    queue = { tail: Promise.resolve() };
    changeQueues.set(engine, queue);
  }
  return queue;
}

/**
 * s6-rc's change, list and listall over the engine's graph. Transitions started here stop
 * only for a shutdown (`stopSignal`); once a client stopped waiting, no more are started.
 */
function rcOperations(engine: Engine, scanDir: string, stopSignal: AbortSignal): RcOperations {
  const { graph } = engine;
  const isUp = (name: string): boolean => engine.state(name) === 'up';
  const planOf = (direction: 'up' | 'down', names: readonly string[], options: RcSelectionOptions): ChangePlan =>
    changePlan(graph, selectionOf(graph, names, options.active === true, isUp), direction, options.prune === true, options.essentialToo !== true);
  const queue = changeQueueOf(engine);
  return {
    unknown: (names) => names.filter((name) => !graph.bundles.has(name) && !graph.atomics.has(name)),
    async change(direction, names, timeoutMs, abortSignal, options = {}) {
      // One change at a time, each planned when its turn comes, as s6-rc's lock makes them:
      // a start arriving while a stop runs would otherwise run a oneshot's up beside its down.
      // As with s6-rc, whose lock ends with its process: a change whose client ran out of time
      // (or went away) before its turn is not carried out and holds nothing back beyond the
      // changes before it; one under way goes on without holding the next ones back.
      let plan = planOf(direction, names, options);
      // Once the client has stopped waiting, nothing more is started: s6-rc starts nothing once
      // it has exited (-t ran out, Ctrl-C). What is under way goes on.
      const clientLeft = new AbortController();
      const transitions: RcTransition[] = [];
      const before = queue.tail;
      const transition = before.then(async () => {
        if (clientLeft.signal.aborted) return [];
        plan = planOf(direction, names, options);
        // s6-rc says it of each as it selects (what stays up with one is not named).
        for (const name of plan.keptEssential) if (isUp(name)) transitions.push({ name, event: 'essential' });
        // A stop is told of the services up when the change began, as s6-rc knows them: one whose
        // start failed is taken down too (it may still run), without a word, as s6-rc has it down.
        const upBefore = new Set([...plan.down].filter(isUp));
        const stopRecording = engine.observe(transitionRecorder(new Set([...plan.down, ...plan.up]), upBefore, transitions));
        try {
          return await carryOut(engine, plan, stopSignal, options.essentialToo !== true, clientLeft.signal);
        } finally {
          stopRecording();
        }
      });
      const answered = raceWithLimits(transition, abortSignal, timeoutMs);
      queue.tail = answered.then(
        (done) => (done ? undefined : before),
        () => undefined,
      );
      if (await answered) return { failed: await transition, timedOut: false, transitions };
      clientLeft.abort();
      // Out of time: what has not reached its state yet is what s6-rc would name.
      const pending = [...[...plan.down].filter((name) => stillUp(engine, name)), ...[...plan.up].filter((name) => !isUp(name))];
      return { failed: pending, timedOut: true, transitions: [...transitions] };
    },
    plan(direction, names, options) {
      const plan = planOf(direction, names, options);
      const downWaves = transitionWaves(graph, plan.down, 'down', (name) => !stillUp(engine, name));
      const upWaves = transitionWaves(graph, plan.up, 'up', isUp);
      const steps = (waves: string[][], stepDirection: 'up' | 'down', firstWave: number): RcStep[] =>
        waves.flatMap((wave, index) => wave.map((name) => stepOf(graph.atomics.get(name), stepDirection, firstWave + index, scanDir)).filter((step) => step !== undefined));
      return [...steps(downWaves, 'down', 0), ...steps(upWaves, 'up', downWaves.length)];
    },
    list: (names, active, direction = 'up') => {
      const selected = selectionOf(graph, names, active, isUp);
      return [...(direction === 'down' ? complementOf(graph, selected) : selected)];
    },
    listAll: (names, direction, active = false) => [...closedSelection(graph, selectionOf(graph, names, active, isUp), direction)],
    runningUps: (names, options) => [...planOf('up', names, options).up].filter((name) => graph.atomics.get(name)?.kind === 'oneshot' && engine.state(name) === 'starting'),
  };
}

/**
 * Notes the transitions of the services a change is about, as they happen. A start the change
 * joined (the boot had it under way) began before it watched: its end is told with its start.
 */
function transitionRecorder(names: ReadonlySet<string>, upBefore: ReadonlySet<string>, into: RcTransition[]): Partial<EngineEvents> {
  const starting = new Set<string>();
  const note = (atomic: RcAtomic, event: RcTransition['event'], reason?: string): void => {
    if (!names.has(atomic.name)) return;
    if ((event === 'stopping' || event === 'stopped' || event === 'unstopped') && !upBefore.has(atomic.name) && !starting.has(atomic.name)) return;
    if (event === 'starting') starting.add(atomic.name);
    else if ((event === 'started' || event === 'failed') && !starting.has(atomic.name)) into.push({ name: atomic.name, event: 'starting' });
    into.push(reason === undefined ? { name: atomic.name, event } : { name: atomic.name, event, reason });
  };
  return {
    starting: (atomic) => note(atomic, 'starting'),
    started: (atomic) => note(atomic, 'started'),
    failed: (atomic, reason) => note(atomic, 'failed', reason),
    stopping: (atomic) => note(atomic, 'stopping'),
    stopped: (atomic, result) => (result.ok ? note(atomic, 'stopped') : note(atomic, 'unstopped', result.reason)),
  };
}

/** Runs a change: the unwanted services down first, then the wanted ones up. Returns those that failed. */
async function carryOut(engine: Engine, plan: ChangePlan, stopSignal: AbortSignal, keepEssential: boolean, clientLeft: AbortSignal): Promise<string[]> {
  const failed: string[] = [];
  if (plan.down.size > 0) {
    const down = engine.bringDown([...plan.down], { keepEssential });
    // Should the container's stop begin meanwhile (the finish script of a service this change
    // stops runs halt, as Frigate's certsync does), it takes down what is left with the rest, as
    // s6-overlay's last stage does once the change is over: the change has not failed, and is
    // answered now, before the stop's last TERM reaches the client.
    if (!(await raceWithLimits(down, stopSignal, 0))) return failed;
    const { keptAsEssential } = await down;
    failed.push(...[...plan.down].filter((name) => stillUp(engine, name) && !keptAsEssential.has(name)));
    // s6-rc brings nothing up after a down phase that failed.
    if (failed.length > 0) return failed;
  }
  if (plan.up.size > 0) {
    if (clientLeft.aborted) return failed;
    const outcome = await engine.bringUp([...plan.up], stopSignal, clientLeft);
    failed.push(...outcome.failed, ...outcome.blocked, ...outcome.abandoned);
  }
  return failed;
}

/** Up, or on its way up or down: what a down transition has yet to finish. */
function stillUp(engine: Engine, name: string): boolean {
  const state = engine.state(name);
  return state === 'up' || state === 'starting' || state === 'stopping';
}

function stepOf(atomic: RcAtomic | undefined, direction: 'up' | 'down', wave: number, scanDir: string): RcStep | undefined {
  if (atomic === undefined) return undefined;
  const timeoutMs = direction === 'up' ? atomic.timeoutUpMs : atomic.timeoutDownMs;
  if (atomic.kind === 'oneshot') return { name: atomic.name, kind: 'oneshot', direction, wave, dir: null, readiness: false, timeoutMs };
  return { name: atomic.name, kind: 'longrun', direction, wave, dir: join(scanDir, atomic.name), readiness: atomic.longrun.notificationFd !== null, timeoutMs };
}

function roundOrNull(time: number | null): number | null {
  return time === null ? null : Math.round(time);
}

/**
 * Whether another Steward serves this runtime directory already: /init run again inside a
 * running container (docker exec ... /init, or CMD ["/init"]) would run cont-init again,
 * start every service a second time and take /run over, removing the first one's socket as
 * it leaves. A socket left by a Steward that is gone (a restarted container's /run on disk)
 * does not answer.
 */
export async function stewardAlreadyServing(path: string): Promise<boolean> {
  try {
    lstatSync(path);
  } catch {
    return false;
  }
  try {
    return (await sendRequest(path, { cmd: 'ping' })).ok;
  } catch {
    return false;
  }
}

/** What to do when the probe port cannot be bound; the container runs on without probes. */
function probeBindHint(code: string | undefined, port: number): string {
  if (code === 'EACCES' && port < 1024) return `. Ports below 1024 need root or the NET_BIND_SERVICE capability: give STEWARD_HTTP a port from 1024 up (8080, say)`;
  if (code === 'EADDRINUSE') return `. Another program uses port ${port}: give STEWARD_HTTP another one`;
  if (code === 'EADDRNOTAVAIL') return '. The address is not one of this container\'s: use 0.0.0.0 (every address) or 127.0.0.1';
  return '';
}
