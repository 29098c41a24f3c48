import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The files of an envdir as s6-envdir reads them: name to content, leaving out names that
 * start with a dot or hold an `=`, and files removed or unreadable since the listing. Empty
 * when the directory cannot be read. Each caller takes the values as its reader would (the
 * whole file, or its first line).
 */
export function readEnvDirFiles(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return files;
  }
  for (const name of names) {
    if (name.startsWith('.') || name.includes('=')) continue;
    try {
      files.set(name, readFileSync(join(dir, name), 'utf8'));
    } catch {
      // Removed or unreadable since the listing: left out, as s6-envdir would.
    }
  }
  return files;
}
