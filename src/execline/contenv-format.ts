import { realpathSync } from 'node:fs';

import { readRegularFile } from '../sys/regular-file.js';

/**
 * How the files hold their values: followed by a newline (s6-overlay 3.2.2.0 and later,
 * whose with-contenv drops it), or bare (s6-overlay v2 and v3 before 3.2.2.0, whose
 * with-contenv reads each file whole with justc-envdir or s6-envdir -fn, so a newline would end up
 * in every value).
 */
export type EnvironmentFormat = 'newline' | 'bare';

/** The release whose with-contenv changed to reading values followed by a newline. */
const NEWLINE_FORMAT_SINCE = [3, 2, 2, 0];

/**
 * Where scripts find with-contenv: v3's /command, and /usr/bin (v2's own, or v3's links);
 * linuxserver's v2-era images moved s6-overlay's to /usr/bin/with-contenvb, behind a bash
 * with-contenv of their own that sets the umask and runs it.
 */
export const WITH_CONTENV_PATHS: readonly string[] = ['/command/with-contenv', '/usr/bin/with-contenv', '/usr/bin/with-contenvb'];

/** A with-contenv larger than this is no execline script of s6-overlay's: not read. */
const SCRIPT_SIZE_LIMIT = 64 * 1024;

/**
 * The format the image's with-contenv programs expect: bare when one of them is s6-overlay's
 * own from before 3.2.2.0 (told by its /package/admin/s6-overlay-VERSION path, or, for v1's and
 * v2's /usr/bin/with-contenv, which have no version in their path, by the envdir reader they
 * run: justc-envdir, or s6-envdir keeping newlines),
 * else newline. Steward's with-contenv reads both.
 */
export function environmentFormatFor(withContenvPaths: readonly string[] = WITH_CONTENV_PATHS): EnvironmentFormat {
  return withContenvPaths.some(readsBareValues) ? 'bare' : 'newline';
}

function readsBareValues(withContenv: string): boolean {
  let real: string;
  try {
    real = realpathSync(withContenv);
  } catch {
    return false;
  }
  const match = /\/s6-overlay-(\d+(?:\.\d+)*)\//.exec(real);
  if (match?.[1] !== undefined) return olderThanNewlineFormat(match[1]);
  return keepsNewlines(real);
}

function olderThanNewlineFormat(release: string): boolean {
  const version = release.split('.').map(Number);
  for (let index = 0; index < NEWLINE_FORMAT_SINCE.length; index++) {
    const have = version[index] ?? 0;
    const since = NEWLINE_FORMAT_SINCE[index] ?? 0;
    if (have !== since) return have < since;
  }
  return false;
}

/**
 * Whether an execline script reads the envdir keeping each file whole, trailing newline
 * included: with justc-envdir, as v2.0.0.0 and later do, or with s6-envdir -n, as v1's did.
 */
function keepsNewlines(script: string): boolean {
  let text: string;
  try {
    text = readRegularFile(script, SCRIPT_SIZE_LIMIT).toString('latin1');
  } catch {
    return false;
  }
  const firstLine = text.split('\n', 1)[0] ?? '';
  if (!firstLine.startsWith('#!') || !firstLine.includes('execlineb')) return false;
  if (/(?:^|[\s/])justc-envdir\s/m.test(text)) return true;
  for (const call of text.matchAll(/\bs6-envdir((?:\s+-[A-Za-z]+)*)/g)) {
    if (/-[A-Za-z]*n/.test(call[1] ?? '')) return true;
  }
  return false;
}
