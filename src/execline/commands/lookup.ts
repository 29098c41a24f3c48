import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';

import { globMatches } from '../../sys/glob.js';
import { executableFile, findExecutable } from '../../sys/which.js';
import { writeChainOutput } from '../chain-input.js';
import type { Command, CommandContext } from '../command.js';
import { ExeclineError, parseOptions, takeBlock, takeWord } from '../options.js';
import type { ScriptNode } from '../script.js';
import { type Bindings, substitute } from '../substitute.js';

/** The commands that look something up: an account's home (homeof), a program (tryexec), files (elglob). */

const homeof: Command = {
  usage: 'homeof user',
  run(args, context) {
    const [user] = takeWord(args, 'the user', this.usage);
    let passwd = '';
    try {
      passwd = readFileSync('/etc/passwd', 'utf8');
    } catch (error) {
      throw new ExeclineError(`unable to read /etc/passwd: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, 111);
    }
    const home = passwd.split('\n').map((line) => line.split(':')).find((fields) => fields[0] === user)?.[5];
    if (home === undefined) throw new ExeclineError(`unable to get passwd entry for ${user}: no such user`, 111);
    writeChainOutput(context.state, `${home}\n`);
    return { exit: 0 };
  },
};

/**
 * Whether exec would run `program`: looked up in PATH, or, given as a path, an executable
 * file there (execline's tryexec falls back when the exec fails, a missing path included).
 */
function canExecute(program: string, path: string | undefined, cwd: string): boolean {
  if (!program.includes('/')) return 'path' in findExecutable(program, path);
  return executableFile(resolve(cwd, program)) === 'executable';
}

/**
 * tryexec: the block's program if it can be executed (with exec's -c, -l and -a), else the rest;
 * -n the other way round, the rest first and the block as the fallback.
 */
const tryexec: Command = {
  usage: 'tryexec [ -n ] [ -c ] [ -l ] [ -a argv0 ] { prog1... } prog2...',
  options: 'ncla:',
  run(args, context) {
    const { flags, rest: afterOptions } = parseOptions(args, this.options, this.usage);
    const [block, remainder] = takeBlock(afterOptions, 'the program to try', this.usage);
    if (block.length === 0) throw new ExeclineError('empty block');
    if (flags.has('n') && remainder.length === 0) throw new ExeclineError('empty remainder not allowed with -n');
    const [first, fallback] = flags.has('n') ? [remainder, block] : [block, remainder];
    const [program] = first;
    // What the interpreter runs itself always "executes"; a program, when it can be found and run.
    const runnable = typeof program === 'string' && canExecute(program, context.state.env.get('PATH'), context.state.cwd);
    if (!runnable) return { rest: fallback };
    const exec: string[] = ['exec'];
    if (flags.has('c')) exec.push('-c');
    if (flags.has('l')) exec.push('-l');
    if (flags.has('a')) exec.push('-a', flags.get('a') ?? '');
    return { rest: exec.length > 1 ? [...exec, ...first] : first };
  },
};

/**
 * elglob: substitutes the paths a pattern matches (the pattern itself when none, nothing with
 * -0); -m marks directories with a trailing slash. Matches are sorted whether or not -s asks.
 */
const ELGLOB_USAGE = 'elglob [ -v ] [ -w ] [ -s ] [ -m ] [ -e ] [ -0 ] key pattern prog...';
const ELGLOB_OPTIONS = 'vwsme0';

/** elglob's substitution, for it and for multisubstitute: the key's paths, and what follows the pattern. */
export function bindElglob(args: readonly ScriptNode[], context: CommandContext): [Bindings, readonly ScriptNode[]] {
  const { flags, rest: afterOptions } = parseOptions(args, ELGLOB_OPTIONS, ELGLOB_USAGE);
  const [key, afterKey] = takeWord(afterOptions, 'the substitution key', ELGLOB_USAGE);
  const [pattern, rest] = takeWord(afterKey, 'the pattern', ELGLOB_USAGE);
  // Relative patterns are matched in the chain's directory, which this process has not moved
  // to; the matches are written as the pattern wrote them, as glob(3) gives them.
  // -e: backslashes are characters (GLOB_NOESCAPE).
  const cwd = context.state.cwd;
  const found = globMatches(pattern, cwd, { noEscape: flags.has('e') });
  const paths = found.length === 0 ? (flags.has('0') ? [] : [pattern]) : flags.has('m') ? found.map((path) => (isDirectory(resolve(cwd, path)) ? `${path}/` : path)) : found;
  return [new Map([[key, paths]]), rest];
}

const elglob: Command = {
  usage: ELGLOB_USAGE,
  options: ELGLOB_OPTIONS,
  run(args, context) {
    const [bindings, rest] = bindElglob(args, context);
    return { rest: substitute(rest, bindings) };
  },
};

function isDirectory(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isDirectory() === true;
}

export const lookupCommands: ReadonlyMap<string, Command> = new Map([
  ['homeof', homeof],
  ['tryexec', tryexec],
  ['elglob', elglob],
]);
