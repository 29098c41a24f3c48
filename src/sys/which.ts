import { accessSync, constants, statSync } from 'node:fs';
import { join } from 'node:path';

/** What is at `path`: an executable file, a file that cannot be executed, or neither. */
export function executableFile(path: string): 'executable' | 'not-executable' | 'none' {
  try {
    if (!statSync(path).isFile()) return 'none';
  } catch {
    return 'none';
  }
  try {
    accessSync(path, constants.X_OK);
    return 'executable';
  } catch {
    return 'not-executable';
  }
}

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
    const found = executableFile(candidate);
    if (found === 'executable') return { path: candidate };
    if (found === 'not-executable') sawNonExecutable = true;
  }
  return { error: sawNonExecutable ? 'EACCES' : 'ENOENT' };
}
