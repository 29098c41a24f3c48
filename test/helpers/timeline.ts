import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Timelines that test services write, one line per event: "<date +%s%N> <name> <event>",
 * and the s6-rc.d dependency graph to check them against. Order comes from the
 * timestamps the services write themselves, never from how long the test took.
 */

export interface Stamp {
  /** Nanoseconds since the epoch, as date +%s%N prints them. */
  readonly at: bigint;
  readonly name: string;
  readonly event: string;
}

export class Timeline {
  readonly stamps: readonly Stamp[];

  constructor(text: string) {
    const stamps: Stamp[] = [];
    for (const line of text.split('\n')) {
      const match = /^(\d+) (\S+) (\S+)$/.exec(line.trim());
      if (match !== null) stamps.push({ at: BigInt(match[1]!), name: match[2]!, event: match[3]! });
    }
    this.stamps = stamps.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  }

  static read(file: string): Timeline {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      // No service wrote anything: an empty timeline, which the checks report.
    }
    return new Timeline(text);
  }

  all(name: string, event: string): bigint[] {
    return this.stamps.filter((stamp) => stamp.name === name && stamp.event === event).map((stamp) => stamp.at);
  }

  first(name: string, event: string): bigint | undefined {
    return this.all(name, event)[0];
  }

  last(name: string, event: string): bigint | undefined {
    return this.all(name, event).at(-1);
  }

  count(name: string, event: string): number {
    return this.all(name, event).length;
  }

  /** The timeline in milliseconds from its first stamp, for assertion messages. */
  render(): string {
    const origin = this.stamps[0]?.at ?? 0n;
    return this.stamps.map((stamp) => `${(Number(stamp.at - origin) / 1e6).toFixed(1).padStart(9)} ms  ${stamp.name} ${stamp.event}`).join('\n');
  }
}

/** Where a node's moments are found in the timeline: [stamp name, event]. */
export type StampRef = readonly [name: string, event: string];

/** One node of the service graph, as far as the order checks need it. */
export interface GraphNode {
  readonly name: string;
  /** What must be up before it starts: its dependencies, or a bundle's contents. */
  readonly needs: readonly string[];
  /** When it began to start, when it was up, when it began to stop, when it was down. */
  readonly start?: StampRef;
  readonly up?: StampRef;
  readonly stopBegin?: StampRef;
  readonly stopEnd?: StampRef;
  /**
   * A longrun without readiness notification is up as soon as it is spawned, which its
   * own first stamp can only follow: a dependent may stamp its start first. The order
   * of such a pair is checked from Steward's log instead.
   */
  readonly upOnSpawn?: boolean;
}

function entries(dir: string): string[] {
  try {
    return readdirSync(dir).filter((name) => !name.startsWith('.')).sort();
  } catch {
    return [];
  }
}

function text(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function words(file: string): string[] {
  return (text(file) ?? '')
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim())
    .filter((line) => line !== '');
}

/**
 * Reads s6-rc source directories with the conventions of the test fixtures: oneshot
 * scripts stamp "start" and "done" (and "down-start", "down-done" in their down
 * script); longruns stamp "start", "ready" when they have a notification-fd, "term" and
 * "exit" on SIGTERM; a logger (consumer-for) stamps "eof" when its input ends. A oneshot
 * whose up file is only comments does nothing, so it has no stamps.
 */
export function readGraph(dirs: readonly string[]): Map<string, GraphNode> {
  const nodes = new Map<string, GraphNode>();
  for (const dir of dirs) {
    for (const name of entries(dir)) {
      const path = join(dir, name);
      if (!statSync(path).isDirectory()) continue;
      const dependencies = entries(join(path, 'dependencies.d'));
      const type = text(join(path, 'type'))?.trim() ?? 'bundle';
      if (type === 'bundle') {
        nodes.set(name, { name, needs: entries(join(path, 'contents.d')) });
      } else if (type === 'oneshot') {
        const acts = words(join(path, 'up')).length > 0;
        const hasDown = text(join(path, 'down')) !== undefined;
        nodes.set(name, {
          name,
          needs: dependencies,
          ...(acts ? { start: [name, 'start'] as const, up: [name, 'done'] as const } : {}),
          ...(hasDown ? { stopBegin: [name, 'down-start'] as const, stopEnd: [name, 'down-done'] as const } : {}),
        });
      } else {
        const producerFor = text(join(path, 'producer-for'))?.trim();
        const consumerFor = words(join(path, 'consumer-for'));
        const pipeline = text(join(path, 'pipeline-name'))?.trim();
        const notifies = text(join(path, 'notification-fd')) !== undefined;
        const logger = consumerFor.length > 0;
        nodes.set(name, {
          name,
          // A producer starts after its consumer, as s6-rc-compile orders a pipeline.
          needs: producerFor === undefined ? dependencies : [...dependencies, producerFor],
          start: [name, 'start'],
          up: [name, notifies ? 'ready' : 'start'],
          upOnSpawn: !notifies,
          stopBegin: [name, logger ? 'eof' : 'term'],
          stopEnd: [name, logger ? 'eof' : 'exit'],
        });
        if (pipeline !== undefined && pipeline !== '') nodes.set(pipeline, { name: pipeline, needs: [name, ...consumerFor] });
      }
    }
  }
  return nodes;
}

/**
 * The nearest nodes `name` needs that have the moment `key`: bundles, and services
 * without stamps (a no-op oneshot), are looked through to what they need in turn.
 */
export function stampedNeeds(nodes: ReadonlyMap<string, GraphNode>, name: string, key: 'up' | 'stopBegin'): GraphNode[] {
  const found = new Map<string, GraphNode>();
  const seen = new Set<string>();
  const walk = (each: string): void => {
    if (seen.has(each)) return;
    seen.add(each);
    const node = nodes.get(each);
    if (node === undefined) throw new Error(`the graph has no node ${each}`);
    if (node[key] !== undefined) found.set(each, node);
    else node.needs.forEach(walk);
  };
  nodes.get(name)?.needs.forEach(walk);
  return [...found.values()];
}

export interface OrderCheck {
  /** How many (service, dependency) pairs were compared. */
  readonly checked: number;
  readonly violations: readonly string[];
}

function at(timeline: Timeline, ref: StampRef | undefined, which: 'first' | 'last'): bigint | undefined {
  if (ref === undefined) return undefined;
  return which === 'first' ? timeline.first(ref[0], ref[1]) : timeline.last(ref[0], ref[1]);
}

/**
 * Every service that started did so after each of its dependencies was up (its first
 * start: the boot). `spawnedBefore` answers for dependencies that are up once spawned
 * (upOnSpawn), from Steward's log: was the dependency spawned before the dependent
 * began to start?
 */
export function checkStartOrder(
  nodes: ReadonlyMap<string, GraphNode>,
  timeline: Timeline,
  spawnedBefore: (dependency: string, dependent: string) => boolean,
): OrderCheck {
  let checked = 0;
  const violations: string[] = [];
  for (const node of nodes.values()) {
    const started = at(timeline, node.start, 'first');
    if (started === undefined) continue;
    for (const need of stampedNeeds(nodes, node.name, 'up')) {
      const up = at(timeline, need.up, 'first');
      checked++;
      if (up === undefined) violations.push(`${node.name} started, but its dependency ${need.name} never was up`);
      else if (need.upOnSpawn === true) {
        if (!spawnedBefore(need.name, node.name)) violations.push(`${node.name} began to start before its dependency ${need.name} was spawned (Steward's log)`);
      } else if (!(up < started)) violations.push(`${node.name} started ${Number(up - started) / 1e6} ms before its dependency ${need.name} was up`);
    }
  }
  return { checked, violations };
}

/**
 * From Steward's output: whether it reported `dependency` spawned ("service NAME: info:
 * started") before it began to start `dependent` ("s6-rc: info: service NAME: starting",
 * or for legacy-services, its first "copying legacy longrun").
 */
export function spawnedBeforeInLog(output: string): (dependency: string, dependent: string) => boolean {
  const lines = output.split('\n');
  const spawned = (name: string): number => lines.findIndex((line) => line.startsWith(`service ${name}: info: started (pid `));
  const starting = (name: string): number =>
    name === 'legacy-services'
      ? lines.findIndex((line) => line.startsWith('services-up: info: copying legacy longrun '))
      : lines.findIndex((line) => line === `s6-rc: info: service ${name}: starting`);
  return (dependency, dependent) => {
    const a = spawned(dependency);
    const b = starting(dependent);
    return a >= 0 && b >= 0 && a < b;
  };
}

/** Every service that stopped began to do so only once everything that needs it had stopped. */
export function checkStopOrder(nodes: ReadonlyMap<string, GraphNode>, timeline: Timeline): OrderCheck {
  let checked = 0;
  const violations: string[] = [];
  for (const node of nodes.values()) {
    const stopped = at(timeline, node.stopEnd, 'last');
    if (stopped === undefined) continue;
    for (const need of stampedNeeds(nodes, node.name, 'stopBegin')) {
      const stopping = at(timeline, need.stopBegin, 'last');
      if (stopping === undefined) continue;
      checked++;
      if (!(stopped < stopping)) violations.push(`${need.name} began to stop ${Number(stopped - stopping) / 1e6} ms before ${node.name}, which depends on it, had stopped`);
    }
  }
  return { checked, violations };
}

/**
 * The graph of the s6rc-realistic fixture (s6-rc.d and user-bundles.d under `etc`),
 * with s6-overlay's own services and the stamps of the fixture's legacy scripts:
 * cont-init.d and cont-finish.d stand for legacy-cont-init, services.d/legacy-web for
 * legacy-services (up once it is ready: the runs set S6_CMD_WAIT_FOR_SERVICES=1).
 */
export function realisticGraph(etc: string): Map<string, GraphNode> {
  const nodes = readGraph([join(etc, 's6-overlay', 's6-rc.d'), join(etc, 's6-overlay', 'user-bundles.d')]);
  const overlay: GraphNode[] = [
    { name: 'fix-attrs', needs: [] },
    { name: 'legacy-cont-init', needs: ['fix-attrs'], start: ['cont-init', 'start'], up: ['cont-init', 'done'], stopBegin: ['cont-finish', 'start'], stopEnd: ['cont-finish', 'done'] },
    { name: 'base', needs: ['fix-attrs', 'legacy-cont-init'] },
    { name: 'legacy-services', needs: ['base', 'user'], start: ['legacy-web', 'start'], up: ['legacy-web', 'ready'], stopBegin: ['legacy-web', 'term'], stopEnd: ['legacy-web', 'exit'] },
    { name: 'top', needs: ['base', 'user', 'legacy-services', 'user2'] },
  ];
  for (const node of overlay) nodes.set(node.name, node);
  return nodes;
}

/**
 * Copies a fixture tree (the contents of an image's /etc) to a new temporary directory
 * and rewrites the absolute /etc/ paths in its files to point there, as if the image
 * were installed at that root. Scripts (a shebang) are made executable. Returns the copy.
 */
export function installFixture(fixture: string): string {
  const root = mkdtempSync(join(tmpdir(), 'steward-fixture-'));
  chmodSync(root, 0o755);
  cpSync(fixture, root, { recursive: true });
  const rewrite = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const stat = statSync(path);
      if (stat.isDirectory()) {
        chmodSync(path, 0o755);
        rewrite(path);
        continue;
      }
      const content = readFileSync(path, 'utf8');
      const rewritten = content.replaceAll('/etc/s6-overlay/', `${root}/s6-overlay/`);
      if (rewritten !== content) writeFileSync(path, rewritten);
      chmodSync(path, content.startsWith('#!') ? 0o755 : 0o644);
    }
  };
  rewrite(root);
  return root;
}

/** Moves the user and user2 bundles from s6-rc.d to user-bundles.d: the layout of s6-overlay 3.2.3 and later. */
export function moveUserBundles(etc: string): void {
  const from = join(etc, 's6-overlay', 's6-rc.d');
  const to = join(etc, 's6-overlay', 'user-bundles.d');
  mkdirSync(to, { recursive: true, mode: 0o755 });
  for (const name of ['user', 'user2']) renameSync(join(from, name), join(to, name));
}

/** Fixture directory from the compiled test (.build/test/...) or the source tree. */
export function fixturePath(repoRoot: string, name: string): string {
  return join(repoRoot, 'test', 'fixtures', name);
}
