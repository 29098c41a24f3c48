import { type CompiledGraph, closure } from './compile.js';

/**
 * s6-rc's selection and what `s6-rc change` makes of it, over the compiled graph. Kept apart
 * from the engine: `list`, dry runs and the real change all need the same sets.
 */

export type Direction = 'up' | 'down';

/** The atomic services the names stand for, bundles expanded; unknown names are left out. */
export function atomicsOf(graph: CompiledGraph, names: readonly string[]): Set<string> {
  return new Set(names.flatMap((name) => graph.bundles.get(name) ?? (graph.atomics.has(name) ? [name] : [])));
}

/** The selection: the named services, plus those up when `active` (s6-rc's -a). */
export function selectionOf(graph: CompiledGraph, names: readonly string[], active: boolean, isUp: (name: string) => boolean): Set<string> {
  const selected = atomicsOf(graph, names);
  if (active) for (const name of graph.atomics.keys()) if (isUp(name)) selected.add(name);
  return selected;
}

/** Every atomic service outside `names`, in the graph's order. */
export function complementOf(graph: CompiledGraph, names: ReadonlySet<string>): Set<string> {
  return new Set([...graph.atomics.keys()].filter((name) => !names.has(name)));
}

/** The services and everything that depends on them, recursively (the closure for -d). */
export function withDependents(graph: CompiledGraph, names: Iterable<string>): Set<string> {
  const result = new Set<string>();
  const add = (name: string): void => {
    if (result.has(name)) return;
    result.add(name);
    for (const dependent of graph.dependents.get(name) ?? []) add(dependent);
  };
  for (const name of names) add(name);
  return result;
}

/** The closed selection: with its dependencies going up, with its dependents going down. */
export function closedSelection(graph: CompiledGraph, selection: ReadonlySet<string>, direction: Direction): Set<string> {
  return direction === 'up' ? closure(graph, [...selection]) : withDependents(graph, selection);
}

/** What one `s6-rc change` brings down, then brings up, in that order. */
export interface ChangePlan {
  readonly down: ReadonlySet<string>;
  readonly up: ReadonlySet<string>;
  /** Marked flag-essential: left out of `down` (s6-rc -d says so of each that is up). */
  readonly keptEssential: ReadonlySet<string>;
}

/**
 * The sets `s6-rc change` acts on. Without prune, the closed selection goes the way asked.
 * With prune (-p), the state becomes exactly the closed selection up (-u), or the largest
 * set that leaves the closed selection down (-d): everything else goes the other way, the
 * unwanted services first brought down, then the wanted ones brought up.
 */
export function changePlan(graph: CompiledGraph, selection: ReadonlySet<string>, direction: Direction, prune: boolean, keepEssential = false): ChangePlan {
  const closed = closedSelection(graph, selection, direction);
  const none = new Set<string>();
  const plan = !prune
    ? direction === 'up'
      ? { down: none, up: closed, keptEssential: none }
      : { down: closed, up: none, keptEssential: none }
    : direction === 'up'
      ? { down: complementOf(graph, closed), up: closed, keptEssential: none }
      : { down: closed, up: complementOf(graph, closed), keptEssential: none };
  // flag-essential: s6-rc -d leaves such a service up; only -D brings it down.
  if (!keepEssential) return plan;
  const essential = (name: string): boolean => graph.atomics.get(name)?.essential === true;
  return { up: plan.up, down: new Set([...plan.down].filter((name) => !essential(name))), keptEssential: new Set([...plan.down].filter(essential)) };
}

/**
 * The transitions of one direction in the order s6-rc runs them: each wave holds the
 * services whose dependencies (going up) or dependents (going down) are done by the waves
 * before it. Services already in the wanted state need no transition and are left out.
 */
export function transitionWaves(graph: CompiledGraph, names: ReadonlySet<string>, direction: Direction, alreadyThere: (name: string) => boolean): string[][] {
  const pending = [...graph.atomics.keys()].filter((name) => names.has(name) && !alreadyThere(name));
  const pendingSet = new Set(pending);
  const waveOf = new Map<string, number>();
  const wave = (name: string): number => {
    const known = waveOf.get(name);
    if (known !== undefined) return known;
    const before = direction === 'up' ? graph.dependencies.get(name) : graph.dependents.get(name);
    // The graph has no cycles (compileGraph refuses them), so this recursion ends.
    const result = Math.max(-1, ...[...(before ?? [])].filter((other) => pendingSet.has(other)).map(wave)) + 1;
    waveOf.set(name, result);
    return result;
  };
  const waves: string[][] = [];
  for (const name of pending) (waves[wave(name)] ??= []).push(name);
  return waves.filter((names) => names.length > 0);
}
