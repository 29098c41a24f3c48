import type { LongrunDefinition } from './service.js';

/**
 * The service graph, as s6-rc sees it: atomic services (oneshots and longruns) with
 * dependencies, and bundles that name groups of them. The s6-rc.d source directories,
 * s6-overlay's own stages and the legacy directories all compile into these.
 */

/**
 * The subset of execline that s6-rc oneshot `up` and `down` files use in practice:
 * words, double quotes with backslash escapes, # comments, and the block commands
 * foreground, background and if (-n). Steward runs that subset itself, with no process
 * for the interpreter; a file that needs more (variables, other block commands, other
 * options) is run by Steward's execlineb instead (`'needs-interpreter'`).
 */
export type ExeclineProgram =
  | { readonly kind: 'exec'; readonly argv: readonly string[] }
  | { readonly kind: 'foreground'; readonly block: ExeclineProgram; readonly then: ExeclineProgram }
  | { readonly kind: 'background'; readonly block: ExeclineProgram; readonly then: ExeclineProgram }
  | { readonly kind: 'if'; readonly negate: boolean; readonly block: ExeclineProgram; readonly then: ExeclineProgram }
  | { readonly kind: 'noop' };

/** What a oneshot runs: an execline-style command line, a script, one of Steward's own stages, or nothing. */
export type OneshotAction =
  | { readonly kind: 'execline'; readonly program: ExeclineProgram; readonly file: string }
  /** An up or down file beyond the subset Steward runs itself: run by Steward's execlineb. */
  | { readonly kind: 'execline-script'; readonly file: string }
  | { readonly kind: 'script'; readonly path: string; readonly argv: readonly string[] }
  | { readonly kind: 'builtin'; readonly stage: 'fix-attrs' | 'legacy-cont-init' | 'legacy-services' }
  | { readonly kind: 'noop' };

interface AtomicFields {
  readonly name: string;
  /** Where it was defined ("built in" for s6-overlay's own stages). */
  readonly source: string;
  /** Direct dependencies, as written (bundle names allowed; the compiler expands them). */
  readonly dependencies: readonly string[];
  /** 0: no limit. */
  readonly timeoutUpMs: number;
  readonly timeoutDownMs: number;
  /** Not brought down at shutdown (s6-rc -bda keeps it); it ends in the final kill. */
  readonly essential: boolean;
}

export interface RcOneshot extends AtomicFields {
  readonly kind: 'oneshot';
  readonly up: OneshotAction;
  readonly down: OneshotAction;
  /**
   * Run `down` even when `up` started but did not succeed. s6-rc never does; Steward's
   * cont-init stage does, so cont-finish.d cleans up after a boot cut short.
   */
  readonly downAfterPartialUp: boolean;
}

export interface RcLongrun extends AtomicFields {
  readonly kind: 'longrun';
  readonly longrun: LongrunDefinition;
  /** The consumer of this service's stdout (producer-for). */
  readonly producerFor: string | null;
  /** The services whose stdout this one reads (consumer-for). */
  readonly consumerFor: readonly string[];
  /** A bundle made of the whole pipeline, declared on its last consumer. */
  readonly pipelineName: string | null;
}

export interface RcBundle {
  readonly kind: 'bundle';
  readonly name: string;
  readonly source: string;
  readonly contents: readonly string[];
  readonly essential: boolean;
}

export type RcAtomic = RcOneshot | RcLongrun;
export type RcDefinition = RcAtomic | RcBundle;
