import type { ServiceSupervisor } from '../supervise/supervisor.js';
import type { HaltAction, RcTransition } from './protocol.js';

/**
 * What the control plane acts on. init/ implements it; control/ knows nothing else
 * about the container, so its commands are tested against a fake.
 */
export interface ControlTarget {
  readonly supervisors: ReadonlyMap<string, ServiceSupervisor>;
  /** Epoch ms when Steward started. */
  readonly startedAt: number;
  isStopping(): boolean;
  /** Asks for a shutdown; false when one is already under way. `via` says who asked, for the log. */
  /** `requester`: the pid of the process that asked, when it said. */
  halt(action: HaltAction, exitCode: number | null, via?: string, requester?: number): boolean;
  /** Names this service waits for before it may start. */
  dependenciesOf(name: string): readonly string[];
  /** Whether a dependency (a oneshot too) is up; by default, whether its supervisor says ready. */
  dependencyUp?(name: string): boolean;
  /** Oneshots in the service graph, with their state and when their transition ran. */
  oneshots?(): readonly OneshotNode[];
  /**
   * Services of the graph (s6-overlay's own stages too: cont-init.d, services.d) that failed
   * to start or were not started because of such a failure, with why.
   */
  startFailures?(): readonly StartFailure[];
  /** The s6-rc service graph, when there is one: s6-rc change, list and listall. */
  readonly rc?: RcOperations | undefined;
  /** Whether the boot is over (it returned: the CMD runs, or would). Undefined: not known, say in tests. */
  booted?(): boolean;
  /** Resolves once the boot is over (services.d has been read by then). */
  whenBooted?(): Promise<void>;
  /**
   * Resolves once every one of `names` is supervised with its directory in place, or the boot
   * is over: a run script's s6-svwait on a sibling read after it waits for that sibling alone.
   */
  whenKnown?(names: readonly string[], ownProcess?: boolean): Promise<void>;
  /** s6-svscan's scan of the scan directory: supervise what appeared there; with `prune`, stop what left. */
  scan?(prune: boolean): ScanResult;
  /** The scan directory, as s6-svscanctl names it (its links resolved by the client). */
  readonly scanDir?: string;
}

export interface ScanResult {
  readonly added: readonly string[];
  readonly pruned: readonly string[];
  readonly problems: readonly string[];
}

export interface StartFailure {
  readonly name: string;
  readonly state: 'failed' | 'blocked';
  readonly reason: string;
}

export interface OneshotNode {
  readonly name: string;
  readonly state: string;
  readonly startedAt: number | null;
  readonly upAt: number | null;
}

export interface RcOperations {
  /** Names (services or bundles) that are not in the graph. */
  unknown(names: readonly string[]): string[];
  /**
   * Brings the selection up or down (with `prune`, also the rest the other way). Running out
   * of `timeoutMs`, or the client leaving, ends the wait only: as with s6-rc -t, the
   * transitions under way go on and nothing is taken down for it.
   */
  change(
    direction: 'up' | 'down',
    names: readonly string[],
    timeoutMs: number,
    abortSignal: AbortSignal,
    options?: RcSelectionOptions,
  ): Promise<{ failed: string[]; timedOut: boolean; transitions: readonly RcTransition[] }>;
  /** The transitions `change` would run, in order, without running them (s6-rc -n). */
  plan?(direction: 'up' | 'down', names: readonly string[], options: RcSelectionOptions): RcStep[];
  /** Atomic services named (bundles expanded), plus those up with `active`; with `down`, every other one. */
  list(names: readonly string[], active: boolean, direction?: 'up' | 'down'): string[];
  /** The named services and everything they depend on (down: everything that depends on them); with `active`, those up too. */
  listAll(names: readonly string[], direction: 'up' | 'down', active?: boolean): string[];
  /** The oneshots a change up would need whose `up` is running now (the boot's cont-init.d, say). */
  runningUps?(names: readonly string[], options: RcSelectionOptions): string[];
}

/** How s6-rc's options widen the selection: -a adds the services up, -p prunes the rest. */
export interface RcSelectionOptions {
  readonly active?: boolean;
  readonly prune?: boolean;
  /** s6-rc -D: services marked flag-essential come down too (-d leaves them up). */
  readonly essentialToo?: boolean;
}

/** One transition of a planned change, what a dry run prints. */
export interface RcStep {
  readonly name: string;
  readonly kind: 'longrun' | 'oneshot';
  readonly direction: 'up' | 'down';
  /** Transitions of one wave run side by side, after those of the wave before. */
  readonly wave: number;
  /** A longrun's directory in the scan directory; null for a oneshot. */
  readonly dir: string | null;
  /** Whether a longrun notifies readiness (s6-rc then waits for ready, -wU, rather than up, -wu). */
  readonly readiness: boolean;
  /** Its timeout-up or timeout-down, 0 for none. */
  readonly timeoutMs: number;
}
