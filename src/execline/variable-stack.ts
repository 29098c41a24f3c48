/**
 * execline's stack of variables: a command that sets variables another may have set already
 * (execlineb its positional parameters, elgetopt its ELGETOPT_ ones) first pushes the old ones,
 * NAME becoming NAME:1 and NAME:1 NAME:2; popping (runblock, emptyenv -o and -P) undoes it,
 * and drops the current ones. A prefix covers every name that starts with it ("1" covers 12).
 */

/** What a name becomes when the variables are pushed (delta 1) or popped (-1): a name, null to drop it, or undefined to keep it. */
function moved(name: string, prefix: string, delta: 1 | -1): string | null | undefined {
  const rest = name.slice(prefix.length);
  const colon = rest.indexOf(':');
  if (colon < 0) return delta === 1 ? `${name}:1` : null;
  const depthText = rest.slice(colon + 1);
  // A name whose suffix is no depth is no pushed variable: left alone.
  if (!/^\d+$/.test(depthText)) return undefined;
  const depth = Number(depthText) + delta;
  const base = name.slice(0, prefix.length + colon);
  if (depth < 0) return undefined;
  return depth === 0 ? base : `${base}:${depth}`;
}

function shifted(env: Map<string, string>, prefixes: readonly string[], delta: 1 | -1): void {
  const entries = [...env];
  env.clear();
  for (const [name, value] of entries) {
    const prefix = prefixes.find((candidate) => name.startsWith(candidate));
    const target = prefix === undefined ? name : moved(name, prefix, delta);
    if (target === null) continue;
    env.set(target ?? name, value);
  }
}

export function pushVariables(env: Map<string, string>, prefixes: readonly string[]): void {
  shifted(env, prefixes, 1);
}

export function popVariables(env: Map<string, string>, prefixes: readonly string[]): void {
  shifted(env, prefixes, -1);
}

/** The positional parameters' names, as prefixes: # and those that start with a digit. */
export const POSITIONAL_PREFIXES: readonly string[] = ['#', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
