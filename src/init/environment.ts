import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

import { errnoCode, StewardError } from '../errors.js';
import type { EnvironmentFormat } from '../execline/contenv-format.js';
import { removeIfPresent } from '../util/remove.js';
import { readEnvDirFiles } from './envdir.js';

/**
 * The container environment, as s6-overlay keeps it: one file per variable under
 * /run/s6/container_environment, the value followed by a newline (bare for an image that
 * keeps an s6-overlay older than 3.2.2.0, see environmentFormatFor). Scripts read it with
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

/** The longest file name the kernel takes, in bytes: a longer variable name cannot be a file of the envdir. */
const NAME_MAX = 255;

/**
 * Writes the envdir. Returns the names of the variables left out for a name no file can have
 * (longer than 255 bytes): the caller says so, naming them, and the rest is written.
 */
export function writeContainerEnvironment(dir: string, env: NodeJS.ProcessEnv, format: EnvironmentFormat = 'newline'): string[] {
  const leftOut: string[] = [];
  try {
    removeIfPresent(dir);
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    const ending = format === 'newline' ? '\n' : '';
    for (const [name, value] of Object.entries(env)) {
      // A name with a slash cannot be a file name; such variables cannot be exported by a shell anyway.
      if (value === undefined || name.includes('/') || name === '' || name.startsWith('.')) continue;
      if (Buffer.byteLength(name) > NAME_MAX) {
        leftOut.push(name);
        continue;
      }
      writeFileSync(join(dir, name), `${value}${ending}`, { mode: 0o644 });
    }
    return leftOut;
  } catch (error) {
    const code = errnoCode(error);
    const hint = code === 'ENOSPC' ? `The file system of ${dirname(dir)} is full: give it more room (a larger tmpfs or emptyDir), or set S6_KEEP_ENV=1 to keep no copy of the environment` : 'It must be writable by the user Steward runs as';
    throw new StewardError('ERR_RUNTIME_DIR', `cannot write the container environment in ${dir}: ${code ?? String(error)}`, { path: dir, hint });
  }
}

export { environmentFormatFor, type EnvironmentFormat, WITH_CONTENV_PATHS } from '../execline/contenv-format.js';

/** Reads the envdir back as with-contenv does: last newline dropped, empty file unsets. */
export function readContainerEnvironment(dir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of readEnvDirFiles(dir)) {
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
