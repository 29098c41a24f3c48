import { createRequire } from 'node:module';

import type * as NetModule from 'node:net';

import { releaseSpareForLibuv } from './spare-descriptor.js';

/**
 * Node's stream-based built-ins, loaded when first used rather than when PID 1 starts.
 * `node:net` is not in Node's start-up snapshot: compiling it costs a few milliseconds that
 * would come before the first service starts, and many containers never need it (no
 * readiness pipe, no catch-all log) until the control socket is served. (`node:tty` loads it
 * too: sys/ffi.ts's isTerminal asks the C library instead.)
 */
const requireBuiltin = createRequire(import.meta.url);

export function netModule(): typeof NetModule {
  // Every stream Steward sets up goes through here, just before it is set up.
  releaseSpareForLibuv();
  return requireBuiltin('node:net') as typeof NetModule;
}
