import { createRequire } from 'node:module';
import { constants as osConstants } from 'node:os';

import type Koffi from 'koffi';

/**
 * The only place that loads koffi: the C library's functions Node lacks, declared once.
 * koffi is loaded on first use so that a CLI call that never needs it starts fast. The
 * other files of this directory give them to the rest of Steward, one concern each.
 */

/** A C function as koffi gives it: numbers, strings and buffers in, an int out. */
export type Fn<Args extends unknown[]> = (...args: Args) => number;

export interface LibC {
  waitpid: Fn<[pid: number, status: number[], options: number]>;
  waitid: Fn<[idType: number, id: number, info: Int32Array, options: number]>;
  prctl: Fn<[option: number, a2: number, a3: number, a4: number, a5: number]>;
  pipe2: Fn<[fds: Int32Array, flags: number]>;
  errno: () => number;
  spawn: SpawnCalls | undefined;
  exec: ExecCalls;
  mkfifo: Fn<[path: string, mode: number]>;
  socket: Fn<[domain: number, type: number, protocol: number]>;
  bind: Fn<[fd: number, address: Buffer, length: number]>;
  listen: Fn<[fd: number, backlog: number]>;
  close: Fn<[fd: number]>;
  isatty: Fn<[fd: number]>;
  read: Fn<[fd: number, buffer: Buffer, count: number]>;
  /** syscall(2), for calls a C library may not wrap (pidfd_open: glibc 2.36 and later only, musl not). */
  syscall: (number: number, ...variadic: unknown[]) => number;
  /** poll(2); with koffi's `async`, on a libuv thread, where it may block. */
  poll: Fn<[fds: Buffer, count: number, timeoutMs: number]> & { async: (...args: [fds: Buffer, count: number, timeoutMs: number, done: (error: unknown, result: number) => void]) => void };
}

/** What a process needs to turn itself into another program, as execline's chain-loading does. */
export interface ExecCalls {
  execve: Fn<[path: string, argv: (string | null)[], envp: (string | null)[]]>;
  dup2: Fn<[fd: number, newFd: number]>;
  fcntl: (fd: number, command: number, ...variadic: unknown[]) => number;
  setgroups: Fn<[count: number, groups: Uint32Array]>;
  setgid: Fn<[gid: number]>;
  setuid: Fn<[uid: number]>;
  prlimit: Fn<[pid: number, resource: number, limit: Buffer | null, old: Buffer | null]>;
  sigprocmask: Fn<[how: number, set: Buffer, old: null]>;
  signal: (signal: number, handler: null) => unknown;
  /** _exit: gone at once, without Node's teardown. */
  exitNow: (status: number) => never;
}

/** posix_spawn and its helpers; absent on a C library too old to have addchdir_np. */
export type PosixSpawnArgs = [pid: Int32Array, path: string, actions: Buffer, attributes: Buffer, argv: Buffer, envp: Buffer];

export interface SpawnCalls {
  /** With koffi's `async`, the same call on a libuv thread. */
  posixSpawn: Fn<PosixSpawnArgs> & { async: (...args: [...PosixSpawnArgs, (error: unknown, result: number) => void]) => void };
  actionsInit: Fn<[actions: Buffer]>;
  actionsDestroy: Fn<[actions: Buffer]>;
  addDup2: Fn<[actions: Buffer, fd: number, newFd: number]>;
  addOpen: Fn<[actions: Buffer, fd: number, path: string, flags: number, mode: number]>;
  addClose: Fn<[actions: Buffer, fd: number]>;
  addChdir: Fn<[actions: Buffer, path: string]>;
  attributesInit: Fn<[attributes: Buffer]>;
  attributesDestroy: Fn<[attributes: Buffer]>;
  setFlags: Fn<[attributes: Buffer, flags: number]>;
  setSigDefault: Fn<[attributes: Buffer, set: Buffer]>;
  setSigMask: Fn<[attributes: Buffer, set: Buffer]>;
  sigFillSet: Fn<[set: Buffer]>;
  sigEmptySet: Fn<[set: Buffer]>;
}

/** A struct sigset_t, allocated larger than any C library makes it. */
export const SIGSET_SIZE = 128;

// glibc first, then the musl names Alpine uses.
const LIBC_NAMES = ['libc.so.6', 'libc.musl-x86_64.so.1', 'libc.musl-aarch64.so.1', 'libc.so'];

let declared: LibC | undefined;
/** koffi itself once loaded, for what is not a call: addresses and sizes. */
let koffiModule: typeof Koffi | undefined;

/** Linux folders of koffi's prebuilt native modules, glibc first, as koffi tries them. */
function nativeFolders(): string[] {
  if (process.platform !== 'linux' || (process.arch !== 'x64' && process.arch !== 'arm64')) return [];
  return [`linux_${process.arch}`, `musl_${process.arch}`];
}

/**
 * koffi's entry point also loads the helpers of its installer (https, zlib, crypto),
 * which cost PID 1 over 10 ms of start-up; its native module alone has every call used
 * here. The entry point stays the fallback for platforms not listed above.
 */
function loadKoffi(): typeof Koffi {
  const require = createRequire(import.meta.url);
  for (const folder of nativeFolders()) {
    try {
      return require(`koffi/build/koffi/${folder}/koffi.node`) as typeof Koffi;
    } catch {
      // The other C library's build, or a layout this version of koffi does not have.
    }
  }
  return require('koffi') as typeof Koffi;
}

/**
 * How many calls may run on libuv's threads at once (posixSpawnInBackground): koffi keeps
 * that many memory pools for them. Beyond its default four, each further call would map and
 * unmap a fresh pool on this thread, which costs more than the spawn it carries.
 */
export const BACKGROUND_CALLS = 8;

/** The C library's functions, loaded with koffi on first use. */
export function libc(): LibC {
  if (declared !== undefined) return declared;
  const koffi = loadKoffi();
  koffiModule = koffi;
  // Only possible before the first library is loaded; a koffi that refuses it still works.
  try {
    koffi.config({ resident_async_pools: BACKGROUND_CALLS });
  } catch {
    // An older koffi without this setting: calls beyond its pools allocate their own.
  }
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
  const loaded = lib;
  const fn = <Args extends unknown[]>(signature: string): Fn<Args> => loaded.func(signature) as Fn<Args>;
  let spawn: SpawnCalls | undefined;
  try {
    spawn = {
      // The pid by pointer to the caller's own memory: the reaper reads it while the call still runs on another thread.
      posixSpawn: loaded.func('int posix_spawn(void *pid, const char *path, void *actions, void *attributes, void *argv, void *envp)') as SpawnCalls['posixSpawn'],
      actionsInit: fn('int posix_spawn_file_actions_init(void *actions)'),
      actionsDestroy: fn('int posix_spawn_file_actions_destroy(void *actions)'),
      addDup2: fn('int posix_spawn_file_actions_adddup2(void *actions, int fd, int newfd)'),
      addOpen: fn('int posix_spawn_file_actions_addopen(void *actions, int fd, const char *path, int oflag, unsigned int mode)'),
      addClose: fn('int posix_spawn_file_actions_addclose(void *actions, int fd)'),
      addChdir: fn('int posix_spawn_file_actions_addchdir_np(void *actions, const char *path)'),
      attributesInit: fn('int posix_spawnattr_init(void *attributes)'),
      attributesDestroy: fn('int posix_spawnattr_destroy(void *attributes)'),
      setFlags: fn('int posix_spawnattr_setflags(void *attributes, short flags)'),
      setSigDefault: fn('int posix_spawnattr_setsigdefault(void *attributes, void *set)'),
      setSigMask: fn('int posix_spawnattr_setsigmask(void *attributes, void *set)'),
      sigFillSet: fn('int sigfillset(void *set)'),
      sigEmptySet: fn('int sigemptyset(void *set)'),
    };
  } catch {
    spawn = undefined; // an old C library: callers fall back to Node's spawn
  }
  declared = {
    waitpid: fn('int waitpid(int pid, _Out_ int *status, int options)'),
    waitid: fn('int waitid(int idtype, uint32_t id, void *info, int options)'),
    prctl: fn('int prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)'),
    pipe2: fn('int pipe2(int *fds, int flags)'),
    errno: () => koffi.errno(),
    spawn,
    mkfifo: fn('int mkfifo(const char *path, uint32_t mode)'),
    socket: fn('int socket(int domain, int type, int protocol)'),
    bind: fn('int bind(int fd, const void *address, uint32_t length)'),
    listen: fn('int listen(int fd, int backlog)'),
    close: fn('int close(int fd)'),
    isatty: fn('int isatty(int fd)'),
    read: fn('long read(int fd, void *buffer, unsigned long count)'),
    syscall: loaded.func('long syscall(long number, ...)') as LibC['syscall'],
    poll: loaded.func('int poll(void *fds, unsigned long count, int timeout)') as LibC['poll'],
    exec: {
      execve: fn('int execve(const char *path, const char **argv, const char **envp)'),
      dup2: fn('int dup2(int fd, int newfd)'),
      fcntl: loaded.func('int fcntl(int fd, int cmd, ...)') as ExecCalls['fcntl'],
      setgroups: fn('int setgroups(size_t count, const uint32_t *groups)'),
      setgid: fn('int setgid(uint32_t gid)'),
      setuid: fn('int setuid(uint32_t uid)'),
      prlimit: fn('int prlimit(int pid, int resource, const void *limit, void *old)'),
      sigprocmask: fn('int sigprocmask(int how, void *set, void *old)'),
      signal: loaded.func('void *signal(int sig, void *handler)') as ExecCalls['signal'],
      exitNow: loaded.func('void _exit(int status)') as unknown as ExecCalls['exitNow'],
    },
  };
  return declared;
}

/** koffi itself, for what is not a call: addresses and sizes. */
export function koffiItself(): typeof Koffi {
  libc();
  if (koffiModule === undefined) throw new Error('koffi is not loaded');
  return koffiModule;
}

/** An error for a failed call, whose code is the errno's name, as Node's own errors have it. */
export function systemCallError(syscall: string, path: string): NodeJS.ErrnoException {
  const code = errnoName(libc().errno());
  return Object.assign(new Error(`${syscall} ${path} failed: ${code}`), { code, path, syscall });
}

/** ENOENT for 2: the name Node gives an errno in its errors' `code`. */
export function errnoName(errno: number): string {
  for (const [name, number] of Object.entries(osConstants.errno)) if (number === errno) return name;
  return `errno ${errno}`;
}
