import { realpathSync, statSync } from 'node:fs';
import { resolve } from 'node:path';

/** Service directories as the server can match them: absolute, links resolved when they exist. */
export function absoluteDirs(dirs: readonly string[]): string[] {
  return dirs.map((dir) => {
    const absolute = resolve(dir);
    try {
      return realpathSync(absolute);
    } catch {
      return absolute;
    }
  });
}

/** Why a service directory cannot be used, in the words of the system's error, or null when it is a directory. */
export function missingDirReason(dir: string): string | null {
  try {
    return statSync(dir).isDirectory() ? null : 'Not a directory';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'No such file or directory';
    if (code === 'ENOTDIR') return 'Not a directory';
    if (code === 'EACCES') return 'Permission denied';
    return code ?? 'cannot be read';
  }
}

/** The first of `dirs` that cannot be used, with why: s6's tools fail with 111 on it before anything else. */
export function firstMissingDir(dirs: readonly string[]): { dir: string; reason: string } | null {
  for (const dir of dirs) {
    const reason = missingDirReason(dir);
    if (reason !== null) return { dir, reason };
  }
  return null;
}
