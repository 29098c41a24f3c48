import { findExecutable } from '../sys/which.js';
import type { ScriptWord } from './script.js';

/**
 * execline commands Steward's execlineb does not run: rare in service scripts, and each
 * needs machinery of its own (option parsing, descriptor reservations, blocks as
 * positional parameters). An image that has the real program in
 * PATH gets it; otherwise the error names the command and the script.
 */
export const UNSUPPORTED_COMMANDS: ReadonlySet<string> = new Set([
  'elgetopt', 'runblock', 'piperw', 'fdreserve', 'fdblock',
]);

/**
 * The chain-loading commands scripts put before others, as [option letters that take a value,
 * words after the options]: the word after them is the next command.
 */
const CHAIN_LOADERS: Readonly<Record<string, readonly [string, number]>> = {
  importas: ['Dd', 2], define: ['d', 2], export: ['', 2], unexport: ['', 1], cd: ['', 1], umask: ['', 1],
  fdmove: ['', 2], fdclose: ['', 1], fdswap: ['', 2], redirfd: ['', 2], 's6-setuidgid': ['', 1], 's6-envdir': ['c', 1],
  'with-contenv': ['', 0], emptyenv: ['', 0], envfile: ['', 1], elglob: ['', 2], getpid: ['', 1], getcwd: ['', 1],
  exec: ['a', 0], withstdinas: ['D', 1], heredoc: ['', 2], shift: ['nb', 0], elgetpositionals: ['P', 0],
};

/**
 * Where a script calls a command of UNSUPPORTED_COMMANDS that PATH has no program for, for
 * `steward check`: where a command stands, at the start of the script or of a block, after a
 * block (`foreground { ... } trap { ... } prog`) or after a chain-loader and its arguments.
 */
export function unsupportedUses(words: readonly ScriptWord[], path: string | undefined): { readonly command: string; readonly line: number }[] {
  const uses: { command: string; line: number }[] = [];
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
    if (UNSUPPORTED_COMMANDS.has(word.text) && 'error' in findExecutable(word.text, path)) uses.push({ command: word.text, line: word.line });
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
  return uses;
}
