import { createRequire } from 'node:module';

import type * as NetModule from 'node:net';
import type * as TtyModule from 'node:tty';

import { releaseSpareForLibuv } from './spare-descriptor.js';

/**
 * Node's stream-based built-ins, loaded when first used rather than when PID 1 starts.
 * `node:net` (and `node:tty`, which loads it) are not in Node's start-up snapshot: compiling
 * them costs a few milliseconds that would come before the first service starts, and many
 * containers never need them (no readiness pipe, no catch-all log) until the control
 * socket is served.
 */
const requireBuiltin = createRequire(import.meta.url);

export function netModule(): typeof NetModule {
  // Every stream Steward sets up goes through here, just before it is set up.
  releaseSpareForLibuv();
  return requireBuiltin('node:net') as typeof NetModule;
}

/** Whether `fd` is a terminal. */
export function isTerminal(fd: number): boolean {
  return (requireBuiltin('node:tty') as typeof TtyModule).isatty(fd);
}
