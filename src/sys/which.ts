import { accessSync, constants, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Finds a program as execvp would, but in the child's PATH rather than ours.
 * Returns the path, or the errno code: ENOENT when nothing matches, EACCES when only
 * non-executable files do.
 */
export function findExecutable(file: string, path: string | undefined): { path: string } | { error: 'ENOENT' | 'EACCES' } {
  if (file.includes('/')) return { path: file };
  let sawNonExecutable = false;
  for (const dir of (path ?? '/usr/bin:/bin').split(':')) {
    const candidate = join(dir === '' ? '.' : dir, file);
    try {
      if (!statSync(candidate).isFile()) continue;
    } catch {
      continue;
    }
    try {
      accessSync(candidate, constants.X_OK);
      return { path: candidate };
    } catch {
      sawNonExecutable = true;
    }
  }
  return { error: sawNonExecutable ? 'EACCES' : 'ENOENT' };
}
