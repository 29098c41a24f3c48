import { setMaxListeners } from 'node:events';
import { closeSync } from 'node:fs';

import type { LongrunDefinition } from '../model/service.js';
import type { Reporter } from '../log/reporter.js';
import type { Clock } from '../supervise/clock.js';
import type { ServiceExit } from '../supervise/exit.js';
import { cannotStart, failedForGood, PERMANENT_FAILURE_EXIT, runsOn, type ScriptArguments, SPAWN_RETRY_MS, type ServiceStatus, ServiceSupervisor, type SupervisorEvent } from '../supervise/supervisor.js';
import { createPipe } from '../sys/ffi/descriptors.js';
import type { ProcessPort, StdioTarget } from '../sys/spawn.js';
import { errorMessage } from '../errors.js';
import { resourceShortage, whyNotExecutable } from './spawn-failure.js';
import { raceWithLimits } from '../util/race.js';
import { waitForAll } from '../supervise/wait-all.js';
import { counted } from '../util/counted.js';
import { formatDuration } from '../util/duration.js';
import { CrashLoops, SHORT_RUN_MS } from '../log/crash-loop.js';
import { TurnQueue } from '../util/turns.js';
import { StartsSettling } from './starts-settling.js';

/** The supervised longruns of the container, with the pipes between services and their loggers. */
export class ServiceSet {
  readonly supervisors = new Map<string, ServiceSupervisor>();
  /**
   * Consumer name to the pipe Steward holds open between it and its producers, so no
   * line is lost when either side restarts. Closed only at shutdown, once every
   * producer is down, so the consumer sees the end of its input and leaves by itself.
   */
  readonly #pipes = new Map<string, { readFd: number; writeFd: number }>();
  /** Services that read another's output: at shutdown they leave on end of input, not on a signal. */
  readonly #consumers = new Set<string>();
  readonly #installHooks: ((supervisor: ServiceSupervisor) => void)[] = [];
  readonly #forgetHooks: ((supervisor: ServiceSupervisor) => void)[] = [];
  /** Starts (services.d's and s6-rc's longruns alike) share out the event loop's turns: a few per turn (see TurnQueue). */
  readonly startTurns = new TurnQueue();
  /** When the processes of the starts so far have had the CPU to get going (see StartsSettling). */
  readonly settling: StartsSettling;
  /** The container is stopping: nothing is started any more. */
  #stopping = false;

  constructor(
    private readonly port: ProcessPort,
    private readonly clock: Clock,
    private readonly env: NodeJS.ProcessEnv,
    private readonly reporter: Reporter,
    private readonly output: { readonly stdout: StdioTarget; readonly stderr: StdioTarget } = { stdout: 'inherit', stderr: 'inherit' },
    private readonly scriptArguments: ScriptArguments = 'current',
  ) {
    this.settling = new StartsSettling(clock, () => this.startTurns.whenQuiet());
  }

  /** Creates the supervisors (nothing starts yet) and the pipes between producers and consumers. */
  load(definitions: readonly LongrunDefinition[]): void {
    for (const definition of definitions) {
      if (definition.loggerName === null || this.#pipes.has(definition.loggerName)) continue;
      this.#pipes.set(definition.loggerName, createPipe());
      this.#consumers.add(definition.loggerName);
    }
    for (const definition of definitions) {
      const pipeOut = definition.loggerName === null ? undefined : this.#pipes.get(definition.loggerName);
      const pipeIn = this.#pipes.get(definition.name);
      const supervisor = new ServiceSupervisor(definition, this.port, this.clock, {
        stdin: pipeIn?.readFd ?? 'ignore',
        stdout: pipeOut?.writeFd ?? this.output.stdout,
        stderr: this.output.stderr,
        env: this.env,
        scriptArguments: this.scriptArguments,
      });
      supervisor.subscribe((event, source) => this.#report(event, source));
      this.supervisors.set(definition.name, supervisor);
    }
  }

  /** Called for each service whose live directory has just been (re)made, before it starts. */
  whenInstalled(hook: (supervisor: ServiceSupervisor) => void): void {
    this.#installHooks.push(hook);
  }

  /** The live directory of `name` is in place (a services.d copy or an s6-rc longrun's). */
  installed(name: string): void {
    const supervisor = this.supervisors.get(name);
    if (supervisor === undefined) return;
    for (const hook of this.#installHooks) hook(supervisor);
  }

  /** Called for each service forgotten (see forget), once it is out of `supervisors`. */
  whenForgotten(hook: (supervisor: ServiceSupervisor) => void): void {
    this.#forgetHooks.push(hook);
  }

  /**
   * Drops a stopped service for good, with its logger unless another service feeds it, as
   * s6-svscan forgets an s6-supervise it pruned: a scan that finds the name again reads its
   * directory anew, and names that come and go (a job's service each) do not pile up. Returns
   * false, and changes nothing, while either still runs or is being started.
   */
  forget(name: string): boolean {
    const supervisor = this.supervisors.get(name);
    if (supervisor === undefined) return true;
    const loggerName = supervisor.definition.loggerName;
    const logger = loggerName === null ? undefined : this.supervisors.get(loggerName);
    const loggerShared = loggerName !== null && this.#producersOf(loggerName).some((producer) => producer !== supervisor);
    const leaving = logger === undefined || loggerShared ? [supervisor] : [supervisor, logger];
    if (leaving.some((each) => !isStopped(each.status))) return false;
    for (const each of leaving) {
      this.supervisors.delete(each.name);
      this.#exitsToJudge.delete(each.name);
      this.#hinted.delete(each.name);
      this.#crashLoops.settled(each.name);
      this.#consumers.delete(each.name);
      const pipe = this.#pipes.get(each.name);
      if (pipe !== undefined) {
        this.#pipes.delete(each.name);
        if (pipe.writeFd >= 0) closeSync(pipe.writeFd);
        closeSync(pipe.readFd);
      }
      for (const hook of this.#forgetHooks) hook(each);
      // Last: what still listens to it (a wait) hears it is gone.
      each.forget();
    }
    return true;
  }

  /** Once the container stops: services keep running until they are stopped, but are not restarted. */
  noMoreRestarts(): void {
    this.#stopping = true;
    for (const supervisor of this.supervisors.values()) supervisor.down({ signal: false });
  }

  /** The container's last SIGKILL: no finish script runs any more (see ServiceSupervisor.skipFinishScripts). */
  skipFinishScripts(): void {
    for (const supervisor of this.supervisors.values()) supervisor.skipFinishScripts();
  }

  /** Brings up a service and its logger (first, so output has a reader), unless they have a `down` file. */
  start(name: string): void {
    const supervisor = this.supervisors.get(name);
    if (supervisor === undefined || this.#stopping) return;
    const logger = supervisor.definition.loggerName === null ? undefined : this.supervisors.get(supervisor.definition.loggerName);
    for (const each of logger === undefined ? [supervisor] : [logger, supervisor]) {
      if (each.definition.startsDown) this.reporter.info(`service ${each.name}`, 'not started: it has a down file');
      else each.up();
    }
  }

  /**
   * Resolves once each of `names` has had its first start go out, running or not (its run
   * script could not be executed), or when `abortSignal` is aborted or `timeoutMs` passed.
   */
  async waitUntilLaunched(names: readonly string[], abortSignal: AbortSignal, timeoutMs: number): Promise<void> {
    const launched = (status: ServiceStatus): boolean => !status.spawning && (status.starts > 0 || status.spawnError !== null || !status.wantUp);
    await this.#waitForEach(names, launched, abortSignal, timeoutMs);
  }

  /** Resolves with the names not yet up (or ready, for services with a notification fd). */
  async waitUntilUp(names: readonly string[], abortSignal: AbortSignal, timeoutMs: number): Promise<string[]> {
    // Ready once during the wait is enough, as s6-svwait -U hears it: a service that runs once
    // (s6-svc -O, ZoneMinder's mariadb-configure) may be ready and gone before the others are.
    const seenReady = new Set<string>();
    // Failed for good, or its run script cannot be executed: waiting longer would not help.
    const isUp = (status: ServiceStatus): boolean => {
      if (status.ready) seenReady.add(status.name);
      return status.ready || failedForGood(status) || cannotStart(status);
    };
    const pending = await this.#waitForEach(names, isUp, abortSignal, timeoutMs);
    return pending.filter((supervisor) => !supervisor.status.ready && !seenReady.has(supervisor.name)).map((supervisor) => supervisor.name);
  }

  /**
   * Waits until each of `names` has been spawned, or its start has failed (those that start
   * down left out): s6-rc takes a longrun without readiness as up once s6-supervise has spawned
   * it. The stage that started them ends after their lines, not among the CMD's first output
   * (an interactive shell's prompt drawn, then "started" lines under it).
   */
  async waitUntilSpawned(names: readonly string[], abortSignal: AbortSignal): Promise<void> {
    await this.#waitForEach(names, (status) => !status.spawning, abortSignal, 0);
  }

  /**
   * Waits until `until` holds for each of `names` (those that start down left out), or the
   * abort or the time limit comes first; resolves with the supervisors waited for.
   */
  async #waitForEach(names: readonly string[], until: (status: ServiceStatus) => boolean, abortSignal: AbortSignal, timeoutMs: number): Promise<ServiceSupervisor[]> {
    const pending = names.flatMap((name) => this.supervisors.get(name) ?? []).filter((supervisor) => !supervisor.definition.startsDown);
    const giveUp = new AbortController();
    await raceWithLimits(waitForAll(pending, until, giveUp.signal), abortSignal, timeoutMs);
    giveUp.abort();
    return pending;
  }

  /**
   * Stops services for good, at shutdown: producers get their down-signal; a consumer
   * (a logger) is let go once all its producers are down and its pipe is closed, and
   * gets its down-signal if it has not left LOGGER_DRAIN_MS later. Resolves with what is
   * still running when the grace time ends.
   */
  async stopForGood(names: readonly string[], graceMs: number, final = true): Promise<string[]> {
    const targets = names.flatMap((name) => this.supervisors.get(name) ?? []);
    const giveUp = new AbortController();
    // One listener per service is expected here, not a leak.
    setMaxListeners(0, giveUp.signal);
    // Loggers let go without a signal, waiting for the end of their input.
    const unsignalled = new Set<ServiceSupervisor>();
    const stoppedHere = new Set(targets);
    const done = targets.map(async (supervisor) => {
      if (this.#consumers.has(supervisor.name) && final) {
        supervisor.down({ signal: false });
        unsignalled.add(supervisor);
        // A producer no one is stopping (the graph counts it down, and s6-svc -u started it
        // again) gets its down-signal now, as every process at the container's stop, and is not
        // waited for: s6-rc, which has it down, lets the logger go at once, and the last stage's
        // TERM and KILL end a producer that takes longer.
        const producers = this.#producersOf(supervisor.name);
        const outsideTheStop = producers.filter((producer) => !stoppedHere.has(producer) && (producer.status.wantUp || runsOn(producer.status)));
        for (const producer of outsideTheStop) producer.down();
        // A logger stopped with its producers (services.d: NAME and NAME/log) reads on while
        // they stop, however long their graceful stop takes: what they print then is logged.
        await waitForAll(producers.filter((producer) => !outsideTheStop.includes(producer)), isStopped, giveUp.signal);
        this.#closePipeIfDrained(supervisor.name);
        // Its producers are down: it should read the rest of its input and leave. A child a
        // producer left behind (a run script's sleep) may hold the pipe open, and then the
        // logger gets its down-signal, as s6-rc sends it (s6-log ends after its current line).
        // Ends with the drain time or with the whole stop's (not AbortSignal.any, which Node 19 and 20.0 to 20.2 lack).
        const drained = new AbortController();
        const cancel = this.clock.schedule(LOGGER_DRAIN_MS, () => drained.abort());
        const onGiveUp = (): void => drained.abort();
        giveUp.signal.addEventListener('abort', onGiveUp, { once: true });
        const left = await supervisor.waitFor(isStopped, drained.signal);
        giveUp.signal.removeEventListener('abort', onGiveUp);
        cancel();
        if (!left && !giveUp.signal.aborted) {
          unsignalled.delete(supervisor);
          supervisor.down();
        }
      } else {
        supervisor.down();
      }
      if (!(await supervisor.waitFor(isStopped, giveUp.signal))) return;
      this.#closeReadEndIfDone(supervisor.name);
      const consumer = supervisor.definition.loggerName;
      // A pipe is closed only at shutdown: a service stopped at run time may start again.
      if (consumer !== null && final) this.#closePipeIfDrained(consumer);
    });
    await raceWithLimits(Promise.all(done), giveUp.signal, graceMs);
    giveUp.abort();
    const stillUp = targets.filter((supervisor) => !isStopped(supervisor.status));
    // A consumer that ignored the end of its input gets its down-signal now; the final kill
    // follows. The others had theirs: a second one can mean "stop at once" to a daemon
    // draining its work (celery, php-fpm's second SIGQUIT).
    for (const supervisor of stillUp) if (unsignalled.has(supervisor)) supervisor.down();
    return stillUp.map((supervisor) => supervisor.name);
  }

  /** Names for a message about services still up: a service whose finish script runs is said so. */
  describeStillUp(names: readonly string[]): string {
    return names.map((name) => (this.supervisors.get(name)?.status.state === 'finishing' ? `${name} (its finish script)` : name)).join(', ');
  }

  #producersOf(consumer: string): ServiceSupervisor[] {
    return [...this.supervisors.values()].filter((supervisor) => supervisor.definition.loggerName === consumer);
  }

  /** Closes a consumer's pipe once no producer of it runs any more. */
  #closePipeIfDrained(consumer: string): void {
    const pipe = this.#pipes.get(consumer);
    if (pipe === undefined) return;
    if (this.#producersOf(consumer).some((producer) => !isStopped(producer.status))) return;
    if (pipe.writeFd >= 0) closeSync(pipe.writeFd);
    pipe.writeFd = -1;
    this.#closeReadEndIfDone(consumer);
  }

  /**
   * Closes a consumer's read end once its write end is closed and the consumer has
   * stopped: until then its finish script still gets the pipe as stdin, as with
   * s6-supervise (closed earlier, that spawn fails with EBADF, or gets whatever file
   * reused the descriptor).
   */
  #closeReadEndIfDone(consumer: string): void {
    const pipe = this.#pipes.get(consumer);
    const supervisor = this.supervisors.get(consumer);
    if (pipe === undefined || pipe.writeFd >= 0 || (supervisor !== undefined && !isStopped(supervisor.status))) return;
    this.#pipes.delete(consumer);
    closeSync(pipe.readFd);
  }

  /** Exits of services whose finish script runs: judged (warned about or not) once it is done. */
  readonly #exitsToJudge = new Map<string, Extract<SupervisorEvent, { type: 'exited' }>>();

  /** Services already given a hint: a crash loop repeats its lines, not the advice. */
  readonly #hinted = new Set<string>();

  #hintOnce(name: string, hint: string): string {
    if (hint === '' || this.#hinted.has(name)) return '';
    this.#hinted.add(name);
    return hint;
  }

  readonly #crashLoops = new CrashLoops(() => this.clock.now());

  /** A death the service did not ask for, after which it is restarted: one line each, unless it is in a crash loop. */
  #reportDeath(stage: string, name: string, exited: Extract<SupervisorEvent, { type: 'exited' }>): void {
    const line = `${exited.description} unexpectedly; it will be restarted`;
    const report = this.#crashLoops.died(name, exited.exit.durationMs);
    switch (report.kind) {
      case 'each':
        this.reporter.warn(stage, `${line}${this.#hintOnce(name, daemonHint(exited.exit))}`);
        return;
      case 'loop-begins':
        this.reporter.warn(
          stage,
          `${exited.description} unexpectedly, ${report.deaths} times in a row within ${SHORT_RUN_MS / 1000} seconds of starting; it is restarted each time, and from now on only said once in a while (S6_VERBOSITY=3 shows every restart)${this.#hintOnce(name, daemonHint(exited.exit))}`,
        );
        return;
      case 'silent':
        this.reporter.debug(stage, line);
        return;
      case 'reminder':
        this.reporter.warn(stage, `still restarting: ${counted(report.untold, 'more death')} in the last ${formatDuration(report.sinceMs)}, the last one ${exited.description}`);
        return;
    }
  }

  /** A line about one run: info, or debug while the service is in a crash loop. */
  #unlessLooping(stage: string, name: string, text: string): void {
    if (this.#crashLoops.showsStarts(name)) this.reporter.info(stage, text);
    else this.reporter.debug(stage, text);
  }

  #report(event: SupervisorEvent, supervisor: ServiceSupervisor): void {
    const stage = `service ${supervisor.name}`;
    switch (event.type) {
      case 'spawned':
        this.settling.started();
        this.#unlessLooping(stage, supervisor.name, `started (pid ${event.pid})`);
        return;
      case 'state':
        if (event.to === 'ready') this.reporter.info(stage, 'ready');
        else this.reporter.debug(stage, `${event.from} -> ${event.to}`);
        return;
      case 'exited': {
        if (event.exit.requested || !supervisor.status.wantUp) {
          this.#crashLoops.settled(supervisor.name);
          this.reporter.info(stage, event.description);
        } else if (supervisor.definition.finishPath === null) {
          this.#reportDeath(stage, supervisor.name, event);
        } else {
          // The finish script may still decide otherwise (s6-svc -d, exit 125, halt): a service
          // meant to run once is not warned about. Said once the finish script is done.
          this.#unlessLooping(stage, supervisor.name, `${event.description}; its finish script runs`);
          this.#exitsToJudge.set(supervisor.name, event);
        }
        return;
      }
      case 'spawn-error':
        if (event.path === supervisor.definition.finishPath) this.reporter.error(stage, `cannot execute the finish script ${event.path}: ${errorMessage(event.error)}`);
        else if (event.installing === true) this.reporter.error(stage, `${errorMessage(event.error)}; retrying in ${SPAWN_RETRY_MS / 1000} seconds (or at once on steward start ${supervisor.name})`);
        else {
          // The fix belongs in the image: the copy under /run is made anew at each boot. The
          // retries run that copy, which a fix made now must reach too.
          const { liveDir, sourceDir } = supervisor.definition;
          const why = whyRunNotExecutable(event.path, event.error, supervisor.definition.notificationFd).split(liveDir).join(sourceDir);
          const copy = liveDir === sourceDir || resourceShortage(event.error) !== undefined ? '' : ` (it runs the copy in ${liveDir}: fix that one to bring it up before the next boot)`;
          this.reporter.error(stage, `cannot execute ${event.path}: ${why}; retrying in ${SPAWN_RETRY_MS / 1000} seconds (or at once on steward start ${supervisor.name})${copy}`);
        }
        return;
      case 'finish-timeout':
        this.reporter.warn(stage, `finish script lifetime reached maximum value (${event.timeoutMs} ms) - sending it a SIGKILL`);
        return;
      case 'finish-exited': {
        this.reporter.debug(stage, `finish script ${event.termination.signal === null ? `exited ${event.termination.code}` : `killed by ${event.termination.signal}`}`);
        const exited = this.#exitsToJudge.get(supervisor.name);
        this.#exitsToJudge.delete(supervisor.name);
        const permanent = event.termination.signal === null && event.termination.code === PERMANENT_FAILURE_EXIT;
        if (exited !== undefined && supervisor.status.wantUp && !permanent) this.#reportDeath(stage, supervisor.name, exited);
        else this.#crashLoops.settled(supervisor.name);
        return;
      }
      case 'permanent-failure':
        this.reporter.warn(stage, 'finish script exited 125: the service will not be restarted');
        return;
      case 'throttled':
        this.reporter.debug(stage, `restarting in ${Math.round(event.delayMs)} ms (minimum interval between starts)`);
        return;
    }
  }
}


/** Down or failed, with no start under way. */
function isStopped(status: ServiceStatus): boolean {
  return !status.spawning && (status.state === 'down' || status.state === 'failed');
}

/** Shorter than this, a run that exits 0 has most likely put its daemon in the background. */
const QUICK_CLEAN_EXIT_MS = 2000;

/**
 * The usual mistake behind a service that exits 0 at once and is restarted every second: the
 * daemon forked into the background (redis-server --daemonize yes, nginx without daemon off).
 */
function daemonHint(exit: ServiceExit): string {
  if (exit.code !== 0 || exit.durationMs >= QUICK_CLEAN_EXIT_MS) return '';
  return ". If it starts a daemon, make the daemon stay in the foreground (for example nginx -g 'daemon off;', redis-server --daemonize no, php-fpm -F) and exec it as the run script's last command; if it is meant to end (nothing to run in this set-up), have its finish script exit 125, or run s6-svc -O . before it exits, so that it is not started again";
}

/** How long a logger has, once its producers are down, to read the rest of its input and leave by itself. */
const LOGGER_DRAIN_MS = 1000;

/**
 * What the kernel's errno means for this file: ENOENT for a script that is there is its #!
 * interpreter (or CRLF line endings), which the same checks as at boot name, with the fix.
 */
function whyRunNotExecutable(path: string, error: NodeJS.ErrnoException, notificationFd: number | null): string {
  if (error.code === 'EBADF' && notificationFd !== null) {
    return `its notification-fd ${notificationFd} is beyond the limit of open files (ulimit -n) (EBADF). Use a small number, such as 3`;
  }
  return whyNotExecutable(path, error, 'run script');
}
