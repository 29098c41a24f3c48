import type { RcAtomic } from '../model/rc.js';
import { type CompiledGraph, closure } from './compile.js';

/** The outcome of one transition: done, or failed with a reason a person can act on. */
export type TransitionResult = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** Runs the transitions themselves; the engine only decides when. */
export interface TransitionRunner {
  up(atomic: RcAtomic, abortSignal: AbortSignal): Promise<TransitionResult>;
  down(atomic: RcAtomic): Promise<TransitionResult>;
  /**
   * Whether a longrun the graph brought up is still meant to run: one stopped outside the graph
   * (steward stop, s6-svc -d) is started again by the next bring-up that needs it.
   */
  stillUp?(atomic: RcAtomic): boolean;
  /**
   * Resolves when the atomic's start may begin: a runner whose starts cost this thread
   * noticeable work spreads them over turns of the event loop. False abandons the start (the
   * container began to stop meanwhile), as one that never got its turn. A start that was due
   * when the bring-up's time limit ran out still goes ahead, as s6-rc had launched it.
   */
  turn?(atomic: RcAtomic): Promise<boolean>;
}

export type AtomicState = 'down' | 'starting' | 'up' | 'failed' | 'blocked' | 'stopping';

/** Where a way down left a service: down (or never up), still up, or kept up as essential (or for one). */
type StopOutcome = 'down' | 'up' | 'essential';

export interface EngineEvents {
  starting(atomic: RcAtomic): void;
  started(atomic: RcAtomic, elapsedMs: number): void;
  failed(atomic: RcAtomic, reason: string): void;
  blocked(atomic: RcAtomic, because: string): void;
  stopping(atomic: RcAtomic): void;
  stopped(atomic: RcAtomic, result: TransitionResult): void;
  /** Left up by a way down that wanted it down: it is essential, or something that needs it is, or did not stop. */
  kept(atomic: RcAtomic, because: string): void;
}

export interface UpOutcome {
  readonly failed: readonly string[];
  readonly blocked: readonly string[];
  /** Not started because the bring-up was stopped (shutdown, or the boot time limit). */
  readonly abandoned: readonly string[];
}

/**
 * Brings the service graph up and down as s6-rc does: a transition starts as soon as
 * every dependency is up, independent services in parallel; a failure blocks only its
 * dependents; the way down is the reverse, each service stopping once nothing that
 * needs it is up.
 */
export class Engine {
  readonly #states = new Map<string, AtomicState>();
  readonly #startedAt = new Map<string, number>();
  readonly #upAt = new Map<string, number>();
  /** Why a service is failed or blocked now; gone once it starts again. */
  readonly #whyNotUp = new Map<string, string>();
  /**
   * The up transitions under way, by name: a second bring-up that needs one (a change asked
   * for during the boot) waits for it instead of running it again, as s6-rc's lock would
   * make it wait; a oneshot's up runs once.
   */
  readonly #upTransitions = new Map<string, Promise<boolean>>();
  /** The down transitions under way, by name: a second way down waits for the one under way. */
  readonly #downTransitions = new Map<string, Promise<StopOutcome>>();
  /** Those told of every transition besides `events`, for as long as they watch (see observe). */
  readonly #observers = new Set<Partial<EngineEvents>>();

  constructor(
    readonly graph: CompiledGraph,
    private readonly runner: TransitionRunner,
    private readonly events: EngineEvents,
    private readonly now: () => number,
  ) {
    for (const name of graph.atomics.keys()) this.#states.set(name, 'down');
  }

  /**
   * Tells `observer` of every transition from now on, as `events` is told, until the returned
   * function is called: what s6-rc -v 2 prints of the change it asked for.
   */
  observe(observer: Partial<EngineEvents>): () => void {
    this.#observers.add(observer);
    return () => this.#observers.delete(observer);
  }

  #notify<K extends keyof EngineEvents>(key: K, ...args: Parameters<EngineEvents[K]>): void {
    type Listener = (...values: Parameters<EngineEvents[K]>) => void;
    (this.events[key] as Listener)(...args);
    for (const observer of this.#observers) (observer[key] as Listener | undefined)?.(...args);
  }

  state(name: string): AtomicState | undefined {
    return this.#states.get(name);
  }

  /** Why the service failed to start or was not started, while it is `failed` or `blocked`. */
  whyNotUp(name: string): string | undefined {
    const state = this.#states.get(name);
    return state === 'failed' || state === 'blocked' ? this.#whyNotUp.get(name) : undefined;
  }

  /** When the service first started its transition up, and when it was first up, by the engine's clock. */
  timing(name: string): { startedAt: number | null; upAt: number | null } {
    return { startedAt: this.#startedAt.get(name) ?? null, upAt: this.#upAt.get(name) ?? null };
  }

  /**
   * Brings `names` up with what they need. `abortSignal` stops it, transitions under way
   * included; `stopStarting` only keeps new transitions from starting (an s6-rc change whose
   * client gave up: s6-rc starts nothing once it has exited).
   */
  async bringUp(names: readonly string[], abortSignal: AbortSignal, stopStarting?: AbortSignal): Promise<UpOutcome> {
    const wanted = closure(this.graph, names);
    const results = new Map<string, Promise<boolean>>();
    const start = (name: string): Promise<boolean> => {
      let result = results.get(name);
      if (result === undefined) {
        result = this.#startOne(name, start, abortSignal, stopStarting);
        results.set(name, result);
      }
      return result;
    };
    await Promise.all([...wanted].map(start));
    const outcome: { failed: string[]; blocked: string[]; abandoned: string[] } = { failed: [], blocked: [], abandoned: [] };
    for (const name of wanted) {
      const state = this.#states.get(name);
      if (state === 'failed') outcome.failed.push(name);
      else if (state === 'blocked') outcome.blocked.push(name);
      else if (state !== 'up') outcome.abandoned.push(name);
    }
    return outcome;
  }

  async #startOne(name: string, start: (name: string) => Promise<boolean>, abortSignal: AbortSignal, stopStarting: AbortSignal | undefined): Promise<boolean> {
    const atomic = this.graph.atomics.get(name);
    if (atomic === undefined) return false;
    if (!(await this.#afterStartUnderWay(name, abortSignal))) return false;
    if (this.#states.get(name) === 'up') {
      if (this.runner.stillUp?.(atomic) !== false) return true;
      this.#states.set(name, 'down');
    }
    const needs = [...(this.graph.dependencies.get(name) ?? [])];
    const ready = await Promise.all(needs.map(start));
    const missing = needs.filter((_, index) => ready[index] !== true);
    if (missing.length > 0) {
      const first = missing[0] ?? '';
      const because = `it depends on ${first}, which ${this.#states.get(first) === 'failed' ? 'failed to start' : 'did not start'}`;
      this.#states.set(name, 'blocked');
      this.#whyNotUp.set(name, because);
      this.#notify('blocked', atomic, because);
      return false;
    }
    // A function, as the signal may change across the awaits below.
    const noMoreStarts = (): boolean => stopStarting?.aborted === true;
    if (abortSignal.aborted || noMoreStarts()) return false;
    if (this.runner.turn !== undefined && !(await this.runner.turn(atomic))) return false;
    // Another bring-up may have begun it, or brought it up, while this one waited.
    if (!(await this.#afterStartUnderWay(name, abortSignal))) return false;
    if (this.#states.get(name) === 'up') return true;
    if (noMoreStarts()) return false;
    const transition = this.#transitionUp(atomic, abortSignal);
    this.#upTransitions.set(name, transition);
    try {
      return await transition;
    } finally {
      if (this.#upTransitions.get(name) === transition) this.#upTransitions.delete(name);
    }
  }

  /**
   * Waits for a start of `name` another bring-up has under way. False when this bring-up was
   * stopped meanwhile; true otherwise, the state then telling whether it is up. One that failed
   * or was abandoned (its bring-up ran out of time) is this bring-up's to try again, as s6-rc
   * tries again what a change before it left down.
   */
  async #afterStartUnderWay(name: string, abortSignal: AbortSignal): Promise<boolean> {
    for (let underWay = this.#upTransitions.get(name); underWay !== undefined; underWay = this.#upTransitions.get(name)) {
      await underWay;
      if (abortSignal.aborted) return false;
    }
    return true;
  }

  async #transitionUp(atomic: RcAtomic, abortSignal: AbortSignal): Promise<boolean> {
    const { name } = atomic;
    this.#states.set(name, 'starting');
    const startedAt = this.now();
    // The first start's times are kept, as a longrun keeps its first start: the boot's timing.
    if (!this.#startedAt.has(name)) this.#startedAt.set(name, startedAt);
    this.#notify('starting', atomic);
    const result = await this.runner.up(atomic, abortSignal);
    if (!result.ok) {
      this.#states.set(name, 'failed');
      this.#whyNotUp.set(name, result.reason);
      this.#notify('failed', atomic, result.reason);
      return false;
    }
    this.#states.set(name, 'up');
    if (!this.#upAt.has(name)) this.#upAt.set(name, this.now());
    this.#notify('started', atomic, this.now() - startedAt);
    return true;
  }

  /**
   * Brings down everything that is up (or half up), dependents first; or, given names,
   * those and everything that depends on them. Essential services stay when bringing
   * everything down: they end in the final kill, as with s6-rc -bda; and with
   * `keepEssential`, as s6-rc -d leaves them (only -D stops them). What they need stays with
   * them. Resolves with those left up for that reason.
   */
  async bringDown(names?: readonly string[], options: { keepEssential?: boolean } = {}): Promise<{ readonly keptAsEssential: ReadonlySet<string> }> {
    const selected = names === undefined ? undefined : this.#withDependents(names);
    const keepEssential = selected === undefined || options.keepEssential === true;
    // A change keeps up what a service that did not stop still needs, as s6-rc performs no
    // transition that depends on a failed one. The container's own stop goes on with the rest:
    // each service left running would only end in the final kill, without its own way down.
    const keepNeeded = selected !== undefined;
    const results = new Map<string, Promise<StopOutcome>>();
    const stop = (name: string): Promise<StopOutcome> => {
      let result = results.get(name);
      if (result === undefined) {
        result = this.#stopOne(name, stop, keepEssential, keepNeeded);
        results.set(name, result);
      }
      return result;
    };
    const all = [...(selected ?? this.graph.atomics.keys())];
    const outcomes = await Promise.all(all.map(stop));
    // Not a failure: s6-rc warns and carries on.
    return { keptAsEssential: new Set(all.filter((_, index) => outcomes[index] === 'essential')) };
  }

  /** The atomics named (bundles expanded) and everything that depends on them. */
  #withDependents(names: readonly string[]): Set<string> {
    const result = new Set<string>();
    const add = (name: string): void => {
      if (result.has(name)) return;
      result.add(name);
      for (const dependent of this.graph.dependents.get(name) ?? []) add(dependent);
    };
    for (const name of names) for (const atomic of this.graph.bundles.get(name) ?? (this.graph.atomics.has(name) ? [name] : [])) add(atomic);
    return result;
  }

  /** Resolves once the service is as down as it will get: down (or never up), still up, or kept up as essential. */
  async #stopOne(name: string, stop: (name: string) => Promise<StopOutcome>, keepEssential: boolean, keepNeeded: boolean): Promise<StopOutcome> {
    const dependents = [...(this.graph.dependents.get(name) ?? [])];
    const dependentsDown = await Promise.all(dependents.map(stop));
    const atomic = this.graph.atomics.get(name);
    const state = this.#states.get(name);
    if (atomic === undefined) return 'down';
    // Another way down has it under way (a change, when the container's stop comes): wait for
    // that one, with its own time limit, rather than take the service for down while it drains.
    const underWay = this.#downTransitions.get(name);
    if (underWay !== undefined) return underWay;
    // A longrun whose start failed or was cut short may still run; a oneshot that did not
    // finish its up has nothing to undo, as with s6-rc.
    const partial = state === 'failed' || state === 'starting';
    const needsDown = state === 'up' || (partial && (atomic.kind === 'longrun' || atomic.downAfterPartialUp));
    if (!needsDown) return 'down';
    if (atomic.essential && keepEssential) {
      this.#notify('kept', atomic, 'it is marked as essential (flag-essential)');
      return 'essential';
    }
    // What an essential service needs stays with it, as s6-rc keeps it; what one that failed to
    // stop needs, in a change only. At the container's stop, Steward's own stages still go down:
    // s6-overlay would skip cont-finish.d for an essential service that depends on base.
    const ownStage = atomic.kind === 'oneshot' && atomic.up.kind === 'builtin';
    const essentialNeeds = ownStage && !keepNeeded ? [] : dependents.filter((_, index) => dependentsDown[index] === 'essential');
    const failedNeeds = keepNeeded ? dependents.filter((_, index) => dependentsDown[index] === 'up') : [];
    const stillNeededBy = [...essentialNeeds, ...failedNeeds];
    if (stillNeededBy.length > 0) {
      const one = stillNeededBy.length === 1;
      const why = failedNeeds.length === 0 ? (one ? 'is kept up as essential' : 'are kept up as essential') : essentialNeeds.length === 0 ? 'did not stop' : (one ? 'stays up' : 'stay up');
      this.#notify('kept', atomic, `${stillNeededBy.join(', ')}, which ${one ? 'needs' : 'need'} it, ${why}`);
      return essentialNeeds.length > 0 ? 'essential' : 'up';
    }
    this.#states.set(name, 'stopping');
    this.#notify('stopping', atomic);
    const transition = this.runner.down(atomic).then((result): StopOutcome => {
      // A down that failed leaves the service up (s6-rc updates its live state only on success):
      // a longrun still runs, a oneshot counts as up until its down succeeds.
      this.#states.set(name, result.ok ? 'down' : state === 'up' ? 'up' : 'failed');
      this.#notify('stopped', atomic, result);
      return result.ok ? 'down' : 'up';
    });
    this.#downTransitions.set(name, transition);
    try {
      return await transition;
    } finally {
      this.#downTransitions.delete(name);
    }
  }
}
