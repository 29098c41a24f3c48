import { join } from 'node:path';

import type { Diagnostic } from '../diagnostic.js';
import { StewardError } from '../errors.js';
import type { RcAtomic, RcDefinition } from '../model/rc.js';
import { nearest } from '../util/nearest.js';

/**
 * The service graph after s6-rc-compile's checks: every name resolved, bundles
 * expanded to atomic services, pipelines turned into dependencies, no cycles.
 */
export interface CompiledGraph {
  readonly atomics: ReadonlyMap<string, RcAtomic>;
  /** Every bundle, expanded to the atomic services it holds. */
  readonly bundles: ReadonlyMap<string, readonly string[]>;
  /** Atomic service to the atomic services it needs up first. */
  readonly dependencies: ReadonlyMap<string, ReadonlySet<string>>;
  /** The reverse: atomic service to those that need it. */
  readonly dependents: ReadonlyMap<string, ReadonlySet<string>>;
}

export function compileGraph(sources: ReadonlyMap<string, RcDefinition>, diagnostics: Diagnostic[], unreadable: ReadonlySet<string> = new Set()): CompiledGraph {
  const fail = (message: string, path: string, hint?: string): void => {
    diagnostics.push({ severity: 'error', error: new StewardError('ERR_CONFIG', message, hint === undefined ? { path } : { path, hint }) });
  };
  const warn = (message: string, path: string, hint: string): void => {
    diagnostics.push({ severity: 'warning', error: new StewardError('ERR_CONFIG', message, { path, hint }) });
  };
  const definitions = withPipelineBundles(sources, fail, warn);
  const known = [...definitions.keys()];

  // Bundles, expanded depth first; a bundle inside itself is a cycle.
  const bundles = new Map<string, string[]>();
  const expanding: string[] = [];
  const expand = (name: string): string[] => {
    const done = bundles.get(name);
    if (done !== undefined) return done;
    const definition = definitions.get(name);
    if (definition === undefined) return [];
    if (definition.kind !== 'bundle') return [name];
    if (expanding.includes(name)) {
      fail(`bundles contain each other: ${[...expanding.slice(expanding.indexOf(name)), name].join(' -> ')}`, definition.source, 'Remove one of these contents entries');
      return [];
    }
    expanding.push(name);
    const atomics = new Set<string>();
    for (const member of definition.contents) {
      if (!definitions.has(member)) {
        // One whose definition could not be read has its own error already.
        if (!unreadable.has(member)) fail(`bundle ${name} contains ${member}, which is not defined`, join(definition.source, 'contents.d', member), suggestion(member, known));
        continue;
      }
      for (const atomic of expand(member)) atomics.add(atomic);
    }
    expanding.pop();
    const result = [...atomics];
    bundles.set(name, result);
    return result;
  };
  for (const definition of definitions.values()) if (definition.kind === 'bundle') expand(definition.name);

  const atomics = new Map<string, RcAtomic>();
  for (const definition of definitions.values()) if (definition.kind !== 'bundle') atomics.set(definition.name, definition);

  const dependencies = new Map<string, Set<string>>();
  for (const atomic of atomics.values()) {
    const needs = new Set<string>();
    for (const dependency of atomic.dependencies) {
      if (!definitions.has(dependency)) {
        if (!unreadable.has(dependency)) fail(`service ${atomic.name} depends on ${dependency}, which is not defined`, join(atomic.source, 'dependencies.d', dependency), suggestion(dependency, known));
        continue;
      }
      for (const name of expand(dependency)) {
        if (name !== atomic.name) needs.add(name);
        else {
          // s6-rc-compile would call it a cycle; it can only mean "nothing", so it is said and dropped.
          const through = dependency === atomic.name ? '' : ` (through the bundle ${dependency})`;
          diagnostics.push({
            severity: 'warning',
            error: new StewardError('ERR_CONFIG', `service ${atomic.name} depends on itself${through}; that dependency is ignored`, { path: join(atomic.source, 'dependencies.d', dependency), hint: 'Remove it: s6-rc-compile refuses a cycle' }),
          });
        }
      }
    }
    dependencies.set(atomic.name, needs);
  }
  checkPipelines(atomics, dependencies, fail);

  const dependents = new Map<string, Set<string>>([...atomics.keys()].map((name) => [name, new Set<string>()]));
  for (const [name, needs] of dependencies) for (const need of needs) dependents.get(need)?.add(name);
  for (const cycle of findCycles(dependencies)) {
    fail(`dependency cycle: ${cycle.join(' -> ')}`, atomics.get(cycle[0] ?? '')?.source ?? '', 'Remove one of these dependencies; nothing in a cycle could ever start');
  }
  return { atomics, bundles, dependencies, dependents };
}

/** pipeline-name on the last consumer of a pipeline names a bundle of the whole pipeline. */
function withPipelineBundles(
  sources: ReadonlyMap<string, RcDefinition>,
  fail: (message: string, path: string, hint?: string) => void,
  warn: (message: string, path: string, hint: string) => void,
): Map<string, RcDefinition> {
  const definitions = new Map(sources);
  for (const definition of sources.values()) {
    if (definition.kind !== 'longrun' || definition.pipelineName === null) continue;
    if (definition.producerFor !== null) {
      // As s6-rc-compile: only the last consumer names the pipeline (the producer did before s6-rc 0.4).
      warn(`${definition.name} has a pipeline-name file but is not the last consumer of its pipeline (it is producer-for ${definition.producerFor}); the file is ignored, as s6-rc-compile ignores it`, join(definition.source, 'pipeline-name'), 'Move pipeline-name to the last consumer of the pipeline');
      continue;
    }
    if (definitions.has(definition.pipelineName)) {
      fail(`pipeline name ${definition.pipelineName} is already the name of a service`, join(definition.source, 'pipeline-name'), 'Give the pipeline a name no service or bundle has (the bundle it makes holds the whole pipeline)');
      continue;
    }
    const members = new Set<string>();
    const collect = (name: string): void => {
      if (members.has(name)) return;
      members.add(name);
      const member = sources.get(name);
      if (member?.kind === 'longrun') for (const producer of member.consumerFor) collect(producer);
    };
    collect(definition.name);
    definitions.set(definition.pipelineName, { kind: 'bundle', name: definition.pipelineName, source: definition.source, contents: [...members], essential: false });
  }
  return definitions;
}

/** producer-for and consumer-for must agree; the consumer starts before its producers (they depend on it). */
function checkPipelines(atomics: ReadonlyMap<string, RcAtomic>, dependencies: Map<string, Set<string>>, fail: (message: string, path: string, hint?: string) => void): void {
  for (const atomic of atomics.values()) {
    if (atomic.kind !== 'longrun') continue;
    if (atomic.producerFor !== null) {
      const consumer = atomics.get(atomic.producerFor);
      if (consumer === undefined) {
        fail(`${atomic.name} is a producer for ${atomic.producerFor}, which is not defined`, join(atomic.source, 'producer-for'), `Define the longrun ${atomic.producerFor} (with a consumer-for file naming ${atomic.name}), or correct the name`);
      } else if (consumer.kind !== 'longrun') {
        fail(`${atomic.name} is a producer for ${atomic.producerFor}, which is not a longrun`, join(atomic.source, 'producer-for'), 'A pipeline joins longruns only: name the longrun that reads its output');
      } else if (!consumer.consumerFor.includes(atomic.name)) {
        fail(`${atomic.name} is a producer for ${consumer.name}, but ${consumer.name} does not list it in consumer-for`, join(consumer.source, 'consumer-for'), `Add a line ${atomic.name}`);
      } else {
        dependencies.get(atomic.name)?.add(consumer.name);
      }
    }
    for (const producer of atomic.consumerFor) {
      const source = atomics.get(producer);
      if (source === undefined || source.kind !== 'longrun' || source.producerFor !== atomic.name) {
        fail(
          `${atomic.name} is a consumer for ${producer}, but ${producer} does not say producer-for ${atomic.name}`,
          join(atomic.source, 'consumer-for'),
          source === undefined ? `Define the longrun ${producer}, or remove the line ${producer}` : `Write ${atomic.name} in ${join(source.source, 'producer-for')}, or remove the line ${producer}`,
        );
      }
    }
  }
}

/**
 * The dependency cycles, one per back edge of a depth-first walk: every independent cycle is
 * found in one pass, so that all of them are reported at once, as every other problem is.
 */
function findCycles(dependencies: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const cycles: string[][] = [];
  const visit = (name: string): void => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') {
      cycles.push([...path.slice(path.indexOf(name)), name]);
      return;
    }
    state.set(name, 'visiting');
    path.push(name);
    for (const need of dependencies.get(name) ?? []) visit(need);
    path.pop();
    state.set(name, 'done');
  };
  for (const name of dependencies.keys()) visit(name);
  return cycles;
}

/** "Did you mean X?", when a known name is a likely typo of `name`. */
function suggestion(name: string, known: readonly string[]): string {
  const best = nearest(name, known);
  return best === undefined ? 'Define it, or remove the reference' : `Did you mean ${best}?`;
}

/** Every atomic service `names` need, themselves included, bundles expanded. */
export function closure(graph: CompiledGraph, names: readonly string[]): Set<string> {
  const result = new Set<string>();
  const add = (name: string): void => {
    if (result.has(name)) return;
    result.add(name);
    for (const need of graph.dependencies.get(name) ?? []) add(need);
  };
  for (const name of names) for (const atomic of graph.bundles.get(name) ?? (graph.atomics.has(name) ? [name] : [])) add(atomic);
  return result;
}
