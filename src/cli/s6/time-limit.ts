import type { ChildProcess } from 'node:child_process';
import { getSystemErrorMap } from 'node:util';

import { errnoCode } from '../../errors.js';
import { writeErr } from '../output.js';
import { S6_EXIT } from './call.js';
import { getopt, UsageError } from './getopt.js';
import { setLongTimeout } from '../../util/long-timeout.js';

/**
 * s6-maximumtime and with-retries, in Node rather than as shell scripts over `timeout`, which
 * only behaves as they need in GNU coreutils: BusyBox's counts whole seconds and exits with the
 * program's status, so a time limit was missed and its exit code lost in Alpine-like images.
 * Here the limit is kept to the millisecond whatever the image has.
 */

export const MAXIMUMTIME_USAGE = 's6-maximumtime [ -0 | -a | -b | -i | -k | -q | -t | -x | -1 | -2 ] milliseconds prog...';
export const WITH_RETRIES_USAGE = 'with-retries [ -n attempts ] [ -t timeout ] prog...';

/** s6-maximumtime's exit code when the limit was reached. */
const TIMED_OUT = 99;

const SIGNAL_OPTIONS: Readonly<Record<string, NodeJS.Signals | null>> = {
  '0': null,
  a: 'SIGALRM',
  b: 'SIGABRT',
  i: 'SIGINT',
  k: 'SIGKILL',
  q: 'SIGQUIT',
  t: 'SIGTERM',
  x: 'SIGXCPU',
  '1': 'SIGUSR1',
  '2': 'SIGUSR2',
};

type Outcome = { kind: 'exited'; code: number } | { kind: 'killed'; signal: NodeJS.Signals } | { kind: 'timed-out'; child: ChildProcess } | { kind: 'not-started'; reason: string };

/** skarnet's tools read these as 32-bit unsigned numbers. */
const MAX_UINT32 = 4_294_967_295;

function parseCount(text: string | undefined, what: string): number {
  if (text === undefined || !/^\d+$/.test(text) || Number(text) > MAX_UINT32) throw new UsageError(`${what} must be a whole number up to ${MAX_UINT32}`);
  return Number(text);
}

/**
 * Runs `argv` with this process's descriptors and environment. After `limitMs` (0: never)
 * it gets `signal` (none when null) and the outcome is "timed-out" without waiting for it.
 */
async function runWithLimit(argv: readonly string[], limitMs: number, signal: NodeJS.Signals | null): Promise<Outcome> {
  const [file, ...args] = argv;
  if (file === undefined) throw new UsageError('no program to run');
  const { spawn } = await import('node:child_process');
  return new Promise((resolve) => {
    const child = spawn(file, args, { stdio: 'inherit' });
    let cancel = (): void => undefined;
    child.once('error', (error: NodeJS.ErrnoException) => {
      cancel();
      resolve({ kind: 'not-started', reason: `unable to spawn ${file}: ${systemMessage(error)}` });
    });
    child.once('exit', (code, killedBy) => {
      cancel();
      resolve(killedBy === null ? { kind: 'exited', code: code ?? 0 } : { kind: 'killed', signal: killedBy });
    });
    if (limitMs > 0) {
      cancel = setLongTimeout(() => {
        if (signal !== null) child.kill(signal);
        resolve({ kind: 'timed-out', child });
      }, limitMs);
    }
  });
}

/** The C library's words for an errno, as skarnet's tools print them ("No such file or directory"). */
function systemMessage(error: NodeJS.ErrnoException): string {
  const message = error.errno === undefined ? undefined : getSystemErrorMap().get(error.errno)?.[1];
  if (message === undefined) return errnoCode(error) ?? error.message;
  return message.charAt(0).toUpperCase() + message.slice(1);
}

/** s6-maximumtime: prog's own exit code, or 99 when it ran out of time (it got the signal first). */
export async function maximumTime(args: readonly string[]): Promise<number> {
  const { options, operands } = getopt(args, '0abikqtx12');
  // The last signal option wins.
  let signal: NodeJS.Signals | null = 'SIGTERM';
  for (const { letter } of options) signal = SIGNAL_OPTIONS[letter] ?? null;
  const limitMs = parseCount(operands[0], 'the time limit in milliseconds');
  if (operands.length < 2) throw new UsageError('no program to run');
  const outcome = await runWithLimit(operands.slice(1), limitMs, signal);
  switch (outcome.kind) {
    case 'exited':
      return outcome.code;
    case 'killed':
      // skarnet's words and code for a program a signal ended before the limit.
      writeErr('s6-maximumtime: warning: child process crashed\n');
      return S6_EXIT.system;
    case 'not-started':
      writeErr(`s6-maximumtime: fatal: ${outcome.reason}\n`);
      return S6_EXIT.system;
    case 'timed-out':
      // As skarnet's: it leaves at once, with its words; the program, signalled, is the supervisor's to reap.
      outcome.child.unref();
      writeErr('s6-maximumtime: warning: unable to wait for child process: Connection timed out\n');
      return TIMED_OUT;
  }
}

/**
 * s6-overlay's with-retries: up to `-n` attempts (3), one after the other, each stopped with
 * SIGTERM after `-t` ms (500; 0: no limit), the next one starting then. 0 at the first success, 1 when all failed.
 */
export async function withRetries(args: readonly string[]): Promise<number> {
  const { options, operands } = getopt(args, 'n:t:');
  let attempts = 3;
  let limitMs = 500;
  for (const { letter, value } of options) {
    if (letter === 'n') attempts = parseCount(value ?? undefined, 'the number of attempts (-n)');
    if (letter === 't') limitMs = parseCount(value ?? undefined, 'the time limit in milliseconds (-t)');
  }
  if (operands.length === 0) throw new UsageError('no program to run');
  for (let attempt = 0; attempt < attempts; attempt++) {
    const outcome = await runWithLimit(operands, limitMs, 'SIGTERM');
    if (outcome.kind === 'exited' && outcome.code === 0) return 0;
    if (outcome.kind === 'not-started') writeErr(`with-retries: ${outcome.reason}\n`);
    // As s6-overlay's: at a time-out the next attempt starts, whether or not the last one has
    // ended on its SIGTERM; one that outlives it is the supervisor's to reap.
    if (outcome.kind === 'timed-out') outcome.child.unref();
  }
  return 1;
}
