import type * as ChildProcessModule from 'node:child_process';
import type { StdioOptions } from 'node:child_process';
import { EventEmitter } from 'node:events';

import { listProcessGroup } from './proc.js';
import { sendSignal } from './signals.js';

/**
 * The process port: the narrow interface through which everything above `sys/`
 * starts and signals processes. Tests replace it with a fake.
 */

export interface Termination {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export type StdioTarget = 'ignore' | 'inherit' | number | FreshPipe;

/**
 * The container's output pipe at `freshFrom`, opened anew for each child: a child that makes
 * its output non-blocking (s6-log does, on its stdout) changes its own open file only, not
 * every other service's. `fallback` (one blocking open file all children share) when a new
 * one cannot be opened.
 */
export interface FreshPipe {
  readonly freshFrom: number;
  readonly fallback: number;
}

export interface SpawnSpec {
  file: string;
  args: readonly string[];
  /** The program's own name for itself (argv[0]); `file` when not given. */
  argv0?: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  stdin: StdioTarget;
  stdout: StdioTarget;
  stderr: StdioTarget;
  /** Run in a new session (setsid), so the process leads its own group, as s6 does. */
  newSession: boolean;
  /** Open a pipe at this descriptor in the child; a newline on it means "ready". */
  notificationFd?: number;
}

export interface SpawnCallbacks {
  /**
   * The program runs (it has been exec'd), with this pid. Called once, before any other
   * callback, either during spawn() or later: a port may start processes on another thread.
   */
  onSpawned(pid: number): void;
  onExit(termination: Termination): void;
  /** Called when the exec itself failed (ENOENT, EACCES, ENOEXEC...). No onExit follows. */
  onSpawnError(error: NodeJS.ErrnoException): void;
  onReady?(): void;
}

export interface ProcessPort {
  /** Starts a process: onSpawned or onSpawnError follows, then onExit after onSpawned. */
  spawn(spec: SpawnSpec, callbacks: SpawnCallbacks): void;
  signal(pid: number, signal: NodeJS.Signals): boolean;
  /**
   * The live members of a process group, for a wait until what a stopped script left
   * running is gone too; absent where they cannot be listed. Throws when /proc cannot be read.
   */
  groupMembers?(group: number): number[];
}

/** Pids Node spawned and libuv will reap; the orphan reaper must leave them alone. */
export const ownChildren = new Set<number>();
/** Emits 'exit' after an own child was reaped by libuv. */
export const childEvents = new EventEmitter();

function stdioFor(spec: SpawnSpec): StdioOptions {
  const plain = (target: StdioTarget): 'ignore' | 'inherit' | number => (typeof target === 'object' ? target.fallback : target);
  const stdio: ('ignore' | 'inherit' | number | 'pipe')[] = [plain(spec.stdin), plain(spec.stdout), plain(spec.stderr)];
  if (spec.notificationFd !== undefined) {
    // Descriptors between 3 and the notification fd stay closed in the child.
    while (stdio.length < spec.notificationFd) stdio.push('ignore');
    stdio[spec.notificationFd] = 'pipe';
  }
  return stdio;
}

/**
 * The fallback port, on Node's fork-based spawn, for a C library without posix_spawn's
 * helpers. child_process is passed in, so start-up does not load it when it is not used.
 */
export function createNodeProcessPort({ spawn }: typeof ChildProcessModule): ProcessPort {
  return {
  spawn(spec, callbacks) {
    let child;
    try {
      child = spawn(spec.file, spec.args, {
        cwd: spec.cwd,
        env: spec.env,
        stdio: stdioFor(spec),
        detached: spec.newSession,
        ...(spec.argv0 === undefined ? {} : { argv0: spec.argv0 }),
      });
    } catch (error) {
      // Some failures (bad arguments, EINVAL) throw instead of emitting 'error'.
      queueMicrotask(() => callbacks.onSpawnError(error as NodeJS.ErrnoException));
      return;
    }
    const pid = child.pid;
    if (pid === undefined) {
      child.once('error', (error) => callbacks.onSpawnError(error));
      return;
    }
    ownChildren.add(pid);
    callbacks.onSpawned(pid);
    // After a successful spawn, 'error' only reports failed kill() calls, which sendSignal handles.
    child.on('error', () => undefined);
    child.once('exit', (code, signal) => {
      ownChildren.delete(pid);
      childEvents.emit('exit', pid);
      callbacks.onExit({ code, signal });
    });
    if (spec.notificationFd !== undefined) {
      const readiness = child.stdio[spec.notificationFd];
      if (readiness !== null && readiness !== undefined && 'on' in readiness) {
        readiness.on('data', (chunk: Buffer) => {
          if (chunk.includes(10)) {
            readiness.destroy();
            callbacks.onReady?.();
          }
        });
        readiness.on('error', () => undefined);
      }
    }
  },
  signal: sendSignal,
  groupMembers: listProcessGroup,
  };
}
