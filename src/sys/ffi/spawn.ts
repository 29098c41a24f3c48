import { endianness as osEndianness, constants as osConstants } from 'node:os';

import { koffiItself, libc, SIGSET_SIZE, type SpawnCalls } from './library.js';

const O_RDWR = 2;
// Same values in glibc and musl.
const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
const POSIX_SPAWN_SETSID = 0x80;
// Opaque libc structures, allocated larger than any C library makes them.
const ACTIONS_SIZE = 256;
const ATTRIBUTES_SIZE = 1024;

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
    return libc().spawn !== undefined;
  } catch {
    return false;
  }
}

/** posix_spawn's two opaque structures for one request; destroy() frees what was made for it alone. */
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
 * few hundred variables (Kubernetes' service links) that cost the main thread more than the
 * rest of the start. The services share one environment, converted once.
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
  const koffi = koffiItself();
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
    // glibc's sigfillset leaves out its own two (32 and 33, for thread cancellation and set*id),
    // and its posix_spawn then starts the child with them ignored, which every exec after keeps:
    // every signal of the kernel's 64 goes to its default, as after s6-supervise's fork and exec.
    all.fill(0xff, 0, 8);
    calls.sigEmptySet(none);
    signalSets = { all, none };
  }
  return signalSets;
}

/**
 * The attributes of a start (every signal to its default, none blocked, and a session of its own
 * or not) are the same for every start: made once for each of the two, and kept. posix_spawn only
 * reads them, so starts running at once on libuv's threads share them.
 */
const attributeSets = new Map<boolean, Buffer>();

function attributesFor(calls: SpawnCalls, newSession: boolean): Buffer {
  let attributes = attributeSets.get(newSession);
  if (attributes === undefined) {
    attributes = Buffer.alloc(ATTRIBUTES_SIZE);
    calls.attributesInit(attributes);
    // Node ignores SIGPIPE and handles other signals: the child starts with defaults, unblocked.
    const signals = fixedSignalSets(calls);
    calls.setSigDefault(attributes, signals.all);
    calls.setSigMask(attributes, signals.none);
    calls.setFlags(attributes, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | (newSession ? POSIX_SPAWN_SETSID : 0));
    attributeSets.set(newSession, attributes);
  }
  return attributes;
}

/**
 * File actions made from descriptors and a directory alone, by what they hold: a service starts
 * with the same ones at every start (its directory, /dev/null, the container's output), so a
 * restart finds them made. Kept, as the attributes are; each costs a few calls into the C
 * library a start no longer makes. Those with actions of their own (execline's redirections)
 * are made for the start and freed after it.
 */
const sharedActions = new Map<string, Buffer>();
/** Enough for the services' own pipes (a logger's) many times over; beyond, made per start. */
const SHARED_ACTIONS_KEPT = 256;

/** The key of a request's file actions when they can be shared; undefined when it has actions of its own. */
function sharedActionsKey(request: PosixSpawnRequest): string | undefined {
  if (request.actions !== undefined && request.actions.length > 0) return undefined;
  let key = request.cwd ?? '';
  for (const [fd, source] of request.fds) key += `\0${fd}=${source}`;
  return key;
}

/** Records a request's descriptors, actions and directory in `actions`; throws SpawnActionError. */
function recordActions(calls: SpawnCalls, actions: Buffer, request: PosixSpawnRequest): void {
  // Each returns 0 or an errno: EBADF for a descriptor beyond the limit of open files (a
  // notification-fd of 4000000, say), which posix_spawn would otherwise quietly leave out.
  const added = (result: number): void => {
    if (result !== 0) throw new SpawnActionError(result);
  };
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
}

/** File actions for a request: shared ones when it allows (see sharedActions), else its own, with what frees them. */
function actionsFor(calls: SpawnCalls, request: PosixSpawnRequest): { actions: Buffer; free: () => void } {
  const key = sharedActionsKey(request);
  const shared = key === undefined ? undefined : sharedActions.get(key);
  if (shared !== undefined) return { actions: shared, free: () => undefined };
  const actions = Buffer.alloc(ACTIONS_SIZE);
  calls.actionsInit(actions);
  const free = (): void => {
    calls.actionsDestroy(actions);
  };
  try {
    recordActions(calls, actions, request);
  } catch (error) {
    free();
    throw error;
  }
  if (key === undefined || sharedActions.size >= SHARED_ACTIONS_KEPT) return { actions, free };
  sharedActions.set(key, actions);
  return { actions, free: () => undefined };
}

function prepareSpawn(calls: SpawnCalls, request: PosixSpawnRequest): PreparedSpawn {
  const { actions, free } = actionsFor(calls, request);
  let destroyed = false;
  const destroy = (): void => {
    if (destroyed) return;
    destroyed = true;
    free();
  };
  return { actions, attributes: attributesFor(calls, request.newSession), argv: cStringArray(request.argv, false), envp: cStringArray(request.env, true), destroy };
}

/** A file action posix_spawn was to carry out could not even be recorded. */
class SpawnActionError extends Error {
  constructor(readonly errno: number) {
    super(`posix_spawn file action failed with errno ${errno}`);
  }
}

function spawnCalls(): SpawnCalls {
  const calls = libc().spawn;
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
    const pid = new Int32Array(1);
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
export function posixSpawnInBackground(request: PosixSpawnRequest, done: (result: number) => void, pidCell: Int32Array = new Int32Array(1)): void {
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
  calls.posixSpawn.async(pidCell, request.path, prepared.actions, prepared.attributes, prepared.argv.pointers, prepared.envp.pointers, (error: unknown, result: number) => {
    prepared.destroy();
    // koffi could not make the call at all: as if the system had no resources for it.
    done(error === null || error === undefined ? spawnOutcome(result, pidCell) : -osConstants.errno.EAGAIN);
  });
}

/** posix_spawn's return (0 or an errno) and pid as one number: the pid, or a negative errno. */
function spawnOutcome(result: number, pid: Int32Array): number {
  return result === 0 ? (pid[0] ?? -1) : -result;
}
