import { readFileSync } from 'node:fs';

import type { FileAction } from '../sys/ffi/spawn.js';

/**
 * An account to become, for s6-setuidgid or s6-applyuidgid; null leaves that part as it is.
 * `spec` names it in messages.
 */
export interface RunAs {
  readonly spec: string;
  readonly uid: number | null;
  readonly gid: number | null;
  readonly groups: readonly number[] | null;
}

/**
 * A descriptor move or close for the program, replayed in order; files are opened by redirfd
 * itself, and reach the program as a move from the descriptor holding them.
 */
export type DescriptorAction = Exclude<FileAction, { readonly kind: 'open' }>;

/** A soft limit (s6-softlimit) for the program: a number, or 'hard' for the hard limit. */
export interface ResourceLimit {
  readonly resource: number;
  readonly value: bigint | 'hard';
}

/**
 * What the commands of a chain have set up for the program at its end: environment,
 * directory, umask, descriptors and limits. The interpreter changes none of these in its own
 * process until that program is executed, so a block can be run in a child with a copy. The
 * account is the exception: s6-setuidgid changes the interpreter's own, so that the rest of
 * the chain (opens, reads, blocks) runs as the account, as with execline.
 */
export class ChainState {
  constructor(
    public env: Map<string, string>,
    public cwd: string,
    public umask: number,
    public actions: DescriptorAction[] = [],
    /** The account s6-setuidgid or s6-applyuidgid switched to, to name it in messages. */
    public account: string | undefined = undefined,
    /** argv[0] for the program, when `exec -a` or `exec -l` changed it. */
    public argv0: ((file: string) => string) | undefined = undefined,
    public limits: ResourceLimit[] = [],
    /**
     * The commands that set the limits, as written: a block's program runs in a child, which
     * only a new interpreter running them again can give them to (this one keeps its own).
     */
    public reapply: string[] = [],
    /**
     * Descriptors this chain's own commands opened (redirfd) and the interpreter holds for it:
     * closed once the chain's process has them. A block's copy starts with none of its own.
     */
    public opened: number[] = [],
    /** The descriptors the interpreter inherited, which the program inherits in turn unless moved or closed. */
    public readonly inherited: readonly number[] = [0, 1, 2],
  ) {}

  static fromProcess(inherited: readonly number[]): ChainState {
    const env = new Map<string, string>();
    const hidden = new Set<string>();
    for (const name of Object.keys(process.env)) {
      const value = process.env[name];
      if (value !== undefined) env.set(name, value);
      else hidden.add(name);
    }
    // Node's process.env lists a variable whose name is a number (the positional parameters 0, 1...
    // a calling execline script leaves) but gives no value for it: read from what this process was given.
    if (hidden.size > 0) for (const [name, value] of initialEnvironment()) if (hidden.has(name)) env.set(name, value);
    const mask = process.umask();
    return new ChainState(env, process.cwd(), mask, [], undefined, undefined, [], [], [], inherited);
  }

  copy(): ChainState {
    return new ChainState(new Map(this.env), this.cwd, this.umask, [...this.actions], this.account, this.argv0, [...this.limits], [...this.reapply], [], this.inherited);
  }

  /**
   * The descriptors the program will have open, as the moves and closes so far leave them,
   * each with the interpreter's descriptor it will be a copy of: the interpreter's own
   * descriptors (Node's event loop) are not the script's to hand over.
   */
  programDescriptors(): Map<number, number> {
    const open = new Map(this.inherited.map((fd) => [fd, fd]));
    for (const action of this.actions) {
      if (action.kind === 'dup') open.set(action.to, open.get(action.from) ?? action.from);
      else open.delete(action.fd);
    }
    return open;
  }

  /** Whether the program will have `fd` open. */
  hasDescriptor(fd: number): boolean {
    return this.programDescriptors().has(fd);
  }

  envArray(): string[] {
    return [...this.env].map(([name, value]) => `${name}=${value}`);
  }
}

/** The environment this process was started with, as the kernel keeps it. */
function initialEnvironment(): [string, string][] {
  let text: string;
  try {
    text = readFileSync('/proc/self/environ', 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\0')
    .filter((entry) => entry.includes('='))
    .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]);
}
