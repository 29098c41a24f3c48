import { readdirSync, readFileSync } from 'node:fs';

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
