import { constants } from 'node:os';

import { waitForChild } from '../../sys/ffi/children.js';
import { type Command, type CommandContext, exitCodeOf } from '../command.js';
import { ExeclineError, lastOf, parseOptions, takeBlock } from '../options.js';
import { report } from '../report.js';
import type { ScriptNode } from '../script.js';

/**
 * The commands that watch the process's own children and signals: trap and wait. Both run
 * in the main chain only (`ownsProcess`): in a block, a new interpreter runs them, whose
 * children are the block's own, as in execline, where a block is a process of its own.
 */

const TRAP_USAGE = 'trap [ -x ] { signal { cmdline } ... } prog...';

/** The number `default` stands for in the directives, as execline's (0 is accepted too). */
const DEFAULT_DIRECTIVE = 0;

/** Signals no process can catch, or that trap needs itself to learn that its children ended. */
const CANNOT_TRAP: ReadonlySet<string> = new Set(['SIGKILL', 'SIGSTOP', 'SIGCHLD']);

/**
 * Signals that -x and `default` leave alone although execline's takes them: a real fault
 * (not one sent with kill) would run the listener over and over in a Node that cannot go on.
 */
const FAULTS: ReadonlySet<string> = new Set(['SIGSEGV', 'SIGBUS', 'SIGFPE', 'SIGILL']);

const SIGNALS: ReadonlyMap<number, NodeJS.Signals> = new Map(
  Object.entries(constants.signals)
    .filter(([name]) => name !== 'SIGIOT' && name !== 'SIGPOLL' && name !== 'SIGUNUSED')
    .map(([name, number]) => [number, name as NodeJS.Signals]),
);

/** A directive's keyword as a signal number: a name with or without SIG in any case, a number, or `default`. */
function directiveSignal(word: string): number {
  if (word.toLowerCase() === 'default') return DEFAULT_DIRECTIVE;
  const number = /^\d+$/.test(word) ? Number(word) : constants.signals[(word.toUpperCase().startsWith('SIG') ? word.toUpperCase() : `SIG${word.toUpperCase()}`) as NodeJS.Signals];
  if (number === undefined || (number !== DEFAULT_DIRECTIVE && !SIGNALS.has(number))) throw new ExeclineError(`unrecognized directive: ${word}`);
  const name = SIGNALS.get(number);
  if (name !== undefined && CANNOT_TRAP.has(name)) throw new ExeclineError(`${name} (${number}) cannot be trapped`);
  return number;
}

/** The directives' block: a signal (or `default`) and the command line it runs, each at most once. */
function readDirectives(block: readonly ScriptNode[]): Map<number, readonly ScriptNode[]> {
  if (block.length === 0) throw new ExeclineError('empty block');
  const directives = new Map<number, readonly ScriptNode[]>();
  let entries = block;
  while (entries.length > 0) {
    const keyword = entries[0];
    if (typeof keyword !== 'string') throw new ExeclineError(`a directive must be a signal name or number, not a { block }; usage: ${TRAP_USAGE}`);
    const signal = directiveSignal(keyword);
    const [command, next] = directiveBlock(entries.slice(1), keyword);
    entries = next;
    if (directives.has(signal)) throw new ExeclineError(`duplicate directive: ${keyword}`);
    // An empty command line is a directive too, as execline's: the signal is caught and nothing runs.
    directives.set(signal, command);
  }
  return directives;
}

/** A directive's command line: a block the script wrote, or execline's encoding of one in a block given through $@. */
function directiveBlock(entries: readonly ScriptNode[], keyword: string): [readonly ScriptNode[], readonly ScriptNode[]] {
  const first = entries[0];
  if (first === undefined || (typeof first === 'string' && first !== '' && !first.startsWith(' '))) throw new ExeclineError(`unterminated internal block for directive ${keyword}`);
  try {
    return takeBlock(entries, `the command line for ${keyword}`, TRAP_USAGE);
  } catch (error) {
    if (error instanceof ExeclineError) throw new ExeclineError(`unterminated internal block for directive ${keyword}`);
    throw error;
  }
}

/** The signals to listen to: the directives', and with -x or a `default` every one a listener may take. */
function trappedSignals(directives: ReadonlyMap<number, unknown>, forward: boolean): NodeJS.Signals[] {
  const everything = forward || directives.has(DEFAULT_DIRECTIVE);
  return [...SIGNALS].filter(([number, name]) => directives.has(number) || (everything && !CANNOT_TRAP.has(name) && !FAULTS.has(name))).map(([, name]) => name);
}

/**
 * trap: runs prog in a child and, for each signal it receives, the directive's command line
 * (with ! the child's pid and SIGNAL the signal's number), not twice at once for one signal;
 * with -x, a signal without a directive is sent on to the child. It ends with the child's exit
 * code (128 plus the signal when it was killed), leaving any command line still running.
 */
const trap: Command = {
  usage: TRAP_USAGE,
  options: 'x',
  ownsProcess: true,
  run(args, context) {
    const { flags, rest: afterOptions } = parseOptions(args, this.options, this.usage);
    const [block, prog] = takeBlock(afterOptions, 'the directives', this.usage);
    const directives = readDirectives(block);
    if (prog.length === 0) throw new ExeclineError(`no program to run; usage: ${this.usage}`);
    return { settled: watchChild(prog, directives, flags.has('x'), context) };
  },
};

function watchChild(prog: readonly ScriptNode[], directives: ReadonlyMap<number, readonly ScriptNode[]>, forward: boolean, context: CommandContext): Promise<number> {
  return new Promise((resolve) => {
    /** The command line running for each signal, by pid. */
    const running = new Map<number, number>();
    let child = 0;
    let done = false;
    const finish = (code: number): void => {
      if (done) return;
      done = true;
      clearInterval(keepAlive);
      resolve(code);
      // trap is the last command of its process (a process of its own): it ends it at once,
      // its signals still caught, as execline's trap returns. Node winding down instead hands
      // them back to their default action for a moment, and a trapped signal coming then (a
      // stream of HUPs from a log rotator) would end the process by it, turning the program's
      // exit code into the signal's. Its messages are written synchronously: none is lost.
      process.exit(code);
    };
    const reap = (): void => {
      if (done || child === 0) return;
      // Every child of this process, not only the program and the command lines: a background
      // or pipeline in them runs here and leaves children of its own, which would stay zombies
      // for as long as trap runs. The interpreter starts none through Node, so none is stolen.
      for (;;) {
        const ended = waitForChild(-1, false);
        if (ended === 'running') return;
        if (ended === 'no-child') {
          finish(111);
          return;
        }
        for (const [signal, pid] of running) if (pid === ended.pid) running.delete(signal);
        if (ended.pid === child) {
          finish(exitCodeOf(ended.status));
          return;
        }
      }
    };
    const onSignal = (signal: number): void => {
      if (done) return;
      const command = directives.get(signal) ?? directives.get(DEFAULT_DIRECTIVE);
      if (command === undefined) {
        process.kill(child, signal);
        return;
      }
      if (running.has(signal)) return;
      const state = context.state.copy();
      state.env.set('!', String(child));
      state.env.set('SIGNAL', String(signal));
      try {
        const pid = context.start(command, state);
        if (pid > 0) running.set(signal, pid);
      } catch (error) {
        report(context.name, error instanceof Error ? error.message : String(error));
        finish(111);
      }
    };
    // Listening before the child exists, so that a signal it sends at once is not missed.
    for (const signal of trappedSignals(directives, forward)) {
      process.on(signal, () => onSignal(constants.signals[signal]));
    }
    process.on('SIGCHLD', reap);
    // Keeps the event loop alive until the program ends (signal listeners do not). Nothing to
    // poll: each SIGCHLD collects every child that has ended, so merged ones lose nothing.
    const keepAlive = setInterval(() => undefined, KEEP_ALIVE_MS);
    try {
      child = context.start(prog, context.state.copy());
    } catch (error) {
      report(context.name, error instanceof Error ? error.message : String(error));
      finish(error instanceof ExeclineError ? error.exitCode : 111);
      return;
    }
    // The child may have ended before its SIGCHLD could be listened to.
    setImmediate(reap);
  });
}

/** The longest a timer may be set for: it never fires while trap waits. */
const KEEP_ALIVE_MS = 2 ** 31 - 1;

const WAIT_USAGE = 'wait [ -I | -i ] [ -a | -o ] [ -r | -t timeout ] { pids... } [ prog... ]';

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** How often wait looks again at children it may not block on (a time limit, or any of several). */
const WAIT_POLL_MS = 10;

/**
 * wait: waits for the listed children (all of them, or any one with -o; every child of the
 * process with an empty list), up to a time limit with -t or -r, then goes on with prog. A
 * pid that is not a child is not waited for. -o sets ! and ? for the child that ended.
 */
const waitCommand: Command = {
  usage: WAIT_USAGE,
  options: 'Iiaort:',
  ownsProcess: true,
  run(args, context) {
    const { flags, rest: afterOptions } = parseOptions(args, this.options, this.usage);
    const [block, rest] = takeBlock(afterOptions, 'the pids', this.usage);
    const pids = block.map((word) => {
      if (typeof word !== 'string' || !/^\d+$/.test(word)) throw new ExeclineError(`usage: ${this.usage}`);
      return Number(word);
    });
    const limit = flags.has('r') ? 0 : flags.has('t') ? Number(flags.get('t')) : undefined;
    if (limit !== undefined && !Number.isInteger(limit)) throw new ExeclineError(`usage: ${this.usage}`);
    const one = flags.has('o');
    const deadline = limit === undefined ? Infinity : Date.now() + limit;
    const remaining = new Set(pids);
    let ended: { readonly pid: number; readonly status: number } | undefined;
    for (;;) {
      // Blocking is possible when nothing else is watched: every child in turn, or one of them.
      const blocking = deadline === Infinity && (pids.length === 0 || (!one && remaining.size > 0));
      const target = pids.length === 0 ? -1 : [...remaining][0] ?? -1;
      let left = false;
      for (const pid of pids.length === 0 ? [-1] : blocking ? [target] : [...remaining]) {
        const result = waitForChild(pid, blocking);
        if (result === 'running') {
          left = true;
          continue;
        }
        if (result !== 'no-child') ended = result;
        if (pids.length > 0) remaining.delete(pid);
        // Any child may end next: look again at once, until none has.
        if (pids.length === 0 && result !== 'no-child') left = true;
        if (one && result !== 'no-child') break;
      }
      if (one && ended !== undefined) break;
      if (pids.length > 0 ? remaining.size === 0 : !left) break;
      if (Date.now() >= deadline) {
        if (lastOf(flags, 'I', 'i') === 'i') throw new ExeclineError('unable to wait: Connection timed out', 99);
        break;
      }
      if (!blocking) sleep(Math.min(WAIT_POLL_MS, Math.max(0, deadline - Date.now())));
    }
    if (one) {
      if (ended === undefined) {
        context.state.env.delete('!');
        context.state.env.delete('?');
      } else {
        context.state.env.set('!', String(ended.pid));
        context.state.env.set('?', String(exitCodeOf(ended.status)));
      }
    }
    return { rest };
  },
};

export const childCommands: ReadonlyMap<string, Command> = new Map([
  ['trap', trap],
  ['wait', waitCommand],
]);
