import { closeSync } from 'node:fs';

import { waitBlocking } from '../../sys/ffi/children.js';

import { createPipe } from '../../sys/ffi/descriptors.js';
import { readChainInput } from '../chain-input.js';
import { type Command, type CommandContext, exitCodeOf } from '../command.js';
import { ExeclineError, lastOf, parseOptions, takeBlock, takeWord } from '../options.js';
import type { ScriptNode } from '../script.js';
import type { ChainState } from '../state.js';

/** The loops over a program's exit code and over input: loopwhilex, forstdin, forbacktickx. */

const codeList = (list: string | undefined): number[] => (list ?? '').split(',').filter((code) => code !== '').map(Number);

const loopwhilex: Command = {
  usage: 'loopwhilex [ -n ] [ -o okcode,okcode,... | -x exitcode,exitcode,... ] prog...',
  options: 'no:x:',
  blocking: true,
  run(args, context) {
    const { flags, rest: loop } = parseOptions(args, this.options, this.usage);
    if (loop.length === 0) throw new ExeclineError(`the program is missing; usage: ${this.usage}`);
    const ok = flags.has('o') ? codeList(flags.get('o')) : undefined;
    const exits = codeList(flags.get('x'));
    const negate = flags.has('n');
    for (;;) {
      const code = exitCodeOf(context.wait(loop, context.state.copy()));
      // Runs again while the code is an ok one (0 by default), or, with -x, not one of those listed.
      const goesOn = (flags.has('x') ? !exits.includes(code) : (ok ?? [0]).includes(code)) !== negate;
      if (!goesOn) return { exit: code };
    }
  },
};

interface Splitting {
  readonly delimiters: string;
  /** -N: the delimiter stays at the end of each value. */
  readonly keepDelimiter: boolean;
  /** -C: runs of delimiters count as one (no empty values). */
  readonly crunch: boolean;
}

function splitting(flags: ReadonlyMap<string, string>, defaultDelimiters: string): Splitting {
  const delimiters = flags.has('0') ? '\0' : (flags.get('d') ?? defaultDelimiters);
  return { delimiters, keepDelimiter: flags.has('N'), crunch: flags.has('C') };
}

/**
 * Runs `loop` once per value, as forx does with its list, and says when to stop: with -o, at
 * a code not listed (exiting with it); with -x, at a listed one. Returns that code, or undefined.
 */
function runLoop(loop: readonly ScriptNode[], name: string, value: string, flags: ReadonlyMap<string, string>, context: CommandContext): number | undefined {
  const iteration: ChainState = context.state.copy();
  iteration.env.set(name, value);
  const body = lastOf(flags, 'E', 'e') === 'E' ? ['importas', '-uSi', name, ...loop] : loop;
  const code = exitCodeOf(context.wait(body, iteration));
  if (flags.has('x') && codeList(flags.get('x')).includes(code)) return code;
  if (flags.has('o') && !codeList(flags.get('o')).includes(code)) return code;
  return undefined;
}

/**
 * Cuts the values out of `pending` as execline does: each ends at a delimiter, and what
 * follows the last delimiter waits for more input (at the end, it is dropped, as skarnet's).
 */
function takeValues(pending: string, split: Splitting): { values: string[]; left: string } {
  const values: string[] = [];
  let start = 0;
  for (let index = 0; index < pending.length; index++) {
    if (!split.delimiters.includes(pending[index] ?? '')) continue;
    const value = pending.slice(start, split.keepDelimiter ? index + 1 : index);
    start = index + 1;
    if (split.crunch && value.length === (split.keepDelimiter ? 1 : 0)) continue;
    values.push(value);
  }
  return { values, left: pending.slice(start) };
}

const LOOP_OPTIONS = 'Eepo:x:NnCc0d:';

/**
 * Runs `loop` for each value of the chain state's standard input as it comes, until a loop
 * says to stop. Returns that stop code (undefined when the input ended) and whether any input
 * came at all: forstdin and forbacktickx exit 1 when none did.
 */
function loopOverInput(input: ChainState, loop: readonly ScriptNode[], name: string, flags: ReadonlyMap<string, string>, context: CommandContext): { stop: number | undefined; readSomething: boolean } {
  const split = splitting(flags, '\n');
  let pending = '';
  let stop: number | undefined;
  let readSomething = false;
  readChainInput(input, (chunk) => {
    readSomething = true;
    const { values, left } = takeValues(pending + chunk.toString('utf8'), split);
    pending = left;
    for (const value of values) {
      stop = runLoop(loop, name, value, flags, context);
      if (stop !== undefined) return false;
    }
    return true;
  });
  return { stop, readSomething };
}

const forstdin: Command = {
  usage: 'forstdin [ -E | -e ] [ -p | -o okcode,okcode,... | -x breakcode,breakcode,... ] [ -N | -n ] [ -C | -c ] [ -0 | -d delim ] variable loop...',
  options: `${LOOP_OPTIONS}P:`,
  blocking: true,
  run(args, context) {
    const { flags, rest: afterOptions } = parseOptions(args, this.options, this.usage);
    const [name, loop] = takeWord(afterOptions, 'the variable name', this.usage);
    const { stop, readSomething } = loopOverInput(context.state, loop, name, flags, context);
    if (stop !== undefined) return { exit: stop };
    return { exit: readSomething ? 0 : 1 };
  },
};

const forbacktickx: Command = {
  usage: 'forbacktickx [ -p | -o okcode,okcode,... | -x breakcode,breakcode,... ] [ -E | -e ] [ -N | -n ] [ -C | -c ] [ -0 | -d delim ] variable { backtickcmd... } command...',
  options: `${LOOP_OPTIONS}P:`,
  blocking: true,
  run(args, context) {
    const { flags, rest: afterOptions } = parseOptions(args, this.options, this.usage);
    const [name, afterName] = takeWord(afterOptions, 'the variable name', this.usage);
    const [generator, loop] = takeBlock(afterName, 'the program whose output gives the values', this.usage);
    // The generator writes into a pipe this process reads as it goes, so its output has no size limit.
    const pipe = createPipe();
    const writer = context.state.copy();
    writer.actions.push({ kind: 'dup', from: pipe.writeFd, to: 1 }, { kind: 'close', fd: pipe.readFd });
    let pid: number;
    try {
      pid = context.start(generator, writer);
    } finally {
      closeSync(pipe.writeFd);
    }
    const reader = context.state.copy();
    reader.actions.push({ kind: 'dup', from: pipe.readFd, to: 0 });
    let outcome: { stop: number | undefined; readSomething: boolean };
    try {
      outcome = loopOverInput(reader, loop, name, flags, context);
    } finally {
      closeSync(pipe.readFd);
    }
    const { stop, readSomething } = outcome;
    if (pid > 0) waitBlocking(pid);
    if (stop !== undefined) return { exit: stop };
    // As forstdin reading the generator through a pipe: 0 when it gave something, whatever its exit code.
    return { exit: readSomething ? 0 : 1 };
  },
};

export const loopCommands: ReadonlyMap<string, Command> = new Map([
  ['loopwhilex', loopwhilex],
  ['forstdin', forstdin],
  ['forbacktickx', forbacktickx],
]);
