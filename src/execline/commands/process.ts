import { accessSync, constants, statSync } from 'node:fs';
import { resolve } from 'node:path';

import { groupsOf, lookupUser, MAX_ACCOUNT_ID, parseAccountId } from '../../sys/accounts.js';
import { becomeUser } from '../../sys/ffi/process-image.js';
import type { Command } from '../command.js';
import { ExeclineError, parseDescriptor, parseOptions, takeWord } from '../options.js';
import { redirect } from '../redirection.js';
import type { ChainState, RunAs } from '../state.js';

/** The commands that change what the program inherits: directory, umask, descriptors, account, argv[0]. */

const cd: Command = {
  usage: 'cd dir prog...',
  run(args, context) {
    const [dir, rest] = takeWord(args, 'the directory', this.usage);
    const target = resolve(context.state.cwd, dir);
    let isDirectory = false;
    try {
      isDirectory = statSync(target).isDirectory();
      // As chdir would: a directory the account (after s6-setuidgid) may not search is refused.
      if (isDirectory) accessSync(target, constants.X_OK);
    } catch (error) {
      throw new ExeclineError(`unable to chdir to ${dir}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, 111);
    }
    if (!isDirectory) throw new ExeclineError(`unable to chdir to ${dir}: ENOTDIR`, 111);
    context.state.cwd = target;
    return { rest };
  },
};

const umask: Command = {
  usage: 'umask mask prog...',
  run(args, context) {
    const [mask, rest] = takeWord(args, 'the mask', this.usage);
    if (!/^[0-7]{1,4}$/.test(mask)) throw new ExeclineError(`${JSON.stringify(mask)} is not an octal umask; usage: ${this.usage}`);
    context.state.umask = parseInt(mask, 8);
    return { rest };
  },
};

const fdmove: Command = {
  usage: 'fdmove [ -c ] to from prog...',
  options: 'c',
  run(args, context) {
    const { flags, rest: afterOptions } = parseOptions(args, this.options, this.usage);
    const [toWord, afterTo] = takeWord(afterOptions, 'the target descriptor', this.usage);
    const [fromWord, rest] = takeWord(afterTo, 'the source descriptor', this.usage);
    const to = parseDescriptor(toWord, this.usage);
    const from = parseDescriptor(fromWord, this.usage);
    if (!context.state.hasDescriptor(from)) throw new ExeclineError(`unable to move fd ${from} to fd ${to}: EBADF (the script has no descriptor ${from})`, 111);
    if (to === from) return { rest };
    context.state.actions.push({ kind: 'dup', from, to });
    if (!flags.has('c')) context.state.actions.push({ kind: 'close', fd: from });
    return { rest };
  },
};

const fdclose: Command = {
  usage: 'fdclose fd prog...',
  run(args, context) {
    const [fdWord, rest] = takeWord(args, 'the descriptor', this.usage);
    context.state.actions.push({ kind: 'close', fd: parseDescriptor(fdWord, this.usage) });
    return { rest };
  },
};

/** A descriptor number no script uses, to swap through. */
const SWAP_FD = 1021;

const fdswap: Command = {
  usage: 'fdswap fd1 fd2 prog...',
  run(args, context) {
    const [firstWord, afterFirst] = takeWord(args, 'the first descriptor', this.usage);
    const [secondWord, rest] = takeWord(afterFirst, 'the second descriptor', this.usage);
    const first = parseDescriptor(firstWord, this.usage);
    const second = parseDescriptor(secondWord, this.usage);
    const missing = [first, second].find((fd) => !context.state.hasDescriptor(fd));
    if (missing !== undefined) throw new ExeclineError(`unable to swap fds: EBADF (the script has no descriptor ${missing})`, 111);
    context.state.actions.push({ kind: 'dup', from: first, to: SWAP_FD }, { kind: 'dup', from: second, to: first }, { kind: 'dup', from: SWAP_FD, to: second }, { kind: 'close', fd: SWAP_FD });
    return { rest };
  },
};

const O_RDONLY = 0;
const O_WRONLY = 1;
const O_RDWR = 2;
const O_CREAT = 0o100;
const O_EXCL = 0o200;
const O_TRUNC = 0o1000;
const O_APPEND = 0o2000;
const O_NONBLOCK = 0o4000;

const REDIRFD_MODES: Readonly<Record<string, number>> = {
  r: O_RDONLY,
  w: O_WRONLY | O_CREAT | O_TRUNC,
  u: O_RDWR,
  a: O_WRONLY | O_CREAT | O_APPEND,
  c: O_WRONLY | O_APPEND,
  x: O_WRONLY | O_CREAT | O_EXCL,
};

const redirfd: Command = {
  usage: 'redirfd -r|-w|-u|-a|-c|-x [ -n ] [ -b ] fd file prog...',
  options: 'rwuacxnb',
  // A fifo opened without -n waits for its other end; a chain in the background must not make
  // the interpreter wait with it, when what opens that end may come later in the main chain.
  mayWait(args, state) {
    const { flags, rest } = parseOptions(args, this.options, this.usage);
    const file = rest[1];
    if (flags.has('n') || typeof file !== 'string') return false;
    try {
      return statSync(resolve(state.cwd, file)).isFIFO();
    } catch {
      return false;
    }
  },
  run(args, context) {
    const { flags, rest: afterOptions } = parseOptions(args, this.options, this.usage);
    const modes = Object.keys(REDIRFD_MODES).filter((mode) => flags.has(mode));
    if (modes.length !== 1) throw new ExeclineError(`give exactly one of -r, -w, -u, -a, -c, -x; usage: ${this.usage}`);
    const [fdWord, afterFd] = takeWord(afterOptions, 'the descriptor', this.usage);
    const [file, rest] = takeWord(afterFd, 'the file', this.usage);
    // -n opens without blocking (a fifo's read end with no writer yet); -b switches the mode
    // once open: to blocking after -n, to non-blocking otherwise (so -rnb: open at once, then read blocking).
    const nonblocking = flags.has('n');
    const openFlags = (REDIRFD_MODES[modes[0] ?? 'r'] ?? O_RDONLY) | (nonblocking ? O_NONBLOCK : 0);
    const then = flags.has('b') ? (nonblocking ? ('blocking' as const) : ('nonblocking' as const)) : undefined;
    const fd = parseDescriptor(fdWord, this.usage);
    redirect(context.state, fd, file, { path: resolve(context.state.cwd, file), flags: openFlags, mode: 0o666, ...(then === undefined ? {} : { then }) });
    return { rest };
  },
};

const exec: Command = {
  usage: 'exec [ -c ] [ -l ] [ -a argv0 ] prog...',
  options: 'cla:',
  run(args, context) {
    const { flags, rest } = parseOptions(args, this.options, this.usage);
    // As execline's: nothing to execute is a usage error, not success.
    if (rest.length === 0) throw new ExeclineError(`usage: ${this.usage}`);
    if (flags.has('c')) context.state.env.clear();
    const argv0 = flags.get('a');
    const login = flags.has('l');
    if (argv0 !== undefined || login) context.state.argv0 = (file) => `${login ? '-' : ''}${argv0 ?? file}`;
    return { rest };
  },
};

export function resolveAccount(spec: string): RunAs {
  const numeric = /^(\d+):(\d+)$/.exec(spec);
  if (numeric !== null) {
    const uid = parseAccountId(numeric[1] ?? '');
    const gid = parseAccountId(numeric[2] ?? '');
    if (uid === undefined || gid === undefined) throw new ExeclineError(`${spec}: not a uid:gid (each a number up to ${MAX_ACCOUNT_ID}); usage: s6-setuidgid account prog...`);
    return { spec, uid, gid, groups: [gid] };
  }
  const account = lookupUser(spec);
  if (account === undefined) throw new ExeclineError(`unknown user: ${spec}`, 1);
  return { spec, uid: account.uid, gid: account.gid, groups: groupsOf(spec, account.gid) };
}

/**
 * Changes this process's account for good, as s6-setuidgid's exec into the rest of the chain
 * does: what follows (opens, reads, blocks, the program) runs as the account. Only the main
 * chain comes here; a block hands the rest of its chain to a process of its own first.
 */
export function becomeAccount(account: RunAs, state: ChainState): void {
  try {
    becomeUser(account.uid, account.gid, account.groups);
  } catch (error) {
    throw new ExeclineError(`unable to become ${account.spec}: ${error instanceof Error ? error.message : String(error)}`, 111);
  }
  state.account = account.spec;
}

const s6setuidgid: Command = {
  usage: 's6-setuidgid account prog...',
  changesAccount: true,
  run(args, context) {
    const [spec, rest] = takeWord(args, 'the account', this.usage);
    // An empty account changes nothing, as s6's.
    if (spec === '') return { rest };
    becomeAccount(resolveAccount(spec), context.state);
    return { rest };
  },
};

export const processCommands: ReadonlyMap<string, Command> = new Map([
  ['cd', cd],
  ['execline-cd', cd],
  ['umask', umask],
  ['execline-umask', umask],
  ['fdmove', fdmove],
  ['fdclose', fdclose],
  ['fdswap', fdswap],
  ['redirfd', redirfd],
  ['exec', exec],
  ['s6-setuidgid', s6setuidgid],
]);
