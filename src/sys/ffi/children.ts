import { koffiItself, libc } from './library.js';

/** waitpid's option not to block, and prctl's to become a subreaper (same values everywhere on Linux). */
const WNOHANG = 1;
const PR_SET_CHILD_SUBREAPER = 36;
/** waitid's: any child, ended ones, and leave the one found to be collected. */
const P_ALL = 0;
const WEXITED = 4;
const WNOWAIT = 0x01000000;
/** A siginfo_t is 128 bytes everywhere on Linux. */
const SIGINFO_SIZE = 128;

/** Makes orphaned descendants reparent to this process instead of the real init. */
export function becomeChildSubreaper(): boolean {
  return libc().prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) === 0;
}

/**
 * Collects one exited child by pid without blocking. Returns its raw wait status, or
 * undefined when it has not exited. Never called with -1: that would steal exit
 * statuses from libuv's own children.
 */
export function reapIfExited(pid: number): number | undefined {
  const status = [0];
  return libc().waitpid(pid, status, WNOHANG) === pid ? (status[0] ?? 0) : undefined;
}

/**
 * The siginfo waitid fills (in the machine's byte order), kept for every call; and which int
 * of it is si_pid (after three ints, aligned for a pointer), si_status two after it.
 */
let peekInfo: { info: Int32Array; pidIndex: number } | undefined;

/** siginfo's si_code for a child's end: exited, killed by a signal, killed and dumped core. */
const CLD_EXITED = 1;
const CLD_DUMPED = 3;
const SI_CODE_INDEX = 2;

/** A child that has ended and is not collected yet: its pid, and its wait status as waitpid would give it. */
export interface EndedChild {
  readonly pid: number;
  readonly status: number;
}

/**
 * One child that has ended, without collecting it (waitid with WNOWAIT): 'none' when none
 * has, 'no-child' when there are no children at all. Lets the reaper collect exits one by one
 * without listing every child it has on each SIGCHLD, and know how one ended before it is
 * collected. The same child is named again until someone collects it.
 */
export function endedChild(): EndedChild | 'none' | 'no-child' {
  peekInfo ??= { info: new Int32Array(SIGINFO_SIZE / 4), pidIndex: koffiItself().sizeof('void *') === 8 ? 4 : 3 };
  const { info, pidIndex } = peekInfo;
  // Linux leaves si_pid at 0 when no child has ended; zeroed so that an old value is not read.
  info.fill(0);
  if (libc().waitid(P_ALL, 0, info, WEXITED | WNOHANG | WNOWAIT) !== 0) return 'no-child';
  const pid = info[pidIndex] ?? 0;
  if (pid <= 0) return 'none';
  const code = info[SI_CODE_INDEX] ?? CLD_EXITED;
  const value = info[pidIndex + 2] ?? 0;
  // As waitpid encodes it: the exit code in bits 8-15, or the signal in bits 0-6 (and 0x80 for a core).
  const status = code === CLD_EXITED ? (value & 0xff) << 8 : (value & 0x7f) | (code === CLD_DUMPED ? 0x80 : 0);
  return { pid, status };
}

/** The pid of one child that has ended, without collecting it: see endedChild. */
export function peekEndedChild(): number | 'none' | 'no-child' {
  const ended = endedChild();
  return typeof ended === 'string' ? ended : ended.pid;
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
    const result = libc().waitpid(pid, status, block ? 0 : WNOHANG);
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
  const result = libc().waitpid(pid, status, WNOHANG);
  if (result > 0) return { pid: result, status: status[0] ?? 0 };
  return result === 0 ? 'interrupted' : 'no-child';
}

/** Waits for one child, blocking the thread: for short-lived programs with no event loop to keep. */
export function waitBlocking(pid: number): number {
  const status = [0];
  for (;;) {
    if (libc().waitpid(pid, status, 0) === pid) return status[0] ?? 0;
    const ended = failedBlockingWait(pid, status);
    if (ended === 'no-child') throw new Error(`waitpid ${pid}: no such child`);
    if (ended !== 'interrupted') return ended.status;
  }
}
