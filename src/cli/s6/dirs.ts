import { realpathSync } from 'node:fs';
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
