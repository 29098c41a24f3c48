import { lstatSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * Expands a shell pathname pattern (*, ?, [...], and \ to take the next character as it is)
 * as glob(3) and `for f in $pattern` do: each match is written as the pattern wrote it (a
 * `../config/` or `./` in front stays, separators stay as they are), a relative pattern is
 * matched from `base`, and a pattern that matches nothing stays as it is.
 */
export function expandGlob(pattern: string, base: string = process.cwd()): string[] {
  if (!hasMagic(pattern)) return [pattern];
  // The path components and the separators between them, as written.
  const parts = pattern.split(/(\/+)/).filter((part) => part !== '');
  let matches = [''];
  for (const part of parts) {
    if (part.startsWith('/')) {
      matches = matches.map((match) => match + part);
      continue;
    }
    if (!hasMagic(part)) {
      const literal = unescaped(part);
      matches = matches.map((match) => match + literal);
      continue;
    }
    const matcher = segmentRegExp(part);
    const dotted = part.startsWith('.') || part.startsWith('\\.');
    matches = matches.flatMap((match) => {
      let names: string[];
      try {
        names = readdirSync(resolve(base, match === '' ? '.' : match));
      } catch {
        return []; // not a directory, or gone
      }
      return names
        .filter((name) => (!name.startsWith('.') || dotted) && matcher.test(name))
        .sort()
        .map((name) => match + name);
    });
  }
  // A literal component after a wildcard was added without looking: keep what exists, as glob(3) does.
  matches = matches.filter((match) => lstatSync(resolve(base, match), { throwIfNoEntry: false }) !== undefined);
  return matches.length === 0 ? [pattern] : matches;
}

/** Whether a pattern has a wildcard that is not escaped. */
function hasMagic(pattern: string): boolean {
  for (let index = 0; index < pattern.length; index++) {
    const char = pattern[index];
    if (char === '\\') index++;
    else if (char === '*' || char === '?' || char === '[') return true;
  }
  return false;
}

/** A component without wildcards, its escapes taken away. */
function unescaped(part: string): string {
  return part.replace(/\\(.)/g, '$1');
}

function segmentRegExp(segment: string): RegExp {
  let source = '';
  for (let index = 0; index < segment.length; index++) {
    const char = segment[index] ?? '';
    if (char === '\\' && index + 1 < segment.length) {
      index++;
      source += (segment[index] ?? '').replace(/[.*?+^${}()|[\]\\]/g, '\\$&');
    } else if (char === '*') source += '.*';
    else if (char === '?') source += '.';
    else if (char === '[') {
      const end = segment.indexOf(']', index + 2);
      if (end === -1) source += '\\[';
      else {
        source += `[${segment.slice(index + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`;
        index = end;
      }
    } else source += char.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}
