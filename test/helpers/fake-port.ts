import { resolve } from 'node:path';
import type { ProcessPort, SpawnCallbacks, SpawnSpec, Termination } from '../../src/sys/spawn.js';

export interface FakeProcess {
  readonly pid: number;
  readonly spec: SpawnSpec;
  readonly callbacks: SpawnCallbacks;
  exited: boolean;
}

export interface SpawnFailure {
  readonly code: 'ENOENT' | 'EACCES' | 'ENOEXEC';
  /** The real port reports exec failures from an event, after spawn() returned; true reports them before. */
  readonly synchronous: boolean;
}

export interface SentSignal {
  readonly pid: number;
  readonly signal: NodeJS.Signals;
}

/**
 * A process port that starts nothing. It records every spawn and signal, and the
 * test decides when a process becomes ready or exits, or that the next spawn fails.
 */
export class FakeProcessPort implements ProcessPort {
  /** Processes that were started, in order. */
  readonly processes: FakeProcess[] = [];
  /** Every spawn call, failed ones included. */
  readonly attempts: SpawnSpec[] = [];
  readonly signals: SentSignal[] = [];
  #nextPid: number;
  readonly #failures: SpawnFailure[] = [];
  /**
   * With `deferSpawns`, onSpawned comes only from completeSpawns(), as from the real port,
   * which starts processes on another thread: the process exists before its pid is known.
   */
  deferSpawns = false;
  readonly #pendingSpawns: (() => void)[] = [];

  constructor(firstPid = 100) {
    this.#nextPid = firstPid;
  }

  /** A started process is reported at once (onSpawned during spawn), as Node's own spawn does. */
  spawn(spec: SpawnSpec, callbacks: SpawnCallbacks): number | undefined {
    this.attempts.push(spec);
    const failure = this.#failures.shift();
    if (failure !== undefined) {
      const error: NodeJS.ErrnoException = Object.assign(new Error(`spawn ${spec.file} ${failure.code}`), {
        code: failure.code,
        errno: failure.code === 'ENOENT' ? -2 : failure.code === 'EACCES' ? -13 : -8,
        syscall: `spawn ${spec.file}`,
        path: spec.file,
      });
      if (failure.synchronous) callbacks.onSpawnError(error);
      else queueMicrotask(() => callbacks.onSpawnError(error));
      return undefined;
    }
    const pid = this.#nextPid++;
    this.processes.push({ pid, spec, callbacks, exited: false });
    if (this.deferSpawns) this.#pendingSpawns.push(() => callbacks.onSpawned(pid));
    else callbacks.onSpawned(pid);
    return pid;
  }

  signal(pid: number, signal: NodeJS.Signals): boolean {
    this.signals.push({ pid, signal });
    // A negative pid is a process group, which each started process leads (a new session).
    return this.processes.some((process) => process.pid === Math.abs(pid) && !process.exited);
  }

  /** Reports the pids of the starts deferred so far (see deferSpawns). */
  completeSpawns(): void {
    for (const report of this.#pendingSpawns.splice(0)) report();
  }

  /** Makes the next spawn fail as an exec failure would. */
  failNextSpawn(code: SpawnFailure['code'] = 'ENOENT', options: { synchronous?: boolean } = {}): void {
    this.#failures.push({ code, synchronous: options.synchronous === true });
  }

  /** Ends a process: `{ code }` for an exit, `{ signal }` for a death by signal. */
  exit(pid: number, how: { code?: number; signal?: NodeJS.Signals } = {}): void {
    const process = this.process(pid);
    if (process.exited) throw new Error(`fake process ${pid} already exited`);
    process.exited = true;
    const termination: Termination = how.signal === undefined ? { code: how.code ?? 0, signal: null } : { code: null, signal: how.signal };
    process.callbacks.onExit(termination);
  }

  /** Writes the readiness newline on the process's notification fd. */
  ready(pid: number): void {
    const process = this.process(pid);
    if (process.spec.notificationFd === undefined) throw new Error(`fake process ${pid} has no notification fd`);
    process.callbacks.onReady?.();
  }

  process(pid: number): FakeProcess {
    const found = this.processes.find((process) => process.pid === pid);
    if (found === undefined) throw new Error(`no fake process ${pid}`);
    return found;
  }

  /** The most recently started process. */
  get last(): FakeProcess {
    const last = this.processes.at(-1);
    if (last === undefined) throw new Error('nothing was spawned');
    return last;
  }

  /** Processes started from `file` (a path, or as given to spawn: ./run from its directory), in order. */
  spawnsOf(file: string): FakeProcess[] {
    return this.processes.filter((process) => process.spec.file === file || resolve(process.spec.cwd, process.spec.file) === file);
  }

  signalsTo(pid: number): NodeJS.Signals[] {
    return this.signals.filter((sent) => sent.pid === pid).map((sent) => sent.signal);
  }
}

/** Lets queued microtasks (asynchronous spawn failures, promise callbacks) run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
