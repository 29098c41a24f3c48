import { lstatSync, rmSync, unlinkSync } from 'node:fs';

/**
 * Removes a file, link or directory tree if it is there. fs.rmSync walks its own
 * checks even when nothing exists, which costs tens of microseconds per call: too much
 * for once per service at boot. One lstat (or one unlink) answers the common cases.
 */
export function removeIfPresent(path: string): void {
  const stat = lstatSync(path, { throwIfNoEntry: false });
  if (stat === undefined) return;
  if (stat.isDirectory()) rmSync(path, { recursive: true, force: true });
  else unlinkSync(path);
}
