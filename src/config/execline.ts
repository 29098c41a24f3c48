import { StewardError } from '../errors.js';
import { lexScript, type ScriptWord } from '../execline/script.js';
import { UNSUPPORTED_COMMANDS } from '../execline/unsupported.js';
import { findExecutable } from '../sys/which.js';

/**
 * The subset of execline that s6-rc oneshot `up` and `down` files use in practice:
 * words, double quotes with backslash escapes, # comments, and the block commands
 * foreground, background and if. Steward runs that subset itself, with no process
 * for the interpreter; a file that needs more (variables, other block commands) is
 * run by Steward's execlineb instead (`'needs-interpreter'`).
 */
export type ExeclineProgram =
  | { readonly kind: 'exec'; readonly argv: readonly string[] }
  | { readonly kind: 'foreground'; readonly block: ExeclineProgram; readonly then: ExeclineProgram }
  | { readonly kind: 'background'; readonly block: ExeclineProgram; readonly then: ExeclineProgram }
  | { readonly kind: 'if'; readonly negate: boolean; readonly block: ExeclineProgram; readonly then: ExeclineProgram }
  | { readonly kind: 'noop' };

type Token = ScriptWord;

/**
 * Commands that make a file need the interpreter: execline's variables and other block
 * commands, and the chain-loaders an image without s6-overlay has no program for
 * (`cd`, `export`...) or only a shell stand-in for (`fdmove`, `with-contenv`...).
 */
const NEEDS_INTERPRETER = new Set([
  'importas', 'import', 'multisubstitute', 'backtick', 'define', 'forx', 'ifelse', 'ifte', 'ifthenelse', 'pipeline',
  'heredoc', 'getpid', 'getcwd',
  'export', 'unexport', 'emptyenv', 'cd', 'execline-cd', 'umask', 'execline-umask', 'exec', 'exit',
  'fdmove', 'fdclose', 'fdswap', 'redirfd', 'with-contenv', 's6-envdir', 's6-setuidgid', 'eltest',
]);

/** The words of an up or down file, read as execlineb reads them; errors are ERR_CONFIG here. */
export function tokenize(text: string, path: string): Token[] {
  return lexScript(text, path, 'ERR_CONFIG');
}

/** Thrown inside the parser when the file needs the full interpreter. */
class BeyondSubset extends Error {}

export function parseExecline(text: string, path: string): ExeclineProgram | 'needs-interpreter' {
  try {
    return parseSubset(text, path);
  } catch (error) {
    if (error instanceof BeyondSubset) return 'needs-interpreter';
    throw error;
  }
}

function parseSubset(text: string, path: string): ExeclineProgram {
  const tokens = tokenize(text, path);
  let position = 0;

  const parse = (end: 'eof' | 'block'): ExeclineProgram => {
    const words: Token[] = [];
    while (position < tokens.length) {
      const token = tokens[position];
      if (token === undefined) break;
      if (!token.quoted && token.text === '}') {
        if (end === 'block') break;
        throw new StewardError('ERR_CONFIG', 'a closing } has no opening {', { path, line: token.line });
      }
      if (words.length === 0 && !token.quoted && (token.text === 'foreground' || token.text === 'background' || token.text === 'if')) {
        position++;
        let negate = false;
        if (token.text === 'if' && tokens[position]?.text === '-n' && tokens[position]?.quoted === false) {
          negate = true;
          position++;
        }
        const open = tokens[position];
        if (open === undefined || open.quoted || open.text !== '{') {
          throw new StewardError('ERR_CONFIG', `${token.text} must be followed by a { block }`, { path, line: token.line });
        }
        position++;
        const block = parse('block');
        const close = tokens[position];
        if (close === undefined || close.text !== '}') throw new StewardError('ERR_CONFIG', `the { block } of ${token.text} is not closed`, { path, line: open.line, hint: 'Add a } on its own' });
        position++;
        const then = parse(end);
        if (token.text === 'if') return { kind: 'if', negate, block, then };
        return { kind: token.text, block, then };
      }
      if (words.length === 0 && !token.quoted && UNSUPPORTED_COMMANDS.has(token.text)) {
        // The image's own (Debian's or Alpine's execline) in PATH: Steward's execlineb runs it as a program.
        if ('path' in findExecutable(token.text, process.env['PATH'])) throw new BeyondSubset();
        throw new StewardError('ERR_CONFIG', `the execline command ${token.text} is not supported in up and down files`, {
          path,
          line: token.line,
          hint: 'Put the logic in a shell script and write its path in this file (the usual s6-overlay idiom)',
        });
      }
      if (words.length === 0 && !token.quoted && NEEDS_INTERPRETER.has(token.text)) throw new BeyondSubset();
      // A block for any other command (ifelse, an external program): the interpreter's job.
      if (!token.quoted && token.text === '{') throw new BeyondSubset();
      words.push(token);
      position++;
    }
    if (words.length === 0) return { kind: 'noop' };
    return { kind: 'exec', argv: words.map((word) => word.text) };
  };

  return parse('eof');
}
