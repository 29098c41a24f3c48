import type { Command } from '../command.js';
import { ExeclineError, lastOf, parseOptions, takeBlock, takeWord } from '../options.js';
import { bracket, posixExtendedRegex, RegexSyntaxError } from '../posix-regex.js';

/** case: the program of the first expression a value matches, as execline's. */

const CASE_USAGE = 'case [ -s | -S ] [ -e | -E ] [ -n | -N ] [ -i ] value { re1 { prog1... } re2 { prog2... } ... } progdefault...';

/**
 * A POSIX basic regular expression as an extended one: \( \) \{ \} group and count, as do
 * GNU's \+ \? \|, and their plain forms are ordinary characters.
 */
function basicToExtended(pattern: string): string {
  let result = '';
  let index = 0;
  while (index < pattern.length) {
    const char = pattern[index] ?? '';
    if (char === '[') {
      const end = bracket(pattern, index).end;
      result += pattern.slice(index, end);
      index = end;
      continue;
    }
    if (char === '\\' && index + 1 < pattern.length) {
      const next = pattern[index + 1] ?? '';
      result += '(){}+?|'.includes(next) ? next : `\\${next}`;
      index += 2;
      continue;
    }
    result += '(){}+?|'.includes(char) ? `\\${char}` : char;
    index++;
  }
  return result;
}

interface ShellFlags {
  readonly escapes: boolean;
  readonly period: boolean;
  readonly pathname: boolean;
}

/** fnmatch(3)'s pattern as a RegExp, with the flags execline's case gives it. */
function shellPattern(pattern: string, flags: ShellFlags): RegExp {
  let source = '';
  let index = 0;
  while (index < pattern.length) {
    const char = pattern[index] ?? '';
    if (char === '*') source += flags.pathname ? '[^/]*' : '[\\s\\S]*';
    else if (char === '?') source += flags.pathname ? '[^/]' : '[\\s\\S]';
    else if (char === '[' && pattern.indexOf(']', index + 2) > 0) {
      const negated = pattern[index + 1] === '!';
      const { source: part, end } = bracket(negated ? `[^${pattern.slice(index + 2)}` : pattern.slice(index), 0);
      source += part;
      index += end;
      continue;
    } else if (char === '\\' && flags.escapes && index + 1 < pattern.length) {
      index++;
      source += (pattern[index] ?? '').replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
    } else source += char.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
    index++;
  }
  return new RegExp(`^${source}$`);
}

function shellMatches(pattern: string, value: string, flags: ShellFlags): boolean {
  // FNM_PERIOD: a leading dot is matched only by a dot in the pattern.
  if (flags.period && value.startsWith('.') && !pattern.startsWith('.')) return false;
  return shellPattern(pattern, flags).test(value);
}

/**
 * Text as its UTF-8 bytes, one character each: execline's case matches bytes (it never sets a
 * locale), so `.` is one byte, and a two-byte é is `..`. fromBytes turns a match back.
 */
function bytes(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

function fromBytes(text: string): string {
  return Buffer.from(text, 'latin1').toString('utf8');
}

/** The subexpressions for the program (-N): # their count, 0 the expression, 1... each match. */
function subexpressions(expression: string, match: RegExpExecArray): Map<string, string> {
  const variables = new Map([['#', String(match.length - 1)], ['0', expression]]);
  for (let number = 1; number < match.length; number++) variables.set(String(number), match[number] ?? '');
  return variables;
}

const caseCommand: Command = {
  usage: CASE_USAGE,
  options: 'sSeEnNi',
  run(args, context) {
    const { flags, rest: afterOptions } = parseOptions(args, this.options, this.usage);
    const [value, afterValue] = takeWord(afterOptions, 'the value', this.usage);
    const [block, progDefault] = takeBlock(afterValue, 'the expressions', this.usage);
    const shell = lastOf(flags, 's', 'S') === 's';
    const extended = lastOf(flags, 'e', 'E') !== 'e';
    const subexpressionsWanted = lastOf(flags, 'N', 'n') === 'N';
    const ignoreCase = flags.has('i');
    let entries = block;
    while (entries.length > 0) {
      const [expression, afterExpression] = [entries[0], entries.slice(1)];
      if (typeof expression !== 'string' || afterExpression.length === 0) throw new ExeclineError('malformed case block');
      // The program's block: one the script wrote, or execline's encoding of it in a block given through $@.
      const [prog, next] = takeBlock(afterExpression, `the program for ${JSON.stringify(expression)}`, this.usage);
      entries = next;
      if (shell) {
        if (shellMatches(bytes(expression), bytes(value), { escapes: extended, period: ignoreCase, pathname: subexpressionsWanted })) return { rest: prog };
        continue;
      }
      let regex: RegExp;
      try {
        // Anchored as execline's, by the text around it: ^a|b$ is ^a or b$.
        regex = posixExtendedRegex(bytes(`^${extended ? expression : basicToExtended(expression)}$`), ignoreCase ? 'im' : 'm');
      } catch (error) {
        if (!(error instanceof RegexSyntaxError)) throw error;
        throw new ExeclineError(`unable to regcomp "^${expression}$": ${error.message}`);
      }
      const match = regex.exec(bytes(value));
      if (match === null) continue;
      if (subexpressionsWanted) for (const [name, text] of subexpressions(expression, match)) context.state.env.set(name, fromBytes(text));
      return { rest: prog };
    }
    return { rest: progDefault };
  },
};

export const dispatchCommands: ReadonlyMap<string, Command> = new Map<string, Command>([['case', caseCommand]]);
