import type { ScriptNode } from './script.js';

/**
 * Variable substitution as execline's importas, define, backtick -E, multisubstitute and
 * the positional options of execlineb do it: only the named variables are replaced, in
 * every following word and block. `${NAME}` always works; `$NAME` takes as the name
 * everything up to the next `$`, brace or backslash, or the end of the word, as execline
 * does (so `$X/c` is not a reference to X: write `${X}/c`). An odd number of backslashes before the $ keeps the reference as text (and
 * half of them are dropped, as execline does). A variable bound to undefined takes its
 * whole word away; a list (split values, `$@`) makes one word per value, each with the
 * text around the reference.
 */
export type Bindings = ReadonlyMap<string, string | readonly string[] | undefined>;

/** Where an unbraced name ends. */
const NAME_END = /[${}\\]/;

function findReference(word: string, at: number, bindings: Bindings): { name: string; end: number } | undefined {
  if (word[at + 1] === '{') {
    const close = word.indexOf('}', at + 2);
    if (close < 0) return undefined;
    const name = word.slice(at + 2, close);
    return bindings.has(name) ? { name, end: close + 1 } : undefined;
  }
  let end = at + 1;
  while (end < word.length && !NAME_END.test(word[end] ?? '')) end++;
  const name = word.slice(at + 1, end);
  return name !== '' && bindings.has(name) ? { name, end } : undefined;
}

function substituteWord(word: string, bindings: Bindings): string[] {
  if (!word.includes('$')) return [word];
  // Every value of a list gives its own word, with the text around it: a product, as execline.
  let results = [''];
  const append = (text: string): void => {
    results = results.map((result) => result + text);
  };
  let index = 0;
  while (index < word.length) {
    const dollar = word.indexOf('$', index);
    if (dollar < 0) {
      append(word.slice(index));
      break;
    }
    let slashes = 0;
    while (dollar - slashes - 1 >= index && word[dollar - slashes - 1] === '\\') slashes++;
    const reference = findReference(word, dollar, bindings);
    if (reference === undefined) {
      append(word.slice(index, dollar + 1));
      index = dollar + 1;
      continue;
    }
    append(word.slice(index, dollar - slashes) + '\\'.repeat(Math.floor(slashes / 2)));
    if (slashes % 2 === 1) {
      append(word.slice(dollar, reference.end));
    } else {
      const value = bindings.get(reference.name);
      // An unset variable, or a list with no value, takes its whole word away.
      if (value === undefined) return [];
      const values = typeof value === 'string' ? [value] : value;
      results = results.flatMap((result) => values.map((item) => result + item));
      if (results.length === 0) return [];
    }
    index = reference.end;
  }
  return results;
}

export function substitute(nodes: readonly ScriptNode[], bindings: Bindings): ScriptNode[] {
  if (bindings.size === 0) return [...nodes];
  return nodes.flatMap((node): ScriptNode[] => (typeof node === 'string' ? substituteWord(node, bindings) : [{ block: substitute(node.block, bindings), line: node.line }]));
}
