import { readFileSync } from 'node:fs';

import { createPipe, setBlocking } from '../../sys/ffi/descriptors.js';
import type { Command } from '../command.js';
import { ExeclineError, parseDescriptor, parseOptions, takeWord } from '../options.js';
import { handToChain } from '../redirection.js';

/** The commands that set up descriptors for the program: piperw, fdreserve, fdblock. */

/** piperw: a pipe, its reading end at fdr and its writing end at fdw for the program. */
const piperw: Command = {
  usage: 'piperw fdr fdw prog...',
  run(args, context) {
    const [readWord, afterRead] = takeWord(args, 'the reading descriptor', this.usage);
    const [writeWord, rest] = takeWord(afterRead, 'the writing descriptor', this.usage);
    const reading = parseDescriptor(readWord, this.usage);
    const writing = parseDescriptor(writeWord, this.usage);
    if (reading === writing || rest.length === 0) throw new ExeclineError(`usage: ${this.usage}`);
    let pipe: { readFd: number; writeFd: number };
    try {
      pipe = createPipe();
    } catch (error) {
      throw new ExeclineError(`unable to create pipe: ${error instanceof Error ? error.message : String(error)}`, 111);
    }
    handToChain(context.state, pipe.readFd, reading, 'the pipe');
    handToChain(context.state, pipe.writeFd, writing, 'the pipe');
    return { rest };
  },
};

/** The soft limit on open descriptors, from /proc; undefined when unlimited or unknown. */
function openFilesLimit(): number | undefined {
  try {
    const line = /^Max open files\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return line?.[1] === undefined || !/^\d+$/.test(line[1]) ? undefined : Number(line[1]);
  } catch {
    return undefined;
  }
}

/**
 * fdreserve: FD0, FD1... name n descriptors the program does not have open (the lowest, as
 * execline's, which finds them by opening that many), for it to use without clashing.
 */
const fdreserve: Command = {
  usage: 'fdreserve n prog...',
  run(args, context) {
    const [countWord, rest] = takeWord(args, 'the number of descriptors', this.usage);
    if (!/^\d+$/.test(countWord) || rest.length === 0) throw new ExeclineError(`usage: ${this.usage}`);
    const count = Number(countWord);
    const limit = openFilesLimit();
    if (limit !== undefined && count > limit) throw new ExeclineError('too many requested fds');
    const open = context.state.programDescriptors();
    const free: number[] = [];
    for (let fd = 0; free.length < count; fd++) {
      if (limit !== undefined && fd >= limit) throw new ExeclineError('unable to reserve fds: Too many open files', 111);
      if (!open.has(fd)) free.push(fd);
    }
    free.forEach((fd, index) => context.state.env.set(`FD${index}`, String(fd)));
    return { rest };
  },
};

/**
 * fdblock: the descriptor blocking (or non-blocking with -n) for the program; the mode is the
 * open file's, shared with the copy this process holds, so it is set here and now.
 */
const fdblock: Command = {
  usage: 'fdblock [ -n ] fd prog...',
  options: 'n',
  run(args, context) {
    const { flags, rest: afterOptions } = parseOptions(args, this.options, this.usage);
    const [fdWord, rest] = takeWord(afterOptions, 'the descriptor', this.usage);
    const fd = parseDescriptor(fdWord, this.usage);
    if (rest.length === 0) throw new ExeclineError(`usage: ${this.usage}`);
    const blocking = !flags.has('n');
    const source = context.state.programDescriptors().get(fd);
    const call = blocking ? 'ndelay_off' : 'ndelay_on';
    if (source === undefined) throw new ExeclineError(`unable to ${call}: Bad file descriptor`, 111);
    try {
      setBlocking(source, blocking);
    } catch (error) {
      throw new ExeclineError(`unable to ${call}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, 111);
    }
    return { rest };
  },
};

export const descriptorCommands: ReadonlyMap<string, Command> = new Map([
  ['piperw', piperw],
  ['fdreserve', fdreserve],
  ['fdblock', fdblock],
]);
