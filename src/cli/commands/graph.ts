import { callSteward } from '../call.js';
import type { Command } from '../command.js';
import { parseOptions } from '../command.js';
import { table } from '../format.js';
import { writeOut } from '../output.js';

interface GraphNode {
  name: string;
  state: string;
  dependencies: string[];
  logger: string | null;
  startedAfterMs: number | null;
  upAfterMs: number | null;
  tookMs: number | null;
}

export const graphCommand: Command = {
  name: 'graph',
  usage: 'graph [--json]',
  summary: 'the dependency tree, with states and boot timings',
  help: 'Each service with what it depends on, its state, when it first started after the container did, and how long it took to be up (ready).',
  async run(args) {
    const { flags } = parseOptions('graph', args, { flags: ['json'] });
    const call = await callSteward('graph', { cmd: 'graph' });
    if (!call.ok) return call.exitCode;
    const result = call.result as { nodes: GraphNode[] };
    if (flags.has('json')) {
      writeOut(`${JSON.stringify(result, null, 2)}\n`);
      return 0;
    }
    const ms = (value: number | null): string => (value === null ? '-' : `${value} ms`);
    const rows = orderByDependencies(result.nodes).map(({ node, depth }) => [
      `${'  '.repeat(depth)}${depth > 0 ? '└ ' : ''}${node.name}`,
      node.state,
      node.dependencies.length === 0 ? (node.logger === null ? '-' : `logs to ${node.logger}`) : node.dependencies.join(', '),
      ms(node.startedAfterMs),
      ms(node.upAfterMs),
      ms(node.tookMs),
    ]);
    writeOut(table(['SERVICE', 'STATE', 'AFTER', 'STARTED AT', 'UP AT', 'TOOK'], rows));
    return 0;
  },
};

/** Services with no dependency first; each dependent is shown under the last thing it waits for. */
function orderByDependencies(nodes: readonly GraphNode[]): { node: GraphNode; depth: number }[] {
  const byName = new Map(nodes.map((node) => [node.name, node]));
  const children = new Map<string, GraphNode[]>();
  const roots: GraphNode[] = [];
  for (const node of nodes) {
    const parent = node.dependencies.filter((name) => byName.has(name)).at(-1);
    if (parent === undefined) roots.push(node);
    else children.set(parent, [...(children.get(parent) ?? []), node]);
  }
  const ordered: { node: GraphNode; depth: number }[] = [];
  const seen = new Set<string>();
  const visit = (node: GraphNode, depth: number): void => {
    if (seen.has(node.name)) return;
    seen.add(node.name);
    ordered.push({ node, depth });
    for (const child of children.get(node.name) ?? []) visit(child, depth + 1);
  };
  for (const root of roots) visit(root, 0);
  for (const node of nodes) visit(node, 0); // anything left (a cycle) still shows
  return ordered;
}
