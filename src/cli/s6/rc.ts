import { setTimeout as sleep } from 'node:timers/promises';

import type { RcTransition } from '../../control/protocol.js';
import type { RcStep } from '../../control/target.js';
import { callForS6, exitForError, fatal } from './call.js';
import { getopt, UsageError } from './getopt.js';
import { writeErr, writeOut } from '../output.js';

export const USAGE = 's6-rc [ -l live ] [ -v verbosity ] [ -t timeout ] [ -u | -d | -D ] [ -a ] [ -p ] [ -n dryrunthrottle ] help|list|listall|change|start|stop [ servicenames... ]';

/** s6-rc's exit codes: 1 a transition failed, 2 timed out, 3 unknown name, 100 usage. */
const RC_EXIT = { failed: 1, timeout: 2, unknownName: 3, usage: 100, system: 111 } as const;

interface RcOptions {
  readonly direction: 'up' | 'down';
  /** -a: the services that are up join the selection. */
  readonly active: boolean;
  /** -p: the rest of the services go the other way. */
  readonly prune: boolean;
  /** -D: down, flag-essential services too (-d leaves them up). */
  readonly essentialToo: boolean;
  /** -n: the dry run's pause per transition in ms; null for a real change. */
  readonly dryRunThrottleMs: number | null;
  readonly timeoutMs: number;
  readonly verbosity: number;
}

/** s6-rc over Steward's services: change (start, stop), list, listall. */
export async function s6rc(args: readonly string[]): Promise<number> {
  const { options: given, operands } = getopt(args, 'l:v:t:udDapn:bE');
  const [subcommand, ...names] = operands;
  if (subcommand === undefined) throw new UsageError('give a subcommand: help, list, listall or change');
  const options = rcOptions(given);
  switch (subcommand) {
    case 'help':
      writeOut(`${USAGE}\n`);
      return 0;
    case 'list':
      return list('list', names, options);
    case 'listall':
      return list('listall', names, options);
    // Plain changes, as s6-rc 0.5.4 has them: -p does not apply (start would prune everything else).
    case 'start':
      return change(names, { ...options, direction: 'up', prune: false });
    case 'stop':
      return change(names, { ...options, direction: 'down', prune: false });
    case 'change':
      return change(names, options);
    case 'diff':
      // There is no compiled database apart from the live one: the definitions are read at boot.
      fatal('s6-rc', 'the diff subcommand is not supported by Steward: it reads the s6-rc.d definitions at boot, so the live state has no compiled database to compare. Use s6-rc -a list and s6-rc -da list to see what is up and down');
      return RC_EXIT.usage;
    default:
      throw new UsageError(`unknown subcommand ${subcommand}: use help, list, listall or change`);
  }
}

function rcOptions(given: readonly { letter: string; value: string | null }[]): RcOptions {
  let direction: 'up' | 'down' = 'up';
  let active = false;
  let prune = false;
  let essentialToo = false;
  let dryRunThrottleMs: number | null = null;
  let timeoutMs = 0;
  let verbosity = 1;
  for (const { letter, value } of given) {
    if (letter === 'u') direction = 'up';
    else if (letter === 'd' || letter === 'D') {
      direction = 'down';
      essentialToo = letter === 'D';
    } else if (letter === 'a') active = true;
    else if (letter === 'p') prune = true;
    else if (letter === 't') timeoutMs = wholeNumber(letter, value);
    else if (letter === 'n') dryRunThrottleMs = wholeNumber(letter, value);
    else if (letter === 'v') verbosity = wholeNumber(letter, value);
  }
  return { direction, active, prune, essentialToo, dryRunThrottleMs, timeoutMs, verbosity };
}

/**
 * s6-rc's code for a failure that is no transition's: 111, as when it finds no live state (no
 * Steward answering here: an image build, a host), not s6-svc's 102.
 */
function rcExitForError(error: Parameters<typeof exitForError>[1]): number {
  const code = exitForError('s6-rc', error);
  return error.code === 'ERR_CONTROL_UNAVAILABLE' ? RC_EXIT.system : code;
}

/** A whole number option value, as s6-rc reads them; anything else is a usage error. */
function wholeNumber(letter: string, value: string | null): number {
  if (!/^\d+$/.test(value ?? '')) throw new UsageError(`-${letter} takes a whole number, not ${JSON.stringify(value ?? '')}`);
  return Number(value);
}

/** list prints the selection (-d: every other service); listall, its closure. */
async function list(op: 'list' | 'listall', names: readonly string[], options: RcOptions): Promise<number> {
  const call = await callForS6('s6-rc', { cmd: 'rc', op, direction: options.direction, names, active: options.active });
  if (!call.ok) return call.error.code === 'ERR_UNKNOWN_SERVICE' ? unknownName(call.error.message) : rcExitForError(call.error);
  for (const name of (call.result as { names: string[] }).names) writeOut(`${name}\n`);
  return 0;
}

async function change(names: readonly string[], options: RcOptions): Promise<number> {
  // An empty selection changes nothing, unless -a fills it or -p acts on the rest.
  if (names.length === 0 && !options.active && !options.prune) return 0;
  const dryRun = options.dryRunThrottleMs !== null;
  const request = { cmd: 'rc', op: 'change', direction: options.direction, names, active: options.active, prune: options.prune, essential: options.essentialToo, dryRun, timeoutMs: options.timeoutMs };
  const call = await callForS6('s6-rc', request);
  if (call.ok && dryRun) return printDryRun((call.result as { plan: RcStep[] }).plan, options);
  printTransitions(call.ok ? (call.result as { transitions?: readonly RcTransition[] }).transitions : 'transitions' in call.error ? call.error.transitions : undefined, options.verbosity);
  if (call.ok) return 0;
  switch (call.error.code) {
    case 'ERR_UNKNOWN_SERVICE':
      return unknownName(call.error.message);
    case 'ERR_TIMEOUT':
      fatal('s6-rc', `timed out after ${options.timeoutMs} ms; the transitions under way go on`);
      return RC_EXIT.timeout;
    case 'ERR_PERMANENT_FAILURE':
      // As s6-rc: a warning per failed transition (printed above, from -v 1), no summary; this
      // one only when no transition was told (a server that does not tell them).
      if (options.verbosity >= 1 && !(call.error.transitions ?? []).some((step) => step.event === 'failed' || step.event === 'unstopped')) fatal('s6-rc', call.error.message);
      return RC_EXIT.failed;
    default:
      return rcExitForError(call.error);
  }
}

/**
 * What s6-rc prints of each transition on stderr: a failure from verbosity 1, each start and
 * stop from 2. Printed once the change is over (Steward carries it out, s6-rc only asks), in
 * the order the transitions happened.
 */
function printTransitions(transitions: readonly RcTransition[] | undefined, verbosity: number): void {
  for (const { name, event, reason } of transitions ?? []) {
    if (event === 'essential') {
      if (verbosity >= 1) writeErr(`s6-rc: warning: service ${name} is marked as essential, not stopping it\n`);
    } else if (event === 'failed' || event === 'unstopped') {
      if (verbosity >= 1) writeErr(`s6-rc: warning: unable to ${event === 'failed' ? 'start' : 'stop'} service ${name}: ${reason ?? 'it failed'}\n`);
    } else if (verbosity >= 2) {
      const line = event === 'starting' || event === 'stopping' ? `: ${event}` : ` successfully ${event}`;
      writeErr(`s6-rc: info: service ${name}${line}\n`);
    }
  }
}

/**
 * A dry run as s6-rc prints it: the command of each transition, after "s6-rc-dryrun:", a wave
 * of independent transitions at a time, each wave taking the throttle's time.
 */
async function printDryRun(plan: readonly RcStep[], options: RcOptions): Promise<number> {
  const throttleMs = options.dryRunThrottleMs ?? 0;
  const deadline = options.timeoutMs > 0 ? Date.now() + options.timeoutMs : Infinity;
  const waves = [...new Set(plan.map((step) => step.wave))].sort((a, b) => a - b);
  for (const wave of waves) {
    if (options.verbosity > 0) for (const step of plan.filter((step) => step.wave === wave)) writeOut(`s6-rc-dryrun: ${dryRunCommand(step, options.timeoutMs)}\n`);
    const left = deadline - Date.now();
    if (throttleMs > 0) await sleep(Math.min(throttleMs, Math.max(0, left)));
    if (throttleMs > left) {
      fatal('s6-rc', 'timed out');
      return RC_EXIT.timeout;
    }
  }
  return 0;
}

/** What s6-rc would run for one transition. A oneshot is named, as Steward has no oneshot runner to number it for. */
export function dryRunCommand(step: RcStep, globalTimeoutMs: number): string {
  // As s6-rc: the service's own timeout, unless the whole change has less time (or it has none).
  const timeoutMs = globalTimeoutMs > 0 && (step.timeoutMs === 0 || globalTimeoutMs < step.timeoutMs) ? globalTimeoutMs : step.timeoutMs;
  if (step.kind === 'oneshot' || step.dir === null) return `s6-rc-oneshot-run ${step.direction} ${step.name}`;
  const letters = step.direction === 'down' ? '-dwD' : step.readiness ? '-uwU' : '-uwu';
  return `s6-svc ${letters} -T ${timeoutMs} -- ${step.dir}`;
}

function unknownName(message: string): number {
  fatal('s6-rc', message);
  return RC_EXIT.unknownName;
}
