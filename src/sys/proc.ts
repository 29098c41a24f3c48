import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/**
 * Reads the process table from /proc. Synchronous on purpose: these files are
 * small, served from kernel memory, and reading them is faster than scheduling I/O.
 */

/** Direct children of this process, split by the thread that made them (see listChildrenByThread). */
export interface ChildrenByThread {
  /** Made by the main thread, or reparented to this process: an orphan always lands here. */
  readonly mainThread: readonly number[];
  /** Made by another thread (posix_spawn on one of libuv's threads): never an orphan. */
  readonly otherThreads: readonly number[];
}

/**
 * How /proc numbers processes, as seen from here. A container has a /proc of its own PID
 * namespace, where a pid is the one kill() and waitpid() take. A namespace made without one
 * (unshare --pid without --mount-proc) sees its parent's, where every pid differs: there,
 * each process's NSpid line lists its pid at every level from /proc's namespace down, and
 * ours is the last level of our own line. Asked at each listing, not once: a script may
 * mount a /proc of the namespace's own on the way.
 */
interface ProcNumbering {
  /** This process's pid as /proc numbers it, which is also its main thread's id there. */
  readonly self: string;
  /** Our namespace's level in NSpid lines, when /proc is not our namespace's own. */
  readonly ourLevel: number | undefined;
}

function procNumbering(): ProcNumbering {
  const self = readlinkSync('/proc/self');
  if (self === String(process.pid)) return { self, ourLevel: undefined };
  const levels = namespacePids(self);
  return { self, ourLevel: levels === undefined ? undefined : levels.length - 1 };
}

/** A process's pids from /proc's namespace down to its own, or undefined when it is gone (or the kernel has no NSpid). */
function namespacePids(procPid: string): string[] | undefined {
  try {
    return /^NSpid:\s*(.+)$/m.exec(readFileSync(`/proc/${procPid}/status`, 'latin1'))?.[1]?.trim().split(/\s+/);
  } catch {
    return undefined;
  }
}

/** Pids as /proc numbers them, as our namespace does; a process gone since, or outside our namespace, is left out. */
function inOurNamespace(numbering: ProcNumbering, procPids: readonly number[]): number[] {
  const { ourLevel } = numbering;
  if (ourLevel === undefined) return [...procPids];
  const result: number[] = [];
  for (const procPid of procPids) {
    const pid = namespacePids(String(procPid))?.[ourLevel];
    if (pid !== undefined) result.push(Number(pid));
  }
  return result;
}

/**
 * Direct children of this process, by the thread that forked them: the kernel lists a child
 * under the thread that made it, and reparents an orphan to the first live thread of the
 * process, the main thread. Throws when they cannot be listed (out of descriptors, say); a
 * thread that ended between the listing and the read is not an error.
 */
export function listChildrenByThread(): ChildrenByThread {
  const numbering = procNumbering();
  const { mainThread, otherThreads } = procChildrenByThread(numbering);
  return { mainThread: inOurNamespace(numbering, mainThread), otherThreads: inOurNamespace(numbering, otherThreads) };
}

/** Our children as /proc numbers them, by the thread that forked them. Throws as listChildrenByThread does. */
function procChildrenByThread(numbering: ProcNumbering): ChildrenByThread {
  const mainThread: number[] = [];
  const otherThreads: number[] = [];
  for (const tid of readdirSync('/proc/self/task')) {
    let text: string;
    try {
      text = readFileSync(`/proc/self/task/${tid}/children`, 'latin1');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ESRCH') continue;
      throw error;
    }
    const list = tid === numbering.self ? mainThread : otherThreads;
    for (const word of text.split(' ')) {
      if (word !== '') list.push(Number(word));
    }
  }
  return { mainThread, otherThreads };
}

/**
 * The /proc directory of a child of this process, given its pid in our namespace: /proc/PID
 * with a /proc of our own; with a parent namespace's, the one among our children whose NSpid
 * ends with PID. Undefined when it is not found (gone already, or /proc unreadable).
 */
export function procDirOfChild(pid: number): string | undefined {
  try {
    const numbering = procNumbering();
    const level = numbering.ourLevel;
    if (level === undefined) return `/proc/${pid}`;
    const { mainThread, otherThreads } = procChildrenByThread(numbering);
    const procPid = [...otherThreads, ...mainThread].find((candidate) => namespacePids(String(candidate))?.[level] === String(pid));
    if (procPid !== undefined) return `/proc/${procPid}`;
  } catch {
    // /proc unreadable: nothing to point at.
  }
  return undefined;
}

/** Direct children of this process, across all its threads. Throws as listChildrenByThread does. */
export function listChildren(): number[] {
  const { mainThread, otherThreads } = listChildrenByThread();
  return [...mainThread, ...otherThreads];
}

/** Every descendant of this process, children first. Throws when /proc cannot be listed (out of descriptors, say). */
export function listDescendants(): number[] {
  const numbering = procNumbering();
  return inOurNamespace(numbering, descendantsOf(Number(numbering.self), readProcessTable()));
}

/**
 * The live processes of this PID namespace that are neither this process nor one of its
 * descendants: the ones that entered it from outside (docker exec, kubectl exec, nsenter),
 * whose parent is in another namespace, and what they started. Only with a /proc of this
 * namespace's own (a container's); with its parent's, none are told apart, and none listed.
 * Throws when /proc cannot be listed.
 */
export function listEnteredProcesses(): number[] {
  if (procNumbering().ourLevel !== undefined) return [];
  const table = readProcessTable();
  const ours = new Set([process.pid, ...descendantsOf(process.pid, table)]);
  // A zombie has ended: only its parent, outside, has yet to collect it.
  return [...table].filter(([pid, entry]) => isLive(entry) && !ours.has(pid)).map(([pid]) => pid);
}

/**
 * The live members of process group `group`: what a script started and left running when
 * its shell ended. None with a /proc of a parent namespace, where groups are numbered
 * otherwise. Throws when /proc cannot be listed.
 */
export function listProcessGroup(group: number): number[] {
  if (procNumbering().ourLevel !== undefined) return [];
  // A zombie has ended: only its collection by its parent (often the reaper) is left.
  return [...readProcessTable()].filter(([, entry]) => isLive(entry) && entry.group === group).map(([pid]) => pid);
}

interface ProcessEntry {
  readonly state: string;
  /** Its live threads, and its main thread until the process is collected. */
  readonly threads: number;
  readonly parent: number;
  readonly group: number;
  readonly session: number;
}

/** Every process /proc lists, by pid as /proc numbers it (one gone meanwhile left out). */
function readProcessTable(): Map<number, ProcessEntry> {
  const table = new Map<number, ProcessEntry>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const entry = readStat(pid);
    if (entry !== undefined) table.set(pid, entry);
  }
  return table;
}

/**
 * Not ended: a zombie is a process whose every thread has ended, bar one whose main thread
 * ended (pthread_exit) while others run on, which /proc shows as a zombie too and which still
 * needs its stop.
 */
function isLive(entry: ProcessEntry): boolean {
  return entry.state !== 'Z' || entry.threads > 1;
}

/** The descendants of `root` in `table`, children first. */
function descendantsOf(root: number, table: ReadonlyMap<number, ProcessEntry>): number[] {
  const childrenOf = new Map<number, number[]>();
  for (const [pid, { parent }] of table) {
    const siblings = childrenOf.get(parent);
    if (siblings === undefined) childrenOf.set(parent, [pid]);
    else siblings.push(pid);
  }
  const result = [...(childrenOf.get(root) ?? [])];
  for (let index = 0; index < result.length; index++) {
    const pid = result[index];
    if (pid !== undefined) result.push(...(childrenOf.get(pid) ?? []));
  }
  return result;
}

function readStat(pid: number): ProcessEntry | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // The command name is in parentheses and may itself hold spaces or parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '', parent: Number(fields[1]), group: Number(fields[2]), session: Number(fields[3]), threads: Number(fields[17]) };
  } catch {
    return undefined;
  }
}

/**
 * The session `pid` is in (the pid of the session's leader), or undefined when it cannot be
 * read (gone, or numbered otherwise in a /proc of a parent namespace).
 */
export function sessionOf(pid: number): number | undefined {
  if (procNumbering().ourLevel !== undefined) return undefined;
  const session = sessionFromStat(pid);
  return session !== undefined && session > 0 ? session : undefined;
}

/** What ps and pkill see of Steward's init (see init/main.ts). */
export const INIT_PROCESS_TITLE = 'steward';

/**
 * Whether this process descends from a Steward init (a process named as the init names
 * itself): one of its scripts or services, rather than a docker exec, whose parents are outside
 * the container. Read from this process's own /proc, whatever namespace the init is in.
 */
export function underStewardInit(initName = INIT_PROCESS_TITLE): boolean {
  let below = process.pid;
  let current = process.ppid;
  // Parent links end at 0 (outside the namespace) long before this many.
  for (let step = 0; step < 256 && current > 0; step++) {
    try {
      if (readFileSync(`/proc/${current}/comm`, 'latin1').trim() === initName && readFileSync(`/proc/${current}/cmdline`, 'latin1').replace(/\0+$/, '') === initName) {
        // What the init started leads a session of its own (scripts, services) or shares the
        // init's (the CMD); an orphan the init adopted (a docker exec's `cmd &`) keeps its own,
        // 0 when its leader is outside the namespace.
        const session = sessionFromStat(below);
        return session !== undefined && session > 0 && (session === below || session === sessionFromStat(current));
      }
    } catch {
      return false;
    }
    const parent = readStat(current)?.parent;
    if (parent === undefined || !Number.isInteger(parent)) return false;
    below = current;
    current = parent;
  }
  return false;
}

/** The session field of /proc/PID/stat. */
function sessionFromStat(pid: number): number | undefined {
  const session = readStat(pid)?.session;
  return session !== undefined && Number.isInteger(session) ? session : undefined;
}

/** SIGTERM's bit in /proc's signal masks (signal N is bit N - 1). */
const SIGTERM_BIT = 1n << 14n;

/** Inits that take SIGTERM and pass it on, by the names their packages give them. */
const SIGNAL_FORWARDING_INITS = new Set(['tini', 'tini-static', 'docker-init', 'dumb-init', 'catatonit']);

/**
 * The name of PID 1 when it is this process's parent and does not catch SIGTERM (a shell-form
 * ENTRYPOINT that dash runs without exec, a wrapper script that runs /init without exec): the
 * kernel drops a signal PID 1 has no handler for, so a stop never reaches what it started.
 * Undefined otherwise (dumb-init catches it, tini and docker run --init block it to wait for
 * it; both pass it on).
 */
export function pid1DroppingTerm(): string | undefined {
  if (process.ppid !== 1) return undefined;
  try {
    // With a /proc of a parent namespace, its pid 1 is not ours.
    if (procNumbering().ourLevel !== undefined) return undefined;
    const status = readFileSync('/proc/1/status', 'latin1');
    // Caught, or blocked: the kernel keeps a blocked signal pending instead of dropping it
    // (catatonit blocks TERM to read it from a signalfd).
    for (const field of ['SigCgt', 'SigBlk']) {
      const mask = new RegExp(`^${field}:\\s*([0-9a-f]+)$`, 'm').exec(status)?.[1];
      if (mask === undefined || (BigInt(`0x${mask}`) & SIGTERM_BIT) !== 0n) return undefined;
    }
    // tini (docker run --init) blocks it too, but waits for it in sigtimedwait, which shows an
    // empty mask for the time of the wait; where its wait cannot be seen, it is known by name.
    if (readFileSync('/proc/1/wchan', 'latin1').startsWith('do_sigtimedwait')) return undefined;
    const name = readFileSync('/proc/1/comm', 'latin1').trim();
    return SIGNAL_FORWARDING_INITS.has(name) ? undefined : name;
  } catch {
    return undefined;
  }
}

/**
 * The descriptors this process inherited, as far as they can be told from Node's own.
 * Node marks every inherited descriptor close-on-exec at start-up, so a program that
 * replaces this process (execline's chain-loading) must be given them back. Node's own
 * are event polls, event counters and pipes whose read and write ends it both holds;
 * everything else is taken as inherited, and 0, 1 and 2 always are (stdout and stderr
 * are often the two same write ends of one pipe).
 */
export function inheritedDescriptors(): number[] {
  const open = new Map<number, { target: string; access: number }>();
  try {
    for (const name of readdirSync('/proc/self/fd')) {
      try {
        const target = readlinkSync(`/proc/self/fd/${name}`);
        const flags = /^flags:\s*([0-7]+)/m.exec(readFileSync(`/proc/self/fdinfo/${name}`, 'latin1'))?.[1] ?? '0';
        open.set(Number(name), { target, access: parseInt(flags, 8) & 3 });
      } catch {
        // The listing's own descriptor, already closed.
      }
    }
  } catch {
    return [0, 1, 2];
  }
  const readEnds = new Set<string>();
  const writeEnds = new Set<string>();
  for (const { target, access } of open.values()) {
    if (!target.startsWith('pipe:')) continue;
    if (access === 0) readEnds.add(target);
    else writeEnds.add(target);
  }
  const isNodeOwn = (target: string): boolean => target.startsWith('anon_inode:') || (readEnds.has(target) && writeEnds.has(target));
  return [...open]
    .filter(([fd, { target }]) => fd <= 2 || !isNodeOwn(target))
    .map(([fd]) => fd)
    .sort((a, b) => a - b);
}

/**
 * Whether this process has a controlling terminal (the tty_nr field of /proc/self/stat): only
 * then can a terminal send it SIGWINCH (a resize) or SIGINT (Ctrl-C). Taken as none when
 * /proc cannot be read.
 */
export function hasControllingTerminal(): boolean {
  try {
    const stat = readFileSync('/proc/self/stat', 'latin1');
    // After the command name in parentheses: state, ppid, pgrp, session, tty_nr.
    const ttyNumber = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[4];
    return ttyNumber !== undefined && ttyNumber !== '0';
  } catch {
    return false;
  }
}

/** Whether this process runs with no_new_privs, under which a setuid program gains nothing. */
export function noNewPrivileges(): boolean {
  try {
    return /^NoNewPrivs:\s*1$/m.test(readFileSync('/proc/self/status', 'utf8'));
  } catch {
    return false;
  }
}
