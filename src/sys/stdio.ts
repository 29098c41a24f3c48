import { closeSync, constants, fstatSync, openSync } from 'node:fs';

import { clearStatusFlags } from './ffi.js';
import type { StdioTarget } from './spawn.js';

/**
 * What children get as stdout and stderr when they share the container's.
 *
 * Node puts its own stdout and stderr in non-blocking mode when they are pipes, which is
 * what `docker logs` and Kubernetes give a container. That mode belongs to the open file,
 * not to the descriptor, so every child handed the same descriptor would write in
 * non-blocking mode too: a service writing faster than the log reader reads gets EAGAIN
 * and loses output ("write error: Resource temporarily unavailable"). Under s6 those
 * writes wait. So a pipe is opened again through /proc, which gives an open file of its
 * own, in blocking mode, for the children. When that cannot be done (a socket, a pipe
 * this user may not open), Node's own writes are made blocking instead: the children's
 * output matters more than PID 1 never waiting on its log reader.
 */
export function childStdio(): { stdout: StdioTarget; stderr: StdioTarget } {
  return { stdout: blockingTarget(1, process.stdout), stderr: blockingTarget(2, process.stderr) };
}

function blockingTarget(fd: 1 | 2, stream: NodeJS.WriteStream): StdioTarget {
  if (isPipe(fd)) {
    const reopened = reopenBlocking(fd);
    if (reopened !== undefined) return reopened;
  }
  makeBlocking(stream);
  return 'inherit';
}

function isPipe(fd: number): boolean {
  try {
    return fstatSync(fd).isFIFO();
  } catch {
    return false; // closed: nothing to share
  }
}

/** A new open file on the same pipe; close-on-exec, as Node opens every file. */
function reopenBlocking(fd: number): number | undefined {
  let reopened: number;
  try {
    // O_NONBLOCK only for the open itself: opening a pipe nobody reads would wait forever.
    reopened = openSync(`/proc/self/fd/${fd}`, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  if (clearStatusFlags(reopened)) return reopened;
  closeSync(reopened);
  return undefined;
}

/** libuv's handles can write in blocking mode; Node does so for terminals already. */
function makeBlocking(stream: NodeJS.WriteStream): void {
  const handle = (stream as { _handle?: { setBlocking?: (blocking: boolean) => number } })._handle;
  handle?.setBlocking?.(true);
}
