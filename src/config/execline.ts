import { StewardError } from '../errors.js';
import type { ExeclineProgram } from '../model/rc.js';
import { ExeclineError, parseOptions } from '../execline/options.js';
import { isBuiltinCommand } from '../execline/builtin-names.js';
import { lexScript, type ScriptNode, type ScriptWord } from '../execline/script.js';
import { UNSUPPORTED_COMMANDS } from '../execline/unsupported.js';
import { findExecutable } from '../sys/which.js';

type Token = ScriptWord;

/**
 * The options of the block commands the subset runs, as Steward's execlineb reads them
 * (commands/flow.ts): getopt's letters, `x:` taking a value. They are checked here, so a
 * wrong one is reported when the tree is read; with any but `if -n`, the file is handed to
 * the interpreter, which gives each its meaning.
 */
const BLOCK_COMMAND_OPTIONS: Readonly<Record<string, string>> = { foreground: '', background: 'd', if: 'nXtx:' };

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

  /** The options after a block command, checked as its interpreter reads them; `position` moves past them. */
  const takeOptions = (command: Token): ReadonlyMap<string, string> => {
    // What follows, as the interpreter's getopt sees it: words, and a block where a { opens one.
    const following = tokens.slice(position).map((word): ScriptNode => (!word.quoted && word.text === '{' ? { block: [], line: word.line } : word.text));
    const spec = BLOCK_COMMAND_OPTIONS[command.text] ?? '';
    try {
      const { flags, rest } = parseOptions(following, spec, '');
      position += following.length - rest.length;
      return flags;
    } catch (error) {
      if (!(error instanceof ExeclineError)) throw error;
      const letters = spec.replaceAll(':', '').split('').map((letter) => `-${letter}`).join(', ');
      throw new StewardError('ERR_CONFIG', `${command.text}: ${error.message.replace(/; usage: $/, '')}`, {
        path,
        line: command.line,
        hint: letters === '' ? `${command.text} takes no options` : `${command.text} takes ${letters}`,
      });
    }
  };

  const parse = (end: 'eof' | 'block'): ExeclineProgram => {
    const words: Token[] = [];
    while (position < tokens.length) {
      const token = tokens[position];
      if (token === undefined) break;
      if (!token.quoted && token.text === '}') {
        if (end === 'block') break;
        throw new StewardError('ERR_CONFIG', 'a closing } has no opening {', { path, line: token.line, hint: 'Remove the }, or add the foreground { (or background {, if {) it closes; a literal } is written "}"' });
      }
      if (words.length === 0 && !token.quoted && (token.text === 'foreground' || token.text === 'background' || token.text === 'if')) {
        position++;
        const options = takeOptions(token);
        const open = tokens[position];
        if (open === undefined || open.quoted || open.text !== '{') {
          throw new StewardError('ERR_CONFIG', `${token.text} must be followed by a { block }`, { path, line: token.line, hint: `Write the command it runs as a block: ${token.text} { command args } then what follows` });
        }
        // Only if -n is in the subset; if -t, -x, -X and background -d are the interpreter's.
        const negate = options.has('n');
        if ([...options.keys()].some((letter) => letter !== 'n')) throw new BeyondSubset();
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
      // Every other command Steward's execlineb runs itself (variables, other block commands, the
      // chain-loaders an image without s6-overlay has no program for, eltest) needs it.
      if (words.length === 0 && !token.quoted && isBuiltinCommand(token.text)) throw new BeyondSubset();
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
