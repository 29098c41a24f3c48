import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/**
 * Reads the process table from /proc. Synchronous on purpose: these files are
 * small, served from kernel memory, and reading them is faster than scheduling I/O.
 */

/**
 * Direct children of this process, across all its threads: the kernel lists a child
 * under the thread that forked it, and an orphan under the thread it was reparented to.
 */
export function listChildren(): number[] {
  const pids: number[] = [];
  let tasks: string[];
  try {
    tasks = readdirSync('/proc/self/task');
  } catch {
    return pids;
  }
  for (const tid of tasks) {
    let text: string;
    try {
      text = readFileSync(`/proc/self/task/${tid}/children`, 'latin1');
    } catch {
      continue; // the thread ended between the listing and the read
    }
    for (const word of text.split(' ')) {
      if (word !== '') pids.push(Number(word));
    }
  }
  return pids;
}

/** Every descendant of this process, children first. */
export function listDescendants(): number[] {
  const parentOf = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const parent = readParentPid(pid);
    if (parent !== undefined) parentOf.set(pid, parent);
  }
  const result: number[] = [];
  const frontier = [process.pid];
  while (frontier.length > 0) {
    const parent = frontier.shift();
    for (const [pid, ppid] of parentOf) {
      if (ppid === parent) {
        result.push(pid);
        frontier.push(pid);
      }
    }
  }
  return result;
}

function readParentPid(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // The command name is in parentheses and may itself hold spaces or parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[1]);
  } catch {
    return undefined;
  }
}

/**
 * The descriptors this process inherited, as far as they can be told from Node's own.
 * Node marks every inherited descriptor close-on-exec at start-up, so a program that
 * replaces this process (execline's chain-loading) must be given them back. Node's own
 * are event polls, event counters and pipes whose two ends it holds; everything else
 * is taken as inherited.
 */
export function inheritedDescriptors(): number[] {
  const targets = new Map<number, string>();
  try {
    for (const name of readdirSync('/proc/self/fd')) {
      try {
        targets.set(Number(name), readlinkSync(`/proc/self/fd/${name}`));
      } catch {
        // The listing's own descriptor, already closed.
      }
    }
  } catch {
    return [0, 1, 2];
  }
  const uses = new Map<string, number>();
  for (const target of targets.values()) uses.set(target, (uses.get(target) ?? 0) + 1);
  return [...targets]
    .filter(([, target]) => !target.startsWith('anon_inode:') && !(target.startsWith('pipe:') && (uses.get(target) ?? 0) > 1))
    .map(([fd]) => fd)
    .sort((a, b) => a - b);
}
