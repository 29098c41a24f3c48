import { basename, dirname } from 'node:path';

import type { LongrunDefinition } from '../model/service.js';
import { signalNumber } from '../sys/signals.js';
import type { ProcessPort, StdioTarget, Termination } from '../sys/spawn.js';
import type { Clock } from './clock.js';
import { DeathTally } from './death-tally.js';
import { describeTermination, type ServiceExit } from './exit.js';
import { assertTransition, isRunning, type ServiceState } from './state.js';

/** s6 waits this long before retrying a run that could not be executed at all. */
export const SPAWN_RETRY_MS = 10_000;
/** s6's finish exit code for "do not restart me". */
export const PERMANENT_FAILURE_EXIT = 125;
/**
 * A run that ends this soon after an administrator's signal (s6-svc -t to restart a logger,
 * -k, -q) ended because of it: it is told as asked for, not as a crash. Later, the signal was
 * not the cause (s6-svc -h made nginx reload, and it crashed an hour after).
 */
export const SIGNALLED_EXIT_MS = 10_000;
/**
 * Signals that pause, resume or tell a process something without ending it by default. Not
 * SIGWINCH, which daemons take as a stop (apache's graceful stop, its down-signal in images).
 */
const KEEPS_RUNNING: ReadonlySet<NodeJS.Signals> = new Set(['SIGSTOP', 'SIGCONT', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGURG', 'SIGCHLD']);
/**
 * Signals daemons take as "reload" or "reopen your logs" (s6-svc -h, -1, -2). A run killed by
 * the signal itself (it does not catch it) ended as asked; one that exits afterwards, with a
 * code or by another signal, died on its own: a reload that failed is worth the warning.
 */
const RELOADS: ReadonlySet<NodeJS.Signals> = new Set(['SIGHUP', 'SIGUSR1', 'SIGUSR2']);

export interface SupervisorIo {
  stdin: StdioTarget;
  stdout: StdioTarget;
  stderr: StdioTarget;
  env: NodeJS.ProcessEnv;
  /** The arguments run and finish get; 'current' when not given. */
  scriptArguments?: ScriptArguments;
}

/**
 * The arguments of run and finish, as the s6 an image was made for passes them: 'current'
 * (s6 2.11 and later, in s6-overlay v3) gives run the service name, and finish the exit code,
 * the signal, the name and the process group; 's6-2.10' (what s6-overlay v2 ships) gives run
 * none and finish the first two. Scripts see the difference: a finish script that looks for
 * its service's processes with `ps | grep NAME` finds itself when the name is among its own
 * arguments.
 */
export type ScriptArguments = 'current' | 's6-2.10';

/**
 * How s6-supervise runs a script of the service directory: `./run`, `./finish`, from that
 * directory, so that `$0` is that and `ps` shows no absolute path (with the service's name in it).
 */
function fromServiceDir(path: string, serviceDir: string): string {
  return dirname(path) === serviceDir ? `./${basename(path)}` : path;
}

export type SupervisorEvent =
  | { type: 'state'; from: ServiceState; to: ServiceState }
  | { type: 'spawned'; pid: number }
  | { type: 'exited'; exit: ServiceExit; description: string }
  /** `installing`: the install step failed (see setInstallStep), `path` is the live directory. */
  | { type: 'spawn-error'; path: string; error: NodeJS.ErrnoException; installing?: true }
  | { type: 'finish-timeout'; timeoutMs: number }
  | { type: 'finish-exited'; termination: Termination }
  | { type: 'permanent-failure' }
  | { type: 'throttled'; delayMs: number }
  /** s6-svdt-clear emptied the death tally. */
  | { type: 'deaths-cleared' }
  /** Whether it is wanted up, restarted or paused changed, with no change of state (s6-svc -O, -o, -p, -d while finish runs). */
  | { type: 'wanted' }
  | { type: 'forgotten' };

export interface ServiceStatus {
  readonly name: string;
  readonly state: ServiceState;
  readonly pid: number | null;
  /** A start is under way (the run process may exist already, its pid is not known yet). */
  readonly spawning: boolean;
  readonly wantUp: boolean;
  readonly ready: boolean;
  readonly since: number;
  readonly readySince: number | null;
  readonly starts: number;
  /** When the current run was spawned; null when not running. */
  readonly runStartedAt: number | null;
  readonly lastExit: ServiceExit | null;
  /** Why the last start could not run the run script (EACCES, ENOENT...); null once one did. */
  readonly spawnError: string | null;
  /** That error came from copying the service into /run (see setInstallStep), not from its run script. */
  readonly copyFailed: boolean;
  /** Stopped with SIGSTOP (s6-svc -p) and not continued since; s6-svstat says "paused". */
  readonly paused: boolean;
  /** Dropped from the container's services (its entry was pruned from the scan directory): nothing waited for comes. */
  readonly forgotten?: true;
}

/**
 * Whether the service's run script could not be executed and no new attempt is under way:
 * it will not come up before someone fixes it (it is retried every 10 seconds, as s6-supervise does), so whatever
 * waits for it being up is over.
 */
export function cannotStart(status: ServiceStatus): boolean {
  return status.state === 'backoff' && status.spawnError !== null && !status.spawning;
}

/**
 * Whether its finish script exited 125 and no new start is under way: the state stays 'failed'
 * from an up() until that start is heard of, and whatever waits for it waits for that.
 */
export function failedForGood(status: ServiceStatus): boolean {
  return status.state === 'failed' && !status.spawning;
}

/**
 * Whether the run process is there and not being stopped: what s6-rc counts as up. A run that
 * is no longer to be restarted (s6-svc -O) still is, until it ends.
 */
export function runsOn(status: ServiceStatus): boolean {
  return status.pid !== null && status.state !== 'stopping';
}

/**
 * Supervises one longrun as s6-supervise does: runs `run`, restarts it when it dies
 * (no faster than the throttle), runs `finish` with the exit code and signal, and
 * stops it with its down-signal. Driven only by events and timers.
 */
export class ServiceSupervisor {
  readonly definition: LongrunDefinition;
  /** The last deaths of the run process (max-death-tally of them), for s6-svdt and s6-permafailon. */
  readonly deaths: DeathTally;
  #state: ServiceState = 'down';
  #wantUp = false;
  #restartOnExit = true;
  #pid: number | null = null;
  #since: number;
  #readySince: number | null = null;
  #lastSpawnAt: number | null = null;
  #starts = 0;
  #lastExit: ServiceExit | null = null;
  #spawnError: string | null = null;
  #copyFailed = false;
  #paused = false;
  #finishScriptsOff = false;
  #firstStart: { spawnedAt: number | null; readyAt: number | null } = { spawnedAt: null, readyAt: null };
  #stopRequested = false;
  /** When a signal asked for through the control plane (s6-svc -t, -h, -k...) last reached the run, by the clock. */
  #signalledAt: number | null = null;
  /** The last reload signal asked for through the control plane (see RELOADS), and when. */
  #reloadSignalled: { readonly signal: NodeJS.Signals; readonly at: number } | null = null;
  /** A start is under way: its pid is not known yet. */
  #spawning = false;
  #forgotten = false;
  /** down() came during that start: the process is stopped as soon as its pid is known. */
  #stopWhenSpawned = false;
  #cancelTimer: (() => void) | null = null;
  /** Transitions so far: a change of wishes without one is told as 'wanted'. */
  #transitions = 0;
  #cancelKillTimer: (() => void) | null = null;
  readonly #listeners = new Set<(event: SupervisorEvent, supervisor: ServiceSupervisor) => void>();
  /** Events not told yet, while #startsBeforeTelling runs; null otherwise. */
  #held: SupervisorEvent[] | null = null;
  /** What to hear before an exit is acted on (see beforeDeciding). */
  readonly #beforeDeciding = new Set<() => void>();
  /** What each start does first until it has succeeded once (see setInstallStep). */
  #installStep: (() => void) | null = null;

  constructor(
    definition: LongrunDefinition,
    private readonly port: ProcessPort,
    private readonly clock: Clock,
    private readonly io: SupervisorIo,
  ) {
    this.definition = definition;
    this.deaths = new DeathTally(definition.maxDeathTally);
    this.#since = clock.now();
  }

  get name(): string {
    return this.definition.name;
  }

  get state(): ServiceState {
    return this.#state;
  }

  get status(): ServiceStatus {
    return {
      name: this.name,
      state: this.#state,
      pid: this.#pid,
      spawning: this.#spawning,
      // Once (s6-svc -O): running, and not to be restarted, it is wanted down, as s6 shows it.
      wantUp: this.#wantUp && this.#restartOnExit,
      ready: this.#state === 'ready' || (this.#state === 'up' && this.definition.notificationFd === null),
      since: this.#since,
      // Without readiness notification, ready means up: ready since it came up.
      readySince: this.#readySince ?? (this.#state === 'up' && this.definition.notificationFd === null ? this.#since : null),
      starts: this.#starts,
      runStartedAt: this.#pid === null ? null : this.#lastSpawnAt,
      lastExit: this.#lastExit,
      spawnError: this.#spawnError,
      copyFailed: this.#spawnError !== null && this.#copyFailed,
      paused: this.#paused && this.#pid !== null,
      ...(this.#forgotten ? { forgotten: true as const } : {}),
    };
  }

  /**
   * Tells whoever still listens (a wait, s6's supervise/ directory) that this service is gone
   * for good: dropped from the container's services while down, as s6-svscan forgets an
   * s6-supervise it pruned. Nothing starts it again.
   */
  forget(): void {
    if (this.#forgotten) return;
    this.#forgotten = true;
    this.#wantUp = false;
    this.#emit({ type: 'forgotten' });
  }

  /** When the first run was spawned and first became ready (up, without readiness), for boot reports. */
  get firstStart(): { readonly spawnedAt: number | null; readonly readyAt: number | null } {
    return this.#firstStart;
  }

  /** Forgets the recorded deaths (s6-svdt-clear). */
  clearDeaths(): void {
    this.deaths.clear();
    this.#emit({ type: 'deaths-cleared' });
  }

  subscribe(listener: (event: SupervisorEvent, supervisor: ServiceSupervisor) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * `hook` runs when the run or the finish script has ended, before what comes next is decided
   * (a restart or not): control input already sent (a letter in supervise/control that a
   * finish script wrote before it exited) is applied first, as s6-supervise reads it first.
   */
  beforeDeciding(hook: () => void): () => void {
    this.#beforeDeciding.add(hook);
    return () => this.#beforeDeciding.delete(hook);
  }

  /**
   * Makes each start run `step` first, which throws when it fails, until it has succeeded once:
   * a live directory whose copy failed (a /run that was full) is copied again at the next try,
   * so that the service comes up once there is room rather than failing on a missing run script.
   * A failure is told as a start that failed (a spawn-error with `installing`), retried likewise.
   */
  setInstallStep(step: (() => void) | null): void {
    this.#installStep = step;
  }

  /**
   * A start that failed and waits for its retry is tried now, if the service is still wanted up:
   * what it waited for is there (the copy a logger's start has just made for its service too).
   */
  retryFailedStart(): void {
    if (!this.#wantUp || this.#state !== 'backoff' || this.#spawnError === null || this.#spawning) return;
    this.#clearTimer();
    this.#spawnRun();
  }

  #hearPendingControl(): void {
    for (const hook of this.#beforeDeciding) hook();
  }

  /** Runs `change` and tells the listeners when what is wanted changed without a change of state. */
  #changingWishes(change: () => void): void {
    const before = this.#wishes();
    const transitionsBefore = this.#transitions;
    change();
    if (this.#transitions === transitionsBefore && this.#wishes() !== before) this.#emit({ type: 'wanted' });
  }

  #wishes(): number {
    return (this.#wantUp ? 1 : 0) | (this.#restartOnExit ? 2 : 0) | (this.#paused ? 4 : 0);
  }

  /** Wants the service up and keeps it up (s6-svc -u). */
  up(): void {
    this.#changingWishes(() => this.#up());
  }

  #up(): void {
    if (this.#forgotten) return;
    this.#wantUp = true;
    this.#restartOnExit = true;
    this.#stopWhenSpawned = false;
    if (this.#spawning) return;
    if (this.#state === 'down' || this.#state === 'failed') this.#startOrThrottle();
    else if (this.#state === 'backoff' && this.#spawnError !== null) {
      // Waiting out a run script that could not be executed: asked for now (the script may
      // have been fixed), it is tried now rather than at the next retry.
      this.#clearTimer();
      this.#spawnRun();
    }
  }

  /** Starts it once, without restarting it when it exits (s6-svc -o). */
  once(): void {
    this.#changingWishes(() => {
      // -o is -u then -O: while the finish script runs the service is down, and -O then means
      // "do not even start it" (s6-supervise wants it down).
      if (this.#state === 'finishing') {
        this.#down({ signal: false });
        return;
      }
      this.#up();
      this.#restartOnExit = false;
    });
  }

  /**
   * Wants the service down: down-signal then SIGCONT, as s6-svc -d. With
   * `signal: false` it is only no longer restarted, which is how a logger is let go
   * at shutdown: it leaves by itself when its input closes.
   */
  down(options: { signal?: boolean } = {}): void {
    this.#changingWishes(() => this.#down(options));
  }

  #down(options: { signal?: boolean }): void {
    this.#wantUp = false;
    if (this.#spawning && options.signal !== false) this.#stopWhenSpawned = true;
    if (this.#state === 'backoff') {
      this.#clearTimer();
      this.#transition('down');
      return;
    }
    if (this.#state === 'failed') {
      this.#transition('down');
      return;
    }
    if (!isRunning(this.#state) || this.#pid === null || options.signal === false) return;
    this.#stopRequested = true;
    if (this.#state !== 'stopping') this.#transition('stopping');
    this.port.signal(this.#pid, this.definition.downSignal);
    this.#continue(this.#pid);
    if (this.definition.timeoutKillMs > 0 && this.#cancelKillTimer === null) {
      const pid = this.#pid;
      this.#cancelKillTimer = this.clock.schedule(this.definition.timeoutKillMs, () => {
        this.#cancelKillTimer = null;
        if (this.#pid === pid) this.port.signal(pid, 'SIGKILL');
      });
    }
  }

  /**
   * Restarts a running service: down-signal (and SIGCONT, unless `resume` is false), then the normal restart path
   * (s6-svc -r). Does nothing to a service that is not running, and changes nothing of
   * whether it is wanted up, as s6: one run with -o, or wanted down, stays down after it.
   */
  restart(options: { resume?: boolean } = {}): boolean {
    // A run still there after its down-signal (one that handles it, or stops slowly) is up for
    // s6, and s6-svc -r sends the down-signal again, wanted up or not.
    if (this.#pid === null || !isRunning(this.#state)) return false;
    this.#stopRequested = true;
    this.port.signal(this.#pid, this.definition.downSignal);
    // s6-svc -r sends the down-signal alone: a paused run stays paused, the signal pending,
    // until s6-svc -c. steward restart resumes it, so that the restart happens.
    if (options.resume !== false) this.#continue(this.#pid);
    return true;
  }

  /** Sends a signal to the run process, if there is one. SIGSTOP pauses it and SIGCONT resumes it, as s6-svc -p and -c. */
  signal(signal: NodeJS.Signals): boolean {
    if (this.#pid === null || !isRunning(this.#state)) return false;
    const pid = this.#pid;
    let sent = false;
    this.#changingWishes(() => {
      sent = this.#sendAsked(pid, signal);
      if (sent && signal === 'SIGSTOP') this.#paused = true;
      if (sent && signal === 'SIGCONT') this.#paused = false;
    });
    return sent;
  }

  /** Sends a signal to the run process's group (it leads one: s6-svc -P, -K...), if it runs. */
  signalGroup(signal: NodeJS.Signals): boolean {
    if (this.#pid === null || !isRunning(this.#state)) return false;
    return this.#sendAsked(-this.#pid, signal);
  }

  /** A signal an administrator asked for: one that ends processes marks the run (see SIGNALLED_EXIT_MS). */
  #sendAsked(target: number, signal: NodeJS.Signals): boolean {
    const sent = this.port.signal(target, signal);
    if (!sent || KEEPS_RUNNING.has(signal)) return sent;
    if (RELOADS.has(signal)) this.#reloadSignalled = { signal, at: this.clock.now() };
    else this.#signalledAt = this.clock.now();
    return sent;
  }

  /**
   * From now on a run that ends does not run its finish script: the container's last SIGKILL
   * is under way, which under s6-overlay kills the supervisors too, so a finish script that
   * reports a death by signal (writing 137 to the exit code file, say) never runs there.
   */
  skipFinishScripts(): void {
    this.#finishScriptsOff = true;
  }

  /** SIGCONT after a down-signal, so that a paused process gets it. */
  #continue(pid: number): void {
    if (this.port.signal(pid, 'SIGCONT')) this.#paused = false;
  }

  /**
   * Resolves with true when `predicate` holds, checking now and after every event;
   * with false if `signal` aborts first (the listener is removed either way).
   */
  waitFor(predicate: (status: ServiceStatus) => boolean, signal?: AbortSignal): Promise<boolean> {
    if (predicate(this.status)) return Promise.resolve(true);
    if (signal?.aborted === true) return Promise.resolve(false);
    return new Promise((resolve) => {
      const finish = (reached: boolean): void => {
        unsubscribe();
        signal?.removeEventListener('abort', onAbort);
        resolve(reached);
      };
      const onAbort = (): void => finish(false);
      const unsubscribe = this.subscribe(() => {
        if (predicate(this.status)) finish(true);
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  #emit(event: SupervisorEvent): void {
    if (this.#held !== null) {
      this.#held.push(event);
      return;
    }
    for (const listener of this.#listeners) listener(event, this);
  }

  /**
   * Runs `work` with the events it emits told only once it is over: a restart's start is
   * asked for (and runs on another thread) before the listeners write their status files
   * and log lines about the death, rather than after. They hear the same events in the same
   * order, each with the status as it is once `work` is done. Events the listeners cause
   * meanwhile are told after those, in order.
   */
  #startsBeforeTelling(work: () => void): void {
    if (this.#held !== null) {
      work();
      return;
    }
    const held: SupervisorEvent[] = [];
    this.#held = held;
    try {
      work();
    } finally {
      try {
        for (let index = 0; index < held.length; index++) {
          const event = held[index];
          if (event !== undefined) for (const listener of this.#listeners) listener(event, this);
        }
      } finally {
        this.#held = null;
      }
    }
  }

  #transition(to: ServiceState): void {
    this.#transitions++;
    const from = this.#state;
    assertTransition(this.name, from, to);
    this.#state = to;
    this.#since = this.clock.now();
    if (to !== 'ready') this.#readySince = to === 'stopping' ? this.#readySince : null;
    this.#emit({ type: 'state', from, to });
  }

  #clearTimer(): void {
    this.#cancelTimer?.();
    this.#cancelTimer = null;
  }

  #startOrThrottle(): void {
    const now = this.clock.now();
    const earliest = this.#lastSpawnAt === null ? now : this.#lastSpawnAt + this.definition.minRestartIntervalMs;
    if (earliest <= now) {
      this.#spawnRun();
      return;
    }
    const delayMs = earliest - now;
    if (this.#state !== 'backoff') this.#transition('backoff');
    this.#emit({ type: 'throttled', delayMs });
    this.#clearTimer();
    this.#cancelTimer = this.clock.schedule(delayMs, () => {
      this.#cancelTimer = null;
      if (this.#wantUp) this.#spawnRun();
    });
  }

  #spawnRun(): void {
    const definition = this.definition;
    this.#lastSpawnAt = this.clock.now();
    this.#stopRequested = false;
    this.#signalledAt = null;
    this.#reloadSignalled = null;
    this.#spawning = true;
    const startedAt = this.#lastSpawnAt;
    if (this.#installStep !== null) {
      try {
        this.#installStep();
        this.#installStep = null;
      } catch (error) {
        // Told after this call, as the port tells a start that failed.
        queueMicrotask(() => this.#onSpawnError(error as NodeJS.ErrnoException, true));
        return;
      }
    }
    this.port.spawn(
      {
        file: fromServiceDir(definition.runPath, definition.liveDir),
        args: this.io.scriptArguments === 's6-2.10' ? [] : [definition.name],
        cwd: definition.liveDir,
        env: this.io.env,
        stdin: this.io.stdin,
        stdout: this.io.stdout,
        stderr: this.io.stderr,
        newSession: true,
        ...(definition.notificationFd === null ? {} : { notificationFd: definition.notificationFd }),
      },
      {
        onSpawned: (pid) => this.#onSpawned(pid),
        onExit: (termination) => this.#onRunExit(termination, startedAt),
        onSpawnError: (error) => this.#onSpawnError(error),
        onReady: () => this.#onReady(),
      },
    );
  }

  /** The run script has been exec'd: the service is up (or starting, until it says it is ready). */
  #onSpawned(pid: number): void {
    const definition = this.definition;
    this.#spawning = false;
    this.#spawnError = null;
    this.#pid = pid;
    this.#paused = false;
    this.#starts++;
    if (this.#firstStart.spawnedAt === null) {
      const now = this.clock.now();
      this.#firstStart = { spawnedAt: now, readyAt: definition.notificationFd === null ? now : null };
    }
    this.#transition(definition.notificationFd === null ? 'up' : 'starting');
    this.#emit({ type: 'spawned', pid });
    if (this.#stopWhenSpawned) {
      this.#stopWhenSpawned = false;
      this.down();
    }
  }

  #onSpawnError(error: NodeJS.ErrnoException, installing = false): void {
    this.#spawning = false;
    this.#stopWhenSpawned = false;
    this.#spawnError = error.code ?? error.message;
    this.#copyFailed = installing;
    this.#emit(installing ? { type: 'spawn-error', path: this.definition.liveDir, error, installing } : { type: 'spawn-error', path: this.definition.runPath, error });
    if (!this.#wantUp) {
      // Stopped while the start was under way (from backoff, down() already went to down).
      if (this.#state === 'backoff') this.#transition('down');
      return;
    }
    if (this.#state !== 'backoff') this.#transition('backoff');
    this.#clearTimer();
    this.#cancelTimer = this.clock.schedule(SPAWN_RETRY_MS, () => {
      this.#cancelTimer = null;
      if (this.#wantUp) this.#spawnRun();
    });
  }

  #onReady(): void {
    if (this.#state !== 'starting') return;
    // Set before the transition, so listeners of the 'ready' state event see it.
    this.#readySince = this.clock.now();
    if (this.#firstStart.readyAt === null) this.#firstStart = { ...this.#firstStart, readyAt: this.#readySince };
    this.#transition('ready');
  }

  /** Whether the run ended because of a signal asked for through the control plane (see SIGNALLED_EXIT_MS). */
  #endedBySignalAsked(termination: Termination): boolean {
    const now = this.clock.now();
    if (this.#signalledAt !== null && now - this.#signalledAt <= SIGNALLED_EXIT_MS) return true;
    const reload = this.#reloadSignalled;
    if (reload === null || now - reload.at > SIGNALLED_EXIT_MS) return false;
    // A wrapper that forwards signals (tini, dumb-init, a shell's trap and wait) tells its
    // child's death by that signal as 128 + its number.
    return termination.signal === reload.signal || termination.code === 128 + signalNumber(reload.signal);
  }

  #onRunExit(termination: Termination, startedAt: number): void {
    this.#startsBeforeTelling(() => this.#afterRunExit(termination, startedAt));
  }

  #afterRunExit(termination: Termination, startedAt: number): void {
    this.#cancelKillTimer?.();
    this.#cancelKillTimer = null;
    const exit: ServiceExit = {
      code: termination.code,
      signal: termination.signal,
      durationMs: this.clock.now() - startedAt,
      at: this.clock.now(),
      requested: this.#stopRequested || this.#endedBySignalAsked(termination),
    };
    const pgid = this.#pid ?? 0;
    this.#pid = null;
    this.#lastExit = exit;
    // Before the finish script runs: s6-permafailon in it counts this death too.
    this.deaths.record({ at: exit.at, code: exit.code, signal: exit.signal });
    // With no pid left to signal: a run script's `s6-svc -d .` before its exit is heard now.
    this.#hearPendingControl();
    if (!this.#restartOnExit) this.#wantUp = false;
    this.#emit({ type: 'exited', exit, description: describeTermination(termination) });
    if (this.definition.finishPath === null || this.#finishScriptsOff) {
      this.#afterFinish(false);
      return;
    }
    this.#transition('finishing');
    this.#runFinish(this.definition.finishPath, termination, pgid);
  }

  #runFinish(finishPath: string, termination: Termination, pgid: number): void {
    // s6 passes: exit code (256 when killed by a signal), signal number, name, process group.
    const args = [
      termination.signal === null ? String(termination.code ?? 0) : '256',
      termination.signal === null ? '0' : String(signalNumber(termination.signal)),
      ...(this.io.scriptArguments === 's6-2.10' ? [] : [this.definition.name, String(pgid)]),
    ];
    let cancelTimeout: (() => void) | null = null;
    this.port.spawn(
      {
        file: fromServiceDir(finishPath, this.definition.liveDir),
        args,
        cwd: this.definition.liveDir,
        env: this.io.env,
        stdin: this.io.stdin,
        stdout: this.io.stdout,
        stderr: this.io.stderr,
        newSession: true,
      },
      {
        onSpawned: (pid) => {
          if (this.definition.timeoutFinishMs <= 0) return;
          cancelTimeout = this.clock.schedule(this.definition.timeoutFinishMs, () => {
            this.#emit({ type: 'finish-timeout', timeoutMs: this.definition.timeoutFinishMs });
            this.port.signal(pid, 'SIGKILL');
          });
        },
        onExit: (finishTermination) => {
          cancelTimeout?.();
          // Its `s6-svc -d .` or `-O .` is heard before the listeners hear it ended, and before the restart.
          this.#hearPendingControl();
          this.#emit({ type: 'finish-exited', termination: finishTermination });
          this.#afterFinish(finishTermination.signal === null && finishTermination.code === PERMANENT_FAILURE_EXIT);
        },
        onSpawnError: (error) => {
          this.#emit({ type: 'spawn-error', path: finishPath, error });
          this.#afterFinish(false);
        },
      },
    );
  }

  #afterFinish(permanentFailure: boolean): void {
    if (permanentFailure) {
      this.#wantUp = false;
      this.#emit({ type: 'permanent-failure' });
      this.#transition('failed');
      return;
    }
    if (this.#wantUp) {
      // Pass through backoff even when no delay is due, so every restart is visible.
      if (this.#state !== 'backoff') this.#transition('backoff');
      this.#startOrThrottle();
      return;
    }
    this.#transition('down');
  }
}
