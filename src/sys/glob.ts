import { lstatSync, readdirSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';

/** How a pattern is read: with `noEscape`, a backslash is a character like any other (elglob -e, glob(3)'s GLOB_NOESCAPE). */
export interface GlobOptions {
  readonly noEscape?: boolean;
}

/**
 * Expands a shell pathname pattern (*, ?, [...] with POSIX classes, and \ to take the next
 * character as it is) as glob(3) and `for f in $pattern` do: each match is written as the
 * pattern wrote it (a `../config/` or `./` in front stays, separators stay as they are), a
 * relative pattern is matched from `base`, and a pattern that matches nothing stays as it is.
 */
export function expandGlob(pattern: string, base: string = process.cwd(), options: GlobOptions = {}): string[] {
  // A plain path, the common case (fix-attrs.d's), is given back as it is, there or not.
  if (!hasMagic(pattern, options) && (options.noEscape === true || !pattern.includes('\\'))) return [pattern];
  const matches = globMatches(pattern, base, options);
  return matches.length === 0 ? [pattern] : matches;
}

/** What a pattern matches, as glob(3) without GLOB_NOCHECK: nothing when nothing does, a path without wildcards when it exists. */
export function globMatches(pattern: string, base: string = process.cwd(), options: GlobOptions = {}): string[] {
  // The path components and the separators between them, as written.
  const parts = pattern.split(/(\/+)/).filter((part) => part !== '');
  let matches = [''];
  for (const part of parts) {
    if (part.startsWith('/')) {
      matches = matches.map((match) => match + part);
      continue;
    }
    if (!hasMagic(part, options)) {
      const literal = options.noEscape === true ? part : part.replace(/\\(.)/g, '$1');
      matches = matches.map((match) => match + literal);
      continue;
    }
    const matcher = segmentRegExp(part, options);
    const dotted = part.startsWith('.') || (options.noEscape !== true && part.startsWith('\\.'));
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
  // A literal component after a wildcard was added without looking: keep what exists, as
  // glob(3) does. Looked up as written, not normalised: `file/` (a pattern ending in a slash
  // wants directories) is no file.
  return matches.filter((match) => exists(isAbsolute(match) ? match : `${base}/${match}`));
}

function exists(path: string): boolean {
  try {
    return lstatSync(path, { throwIfNoEntry: false }) !== undefined;
  } catch {
    return false; // ENOTDIR: a file named as a directory
  }
}

/** Whether a pattern has a wildcard that is not escaped. */
function hasMagic(pattern: string, options: GlobOptions): boolean {
  for (let index = 0; index < pattern.length; index++) {
    const char = pattern[index];
    if (char === '\\' && options.noEscape !== true) index++;
    else if (char === '*' || char === '?' || char === '[') return true;
  }
  return false;
}

/** POSIX character classes, as a regular expression's class writes them. */
const POSIX_CLASSES: Readonly<Record<string, string>> = {
  alnum: 'a-zA-Z0-9',
  alpha: 'a-zA-Z',
  blank: ' \\t',
  cntrl: '\\x00-\\x1f\\x7f',
  digit: '0-9',
  graph: '\\x21-\\x7e',
  lower: 'a-z',
  print: '\\x20-\\x7e',
  punct: '!-\\/:-@\\[-`{-~',
  space: ' \\t\\n\\r\\f\\v',
  upper: 'A-Z',
  xdigit: '0-9A-Fa-f',
};

function escapeForRegExp(char: string): string {
  return char.replace(/[.*?+^${}()|[\]\\/-]/g, '\\$&');
}

/**
 * A bracket expression at `start` (its `[`), as a regular expression's class and the index of
 * its closing `]`; undefined when it does not close, and the `[` is then a character. A `]`
 * right after `[` or `[!` is one of its characters, as POSIX has it.
 */
function bracketClass(segment: string, start: number, options: GlobOptions): { source: string; end: number } | undefined {
  let index = start + 1;
  let negated = false;
  if (segment[index] === '!' || segment[index] === '^') {
    negated = true;
    index++;
  }
  let body = '';
  let first = true;
  for (; index < segment.length; index++) {
    const char = segment[index] ?? '';
    if (char === ']' && !first) return { source: `[${negated ? '^' : ''}${body}]`, end: index };
    first = false;
    if (char === '[' && segment[index + 1] === ':') {
      const close = segment.indexOf(':]', index + 2);
      const name = close === -1 ? undefined : segment.slice(index + 2, close);
      const expansion = name === undefined ? undefined : POSIX_CLASSES[name];
      if (expansion !== undefined && close !== -1) {
        body += expansion;
        index = close + 1;
        continue;
      }
    }
    if (char === '\\' && options.noEscape !== true && index + 1 < segment.length) {
      index++;
      body += escapeForRegExp(segment[index] ?? '');
      continue;
    }
    // A range stays a range; anything else is the character itself.
    if (char === '-' && body !== '' && segment[index + 1] !== ']') body += '-';
    else body += escapeForRegExp(char);
  }
  return undefined;
}

function segmentRegExp(segment: string, options: GlobOptions): RegExp {
  let source = '';
  for (let index = 0; index < segment.length; index++) {
    const char = segment[index] ?? '';
    if (char === '\\' && options.noEscape !== true && index + 1 < segment.length) {
      index++;
      source += escapeForRegExp(segment[index] ?? '');
    } else if (char === '*') source += '.*';
    else if (char === '?') source += '.';
    else if (char === '[') {
      const bracket = bracketClass(segment, index, options);
      if (bracket === undefined) source += '\\[';
      else {
        source += bracket.source;
        index = bracket.end;
      }
    } else source += escapeForRegExp(char);
  }
  return new RegExp(`^${source}$`, 's');
}
