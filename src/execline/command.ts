import type { ScriptNode } from './script.js';
import type { ChainState } from './state.js';

/**
 * What a command does to the chain: go on with the rest, end it with an exit code, or end it
 * with the exit code a command gets later, after watching its children and signals (trap);
 * only a command that `ownsProcess` may return the last, as it runs in the main chain only.
 */
export type Step = { readonly rest: readonly ScriptNode[] } | { readonly exit: number } | { readonly settled: Promise<number> };

export interface CommandContext {
  readonly name: string;
  /** The chain's state; commands change it in place. */
  readonly state: ChainState;
  /** Runs a chain in a child with `state` and waits: the raw wait status. */
  wait(chain: readonly ScriptNode[], state: ChainState): number;
  /**
   * Starts a chain in a child with `state` and does not wait: its pid. `detached`: through
   * an intermediate process that exits at once (background -d), so the chain's process is
   * not a child of this one (nor of the program it becomes, which may not reap it).
   */
  start(chain: readonly ScriptNode[], state: ChainState, detached?: boolean): number;
  /**
   * Starts a chain in a child and does not wait, for a caller that must read its output while
   * it runs: its pid, or its raw wait status when it ended without starting any process.
   */
  begin(chain: readonly ScriptNode[], state: ChainState): Begun;
}

export type Begun = { readonly pid: number } | { readonly status: number };

export interface Command {
  readonly usage: string;
  /** Its options as getopt's letters (':' after one that takes a value), for it and for `steward check`; none when left out. */
  readonly options?: string;
  /** It waits for a child, so a chain started in the background needs a process of its own to run it. */
  readonly blocking?: boolean;
  /** Whether, with these arguments, it may wait (an open of a fifo until its other end is opened): then as `blocking`. */
  mayWait?(args: readonly ScriptNode[], state: ChainState): boolean;
  /**
   * It changes the account of the process running the chain, for the rest of it: run by the
   * main chain's own process; a block's chain hands the rest to a new interpreter for it.
   */
  readonly changesAccount?: boolean;
  /**
   * What it does is the process's own, the one that goes on with the chain (its pid, its
   * children, its signals): as for `changesAccount`, a block's chain hands the rest to a new
   * interpreter, whose main chain it is, as execline's block runs in a process of its own.
   */
  readonly ownsProcess?: boolean;
  run(args: readonly ScriptNode[], context: CommandContext): Step;
}

/** A wait status as execline reports it in `?`: the exit code, or 256 plus the signal. */
export function execlineStatus(raw: number): number {
  const signal = raw & 0x7f;
  return signal === 0 ? (raw >> 8) & 0xff : 256 + signal;
}

/** A wait status as an exit code: the code, or 128 plus the signal. */
export function exitCodeOf(raw: number): number {
  const signal = raw & 0x7f;
  return signal === 0 ? (raw >> 8) & 0xff : 128 + signal;
}

export function succeeded(raw: number): boolean {
  return raw === 0;
}
