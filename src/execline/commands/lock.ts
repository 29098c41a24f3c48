import { closeSync, constants, openSync } from 'node:fs';

import { lockFile, moveDescriptor } from '../../sys/ffi/descriptors.js';
import type { Command } from '../command.js';
import { ExeclineError, parseDescriptor, parseOptions, takeWord } from '../options.js';

const USAGE = 's6-setlock [ -n | -N | -t timeout ] [ -r | -w ] [ -d fd ] file prog...';

/** How long a timed lock (-t) sleeps between tries: locks have no event to wait on with a deadline. */
const RETRY_MS = 10;

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * s6-setlock: takes a POSIX lock on a file (created if needed) and keeps it for the rest of
 * the chain and the program, which inherits the descriptor holding it (at -d fd, if given).
 * Exclusive (-w, the default) or shared (-r); waits for it (-N, the default), gives up at once
 * (-n) or after -t milliseconds; exits 1 when it cannot have the lock, as s6's.
 */
const s6setlock: Command = {
  usage: USAGE,
  options: 'nNrwt:d:',
  run(args, context) {
    const { flags, rest: afterOptions } = parseOptions(args, this.options, this.usage);
    const [file, rest] = takeWord(afterOptions, 'the lock file', this.usage);
    const shared = flags.has('r') && !flags.has('w');
    const timeoutText = flags.get('t');
    if (timeoutText !== undefined && !/^\d+$/.test(timeoutText)) throw new ExeclineError(`-t ${JSON.stringify(timeoutText)} is not a number of milliseconds; usage: ${this.usage}`);
    const target = flags.has('d') ? parseDescriptor(flags.get('d') ?? '', this.usage) : undefined;
    const path = file.startsWith('/') ? file : `${context.state.cwd}/${file}`;
    let fd: number;
    try {
      // A shared lock needs the file open for reading, an exclusive one for writing, as s6's
      // opens it: an account that may only read the file still takes a shared lock.
      fd = openSync(path, (shared ? constants.O_RDONLY : constants.O_WRONLY) | constants.O_CREAT, 0o644);
    } catch (error) {
      throw new ExeclineError(`unable to open ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, 111);
    }
    const deadline = timeoutText === undefined ? undefined : Date.now() + Number(timeoutText);
    const wait = flags.has('n') ? false : deadline === undefined;
    for (;;) {
      const outcome = lockFile(fd, { shared, wait });
      if (outcome === 'locked') break;
      if (outcome !== 'busy') {
        closeSync(fd);
        throw new ExeclineError(`unable to lock ${file}: ${outcome.errno}`, 111);
      }
      if (deadline === undefined || Date.now() >= deadline) {
        closeSync(fd);
        throw new ExeclineError(`unable to lock ${file}: ${deadline === undefined ? 'it is held by another process' : `still held by another process after ${timeoutText} ms`}`, 1);
      }
      sleepSync(Math.min(RETRY_MS, deadline - Date.now()));
    }
    // Closing any descriptor of the file would drop the lock: this one stays open for good.
    moveDescriptor(fd, fd);
    if (target !== undefined && target !== fd) context.state.actions.push({ kind: 'dup', from: fd, to: target });
    return { rest };
  },
};

export const lockCommands: ReadonlyMap<string, Command> = new Map([['s6-setlock', s6setlock]]);
