import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Expands a shell pathname pattern (*, ?, [...]) as `for f in $pattern` would:
 * a pattern that matches nothing stays as it is.
 */
export function expandGlob(pattern: string): string[] {
  if (!/[*?[]/.test(pattern)) return [pattern];
  const absolute = pattern.startsWith('/');
  let paths = [absolute ? '/' : '.'];
  for (const segment of pattern.split('/').filter((part) => part !== '')) {
    if (!/[*?[]/.test(segment)) {
      paths = paths.map((path) => join(path, segment));
      continue;
    }
    const matcher = segmentRegExp(segment);
    paths = paths.flatMap((path) => {
      let names: string[];
      try {
        names = readdirSync(path);
      } catch {
        return []; // not a directory, or gone
      }
      return names
        .filter((name) => (!name.startsWith('.') || segment.startsWith('.')) && matcher.test(name))
        .sort()
        .map((name) => join(path, name));
    });
  }
  // A literal segment after a wildcard was joined without looking: keep what exists, as the shell does.
  paths = paths.filter((path) => lstatSync(path, { throwIfNoEntry: false }) !== undefined);
  if (paths.length === 0) return [pattern];
  return absolute ? paths : paths.map((path) => path.replace(/^\.\//, ''));
}

function segmentRegExp(segment: string): RegExp {
  let source = '';
  for (let index = 0; index < segment.length; index++) {
    const char = segment[index] ?? '';
    if (char === '*') source += '.*';
    else if (char === '?') source += '.';
    else if (char === '[') {
      const end = segment.indexOf(']', index + 1);
      if (end === -1) source += '\\[';
      else {
        source += `[${segment.slice(index + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`;
        index = end;
      }
    } else source += char.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}
