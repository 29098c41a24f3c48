import { createRequire } from 'node:module';
import { endianness as osEndianness, constants as osConstants } from 'node:os';

import type Koffi from 'koffi';

/**
 * The only file that touches koffi. It gives the few system calls Node lacks.
 * koffi is loaded on first use so that a CLI call that never needs it starts fast.
 */
type Fn<Args extends unknown[]> = (...args: Args) => number;

interface LibC {
  waitpid: Fn<[pid: number, status: number[], options: number]>;
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
}

/** What a process needs to turn itself into another program, as execline's chain-loading does. */
interface ExecCalls {
  execve: Fn<[path: string, argv: (string | null)[], envp: (string | null)[]]>;
  dup2: Fn<[fd: number, newFd: number]>;
  fcntl: (fd: number, command: number, ...variadic: unknown[]) => number;
  setgroups: Fn<[count: number, groups: Uint32Array]>;
  setgid: Fn<[gid: number]>;
  setuid: Fn<[uid: number]>;
  prlimit: Fn<[pid: number, resource: number, limit: Buffer | null, old: Buffer | null]>;
  sigprocmask: Fn<[how: number, set: Buffer, old: null]>;
  signal: (signal: number, handler: null) => unknown;
}

/** posix_spawn and its helpers; absent on a C library too old to have addchdir_np. */
type PosixSpawnArgs = [pid: number[], path: string, actions: Buffer, attributes: Buffer, argv: Buffer, envp: Buffer];

interface SpawnCalls {
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

const WNOHANG = 1;
const PR_SET_CHILD_SUBREAPER = 36;
const O_CLOEXEC = 0o2000000;
const O_RDWR = 2;
// Same values in glibc and musl.
const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
const POSIX_SPAWN_SETSID = 0x80;
// Opaque libc structures, allocated larger than any C library makes them.
const ACTIONS_SIZE = 256;
const ATTRIBUTES_SIZE = 1024;
const SIGSET_SIZE = 128;

// glibc first, then the musl names Alpine uses.
const LIBC_NAMES = ['libc.so.6', 'libc.musl-x86_64.so.1', 'libc.musl-aarch64.so.1', 'libc.so'];

let libc: LibC | undefined;
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

function load(): LibC {
  if (libc !== undefined) return libc;
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
      posixSpawn: loaded.func('int posix_spawn(_Out_ int *pid, const char *path, void *actions, void *attributes, void *argv, void *envp)') as SpawnCalls['posixSpawn'],
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
  libc = {
    waitpid: fn('int waitpid(int pid, _Out_ int *status, int options)'),
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
    },
  };
  return libc;
}

/**
 * Collects one exited child by pid without blocking. Returns its raw wait status, or
 * undefined when it has not exited. Never called with -1: that would steal exit
 * statuses from libuv's own children.
 */
export function reapIfExited(pid: number): number | undefined {
  const status = [0];
  return load().waitpid(pid, status, WNOHANG) === pid ? (status[0] ?? 0) : undefined;
}

/** What one waitpid call found: a child that ended (pid and raw status), none ended yet, or no such child. */
export type WaitResult = { readonly pid: number; readonly status: number } | 'running' | 'no-child';

/**
 * One waitpid for `pid` (-1: any child), blocking or not. Only for a process whose children
 * are all its own, like execlineb's: libuv's would have their statuses taken.
 */
export function waitForChild(pid: number, block: boolean): WaitResult {
  const status = [0];
  for (;;) {
    const result = load().waitpid(pid, status, block ? 0 : WNOHANG);
    if (result > 0) return { pid: result, status: status[0] ?? 0 };
    if (result === 0) return 'running';
    if (!block) return 'no-child'; // without blocking, ECHILD is the only failure
    const ended = failedBlockingWait(pid, status);
    if (ended !== 'interrupted') return ended;
  }
}

/**
 * After a blocking waitpid returned -1: interrupted by a signal (EINTR), or no such child
 * (ECHILD). Told apart by a look that does not block, not by errno: koffi gives the thread's
 * errno as it is when asked, and V8 may have changed it since the call (an ENOMEM was read
 * where waitpid had set ECHILD).
 */
function failedBlockingWait(pid: number, status: number[]): { readonly pid: number; readonly status: number } | 'no-child' | 'interrupted' {
  const result = load().waitpid(pid, status, WNOHANG);
  if (result > 0) return { pid: result, status: status[0] ?? 0 };
  return result === 0 ? 'interrupted' : 'no-child';
}

/** Whether `fd` is a terminal; through the C library, so node:tty (and node:net, which it loads) stay unloaded. */
export function isTerminal(fd: number): boolean {
  return load().isatty(fd) === 1;
}

/** Makes orphaned descendants reparent to this process instead of the real init. */
export function becomeChildSubreaper(): boolean {
  return load().prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) === 0;
}

/** A pipe whose ends are close-on-exec, so only the children we hand them to get them. */
export function createPipe(): { readFd: number; writeFd: number } {
  const fds = new Int32Array(2);
  if (load().pipe2(fds, O_CLOEXEC) !== 0) {
    const code = errnoName(load().errno());
    const why = code === 'EMFILE' || code === 'ENFILE' ? ': too many open files; raise the limit (ulimit -n, or docker run --ulimit nofile=...)' : '';
    throw Object.assign(new Error(`cannot create a pipe: ${code}${why}`), { code, syscall: 'pipe2' });
  }
  return { readFd: fds[0] ?? -1, writeFd: fds[1] ?? -1 };
}

/** What a child's descriptor becomes: /dev/null, the same descriptor of ours, or another of ours. */
export type FdSource = 'null' | 'inherit' | number;

/** One step of a child's descriptor set-up, applied in order (execline's fdmove, redirfd, fdclose). */
export type FileAction =
  | { readonly kind: 'dup'; readonly from: number; readonly to: number }
  | {
      readonly kind: 'open';
      readonly fd: number;
      readonly path: string;
      readonly flags: number;
      readonly mode: number;
      /** execline's redirfd -b: the blocking mode the descriptor is switched to once open. */
      readonly then?: 'blocking' | 'nonblocking';
    }
  | { readonly kind: 'close'; readonly fd: number };

export interface PosixSpawnRequest {
  path: string;
  argv: readonly string[];
  env: readonly string[];
  /** The child's directory; undefined keeps this process's (which it may no longer be allowed to enter). */
  cwd: string | undefined;
  /** Child descriptor number to its source. */
  fds: ReadonlyMap<number, FdSource>;
  /** Applied after `fds`. */
  actions?: readonly FileAction[];
  newSession: boolean;
}

export function canPosixSpawn(): boolean {
  try {
    return load().spawn !== undefined;
  } catch {
    return false;
  }
}

/** posix_spawn's two opaque structures, filled for one request; destroy() frees what libc allocated. */
interface PreparedSpawn {
  readonly actions: Buffer;
  readonly attributes: Buffer;
  readonly argv: CStringArray;
  readonly envp: CStringArray;
  destroy(): void;
}

/**
 * A NULL-terminated array of C strings in memory of our own, passed to C as it is. Given
 * a `const char **`, koffi converts every string at every call: for an environment of a
 * few hundred variables (Kubernetes' service links) that cost several times the start it
 * was for, on the main thread. The services share one environment, converted once.
 */
interface CStringArray {
  /** The strings' addresses, then a null pointer: what the C function gets. */
  readonly pointers: Buffer;
  /** The strings, each ending with a NUL; referenced here so that they live as long as `pointers`. */
  readonly bytes: Buffer;
}

/** Arrays converted for each array of strings still in use: the services' shared environment. */
const convertedArrays = new WeakMap<readonly string[], CStringArray>();

function cStringArray(strings: readonly string[], keep: boolean): CStringArray {
  const kept = convertedArrays.get(strings);
  if (kept !== undefined) return kept;
  const koffi = koffiModule;
  if (koffi === undefined) throw new Error('koffi is not loaded');
  const lengths = strings.map((value) => Buffer.byteLength(value));
  // Not from Node's shared pool: the address of its first byte is taken below.
  const bytes = Buffer.allocUnsafeSlow(lengths.reduce((total, length) => total + length + 1, 0) || 1);
  const pointerSize = koffi.sizeof('void *');
  const pointers = Buffer.alloc((strings.length + 1) * pointerSize);
  const base = koffi.address(bytes);
  let offset = 0;
  strings.forEach((value, index) => {
    bytes.write(value, offset, 'utf8');
    bytes[offset + (lengths[index] ?? 0)] = 0;
    writePointer(pointers, index * pointerSize, base + BigInt(offset), pointerSize);
    offset += (lengths[index] ?? 0) + 1;
  });
  const array = { pointers, bytes };
  if (keep) convertedArrays.set(strings, array);
  return array;
}

function writePointer(target: Buffer, at: number, address: bigint, size: number): void {
  const littleEndian = osEndianness() === 'LE';
  if (size === 8) {
    if (littleEndian) target.writeBigUInt64LE(address, at);
    else target.writeBigUInt64BE(address, at);
  } else if (littleEndian) target.writeUInt32LE(Number(address), at);
  else target.writeUInt32BE(Number(address), at);
}

/** The two signal sets every start uses, filled once: all signals to default, none blocked. */
let signalSets: { all: Buffer; none: Buffer } | undefined;

function fixedSignalSets(calls: SpawnCalls): { all: Buffer; none: Buffer } {
  if (signalSets === undefined) {
    const all = Buffer.alloc(SIGSET_SIZE);
    const none = Buffer.alloc(SIGSET_SIZE);
    calls.sigFillSet(all);
    calls.sigEmptySet(none);
    signalSets = { all, none };
  }
  return signalSets;
}

/** Storage for the two structures of finished starts, used again rather than allocated per start. */
const spareStorage: { actions: Buffer; attributes: Buffer }[] = [];
/** Enough for every start in flight at once (BACKGROUND_CALLS) and one on this thread. */
const SPARE_STORAGE_KEPT = 16;

function prepareSpawn(calls: SpawnCalls, request: PosixSpawnRequest): PreparedSpawn {
  const storage = spareStorage.pop() ?? { actions: Buffer.alloc(ACTIONS_SIZE), attributes: Buffer.alloc(ATTRIBUTES_SIZE) };
  const { actions, attributes } = storage;
  calls.actionsInit(actions);
  calls.attributesInit(attributes);
  let destroyed = false;
  const destroy = (): void => {
    if (destroyed) return;
    destroyed = true;
    calls.actionsDestroy(actions);
    calls.attributesDestroy(attributes);
    if (spareStorage.length < SPARE_STORAGE_KEPT) spareStorage.push(storage);
  };
  // Each returns 0 or an errno: EBADF for a descriptor beyond the limit of open files (a
  // notification-fd of 4000000, say), which posix_spawn would otherwise quietly leave out.
  const added = (result: number): void => {
    if (result !== 0) throw new SpawnActionError(result);
  };
  try {
    for (const [fd, source] of request.fds) {
      if (source === 'null') added(calls.addOpen(actions, fd, '/dev/null', O_RDWR, 0));
      // dup2 onto itself clears close-on-exec, which Node sets even on its stdio.
      else added(calls.addDup2(actions, source === 'inherit' ? fd : source, fd));
    }
    for (const action of request.actions ?? []) {
      if (action.kind === 'dup') added(calls.addDup2(actions, action.from, action.to));
      else if (action.kind === 'open') added(calls.addOpen(actions, action.fd, action.path, action.flags, action.mode));
      else added(calls.addClose(actions, action.fd));
    }
    if (request.cwd !== undefined) added(calls.addChdir(actions, request.cwd));
    // Node ignores SIGPIPE and handles other signals: the child starts with defaults, unblocked.
    const signals = fixedSignalSets(calls);
    calls.setSigDefault(attributes, signals.all);
    calls.setSigMask(attributes, signals.none);
    calls.setFlags(attributes, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | (request.newSession ? POSIX_SPAWN_SETSID : 0));
  } catch (error) {
    destroy();
    throw error;
  }
  return { actions, attributes, argv: cStringArray(request.argv, false), envp: cStringArray(request.env, true), destroy };
}

/** A file action posix_spawn was to carry out could not even be recorded. */
class SpawnActionError extends Error {
  constructor(readonly errno: number) {
    super(`posix_spawn file action failed with errno ${errno}`);
  }
}

function spawnCalls(): SpawnCalls {
  const calls = load().spawn;
  if (calls === undefined) throw new Error('posix_spawn is not available');
  return calls;
}

/**
 * Starts a process with posix_spawn, which glibc and musl implement with a vfork-style
 * clone: it costs the same whatever the size of this process, where Node's fork-based
 * spawn copies the page tables of a 50 MB heap. This thread waits until the child has
 * exec'd. Returns the pid, or a negative errno when the program could not be executed.
 */
export function posixSpawn(request: PosixSpawnRequest): number {
  const calls = spawnCalls();
  let prepared: PreparedSpawn;
  try {
    prepared = prepareSpawn(calls, request);
  } catch (error) {
    if (error instanceof SpawnActionError) return -error.errno;
    throw error;
  }
  try {
    const pid = [0];
    return spawnOutcome(calls.posixSpawn(pid, request.path, prepared.actions, prepared.attributes, prepared.argv.pointers, prepared.envp.pointers), pid);
  } finally {
    prepared.destroy();
  }
}

/**
 * posixSpawn on one of libuv's threads: this thread goes on while the child execs, and
 * several starts overlap their waits (on a busy machine each waits its turn on a CPU).
 * `done` gets the pid, or a negative errno, on this thread.
 */
export function posixSpawnInBackground(request: PosixSpawnRequest, done: (result: number) => void): void {
  const calls = spawnCalls();
  let prepared: PreparedSpawn;
  try {
    prepared = prepareSpawn(calls, request);
  } catch (error) {
    if (!(error instanceof SpawnActionError)) throw error;
    const { errno } = error;
    // As a call that failed on the other thread would: later, not inside the caller's call.
    queueMicrotask(() => done(-errno));
    return;
  }
  const pid = [0];
  calls.posixSpawn.async(pid, request.path, prepared.actions, prepared.attributes, prepared.argv.pointers, prepared.envp.pointers, (error: unknown, result: number) => {
    prepared.destroy();
    // koffi could not make the call at all: as if the system had no resources for it.
    done(error === null || error === undefined ? spawnOutcome(result, pid) : -osConstants.errno.EAGAIN);
  });
}

/** posix_spawn's return (0 or an errno) and pid as one number: the pid, or a negative errno. */
function spawnOutcome(result: number, pid: readonly number[]): number {
  return result === 0 ? (pid[0] ?? -1) : -result;
}

/** Waits for one child, blocking the thread: for short-lived programs with no event loop to keep. */
export function waitBlocking(pid: number): number {
  const status = [0];
  for (;;) {
    if (load().waitpid(pid, status, 0) === pid) return status[0] ?? 0;
    const ended = failedBlockingWait(pid, status);
    if (ended === 'no-child') throw new Error(`waitpid ${pid}: no such child`);
    if (ended !== 'interrupted') return ended.status;
  }
}

const F_SETFD = 2;
const SIG_SETMASK = 2;
/** Signals 1 to 31 but KILL and STOP: the ones a program may have ignored or caught. */
const RESETTABLE_SIGNALS = Array.from({ length: 31 }, (_, index) => index + 1).filter((number) => number !== 9 && number !== 19);

/** A descriptor survives exec: moved onto `to` (`from` === `to` only clears close-on-exec). */
export function moveDescriptor(from: number, to: number): void {
  const calls = load().exec;
  const result = from === to ? calls.fcntl(to, F_SETFD, 'int', 0) : calls.dup2(from, to);
  if (result < 0) throw new Error(`cannot move descriptor ${from} to ${to}: errno ${load().errno()}`);
}

const F_GETFL = 3;
const F_SETFL = 4;
const F_DUPFD_CLOEXEC = 1030;
const O_NONBLOCK_FLAG = 0o4000;

/** Switches a descriptor to blocking or non-blocking mode, keeping its other status flags. Throws with the errno name. */
export function setBlocking(fd: number, blocking: boolean): void {
  const calls = load().exec;
  const flags = calls.fcntl(fd, F_GETFL, 'int', 0);
  const wanted = flags < 0 ? -1 : blocking ? flags & ~O_NONBLOCK_FLAG : flags | O_NONBLOCK_FLAG;
  if (wanted < 0 || calls.fcntl(fd, F_SETFL, 'int', wanted) < 0) throw Object.assign(new Error(`cannot change the blocking mode of descriptor ${fd}`), { code: errnoName(load().errno()) });
}

/** A close-on-exec copy of `fd` numbered `lowest` or above, or -1 (past the limit, say). */
export function duplicateAbove(fd: number, lowest: number): number {
  return load().exec.fcntl(fd, F_DUPFD_CLOEXEC, 'int', lowest);
}

/**
 * Puts an open file back in blocking mode (F_SETFL with no flags: for a pipe, clears
 * O_NONBLOCK and nothing else that could be set). Returns false when the call failed.
 */
export function clearStatusFlags(fd: number): boolean {
  return load().exec.fcntl(fd, F_SETFL, 'int', 0) === 0;
}

/** Changes user and groups for good, as s6-applyuidgid does: groups first, then gid, then uid. */
export function becomeUser(uid: number | null, gid: number | null, groups: readonly number[] | null): void {
  const calls = load().exec;
  if (groups !== null && calls.setgroups(groups.length, Uint32Array.from(groups)) !== 0) throw new Error(`unable to set the supplementary groups: ${errnoName(load().errno())}`);
  if (gid !== null && calls.setgid(gid) !== 0) throw new Error(`unable to setgid ${gid}: ${errnoName(load().errno())}`);
  if (uid !== null && calls.setuid(uid) !== 0) throw new Error(`unable to setuid ${uid}: ${errnoName(load().errno())}`);
}

/** RLIM_INFINITY, as prlimit reads and writes it. */
const RLIMIT_INFINITY = 0xffffffffffffffffn;

/**
 * Sets this process's soft limit for `resource` (RLIMIT_*), kept across exec: a number,
 * capped at the hard limit as s6-softlimit does, or 'hard' for the hard limit itself.
 */
export function setSoftLimit(resource: number, value: bigint | 'hard'): void {
  const calls = load().exec;
  const current = Buffer.alloc(16); // struct rlimit64: rlim_cur, rlim_max
  if (calls.prlimit(0, resource, null, current) !== 0) throw new Error(`unable to read limit ${resource}: ${errnoName(load().errno())}`);
  const hard = current.readBigUInt64LE(8);
  const wanted = value === 'hard' ? hard : value;
  const soft = hard !== RLIMIT_INFINITY && wanted > hard ? hard : wanted;
  const next = Buffer.alloc(16);
  next.writeBigUInt64LE(soft, 0);
  next.writeBigUInt64LE(hard, 8);
  if (calls.prlimit(0, resource, next, null) !== 0) throw new Error(`unable to set limit ${resource}: ${errnoName(load().errno())}`);
}

/**
 * Replaces this process with a program. Node ignores SIGPIPE, and an ignored signal stays
 * ignored across exec: every signal goes back to its default and none stays blocked, so the
 * program starts as it would from a C chain-loader. Returns only on failure, with the errno.
 */
export function replaceProcess(path: string, argv: readonly string[], env: readonly string[]): number {
  const calls = load().exec;
  for (const number of RESETTABLE_SIGNALS) calls.signal(number, null);
  calls.sigprocmask(SIG_SETMASK, Buffer.alloc(SIGSET_SIZE), null);
  calls.execve(path, [...argv, null], [...env, null]);
  return load().errno();
}

/** Creates a named pipe (Node has no mkfifo). Throws an error with the errno's name as its code. */
export function makeFifo(path: string, mode: number): void {
  if (load().mkfifo(path, mode) !== 0) throw systemCallError('mkfifo', path);
}

const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
/** struct sockaddr_un on Linux: a 16-bit family, then 108 bytes of path ending in a NUL. */
const SOCKADDR_UN_SIZE = 110;
const SUN_PATH_OFFSET = 2;

/**
 * A listening Unix stream socket at `path`, made with three system calls. Node's own
 * listen first loads its cluster machinery, which costs a few milliseconds of PID 1's
 * start; this socket takes connections (they wait in its backlog) until Node adopts the
 * descriptor with `server.listen({ fd })`. Throws an error whose code is the errno name.
 */
export function listenOnUnixSocket(path: string, backlog: number): number {
  const encoded = Buffer.from(path);
  if (encoded.length >= SOCKADDR_UN_SIZE - SUN_PATH_OFFSET) {
    throw Object.assign(new Error(`socket path too long (${encoded.length} bytes, at most ${SOCKADDR_UN_SIZE - SUN_PATH_OFFSET - 1}): ${path}`), { code: 'ENAMETOOLONG', path });
  }
  const calls = load();
  const address = Buffer.alloc(SOCKADDR_UN_SIZE);
  address.writeUInt16LE(AF_UNIX, 0);
  encoded.copy(address, SUN_PATH_OFFSET);
  const fd = calls.socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw systemCallError('socket', path);
  if (calls.bind(fd, address, SUN_PATH_OFFSET + encoded.length + 1) !== 0 || calls.listen(fd, backlog) !== 0) {
    const error = systemCallError('bind', path);
    calls.close(fd);
    throw error;
  }
  return fd;
}

function systemCallError(syscall: string, path: string): NodeJS.ErrnoException {
  const code = errnoName(load().errno());
  return Object.assign(new Error(`${syscall} ${path} failed: ${code}`), { code, path, syscall });
}

const F_SETLK = 6;
const F_SETLKW = 7;
const F_RDLCK = 0;
const F_WRLCK = 1;
/** struct flock on 64-bit Linux (glibc and musl): short l_type, short l_whence, off_t l_start, off_t l_len, pid_t l_pid. */
const FLOCK_SIZE = 32;

/**
 * Takes a POSIX write lock on the whole file open at `fd`, without waiting, as
 * s6-supervise holds supervise/lock: s6's tools tell a live supervisor by it (F_GETLK).
 * The lock lasts until this process closes any descriptor of the file.
 */
export function lockWholeFile(fd: number): boolean {
  return lockFile(fd, { shared: false, wait: false }) === 'locked';
}

/**
 * A POSIX record lock on the whole file, as skalibs' fd_lock takes it (s6-setlock): shared
 * (a read lock) or exclusive, waiting for it or not. 'busy' when another process holds a
 * conflicting one and `wait` is false; otherwise the errno's name when it fails.
 */
export function lockFile(fd: number, options: { shared: boolean; wait: boolean }): 'locked' | 'busy' | { readonly errno: string } {
  const request = Buffer.alloc(FLOCK_SIZE); // l_whence SEEK_SET, l_start 0, l_len 0: the whole file
  request.writeInt16LE(options.shared ? F_RDLCK : F_WRLCK, 0);
  for (;;) {
    if (load().exec.fcntl(fd, options.wait ? F_SETLKW : F_SETLK, 'void *', request) === 0) return 'locked';
    const errno = load().errno();
    if (errno === osConstants.errno.EINTR) continue;
    if (errno === osConstants.errno.EAGAIN || errno === osConstants.errno.EACCES) return 'busy';
    return { errno: errnoName(errno) };
  }
}

/** ENOENT for 2: the name Node gives an errno in its errors' `code`. */
export function errnoName(errno: number): string {
  for (const [name, number] of Object.entries(osConstants.errno)) if (number === errno) return name;
  return `errno ${errno}`;
}
