import { closeSync } from 'node:fs';
import type { Socket } from 'node:net';
import { constants } from 'node:os';

import { errnoCode, errorMessage } from '../errors.js';
import { netModule } from './builtins.js';
import { createPipe } from './ffi/descriptors.js';
import { BACKGROUND_CALLS, errnoName } from './ffi/library.js';
import { type FdSource, posixSpawn, posixSpawnInBackground, type PosixSpawnRequest } from './ffi/spawn.js';
import { listProcessGroup } from './proc.js';
import type { Reaper } from './reaper.js';
import { sendSignal, terminationSignalName } from './signals.js';
import type { ProcessPort, SpawnCallbacks, SpawnSpec, StdioTarget, Termination } from './spawn.js';
import { openForChild } from './stdio.js';
import { findExecutable } from './which.js';

function spawnError(code: string, path: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(`spawn ${path} ${code}`);
  error.code = code;
  error.path = path;
  error.syscall = 'posix_spawn';
  return error;
}

/** Decodes a wait status: exit code in bits 8-15, or the terminating signal in bits 0-6. */
export function decodeWaitStatus(status: number): Termination {
  const signal = status & 0x7f;
  if (signal === 0) return { code: (status >> 8) & 0xff, signal: null };
  return { code: null, signal: terminationSignalName(signal) };
}

/**
 * A start may find its run script "busy" (ETXTBSY) for a moment: while this thread copies
 * a service directory, another thread's posix_spawn child holds a copy of the open file
 * until it execs. Retried for up to about 100 ms before it counts as a failure.
 */
const TEXT_BUSY_RETRIES = 20;
const TEXT_BUSY_DELAY_MS = 5;

/** envp arrays of frozen environments, which all services share: converted once, not per start. */
const envArrays = new WeakMap<NodeJS.ProcessEnv, readonly string[]>();

function envArray(env: NodeJS.ProcessEnv): readonly string[] {
  const cached = envArrays.get(env);
  if (cached !== undefined) return cached;
  const array = Object.entries(env).flatMap(([name, value]) => (value === undefined ? [] : [`${name}=${value}`]));
  if (Object.isFrozen(env)) envArrays.set(env, array);
  return array;
}

/** Where a child's descriptor comes from; a fresh open file goes into `opened`, to be closed once the child has it. */
function fdSource(target: StdioTarget, opened: number[]): FdSource {
  if (target === 'ignore') return 'null';
  if (typeof target !== 'object') return target;
  const { fd, fresh } = openForChild(target);
  if (fresh) opened.push(fd);
  return fd;
}

/**
 * The process port for PID 1: posix_spawn for a start that costs the same whatever
 * Steward's size, and the reaper for exit statuses.
 */
export function posixProcessPort(reaper: Reaper): ProcessPort {
  const launch = backgroundLauncher();
  return {
    spawn(spec: SpawnSpec, callbacks: SpawnCallbacks): void {
      const found = findExecutable(spec.file, spec.env['PATH']);
      if ('error' in found) {
        queueMicrotask(() => callbacks.onSpawnError(spawnError(found.error, spec.file)));
        return;
      }
      const path = found.path;
      // Counted from the call itself, with the cell its pid comes in: a start still queued has no child yet.
      let settled = (): void => undefined;
      const launched = (pidCell: Int32Array): void => {
        settled();
        settled = reaper.spawnStarted(pidCell);
      };
      // The child's descriptors are opened when its start leaves the queue, not when it is asked
      // for: a boot of hundreds of services asks for as many starts at once, and each would hold
      // its open files and its readiness pipe while it waits, leaving none (under ulimit -n 256)
      // for reading the next services. Kept for a retry.
      let prepared: PreparedStart | undefined;
      const prepareOnce = (): PreparedStart | undefined => {
        prepared ??= prepareStart(spec, path, callbacks);
        return prepared;
      };
      let retries = TEXT_BUSY_RETRIES;
      const attempt = (): void => launch(prepareOnce, launched, (result, { opened, readiness }) => {
        if (result === -constants.errno.ETXTBSY && retries-- > 0) {
          setTimeout(attempt, TEXT_BUSY_DELAY_MS);
          return;
        }
        // Only the child may hold the write end: its exit must close the pipe.
        if (readiness !== undefined) closeSync(readiness.writeFd);
        for (const fd of opened) closeSync(fd);
        if (result < 0) {
          if (readiness !== undefined) closeSync(readiness.readFd);
          settled();
          callbacks.onSpawnError(spawnError(errnoName(-result), path));
          return;
        }
        const notifications = readiness === undefined ? undefined : watchReadiness(readiness.readFd, callbacks);
        reaper.watch(result, (status) => {
          notifications?.destroy();
          callbacks.onExit(decodeWaitStatus(status));
        });
        try {
          callbacks.onSpawned(result);
        } finally {
          // After the watch and onSpawned: an exit collected now is delivered after them. And
          // always: a start never counted as over would hold every orphan back.
          settled();
        }
      });
      attempt();
    },
    signal: sendSignal,
    groupMembers: listProcessGroup,
  };
}

/** A start's request, with the open files and readiness pipe made for it, closed once the child has them. */
interface PreparedStart {
  readonly request: PosixSpawnRequest;
  readonly opened: readonly number[];
  readonly readiness: { readonly readFd: number; readonly writeFd: number } | undefined;
}

/**
 * Opens what the child gets (its output pipes, its readiness pipe) and makes its request.
 * Undefined when that fails (out of descriptors): the start fails then, told through
 * onSpawnError, and its supervisor tries again later.
 */
function prepareStart(spec: SpawnSpec, path: string, callbacks: SpawnCallbacks): PreparedStart | undefined {
  const opened: number[] = [];
  try {
    const fds = new Map<number, FdSource>([
      [0, fdSource(spec.stdin, opened)],
      [1, fdSource(spec.stdout, opened)],
      [2, fdSource(spec.stderr, opened)],
    ]);
    const readiness = spec.notificationFd === undefined ? undefined : createPipe();
    if (readiness !== undefined && spec.notificationFd !== undefined) fds.set(spec.notificationFd, readiness.writeFd);
    return { request: { path, argv: [spec.argv0 ?? spec.file, ...spec.args], env: envArray(spec.env), cwd: spec.cwd, fds, newSession: spec.newSession }, opened, readiness };
  } catch (error) {
    for (const fd of opened) closeSync(fd);
    const code = errnoCode(error) ?? 'EMFILE';
    queueMicrotask(() => callbacks.onSpawnError(Object.assign(spawnError(code, path), { message: `${errorMessage(error)} (for ${path})` })));
    return undefined;
  }
}

/**
 * A few starts at a time on libuv's threads (it has four by default; koffi keeps memory for
 * BACKGROUND_CALLS calls and refuses more than a few hundred at once), the others queued
 * in order. Should koffi refuse one anyway, it runs on this thread instead.
 */
function backgroundLauncher(): (prepare: () => PreparedStart | undefined, launched: (pidCell: Int32Array) => void, done: (result: number, start: PreparedStart) => void) => void {
  let running = 0;
  const queue: (() => void)[] = [];
  const next = (): void => {
    running--;
    const start = queue.shift();
    if (start !== undefined) {
      running++;
      start();
    }
  };
  return (prepare, launched, done) => {
    const start = (): void => {
      const prepared = prepare();
      if (prepared === undefined) {
        // It could not be prepared, and was told so: the next one goes.
        next();
        return;
      }
      const pidCell = new Int32Array(1);
      launched(pidCell);
      try {
        posixSpawnInBackground(
          prepared.request,
          (result) => {
            next();
            done(result, prepared);
          },
          pidCell,
        );
      } catch {
        next();
        done(spawnHere(prepared.request), prepared);
      }
    };
    if (running < BACKGROUND_CALLS) {
      running++;
      start();
    } else {
      queue.push(start);
    }
  };
}

/**
 * posixSpawn on this thread, for a start koffi would not take on another: a failure to even
 * prepare it is an EAGAIN, as a start the system had no resources for. Thrown, it would leave
 * the start without an answer (a queued one runs from another start's callback).
 */
function spawnHere(request: PosixSpawnRequest): number {
  try {
    return posixSpawn(request);
  } catch {
    return -constants.errno.EAGAIN;
  }
}

/** A newline on the notification pipe means ready; after that the pipe is closed. */
function watchReadiness(readFd: number, callbacks: SpawnCallbacks): Socket {
  const socket = new (netModule().Socket)({ fd: readFd, readable: true, writable: false });
  socket.on('data', (chunk: Buffer) => {
    if (!chunk.includes(10)) return;
    socket.destroy();
    callbacks.onReady?.();
  });
  socket.on('error', () => socket.destroy());
  return socket;
}
