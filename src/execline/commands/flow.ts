import { closeSync, readSync, writeSync } from 'node:fs';

import { reapIfExited, waitBlocking } from '../../sys/ffi/children.js';

import { createPipe } from '../../sys/ffi/descriptors.js';
import { type Begun, type Command, type CommandContext, execlineStatus, exitCodeOf, type Step } from '../command.js';
import { ExeclineError, lastOf, parseDescriptor, parseOptions, SpawnFailure, takeBlock, takeWord } from '../options.js';
import { autoimport } from './environment.js';
import type { ScriptNode } from '../script.js';
import { report, warn } from '../report.js';

/** The commands that run blocks: sequencing, conditions, capture and loops. */

const foreground: Command = {
  usage: 'foreground { prog1... } prog2...',
  blocking: true,
  run(args, context) {
    const [block, rest] = takeBlock(args, 'the program to run first', this.usage);
    let status: number;
    try {
      status = execlineStatus(context.wait(block, context.state.copy()));
    } catch (error) {
      // A program that cannot be started does not stop the chain: it is said, and ? is 127.
      if (!(error instanceof SpawnFailure)) throw error;
      warn(context.name, error.message);
      status = 127;
    }
    context.state.env.set('?', String(status));
    return { rest };
  },
};

const background: Command = {
  usage: 'background [ -d ] { prog1... } prog2...',
  options: 'd',
  run(args, context) {
    const { flags, rest: afterOptions } = parseOptions(args, this.options, this.usage);
    const [block, rest] = takeBlock(afterOptions, 'the program to start', this.usage);
    const pid = context.start(block, context.state.copy(), flags.has('d'));
    context.state.env.set('!', String(pid));
    return { rest };
  },
};

/**
 * Runs a test block: true when it exited 0 (or not 0, negated); false with its exit code.
 * A crash ends the chain with 128 + signal, unless `crashIsFalse` (-X): then it is a failure
 * like any other (and so true when negated).
 */
function test(block: readonly ScriptNode[], context: CommandContext, negate: boolean, crashIsFalse: boolean): { passed: boolean; code: number } | { exit: number } {
  const status = context.wait(block, context.state.copy());
  if ((status & 0x7f) !== 0 && !crashIsFalse) {
    report(context.name, `child crashed with signal ${status & 0x7f}`);
    return { exit: exitCodeOf(status) };
  }
  return { passed: (status === 0) !== negate, code: exitCodeOf(status) };
}

const ifCommand: Command = {
  usage: 'if [ -n ] [ -t ] [ -x exitcode ] [ -X ] { prog1... } prog2...',
  options: 'ntXx:',
  blocking: true,
  run(args, context) {
    const { flags, rest: afterOptions } = parseOptions(args, this.options, this.usage);
    const [block, rest] = takeBlock(afterOptions, 'the test', this.usage);
    const result = test(block, context, flags.has('n'), flags.has('X'));
    if ('exit' in result) return result;
    if (result.passed) return { rest };
    // The test's own code (1 when -n and it succeeded), 0 with -t, or the -x code.
    if (flags.has('t')) return { exit: 0 };
    const chosen = flags.get('x');
    return { exit: chosen !== undefined ? Number(chosen) : result.code === 0 ? 1 : result.code };
  },
};

const ifelse: Command = {
  usage: 'ifelse [ -n ] [ -X ] { prog1... } { prog2... } prog3...',
  options: 'nX',
  blocking: true,
  run(args, context) {
    const { flags, rest: afterOptions } = parseOptions(args, this.options, this.usage);
    const [testBlock, afterTest] = takeBlock(afterOptions, 'the test', this.usage);
    const [thenBlock, rest] = takeBlock(afterTest, 'the program to run when the test succeeds', this.usage);
    const result = test(testBlock, context, flags.has('n'), flags.has('X'));
    if ('exit' in result) return result;
    return { rest: result.passed ? thenBlock : rest };
  },
};

const ifte: Command = {
  usage: 'ifte [ -n ] [ -X ] { then... } { else... } test...',
  options: 'nX',
  blocking: true,
  run(args, context) {
    const { flags, rest: afterOptions } = parseOptions(args, this.options, this.usage);
    const [thenBlock, afterThen] = takeBlock(afterOptions, 'the program to run when the test succeeds', this.usage);
    const [elseBlock, testChain] = takeBlock(afterThen, 'the program to run when the test fails', this.usage);
    const result = test(testChain, context, flags.has('n'), flags.has('X'));
    if ('exit' in result) return result;
    return { rest: result.passed ? thenBlock : elseBlock };
  },
};

const ifthenelse: Command = {
  usage: 'ifthenelse [ -s ] [ -X ] { test... } { then... } { else... } prog...',
  options: 'sX',
  blocking: true,
  run(args, context) {
    const { flags, rest: afterOptions } = parseOptions(args, this.options, this.usage);
    const [testBlock, afterTest] = takeBlock(afterOptions, 'the test', this.usage);
    const [thenBlock, afterThen] = takeBlock(afterTest, 'the then block', this.usage);
    const [elseBlock, rest] = takeBlock(afterThen, 'the else block', this.usage);
    const result = test(testBlock, context, false, flags.has('X'));
    if ('exit' in result) return result;
    const chosen = result.passed ? thenBlock : elseBlock;
    // -s: the chosen block's commands apply to the rest of the chain.
    if (flags.has('s')) return { rest: [...chosen, ...rest] };
    const status = context.wait(chosen, context.state.copy());
    context.state.env.set('?', String(execlineStatus(status)));
    return { rest };
  },
};

/** Reads a pipe to its end. */
function readAll(fd: number): string {
  const chunks: Buffer[] = [];
  const buffer = Buffer.alloc(65536);
  for (;;) {
    const count = readSync(fd, buffer, 0, buffer.length, null);
    if (count === 0) break;
    chunks.push(Buffer.from(buffer.subarray(0, count)));
  }
  return Buffer.concat(chunks).toString('utf8');
}

const backtick: Command = {
  usage: 'backtick [ -i | -I | -x | -D default ] [ -N | -n ] [ -E | -e ] variable { prog... } prog...',
  options: 'iID:NnEex',
  blocking: true,
  run(args, context): Step {
    const { flags, rest: afterOptions } = parseOptions(args, this.options, this.usage);
    const [name, afterName] = takeWord(afterOptions, 'the variable name', this.usage);
    const [block, rest] = takeBlock(afterName, 'the program whose output is captured', this.usage);
    const pipe = createPipe();
    const state = context.state.copy();
    state.actions.push({ kind: 'dup', from: pipe.writeFd, to: 1 });
    // Read while the block runs, as execline does: a block writing more than a pipe holds would
    // otherwise wait forever for a reader, and this command forever for the block.
    let begun: Begun;
    let output: string;
    try {
      begun = context.begin(block, state);
    } catch (error) {
      closeSync(pipe.readFd);
      throw error;
    } finally {
      closeSync(pipe.writeFd);
    }
    try {
      output = readAll(pipe.readFd);
    } finally {
      closeSync(pipe.readFd);
    }
    const status = 'pid' in begun ? waitBlocking(begun.pid) : begun.status;
    let value: string | undefined = flags.has('N') ? output : output.replace(/\n$/, '');
    if (value.includes('\0')) throw new ExeclineError(`the output of the block for ${name} contains a NUL byte`, 111);
    if (status !== 0) {
      // On failure: -D gives the default, -I keeps what the block wrote, -x leaves the variable
      // unset; otherwise (-i, the default) the chain ends with the block's code.
      if (flags.has('D')) value = flags.get('D') ?? '';
      else if (flags.has('I')) {
        // The output as it is.
      } else if (flags.has('x')) value = undefined;
      else {
        report(context.name, (status & 0x7f) !== 0 ? `child crashed with signal ${status & 0x7f}` : 'child process exited non-zero');
        return { exit: exitCodeOf(status) };
      }
    }
    if (value === undefined) context.state.env.delete(name);
    else context.state.env.set(name, value);
    // -E: substituted, through importas -ui, which also refuses to go on when -x left it unset.
    return { rest: autoimport(name, rest, flags) };
  },
};

const pipeline: Command = {
  usage: 'pipeline [ -d ] [ -r | -w ] { prog1... } prog2...',
  options: 'drw',
  run(args, context) {
    const { flags, rest: afterOptions } = parseOptions(args, this.options, this.usage);
    const [block, rest] = takeBlock(afterOptions, 'the other side of the pipe', this.usage);
    const pipe = createPipe();
    const writes = flags.has('w');
    const child = context.state.copy();
    child.actions.push(writes ? { kind: 'dup', from: pipe.readFd, to: 0 } : { kind: 'dup', from: pipe.writeFd, to: 1 });
    const pid = context.start(block, child);
    closeSync(writes ? pipe.readFd : pipe.writeFd);
    context.state.actions.push(writes ? { kind: 'dup', from: pipe.writeFd, to: 1 } : { kind: 'dup', from: pipe.readFd, to: 0 });
    context.state.env.set('!', String(pid));
    return { rest };
  },
};

/** How long forx -p sleeps between looks at its loops: there is no event loop to wait on here. */
const PARALLEL_POLL_MS = 5;

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** The raw wait statuses of loops started together, in the order they end. */
function statusesAsTheyEnd(started: readonly Begun[]): number[] {
  const ended: number[] = [];
  const running: number[] = [];
  for (const loop of started) {
    if ('pid' in loop) running.push(loop.pid);
    else ended.push(loop.status);
  }
  while (running.length > 0) {
    for (let index = running.length - 1; index >= 0; index--) {
      const status = reapIfExited(running[index] ?? 0);
      if (status === undefined) continue;
      ended.push(status);
      running.splice(index, 1);
    }
    if (running.length > 0) sleepSync(PARALLEL_POLL_MS);
  }
  return ended;
}

const forx: Command = {
  usage: 'forx [ -p ] [ -o okcodes | -x breakcodes ] [ -e | -E ] variable { values... } loop...',
  options: 'po:x:eE',
  blocking: true,
  run(args, context) {
    const { flags, rest: afterOptions } = parseOptions(args, this.options, this.usage);
    const [name, afterName] = takeWord(afterOptions, 'the variable name', this.usage);
    const [values, body] = takeBlock(afterName, 'the values', this.usage);
    // -E (autoimport): the loop sees the value substituted for ${name}, as after importas -uSi; -e is the default.
    const loop = lastOf(flags, 'E', 'e') === 'E' ? ['importas', '-uSi', name, ...body] : body;
    const codes = (list: string | undefined): number[] => (list ?? '').split(',').filter((code) => code !== '').map(Number);
    const ok = codes(flags.get('o'));
    const breaking = codes(flags.get('x'));
    // forx itself exits 0 whatever its loops exit with, unless -o or -x name the codes that end it.
    const ends = (code: number): boolean => breaking.includes(code) || (flags.has('o') && !ok.includes(code));
    const iterations = values.map((value) => {
      if (typeof value !== 'string') throw new ExeclineError('the values must be words, not blocks');
      // The value is in the loop's environment, not substituted: the loop reads it with importas.
      const iteration = context.state.copy();
      iteration.env.set(name, value);
      return iteration;
    });
    if (flags.has('p')) {
      // -p: every loop at once; the first to end with a code that ends forx gives its exit code.
      const statuses = statusesAsTheyEnd(iterations.map((iteration) => context.begin(loop, iteration)));
      const ending = statuses.map(exitCodeOf).find(ends);
      return { exit: ending ?? 0 };
    }
    for (const iteration of iterations) {
      const code = exitCodeOf(context.wait(loop, iteration));
      if (ends(code)) return { exit: code };
    }
    return { exit: 0 };
  },
};

const exit: Command = {
  usage: 'exit [ exitcode ]',
  run(args) {
    const word = args[0];
    if (word === undefined) return { exit: 0 };
    if (typeof word !== 'string' || !/^\d+$/.test(word)) throw new ExeclineError(`${JSON.stringify(word)} is not an exit code; usage: ${this.usage}`);
    return { exit: Number(word) & 0xff };
  },
};

const heredoc: Command = {
  usage: 'heredoc [ -d ] fd string prog...',
  options: 'd',
  run(args, context) {
    const { rest: afterOptions } = parseOptions(args, this.options, this.usage);
    const [fdWord, afterFd] = takeWord(afterOptions, 'the descriptor', this.usage);
    const [text, rest] = takeWord(afterFd, 'the text', this.usage);
    const fd = parseDescriptor(fdWord, this.usage);
    const pipe = createPipe();
    // Written now: a text larger than the pipe would block, so it goes through a writer child.
    const bytes = Buffer.from(text);
    if (bytes.length <= 65536) {
      let written = 0;
      while (written < bytes.length) written += writeSync(pipe.writeFd, bytes, written);
    } else {
      const writer = context.state.copy();
      writer.actions.push({ kind: 'dup', from: pipe.writeFd, to: 1 });
      context.start(['printf', '%s', text], writer);
    }
    closeSync(pipe.writeFd);
    context.state.actions.push({ kind: 'dup', from: pipe.readFd, to: fd });
    return { rest };
  },
};

export const flowCommands: ReadonlyMap<string, Command> = new Map([
  ['foreground', foreground],
  ['background', background],
  ['if', ifCommand],
  ['ifelse', ifelse],
  ['ifte', ifte],
  ['ifthenelse', ifthenelse],
  ['backtick', backtick],
  ['pipeline', pipeline],
  ['forx', forx],
  ['exit', exit],
  ['heredoc', heredoc],
]);
