import { closeSync, constants as fsConstants, openSync } from 'node:fs';

import { duplicateAbove, setBlocking } from '../sys/ffi/descriptors.js';
import { ExeclineError } from './options.js';
import type { ChainState } from './state.js';

/** What redirfd opens: the file, its open(2) flags and mode, and the blocking mode to switch to once open (-b). */
export interface Redirection {
  readonly path: string;
  readonly flags: number;
  readonly mode: number;
  readonly then?: 'blocking' | 'nonblocking';
}

/** Above the descriptors scripts name, so that the program's earlier moves cannot land on them before their turn. */
const LOWEST_KEPT_FD = 100;

/**
 * Opens a redirfd file as execline does. A fifo opened for writing without blocking fails
 * (ENXIO) while nobody reads it; execline then holds a read end for the moment of the open,
 * so the open succeeds at once (writes wait for a reader, or fail once the pipe is full).
 * redirfd -b then switches the blocking mode.
 */
function openRedirection(redirection: Redirection): number {
  let fd: number;
  try {
    fd = openSync(redirection.path, redirection.flags, redirection.mode);
  } catch (error) {
    const writeOnly = (redirection.flags & 3) === fsConstants.O_WRONLY;
    if ((error as NodeJS.ErrnoException).code !== 'ENXIO' || !writeOnly || (redirection.flags & fsConstants.O_NONBLOCK) === 0) throw error;
    const reader = openSync(redirection.path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
    try {
      fd = openSync(redirection.path, redirection.flags, redirection.mode);
    } finally {
      closeSync(reader);
    }
  }
  if (redirection.then !== undefined) setBlocking(fd, redirection.then === 'blocking');
  return fd;
}

/**
 * Opens the file once, when redirfd runs (as the account in effect then), as execline's
 * redirfd does before it executes the rest: every block and the program get a copy of the
 * same descriptor, so a -w file is truncated once and a -x file created once. The open
 * descriptor is kept close-on-exec at a high number, above every descriptor the chain names
 * so far, and given to `target` by a move; the chain's state owns it from then on.
 */
export function redirect(state: ChainState, target: number, file: string, redirection: Redirection): void {
  let fd: number;
  // The chain's umask, as execline's redirfd opens after an umask earlier in the chain has
  // run: `umask 077 redirfd -w 1 secret` makes a file its owner's alone.
  const previousMask = process.umask(state.umask);
  try {
    fd = openRedirection(redirection);
  } catch (error) {
    throw new ExeclineError(`unable to open ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, 111);
  } finally {
    process.umask(previousMask);
  }
  handToChain(state, fd, target, file);
}

/**
 * Gives a descriptor this process opened to the chain's program at `target`: kept
 * close-on-exec above every descriptor the chain names so far (and `target`), moved there when
 * the program starts; the chain's state owns it from then on. `what` names it in errors.
 */
export function handToChain(state: ChainState, fd: number, target: number, what: string): void {
  const named = state.actions.map((action) => (action.kind === 'close' ? action.fd : action.to));
  const kept = duplicateAbove(fd, Math.max(LOWEST_KEPT_FD, target + 1, ...named.map((number) => number + 1)));
  closeSync(fd);
  if (kept < 0) throw new ExeclineError(`unable to keep the descriptor of ${what}: too many open files`, 111);
  state.opened.push(kept);
  state.actions.push({ kind: 'dup', from: kept, to: target });
}

/** Closes what a chain's own commands opened, once its process has them (or it ended without one). */
export function closeOpened(state: ChainState): void {
  for (const fd of state.opened.splice(0)) {
    try {
      closeSync(fd);
    } catch {
      // Already closed.
    }
  }
}
