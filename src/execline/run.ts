import { closeSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { constants } from 'node:os';

import { waitBlocking } from '../sys/ffi/children.js';

import { moveDescriptor } from '../sys/ffi/descriptors.js';

import { errnoName } from '../sys/ffi/library.js';

import { replaceProcess, setSoftLimit } from '../sys/ffi/process-image.js';

import { type FdSource, posixSpawn } from '../sys/ffi/spawn.js';
import { findExecutable } from '../sys/which.js';
import { withNodeOptionsAside } from '../util/node-options.js';
import { packageRoot } from '../util/package-root.js';
import type { CommandContext } from './command.js';
import { BUILTIN_COMMANDS as COMMANDS } from './builtins.js';
import { ExeclineError, SpawnFailure } from './options.js';
import { closeOpened } from './redirection.js';
import { report } from './report.js';
import { directExecution } from './own-launchers.js';
import { encodeArgv, type ScriptNode, serializeScript } from './script.js';
import type { ChainState } from './state.js';
import { UNSUPPORTED_COMMANDS } from './unsupported.js';

/**
 * Runs execline chains. Commands are applied to a ChainState, not to this process, until
 * the chain reaches a program: then the main chain replaces this process with it (the
 * supervised pid is the program's, as with execline), and a block runs it in a child.
 */

/**
 * Programs of s6-portable-utils that scripts call and an image without s6-overlay lacks,
 * mapped to their usual equivalents; used only when the name is not found in PATH.
 */
const STAND_INS: Readonly<Record<string, readonly string[]>> = {
  's6-echo': ['echo'],
  's6-sleep': ['sleep'],
  's6-mkdir': ['mkdir'],
  's6-rmrf': ['rm', '-rf'],
  's6-chmod': ['chmod'],
  's6-ln': ['ln'],
  's6-touch': ['touch'],
  's6-cat': ['cat'],
  's6-true': ['true'],
  's6-false': ['false'],
  's6-hiercopy': ['cp', '-a'],
};

export interface Interpreter {
  /** How to start another interpreter: node, its script, and the arguments that select execlineb. */
  readonly self: readonly string[];
  /** Descriptors this process inherited, which its program and children inherit in turn. */
  readonly inherited: readonly number[];
  /** The script file being run, for messages that must say where the problem is. */
  readonly script?: string;
  /** Who speaks in the messages about the program: execlineb, or the command run by its own name (s6-envdir). */
  readonly name?: string;
}


/** A program that could not be executed: its name and why, which a block's caller may word as its own. */
class ProgramError extends ExeclineError {
  constructor(
    readonly file: string,
    readonly reason: string,
    exitCode: 111 | 126 | 127,
    verb = 'exec',
  ) {
    super(`unable to ${verb} ${file}: ${reason}`, exitCode);
  }
}

type Resolved = { readonly path: string; readonly argv: string[] } | { readonly error: ProgramError };

/**
 * Finds the program in `pathVariable`: as with execline, the PATH of the process that executes
 * it, which is the environment before the last command (exec -c, emptyenv, export PATH...)
 * changed it for the program. `script` names the file in errors.
 */
function resolveProgram(argv: readonly string[], state: ChainState, pathVariable: string | undefined, script: string | undefined): Resolved {
  const [file = ''] = argv;
  const found = findExecutable(file, pathVariable);
  const argv0 = state.argv0?.(file) ?? file;
  if ('path' in found) return { path: found.path, argv: [argv0, ...argv.slice(1)] };
  // Steward's own shell version of an s6 command, when /command does not have it linked.
  const shim = found.error === 'ENOENT' && !file.includes('/') ? join(packageRoot(), 'shims', file) : undefined;
  if (shim !== undefined && existsSync(shim)) return { path: shim, argv: [argv0, ...argv.slice(1)] };
  const standIn = STAND_INS[file];
  if (standIn !== undefined && found.error === 'ENOENT') {
    const [program = '', ...extra] = standIn;
    const replacement = findExecutable(program, pathVariable);
    if ('path' in replacement) return { path: replacement.path, argv: [program, ...extra, ...argv.slice(1)] };
  }
  if (UNSUPPORTED_COMMANDS.has(file) && found.error === 'ENOENT') {
    const where = script === undefined ? '' : `${script} uses ${file}, and `;
    return { error: new ProgramError(file, `${where}Steward's execlineb does not provide it and no ${file} is in PATH; install execline, or move this logic into a shell script`, 127) };
  }
  const reason = found.error === 'ENOENT' ? 'No such file or directory' : 'Permission denied';
  return { error: new ProgramError(file, reason, found.error === 'ENOENT' ? 127 : 126) };
}

/** Applies the chain's state to this process and executes the program. Returns an exit code only on failure. */
function replaceWith(argv: readonly string[], state: ChainState, searchPath: string | undefined, interpreter: Interpreter): number {
  const resolved = resolveProgram(argv, state, searchPath, interpreter.script);
  if ('error' in resolved) {
    report(interpreter.name ?? 'execlineb', resolved.error.message);
    return resolved.error.exitCode;
  }
  try {
    const cwd = unlessCurrent(state.cwd);
    if (cwd !== undefined) process.chdir(cwd);
    process.umask(state.umask);
    // Node marked the inherited descriptors close-on-exec; the program needs them.
    for (const fd of interpreter.inherited) {
      try {
        moveDescriptor(fd, fd);
      } catch {
        // Not open: nothing to keep.
      }
    }
    for (const action of state.actions) {
      if (action.kind === 'dup') moveDescriptor(action.from, action.to);
      else closeQuietly(action.fd);
    }
    for (const limit of state.limits) setSoftLimit(limit.resource, limit.value);
  } catch (error) {
    report(interpreter.name ?? 'execlineb', error instanceof Error ? error.message : String(error));
    return 111;
  }
  const execution = directExecution(resolved.path, resolved.argv, state.env, nodeOf(interpreter));
  const errno = replaceProcess(execution.path, execution.argv, execution.env);
  const code = errnoName(errno);
  // As the user it became, the program may be out of reach: say so rather than only EACCES.
  const hint = code === 'EACCES' && state.account !== undefined ? ` (as ${state.account}, who may not read or search its directory)` : '';
  report(interpreter.name ?? 'execlineb', `unable to exec ${argv[0] ?? ''}: ${code}${hint}`);
  return code === 'ENOENT' ? 127 : 126;
}

/** The Node this interpreter runs on, which starts Steward's own commands too. */
function nodeOf(interpreter: Interpreter): string {
  return interpreter.self[0] ?? process.execPath;
}

/**
 * The directory to change to, or undefined when the process is in it already: as with execline,
 * a program inherits a directory it could not enter itself (after s6-setuidgid) unless a cd asks.
 */
function unlessCurrent(cwd: string): string | undefined {
  return cwd === process.cwd() ? undefined : cwd;
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Already closed, as execline's fdclose allows.
  }
}

/**
 * A new interpreter to run the rest of a chain in a process of its own, with the state so
 * far: the limits are set again there (s6-softlimit first), for they reach a program only
 * through the process that executes it, and must not bind the new interpreter itself.
 */
function handOver(nodes: readonly ScriptNode[], state: ChainState, interpreter: Interpreter): [string[], ChainState, Interpreter] {
  const forwarded = state.copy();
  forwarded.limits = [];
  forwarded.reapply = [];
  // The new interpreter is Steward's Node, not the application's (it puts the options back for its program).
  forwarded.env = new Map(Object.entries(withNodeOptionsAside(Object.fromEntries(forwarded.env))));
  return [[...interpreter.self, '-P', '-c', serializeScript([...state.reapply, ...nodes])], forwarded, interpreter];
}

/** Starts a program in a child with the chain's state. Returns its pid, or throws. */
function spawnProgram(argv: readonly string[], state: ChainState, interpreter: Interpreter, searchPath = state.env.get('PATH')): number {
  if (state.reapply.length > 0) {
    // Only a process of its own can take the limits: a new interpreter does, then executes the program.
    return spawnProgram(...handOver(argv, state, interpreter));
  }
  const resolved = resolveProgram(argv, state, searchPath, interpreter.script);
  if ('error' in resolved) throw resolved.error;
  const previousMask = process.umask(state.umask);
  try {
    const fds = new Map<number, FdSource>(interpreter.inherited.map((fd) => [fd, 'inherit']));
    const execution = directExecution(resolved.path, resolved.argv, state.env, nodeOf(interpreter));
    const pid = posixSpawn({ path: execution.path, argv: [...execution.argv], env: [...execution.env], cwd: unlessCurrent(state.cwd), fds, actions: state.actions, newSession: false });
    if (pid < 0) {
      const code = Object.entries(constants.errno).find(([, number]) => number === -pid)?.[0] ?? `errno ${-pid}`;
      throw new ProgramError(argv[0] ?? '', code, 111, 'spawn');
    }
    return pid;
  } finally {
    process.umask(previousMask);
  }
}

type Ending =
  | { readonly kind: 'replace' }
  | { readonly kind: 'wait' }
  /** `ended`: told the raw wait status when the chain ends without starting a process. */
  | { readonly kind: 'start'; readonly detached?: boolean; readonly ended?: (status: number) => void };

/** The raw wait status of a chain that ended without a program: exit code in bits 8-15. */
const exited = (code: number): number => (code & 0xff) << 8;

/** A chain's end: its exit code or wait status, or, for trap in the main chain, the exit code once it is known. */
export type Outcome = number | Promise<number>;

/**
 * Runs `nodes` to their program. "replace" executes it in this process (and returns an
 * exit code only if it cannot, or the exit code trap ends with); "wait" runs it in a child
 * and returns the raw wait status; "start" starts it and returns the pid (0 when the chain
 * ended without a program).
 */
export function runChain(nodes: readonly ScriptNode[], state: ChainState, ending: Ending, interpreter: Interpreter): Outcome {
  if (ending.kind === 'replace') return runSteps(nodes, state, ending, interpreter);
  try {
    return known(runSteps(nodes, state, ending, interpreter));
  } finally {
    // A block's redirections are its process's now (or it ended without one): not this one's to keep.
    closeOpened(state);
  }
}

/** A block's outcome, which is always known at once: the commands that settle later own their process, so a block hands them over. */
function known(outcome: Outcome): number {
  if (typeof outcome !== 'number') throw new Error('internal error: a command that owns its process ran in a block of this one');
  return outcome;
}

function runSteps(nodes: readonly ScriptNode[], state: ChainState, ending: Ending, interpreter: Interpreter): Outcome {
  const context: CommandContext = {
    name: 'execlineb',
    state,
    wait: (chain, childState) => known(runChain(chain, childState, { kind: 'wait' }, interpreter)),
    start: (chain, childState, detached = false) => known(runChain(chain, childState, { kind: 'start', detached }, interpreter)),
    begin: (chain, childState) => {
      let status = 0;
      const pid = known(runChain(chain, childState, { kind: 'start', ended: (raw) => (status = raw) }, interpreter));
      return pid > 0 ? { pid } : { status };
    },
  };
  // wait waits for the children of the process running the chain, which background may start
  // before it: a block with a wait runs in a process of its own from the start, as execline's.
  if (ending.kind !== 'replace' && nodes.includes('wait')) return inNewInterpreter(nodes, state, ending, interpreter);
  let rest = nodes;
  // Where the program is looked up: the PATH before the last command, which executes it in execline.
  let searchPath = state.env.get('PATH');
  for (;;) {
    const head = rest[0];
    // An empty chain: exit 0, a wait status of 0, or no process started (0 as well).
    if (head === undefined) return endWith(0, ending);
    if (typeof head !== 'string') {
      const error = new ExeclineError('a { block } stands where a command was expected');
      return fail('execlineb', error, ending);
    }
    const command = COMMANDS.get(head);
    if (command === undefined) return finish(rest, state, searchPath, ending, interpreter, rest === nodes);
    // A chain in the background must not hold up this one, and a block's chain must not change
    // this process's account: a new interpreter runs the rest.
    const waits = command.blocking === true || command.mayWait?.(rest.slice(1), state) === true;
    const ownsProcess = command.changesAccount === true || command.ownsProcess === true;
    if ((ending.kind === 'start' && waits) || (ending.kind !== 'replace' && ownsProcess)) {
      return inNewInterpreter(rest, state, ending, interpreter);
    }
    searchPath = state.env.get('PATH');
    let step;
    try {
      step = command.run(rest.slice(1), { ...context, name: head });
    } catch (error) {
      return fail(head, error, ending);
    }
    if ('exit' in step) return endWith(step.exit, ending);
    if ('settled' in step) return step.settled;
    rest = step.rest;
  }
}

/** Runs the rest of a block's chain in a new interpreter, a process of its own, as `ending` asks. */
function inNewInterpreter(rest: readonly ScriptNode[], state: ChainState, ending: Ending, interpreter: Interpreter): number {
  const [argv, forwarded] = handOver(rest, state, interpreter);
  try {
    return ending.kind === 'start' ? startProgram(argv, forwarded, ending, interpreter) : waitBlocking(spawnProgram(argv, forwarded, interpreter));
  } catch (error) {
    return fail('execlineb', error, ending);
  }
}

function fail(name: string, error: unknown, ending: Ending): number {
  const failure = error instanceof ExeclineError ? error : new ExeclineError(error instanceof Error ? error.message : String(error), 111);
  report(name, failure.message);
  return endWith(failure.exitCode, ending);
}

/** What runChain returns for a chain that ends with `code` and no program. */
function endWith(code: number, ending: Ending): number {
  if (ending.kind === 'replace') return code;
  if (ending.kind === 'wait') return exited(code);
  ending.ended?.(exited(code));
  return 0;
}

/** `alone`: the chain is the program alone, so a failure to start it is its caller's to report. */
function finish(nodes: readonly ScriptNode[], state: ChainState, searchPath: string | undefined, ending: Ending, interpreter: Interpreter, alone: boolean): number {
  const argv = encodeArgv(nodes);
  if (ending.kind === 'replace') return replaceWith(argv, state, searchPath, interpreter);
  try {
    if (ending.kind === 'start') return startProgram(argv, state, ending, interpreter, searchPath);
    return waitBlocking(spawnProgram(argv, state, interpreter, searchPath));
  } catch (error) {
    if (alone && error instanceof ProgramError) throw new SpawnFailure(error.file, error.reason);
    return fail('execlineb', error, ending);
  }
}

/**
 * Starts a program for a chain in the background. Detached, sh starts it and exits at once,
 * as execline's double fork: the program is then reparented (to Steward, which reaps it).
 * Returns the pid of what this process started.
 */
function startProgram(argv: readonly string[], state: ChainState, ending: Ending, interpreter: Interpreter, searchPath = state.env.get('PATH')): number {
  if (ending.kind !== 'start' || ending.detached !== true) return spawnProgram(argv, state, interpreter, searchPath);
  const intermediate = spawnProgram(['/bin/sh', '-c', '"$@" &', 'sh', ...argv], state, interpreter);
  waitBlocking(intermediate);
  return intermediate;
}
