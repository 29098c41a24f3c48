import { encodeArgv, type ScriptNode } from './script.js';

export class ExeclineError extends Error {
  constructor(
    message: string,
    /** execline's exit codes: 100 for wrong usage, 111 for a system error, 99 for wait -i's time limit; s6's commands also 1 (an unknown account, a lock taken). */
    readonly exitCode: 1 | 99 | 100 | 111 | 126 | 127 = 100,
  ) {
    super(message);
  }
}

/**
 * A block that is a program alone, which could not be started: the command running the block
 * reports it as its own failure (111), or, for foreground, as a warning and a `?` of 127.
 */
export class SpawnFailure extends ExeclineError {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`unable to spawn ${file}: ${reason}`, 111);
  }
}

export interface ParsedOptions {
  readonly flags: ReadonlyMap<string, string>;
  readonly rest: readonly ScriptNode[];
}

/**
 * getopt for the commands' own options: `spec` lists the letters, a letter followed by
 * ':' takes a value (`-x 3` or `-x3`). Stops at `--`, at the first non-option and at a block.
 */
export function parseOptions(args: readonly ScriptNode[], spec: string | undefined, usage: string): ParsedOptions {
  const flags = new Map<string, string>();
  let index = 0;
  while (index < args.length) {
    const word = args[index];
    if (typeof word !== 'string' || !word.startsWith('-') || word === '-') break;
    index++;
    if (word === '--') break;
    for (let at = 1; at < word.length; at++) {
      const letter = word[at] ?? '';
      const position = (spec ?? '').indexOf(letter);
      if (position < 0 || letter === ':') throw new ExeclineError(`unknown option -${letter}; usage: ${usage}`);
      // Set anew, so that the order of the map is that of each letter's last appearance (lastOf).
      flags.delete(letter);
      if (spec?.[position + 1] !== ':') {
        flags.set(letter, '');
        continue;
      }
      const inline = word.slice(at + 1);
      const value = inline !== '' ? inline : args[index++];
      if (typeof value !== 'string') throw new ExeclineError(`option -${letter} needs a value; usage: ${usage}`);
      flags.set(letter, value);
      break;
    }
  }
  return { flags, rest: args.slice(index) };
}

/**
 * Which of two options that undo each other (-E and -e, -P and -p) was given last, as
 * execline's getopt loops leave it: undefined when neither was.
 */
export function lastOf(flags: ReadonlyMap<string, string>, first: string, second: string): string | undefined {
  let last: string | undefined;
  for (const letter of flags.keys()) if (letter === first || letter === second) last = letter;
  return last;
}

/** The next word, which must not be a block. */
export function takeWord(args: readonly ScriptNode[], what: string, usage: string): [string, readonly ScriptNode[]] {
  const word = args[0];
  if (typeof word !== 'string') throw new ExeclineError(`${what} is missing; usage: ${usage}`);
  return [word, args.slice(1)];
}

/**
 * The next { block }: one the script wrote, or one that came in execline's encoding, as words
 * a script was given and put in its command line (`$@`, `${1}`...): words that start with a
 * space, ended by an empty word, as execline's commands read a block from their arguments.
 */
export function takeBlock(args: readonly ScriptNode[], what: string, usage: string): [readonly ScriptNode[], readonly ScriptNode[]] {
  const block = args[0];
  if (block !== undefined && typeof block !== 'string') return [block.block, args.slice(1)];
  if (block !== undefined && (block === '' || block.startsWith(' '))) return takeEncodedBlock(args);
  throw new ExeclineError(`${what} must be a { block }${block === undefined ? '' : `, not ${JSON.stringify(block)}`}; usage: ${usage}`);
}

/**
 * A block in execline's encoding, read as execline's commands read it: each word up to the empty
 * one loses its leading space, and nothing more. A word that still starts with a space is an
 * argument like any other; only a command that takes a block where it stands reads it as one.
 */
function takeEncodedBlock(args: readonly ScriptNode[]): [readonly ScriptNode[], readonly ScriptNode[]] {
  const words: ScriptNode[] = [];
  for (let index = 0; index < args.length; index++) {
    const word = args[index];
    if (word === undefined || word === '') return [words, args.slice(index + 1)];
    if (typeof word !== 'string') {
      // A block the script wrote, among encoded words: execline would have encoded it too,
      // so its words end up in this block and its closing empty word ends this one.
      words.push(...encodeArgv(word.block));
      return [words, args.slice(index + 1)];
    }
    words.push(word.startsWith(' ') ? word.slice(1) : word);
  }
  throw new ExeclineError('unterminated block');
}

export function parseDescriptor(word: string, usage: string): number {
  if (!/^\d+$/.test(word)) throw new ExeclineError(`${JSON.stringify(word)} is not a file descriptor number; usage: ${usage}`);
  return Number(word);
}
