import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { removeIfPresent } from '../util/remove.js';

/**
 * The container environment, as s6-overlay keeps it: one file per variable under
 * /run/s6/container_environment, the value followed by a newline. Scripts read it with
 * with-contenv and may change it for the services started after them.
 */

/** PATH as s6-overlay's /init leaves it: /command, /usr/bin and /bin always present. */
export function fixPath(path: string | undefined): string {
  let result = path === undefined || path === '' ? '/bin' : path;
  for (const dir of ['/bin', '/usr/bin', '/command']) {
    if (!result.split(':').includes(dir)) result = `${dir}:${result}`;
  }
  return result;
}

export function writeContainerEnvironment(dir: string, env: NodeJS.ProcessEnv): void {
  removeIfPresent(dir);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  for (const [name, value] of Object.entries(env)) {
    // A name with a slash cannot be a file name; such variables cannot be exported by a shell anyway.
    if (value === undefined || name.includes('/') || name === '' || name.startsWith('.')) continue;
    writeFileSync(join(dir, name), `${value}\n`, { mode: 0o644 });
  }
}

/** Reads the envdir back as with-contenv does: last newline dropped, empty file unsets. */
export function readContainerEnvironment(dir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return env;
  }
  for (const name of names) {
    if (name.startsWith('.') || name.includes('=')) continue;
    let value: string;
    try {
      value = readFileSync(join(dir, name), 'utf8');
    } catch {
      continue; // removed or unreadable since the listing: skip it as s6-envdir would
    }
    if (value === '') continue;
    env[name] = value.replace(/\n$/, '').replaceAll('\0', '\n');
  }
  return env;
}

/**
 * What services, scripts and the CMD get. As in s6-overlay, only PATH unless
 * S6_KEEP_ENV is set; scripts that need the rest use with-contenv.
 */
export function processEnvironment(keepEnv: boolean, containerEnv: NodeJS.ProcessEnv, path: string): NodeJS.ProcessEnv {
  if (keepEnv) return { ...containerEnv, PATH: path };
  return { PATH: path };
}
