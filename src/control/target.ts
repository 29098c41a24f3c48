import type { ServiceSupervisor } from '../supervise/supervisor.js';
import type { HaltAction } from './protocol.js';

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
  halt(action: HaltAction, exitCode: number | null, via?: string): boolean;
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
  /** s6-svscan's scan of the scan directory: supervise what appeared there; with `prune`, stop what left. */
  scan?(prune: boolean): ScanResult;
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
  change(direction: 'up' | 'down', names: readonly string[], timeoutMs: number, abortSignal: AbortSignal): Promise<{ failed: string[]; timedOut: boolean }>;
  /** Atomic services in the named bundles (all, without names); only those up with `active`. */
  list(names: readonly string[], active: boolean): string[];
  /** The named services and everything they depend on (down: everything that depends on them). */
  listAll(names: readonly string[], direction: 'up' | 'down'): string[];
}
