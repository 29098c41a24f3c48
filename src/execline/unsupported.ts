import { findExecutable } from '../sys/which.js';
import { BUILTIN_COMMAND_OPTIONS } from './builtin-names.js';
import type { ScriptWord } from './script.js';

/**
 * execline commands Steward's execlineb does not run: the POSIX-conforming cd and umask
 * (execline's own cd and umask are provided), and commands of execline releases after 2.9.3.
 * An image that has the real program in PATH gets it; otherwise the error names the command
 * and the script.
 */
export const UNSUPPORTED_COMMANDS: ReadonlySet<string> = new Set(['posix-cd', 'posix-umask', 'forqueue', 'export-array']);

/**
 * The chain-loading commands scripts put before others, as [option letters that take a value,
 * words after the options]: the word after them is the next command.
 */
const CHAIN_LOADERS: Readonly<Record<string, readonly [string, number]>> = {
  importas: ['Dd', 2], define: ['d', 2], export: ['', 2], unexport: ['', 1], cd: ['', 1], umask: ['', 1],
  fdmove: ['', 2], fdclose: ['', 1], fdswap: ['', 2], redirfd: ['', 2], 's6-setuidgid': ['', 1], 's6-envdir': ['c', 1], 'justc-envdir': ['', 1],
  'with-contenv': ['', 0], emptyenv: ['', 0], envfile: ['', 1], elglob: ['', 2], getpid: ['', 1], getcwd: ['', 1],
  exec: ['a', 0], withstdinas: ['D', 1], heredoc: ['', 2], shift: ['nb', 0], elgetpositionals: ['P', 0],
  elgetopt: ['D', 1], runblock: ['n', 1], piperw: ['', 2], fdreserve: ['', 1], fdblock: ['', 1],
};

/** A word of a script where a command stands, with the index of the word after it. */
interface CommandWord {
  readonly word: ScriptWord;
  readonly next: number;
}

/**
 * The words of a script where a command stands: at the start of the script or of a block,
 * after a block (`foreground { ... } trap { ... } prog`) or after a chain-loader and its arguments.
 */
function commandWords(words: readonly ScriptWord[]): CommandWord[] {
  const found: CommandWord[] = [];
  let index = 0;
  let commandPosition = true;
  while (index < words.length) {
    const word = words[index++];
    if (word === undefined) break;
    const brace = !word.quoted && (word.text === '{' || word.text === '}');
    if (!commandPosition || brace) {
      commandPosition = brace;
      continue;
    }
    commandPosition = false;
    if (word.quoted) continue;
    found.push({ word, next: index });
    const loader = CHAIN_LOADERS[word.text];
    if (loader === undefined) continue;
    const [valued, count] = loader;
    // Its options (and the values some take), then its words: what follows is a command again.
    while (index < words.length && (words[index]?.text ?? '').startsWith('-') && words[index]?.text !== '-') {
      const option = words[index++]?.text ?? '';
      if (option === '--') break;
      if (valued.includes(option.slice(-1))) index++;
    }
    index += count;
    commandPosition = true;
  }
  return found;
}

/** Where a script calls a command of UNSUPPORTED_COMMANDS that PATH has no program for, for `steward check`. */
export function unsupportedUses(words: readonly ScriptWord[], path: string | undefined): { readonly command: string; readonly line: number }[] {
  return commandWords(words)
    .filter(({ word }) => UNSUPPORTED_COMMANDS.has(word.text) && 'error' in findExecutable(word.text, path))
    .map(({ word }) => ({ command: word.text, line: word.line }));
}

/**
 * Where a script gives a command the interpreter runs itself an option it does not take (one
 * of a later execline, or a typo), for `steward check`: the script would stop there, exit 100.
 */
export function unknownOptionUses(words: readonly ScriptWord[]): { readonly command: string; readonly option: string; readonly line: number }[] {
  const uses: { command: string; option: string; line: number }[] = [];
  for (const { word, next } of commandWords(words)) {
    const spec = BUILTIN_COMMAND_OPTIONS.get(word.text);
    if (spec === undefined) continue;
    for (let index = next; index < words.length; index++) {
      const text = words[index]?.text ?? '';
      if (!text.startsWith('-') || text === '-' || text === '--' || (words[index]?.quoted === false && text === '{')) break;
      const unknown = [...text.slice(1)].findIndex((letter) => letter === ':' || !spec.includes(letter));
      const valued = [...text.slice(1)].findIndex((letter) => spec[spec.indexOf(letter) + 1] === ':');
      if (unknown >= 0 && (valued < 0 || unknown < valued)) {
        uses.push({ command: word.text, option: `-${text[unknown + 1] ?? ''}`, line: words[index]?.line ?? word.line });
        break;
      }
      // An option that takes a value ends the word, and takes the next one when nothing follows it.
      if (valued >= 0 && valued === text.length - 2) index++;
      if (valued >= 0) continue;
    }
  }
  return uses;
}

export function unknownOptionMessage(command: string, option: string): string {
  return `${command} ${option}: Steward's execlineb knows no such option of ${command}, so the script stops there with exit 100`;
}

export const UNKNOWN_OPTION_HINT = "Check the option against execline's documentation of the command (Steward's execlineb follows execline 2.9.3), or move this logic into a shell script";
