import { realpathSync } from 'node:fs';
import { join } from 'node:path';

import { withNodeOptionsAside } from '../util/node-options.js';
import { packageRoot } from '../util/package-root.js';

/**
 * Steward's own commands written for Node (execlineb, s6-envdir, s6-svc... linked to bin/s6-tool,
 * and steward) start through a line of sh, which drops the variables whose names are no shell
 * names: the positional parameters an execline script leaves (#, 1, 1:1) and a ConfigMap's
 * spring.profiles.active. The interpreter, itself in Node, starts them on its own Node instead.
 */

const LAUNCHERS = ['s6-tool', 'steward'];

let launcherPaths: ReadonlySet<string> | undefined;

function realPath(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

function ownLaunchers(): ReadonlySet<string> {
  launcherPaths ??= new Set(LAUNCHERS.map((name) => realPath(join(packageRoot(), 'bin', name))).filter((path) => path !== undefined));
  return launcherPaths;
}

export interface Execution {
  readonly path: string;
  readonly argv: readonly string[];
  readonly env: readonly string[];
}

/**
 * How to execute `path` with `argv` and `env`: as it is, or, for one of Steward's launchers, `node`
 * on it with the environment whole and NODE_OPTIONS set aside as the launcher's sh line would.
 * The launcher is named as it was found (/command/execlineb), for it tells its command by name.
 */
export function directExecution(path: string, argv: readonly string[], env: ReadonlyMap<string, string>, node: string): Execution {
  const real = realPath(path);
  if (real === undefined || !ownLaunchers().has(real)) return { path, argv, env: envArray(env) };
  const aside = withNodeOptionsAside(Object.fromEntries(env));
  return { path: node, argv: [node, path, ...argv.slice(1)], env: envArray(new Map(Object.entries(aside))) };
}

function envArray(env: ReadonlyMap<string, string | undefined>): string[] {
  return [...env].flatMap(([name, value]) => (value === undefined ? [] : [`${name}=${value}`]));
}
