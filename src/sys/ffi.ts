import { createRequire } from 'node:module';

import type Koffi from 'koffi';

/**
 * The only file that touches koffi. It gives the few syscalls Node lacks.
 * koffi is loaded on first use so that a CLI call that never needs it starts fast.
 */
interface LibC {
  waitpid: (pid: number, status: number[], options: number) => number;
  prctl: (option: number, a2: number, a3: number, a4: number, a5: number) => number;
  pipe2: (fds: Int32Array, flags: number) => number;
  errno: () => number;
}

const WNOHANG = 1;
const PR_SET_CHILD_SUBREAPER = 36;
const O_CLOEXEC = 0o2000000;

// glibc first, then the musl names Alpine uses.
const LIBC_NAMES = ['libc.so.6', 'libc.musl-x86_64.so.1', 'libc.musl-aarch64.so.1', 'libc.so'];

let libc: LibC | undefined;

function load(): LibC {
  if (libc !== undefined) return libc;
  const require = createRequire(import.meta.url);
  const koffi = require('koffi') as typeof Koffi;
  let lib: ReturnType<typeof koffi.load> | undefined;
  let lastError: unknown;
  for (const name of LIBC_NAMES) {
    try {
      lib = koffi.load(name);
      break;
    } catch (error) {
      lastError = error;
    }
  }
  if (lib === undefined) throw new Error(`cannot load the C library through koffi`, { cause: lastError });
  libc = {
    waitpid: lib.func('int waitpid(int pid, _Out_ int *status, int options)') as LibC['waitpid'],
    prctl: lib.func('int prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)') as LibC['prctl'],
    pipe2: lib.func('int pipe2(int *fds, int flags)') as LibC['pipe2'],
    errno: () => koffi.errno(),
  };
  return libc;
}

/**
 * Collects one exited child by pid without blocking. Returns true when a zombie was reaped.
 * Never called with -1: that would steal exit statuses from libuv's own children.
 */
export function reapIfExited(pid: number): boolean {
  const status = [0];
  return load().waitpid(pid, status, WNOHANG) === pid;
}

/** Makes orphaned descendants reparent to this process instead of the real init. */
export function becomeChildSubreaper(): boolean {
  return load().prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) === 0;
}

/** A pipe whose ends are close-on-exec, so only the children we hand them to get them. */
export function createPipe(): { readFd: number; writeFd: number } {
  const fds = new Int32Array(2);
  if (load().pipe2(fds, O_CLOEXEC) !== 0) throw new Error(`pipe2 failed with errno ${load().errno()}`);
  return { readFd: fds[0] ?? -1, writeFd: fds[1] ?? -1 };
}
