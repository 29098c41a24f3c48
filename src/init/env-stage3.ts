import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { withSpareDescriptor } from '../sys/spare-descriptor.js';
import { readEnvDirFiles } from './envdir.js';

/**
 * s6-overlay v2's stage-3 environment: an envdir, /var/run/s6/env-stage3, that v2's stage 3
 * reads before cont-finish.d runs and whose S6_STAGE2_EXITED (S6_CMD_EXITED before v1.22) is
 * the container's exit code. v2 writes the CMD's exit code there; images write their own
 * to end the container with it (a finish script: `redirfd -w 1
 * /var/run/s6/env-stage3/S6_STAGE2_EXITED s6-echo -n -- ${1}`, then `s6-svscanctl -t`), and
 * cont-finish scripts test $S6_STAGE2_EXITED. Made in every image (v3 has no such directory,
 * and its scripts never look there), as v2-era scripts outlive v2's files.
 */

const EXIT_NAMES = ['S6_STAGE2_EXITED', 'S6_CMD_EXITED'] as const;

/** What execline's exit, and so v2's stage 3, ends with when given something that is not a number. */
const NOT_A_NUMBER_EXIT = 100;

/** What Steward last wrote as S6_STAGE2_EXITED: a different value there was written by a script. */
let written: string | undefined;

export function envStage3Dir(s6Dir: string): string {
  return join(s6Dir, 'env-stage3');
}

export function makeEnvStage3(s6Dir: string): void {
  mkdirSync(envStage3Dir(s6Dir), { mode: 0o755 });
}

/** The container's exit code so far, as v2 records the CMD's: for cont-finish scripts, and as the default at the end. */
export function recordStage2Exit(s6Dir: string, code: number): void {
  try {
    withSpareDescriptor(() => writeFileSync(join(envStage3Dir(s6Dir), 'S6_STAGE2_EXITED'), String(code), { flag: 'w' }));
    written = String(code);
  } catch {
    // Not a v2 image (no directory), or /run is full: the exit code file still has it.
  }
}

/**
 * The envdir as the stop found it. v2's s6-svscan, told to stop, sends its supervisors the
 * TERM and execs stage 3 at once, which reads the envdir before anything else: what the
 * finish scripts of the services stopped then write there (cortex's write the signal that
 * killed them) is never read, and the code written before the stop is the container's.
 */
let atStop: { readonly variables: Record<string, string | undefined>; readonly stewardWrote: string | undefined } | undefined;

/** Reads the envdir once, when the container's stop begins: cont-finish.d and the exit code see that from then on. */
export function freezeEnvStage3(s6Dir: string): void {
  // With what Steward had written there by then: a value of its own is no script's, whatever it writes later.
  atStop ??= { variables: readEnvStage3(s6Dir), stewardWrote: written };
}

/** The variables of the envdir, for cont-finish scripts (an empty file unsets, as s6-envdir); none when there is none. */
export function envStage3Variables(s6Dir: string): Record<string, string | undefined> {
  return atStop?.variables ?? readEnvStage3(s6Dir);
}

function readEnvStage3(s6Dir: string): Record<string, string | undefined> {
  const variables: Record<string, string | undefined> = {};
  for (const [name, content] of readEnvDirFiles(envStage3Dir(s6Dir))) {
    // s6-envdir without -f: the first line.
    const value = content.split('\n', 1)[0] ?? '';
    variables[name] = value === '' ? undefined : value;
  }
  return variables;
}

/**
 * The exit code an image's script put in the envdir: S6_STAGE2_EXITED unless it still holds
 * what Steward wrote, else S6_CMD_EXITED; undefined when there is none. As v2's stage 3 ends
 * with `exit ${S6_STAGE2_EXITED}`: the file's first line, a number taken modulo 256; anything
 * else (`failed`, ` 3`) makes execline's exit fail with 100, which is what the container gets.
 */
export function scriptStage2Exit(s6Dir: string): { code: number; from: string; problem?: string } | undefined {
  const variables = envStage3Variables(s6Dir);
  const stewardWrote = atStop === undefined ? written : atStop.stewardWrote;
  for (const name of EXIT_NAMES) {
    const value = variables[name];
    if (value === undefined || (name === 'S6_STAGE2_EXITED' && value === stewardWrote)) continue;
    const from = join(envStage3Dir(s6Dir), name);
    if (/^\d+$/.test(value)) return { code: Number(value) % 256, from };
    return { code: NOT_A_NUMBER_EXIT, from, problem: `${from} holds ${JSON.stringify(value)}, which is not an exit code: exiting with ${NOT_A_NUMBER_EXIT}, as s6-overlay v2's stage 3 would. Write a number from 0 to 255 there` };
  }
  return undefined;
}
