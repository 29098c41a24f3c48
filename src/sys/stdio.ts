import { closeSync, constants, fstatSync, openSync, writeSync } from 'node:fs';

import { clearStatusFlags } from './ffi/descriptors.js';
import type { FreshPipe, StdioTarget } from './spawn.js';

/**
 * The container's stdout and stderr: what children get, and how Steward writes its own lines.
 *
 * Node makes a stream for `process.stdout` or `process.stderr` when first asked for it. For a
 * pipe (what `docker logs` and Kubernetes give a container) that loads `node:net` (a few
 * milliseconds before the first service could start) and puts the pipe in non-blocking
 * mode. That mode belongs to the open file, not to the descriptor, so every child handed the
 * same descriptor would write in non-blocking mode too: a service writing faster than the
 * log reader reads gets EAGAIN and loses output ("write error: Resource temporarily
 * unavailable"). Under s6 those writes wait.
 *
 * So Steward does not touch those streams. Children get the pipe opened again through /proc,
 * in blocking mode, each its own open file: a child that makes its output non-blocking
 * (s6-log does) must not do it for all the others. Steward writes its lines through an open file of its own in
 * non-blocking mode, so PID 1 never waits on a slow log reader; what the pipe cannot take
 * at once goes to Node's stream, which queues it.
 */

/** Which of stdout and stderr children share as they are, so Node's stream must not make them non-blocking. */
const sharedAsIs = { stdout: false, stderr: false };
/** Node's streams, once something made them. */
const madeStreams: { stdout?: NodeJS.WriteStream; stderr?: NodeJS.WriteStream } = {};

export function childStdio(): { stdout: StdioTarget; stderr: StdioTarget } {
  return { stdout: childTarget(1, 'stdout'), stderr: childTarget(2, 'stderr') };
}

function childTarget(fd: 1 | 2, name: 'stdout' | 'stderr'): StdioTarget {
  const reopened = reopenPipe(fd, 'blocking');
  if (reopened !== undefined) return { freshFrom: fd, fallback: reopened };
  // Not a pipe (a terminal, a file, a socket), or one this user may not open: children share
  // the descriptor, so if Node ever makes its stream, that stream must write in blocking mode.
  sharedAsIs[name] = true;
  const stream = madeStreams[name];
  if (stream !== undefined) makeBlocking(stream);
  return 'inherit';
}

/** A new open file on the pipe at `fd`, close-on-exec as Node opens every file; undefined when `fd` is no pipe or cannot be opened. */
function reopenPipe(fd: number, mode: 'blocking' | 'non-blocking'): number | undefined {
  try {
    if (!fstatSync(fd).isFIFO()) return undefined;
  } catch {
    return undefined; // closed: nothing to share
  }
  return openAgain(fd, mode);
}

/** The pipe at `fd` (known to be one) opened again through /proc; undefined when it cannot be. */
function openAgain(fd: number, mode: 'blocking' | 'non-blocking'): number | undefined {
  let reopened: number;
  try {
    // O_NONBLOCK for the open itself in any case: opening a pipe nobody reads would wait forever.
    reopened = openSync(`/proc/self/fd/${fd}`, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  if (mode === 'non-blocking' || clearStatusFlags(reopened)) return reopened;
  closeSync(reopened);
  return undefined;
}

/**
 * A blocking open file of its own on the pipe, for one child (see FreshPipe); the caller
 * closes it once the child has it. The shared fallback when none can be opened (out of
 * descriptors, say).
 */
export function openForChild(target: FreshPipe): { fd: number; fresh: boolean } {
  const pipeFd = target.freshFrom;
  const openedAhead = openedAheadFor.get(pipeFd);
  openedAheadFor.delete(pipeFd);
  // Known to be a pipe (childStdio looked): no fstat again.
  const fd = openedAhead ?? openAgain(pipeFd, 'blocking');
  if (fd === undefined) return { fd: target.fallback, fresh: false };
  openAheadSoon(pipeFd);
  return { fd, fresh: true };
}

/**
 * For each pipe children write to, a blocking open file of its own opened ahead for the next
 * child: a restart takes it, rather than opening /proc/self/fd/N (an open and an fcntl for
 * each of stdout and stderr) between a death and the start that follows it. The next one is
 * opened once the event loop is done with what it is doing. No one else ever has it, so it
 * is as fresh as one opened for the child itself.
 */
const openedAheadFor = new Map<number, number>();
const toOpenAhead = new Set<number>();
let openingAhead: NodeJS.Immediate | undefined;

function openAheadSoon(pipeFd: number): void {
  toOpenAhead.add(pipeFd);
  openingAhead ??= setImmediate(() => {
    openingAhead = undefined;
    for (const fd of toOpenAhead) {
      if (openedAheadFor.has(fd)) continue;
      const opened = openAgain(fd, 'blocking');
      if (opened !== undefined) openedAheadFor.set(fd, opened);
    }
    toOpenAhead.clear();
  }).unref();
}

let stderrTarget: number | undefined;

/**
 * What one write(2) to a pipe carries whole (PIPE_BUF on Linux): the kernel never mixes another
 * writer's bytes into it. Steward's writes are cut at line ends to at most this, so that a
 * service writing to the same pipe never lands inside one of Steward's lines.
 */
const PIPE_ATOMIC_BYTES = 4096;
/** Past this much waiting, writeStderr tells a copier (the catch-all log) to stop reading. */
const WAITING_HIGH_WATER_BYTES = 16 * 1024;

/**
 * What the pipe could not take at once (a slow reader of the container's output), in pieces of
 * whole lines of at most PIPE_ATOMIC_BYTES, in order. They go out one at a time through Node's
 * stream, which waits for the pipe to have room: given several, it would write them together,
 * in pieces cut anywhere once the pipe is full, and a service's output would land mid-line.
 */
const waiting: Buffer[] = [];
let waitingBytes = 0;
/** A piece is being written through Node's stream. */
let pumping = false;
const drainCallbacks: (() => void)[] = [];

/**
 * How much of Steward's own lines may wait for a blocked output (a stalled log driver) before
 * more are dropped, and counted: a crash loop's lines must not grow PID 1 for as long as the
 * output is blocked. Services' output is not dropped: it waits in their pipes (see writeStderr).
 */
const OWN_LINES_QUEUE_BYTES = 4 * 1024 * 1024;
let ownLinesDropped = 0;

/** Bytes written by writeStderr that still wait for the container's output to take them. */
export function stderrWaitingBytes(): number {
  return waitingBytes;
}

/**
 * Steward's own line, through writeStderr, unless what waits for a blocked output has passed
 * OWN_LINES_QUEUE_BYTES: then it is dropped, and once the output takes lines again, a line says
 * how many were.
 */
export function writeOwnLine(text: string | Uint8Array): void {
  if (waitingBytes > OWN_LINES_QUEUE_BYTES) {
    if (ownLinesDropped++ === 0) {
      whenStderrDrained(() => {
        const count = ownLinesDropped;
        ownLinesDropped = 0;
        writeStderr(`steward: warning: ${count} lines of Steward's own were dropped while the container's output was blocked\n`);
      });
    }
    return;
  }
  writeStderr(text);
}

/**
 * Writes Steward's own text to stderr at once, in writes of whole lines of at most
 * PIPE_ATOMIC_BYTES. What the pipe cannot take now waits, in order, with what follows it. A
 * closed or broken stderr loses the text, never the process. Returns false when what waits has
 * grown past WAITING_HIGH_WATER_BYTES: a caller copying a stream (the catch-all log) should stop
 * reading until whenStderrDrained(), so that a slow reader of the container's output slows the
 * services down, as a blocking pipe would, instead of filling PID 1's memory.
 */
export function writeStderr(text: string | Uint8Array): boolean {
  const bytes = typeof text === 'string' ? Buffer.from(text) : Buffer.from(text.buffer, text.byteOffset, text.byteLength);
  if (pumping || waitingBytes > 0) return wait(bytes, 0);
  stderrTarget ??= reopenPipe(2, 'non-blocking') ?? 2;
  let start = 0;
  while (start < bytes.length) {
    const end = pieceEnd(bytes, start);
    try {
      start += writeSync(stderrTarget, bytes, start, end - start);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EINTR') continue;
      if (code === 'EAGAIN') return wait(bytes, start);
      return true;
    }
  }
  return true;
}

/** Where the piece of `bytes` starting at `start` ends: after its last newline within PIPE_ATOMIC_BYTES, or there for a longer line. */
function pieceEnd(bytes: Buffer, start: number): number {
  if (bytes.length - start <= PIPE_ATOMIC_BYTES) return bytes.length;
  const newline = bytes.lastIndexOf(10, start + PIPE_ATOMIC_BYTES - 1);
  return newline >= start ? newline + 1 : start + PIPE_ATOMIC_BYTES;
}

/** Queues what is left of `bytes` from `start` (a copy: the caller may reuse its buffer), and starts writing it out. */
function wait(bytes: Buffer, start: number): boolean {
  while (start < bytes.length) {
    const end = pieceEnd(bytes, start);
    const piece = bytes.subarray(start, end);
    // Joined to the last waiting piece when both are whole lines that fit in one: a crash loop's
    // lines waiting for a stalled reader are a few pieces, not one each.
    const last = waiting.at(-1);
    if (last !== undefined && last.length + piece.length <= PIPE_ATOMIC_BYTES && last.at(-1) === 10) waiting[waiting.length - 1] = Buffer.concat([last, piece]);
    else waiting.push(Buffer.from(piece));
    waitingBytes += piece.length;
    start = end;
  }
  pumpWaiting();
  return waitingBytes <= WAITING_HIGH_WATER_BYTES;
}

/** Writes the waiting pieces one at a time through Node's stream, which waits for room in the pipe. */
function pumpWaiting(): void {
  if (pumping) return;
  const piece = waiting.shift();
  if (piece === undefined) {
    for (const callback of drainCallbacks.splice(0)) callback();
    return;
  }
  pumping = true;
  // Called once the piece is written, or with an error (a closed pipe): either way it is done.
  process.stderr.write(piece, () => {
    pumping = false;
    waitingBytes -= piece.length;
    pumpWaiting();
  });
}

/** Calls `callback` once what writeStderr queued has been written out. */
export function whenStderrDrained(callback: () => void): void {
  if (!pumping && waitingBytes === 0) {
    queueMicrotask(callback);
    return;
  }
  drainCallbacks.push(callback);
}

/**
 * Resolves once what Steward queued for stderr (the pipe was full) is written, or after
 * `limitMs`: process.exit() would drop it, and the last lines (the stop, the exit code) are
 * the ones a user reads first.
 */
export function stderrFlushed(limitMs: number): Promise<void> {
  if (!pumping && waitingBytes === 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, limitMs);
    whenStderrDrained(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * A stream error on stdout or stderr (a closed pipe) must never become an uncaught exception
 * in PID 1, and a stream over a descriptor children share must write in blocking mode. Node
 * makes the streams lazily; this adds both when a stream is first made, by whatever code
 * asks for it, without making it now.
 */
export function guardStandardStreams(): void {
  for (const name of ['stdout', 'stderr'] as const) {
    const descriptor = Object.getOwnPropertyDescriptor(process, name) as { get?: (this: NodeJS.Process) => unknown; configurable?: boolean; enumerable?: boolean } | undefined;
    const makeStream = descriptor?.get;
    if (makeStream === undefined || descriptor?.configurable !== true) {
      prepareStream(name, process[name]);
      continue;
    }
    let prepared = false;
    Object.defineProperty(process, name, {
      configurable: true,
      enumerable: descriptor.enumerable ?? true,
      get(): NodeJS.WriteStream {
        const stream = makeStream.call(process) as NodeJS.WriteStream;
        if (!prepared) {
          prepared = true;
          prepareStream(name, stream);
        }
        return stream;
      },
    });
  }
}

function prepareStream(name: 'stdout' | 'stderr', stream: NodeJS.WriteStream): void {
  madeStreams[name] = stream;
  stream.on('error', () => undefined);
  if (sharedAsIs[name]) makeBlocking(stream);
}

/** libuv's handles can write in blocking mode; Node does so for terminals already. */
function makeBlocking(stream: NodeJS.WriteStream): void {
  (stream as { _handle?: { setBlocking?: (blocking: boolean) => number } })._handle?.setBlocking?.(true);
}
