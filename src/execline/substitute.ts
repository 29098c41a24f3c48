import type { ScriptNode } from './script.js';

/**
 * Variable substitution as execline's importas, define, backtick -E, multisubstitute and
 * the positional options of execlineb do it: only the named variables are replaced, in
 * every following word and block. `${NAME}` always works; `$NAME` when no name character
 * follows. An odd number of backslashes before the $ keeps the reference as text (and
 * half of them are dropped, as execline does). A variable bound to undefined makes a
 * word that is only that reference disappear; a list (split values, `$@`) expands a word
 * that is only that reference into several words.
 */
export type Bindings = ReadonlyMap<string, string | readonly string[] | undefined>;

const NAME_CHAR = /[A-Za-z0-9_]/;

function findReference(word: string, at: number, bindings: Bindings): { name: string; end: number } | undefined {
  if (word[at + 1] === '{') {
    const close = word.indexOf('}', at + 2);
    if (close < 0) return undefined;
    const name = word.slice(at + 2, close);
    return bindings.has(name) ? { name, end: close + 1 } : undefined;
  }
  let best: string | undefined;
  for (const name of bindings.keys()) {
    if (name === '' || !word.startsWith(name, at + 1)) continue;
    const after = word[at + 1 + name.length];
    if (after !== undefined && NAME_CHAR.test(name.at(-1) ?? '') && NAME_CHAR.test(after)) continue;
    if (best === undefined || name.length > best.length) best = name;
  }
  return best === undefined ? undefined : { name: best, end: at + 1 + best.length };
}

function substituteWord(word: string, bindings: Bindings): string[] {
  if (!word.includes('$')) return [word];
  let out = '';
  let index = 0;
  let whole: readonly string[] | undefined | null = null;
  while (index < word.length) {
    const dollar = word.indexOf('$', index);
    if (dollar < 0) {
      out += word.slice(index);
      break;
    }
    let slashes = 0;
    while (dollar - slashes - 1 >= index && word[dollar - slashes - 1] === '\\') slashes++;
    const reference = findReference(word, dollar, bindings);
    if (reference === undefined) {
      out += word.slice(index, dollar + 1);
      index = dollar + 1;
      continue;
    }
    out += word.slice(index, dollar - slashes) + '\\'.repeat(Math.floor(slashes / 2));
    if (slashes % 2 === 1) {
      out += word.slice(dollar, reference.end);
    } else {
      const value = bindings.get(reference.name);
      if (dollar === 0 && reference.end === word.length) whole = value === undefined ? [] : typeof value === 'string' ? [value] : value;
      out += value === undefined ? '' : typeof value === 'string' ? value : value.join(' ');
    }
    index = reference.end;
  }
  return whole === null ? [out] : [...whole];
}

export function substitute(nodes: readonly ScriptNode[], bindings: Bindings): ScriptNode[] {
  if (bindings.size === 0) return [...nodes];
  return nodes.flatMap((node): ScriptNode[] => (typeof node === 'string' ? substituteWord(node, bindings) : [{ block: substitute(node.block, bindings), line: node.line }]));
}
