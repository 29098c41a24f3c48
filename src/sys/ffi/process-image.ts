import { errnoName, libc, SIGSET_SIZE } from './library.js';

const SIG_SETMASK = 2;
/** Signals 1 to 31 but KILL and STOP: the ones a program may have ignored or caught. */
const RESETTABLE_SIGNALS = Array.from({ length: 31 }, (_, index) => index + 1).filter((number) => number !== 9 && number !== 19);

/** Changes user and groups for good, as s6-applyuidgid does: groups first, then gid, then uid. */
export function becomeUser(uid: number | null, gid: number | null, groups: readonly number[] | null): void {
  const calls = libc().exec;
  if (groups !== null && calls.setgroups(groups.length, Uint32Array.from(groups)) !== 0) throw new Error(`unable to set the supplementary groups: ${errnoName(libc().errno())}`);
  if (gid !== null && calls.setgid(gid) !== 0) throw new Error(`unable to setgid ${gid}: ${errnoName(libc().errno())}`);
  if (uid !== null && calls.setuid(uid) !== 0) throw new Error(`unable to setuid ${uid}: ${errnoName(libc().errno())}`);
}

/** RLIM_INFINITY, as prlimit reads and writes it. */
const RLIMIT_INFINITY = 0xffffffffffffffffn;

/**
 * Sets this process's soft limit for `resource` (RLIMIT_*), kept across exec: a number,
 * capped at the hard limit as s6-softlimit does, or 'hard' for the hard limit itself.
 */
export function setSoftLimit(resource: number, value: bigint | 'hard'): void {
  const calls = libc().exec;
  const current = Buffer.alloc(16); // struct rlimit64: rlim_cur, rlim_max
  if (calls.prlimit(0, resource, null, current) !== 0) throw new Error(`unable to read limit ${resource}: ${errnoName(libc().errno())}`);
  const hard = current.readBigUInt64LE(8);
  const wanted = value === 'hard' ? hard : value;
  const soft = hard !== RLIMIT_INFINITY && wanted > hard ? hard : wanted;
  const next = Buffer.alloc(16);
  next.writeBigUInt64LE(soft, 0);
  next.writeBigUInt64LE(hard, 8);
  if (calls.prlimit(0, resource, next, null) !== 0) throw new Error(`unable to set limit ${resource}: ${errnoName(libc().errno())}`);
}

/**
 * Replaces this process with a program. Node ignores SIGPIPE, and an ignored signal stays
 * ignored across exec: every signal goes back to its default and none stays blocked, so the
 * program starts as it would from a C chain-loader. Returns only on failure, with the errno.
 */
export function replaceProcess(path: string, argv: readonly string[], env: readonly string[]): number {
  const calls = libc().exec;
  for (const number of RESETTABLE_SIGNALS) calls.signal(number, null);
  calls.sigprocmask(SIG_SETMASK, Buffer.alloc(SIGSET_SIZE), null);
  calls.execve(path, [...argv, null], [...env, null]);
  return libc().errno();
}

/**
 * Replaces this process with Node itself again, its signal handling left as it is: execve
 * gives every caught signal its default action, and the new Node sets up its own. Nothing is
 * reset first, so that a failed start leaves this process handling its signals as before.
 * Returns only on failure, with the errno.
 */
export function replaceWithNode(argv: readonly string[], env: readonly string[]): number {
  libc().exec.execve(process.execPath, [...argv, null], [...env, null]);
  return libc().errno();
}

/**
 * Ends this process at once with `code`, without Node's teardown: Node gives SIGTERM back its
 * default (death) while it exits, and a client that asked for the shutdown (halt) must not die
 * of the TERM that shutdown sends every process, nor report it (143).
 */
export function exitWithoutTeardown(): (code: number) => never {
  const calls = libc().exec;
  return (code) => calls.exitNow(code);
}
