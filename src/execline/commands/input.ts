import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

import { readAllChainInput } from '../chain-input.js';
import type { Command } from '../command.js';
import { ExeclineError, lastOf, parseOptions, takeWord } from '../options.js';
import { substitute } from '../substitute.js';

/** The commands that read values from a file or from standard input: envfile, withstdinas. */

const C_ESCAPES: Readonly<Record<string, string>> = { a: '\x07', b: '\b', t: '\t', n: '\n', v: '\v', f: '\f', r: '\r', '"': '"', '\\': '\\' };

/** A double-quoted value of an envfile, with its C escapes (\n, \x41, \101...). */
function unquote(text: string): string {
  return text.replace(/\\(x[0-9A-Fa-f]{1,2}|[0-7]{1,3}|.)/g, (escape, body: string) => {
    if (body.startsWith('x') && body.length > 1) return String.fromCharCode(parseInt(body.slice(1), 16));
    if (/^[0-7]+$/.test(body)) return String.fromCharCode(parseInt(body, 8) & 0xff);
    return C_ESCAPES[body] ?? body;
  });
}

/**
 * envfile's format: `key = value` lines, whitespace around both ignored, blank lines and #
 * comments skipped, a backslash at the end of a line joining the next (whose leading whitespace
 * is then part of a value that starts there), and double-quoted parts of a value, anywhere in
 * it, keeping their spaces and taking C escapes. Throws with the line of a malformed one.
 */
export function parseEnvfile(text: string, file: string): Map<string, string> {
  const variables = new Map<string, string>();
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const number = index + 1;
    const line = lines[index] ?? '';
    if (/^\s*(#|$)/.test(line)) continue;
    // The line and those its backslashes join to it, and where each joined one starts.
    let joined = line;
    const starts: number[] = [];
    while (joined.endsWith('\\') && index + 1 < lines.length) {
      joined = joined.slice(0, -1);
      starts.push(joined.length);
      joined += lines[++index] ?? '';
    }
    const match = /^\s*([^=\s]+)\s*=/.exec(joined);
    const value = match === null ? undefined : envfileValue(joined, match[0].length, starts);
    if (match === null || value === undefined) throw new ExeclineError(`in ${file}: syntax error line ${number}`, 1);
    variables.set(match[1] ?? '', value);
  }
  return variables;
}

/**
 * The value after `=` at `from`: its leading and trailing whitespace stripped, but kept in
 * double quotes and at the start of a joined line it starts on; undefined for a bare backslash
 * or an unclosed quote, which execline refuses.
 */
function envfileValue(joined: string, from: number, starts: readonly number[]): string | undefined {
  const startsOnJoinedLine = starts.find((start) => start >= from && joined.slice(from, start).trim() === '');
  let position = startsOnJoinedLine ?? from;
  if (startsOnJoinedLine === undefined) while (position < joined.length && /\s/.test(joined[position] ?? '')) position++;
  let value = '';
  // What the value is once trailing whitespace outside quotes is stripped (a joined line's
  // leading whitespace, not skipped above, stays in front of what follows it).
  let kept = 0;
  for (; position < joined.length; position++) {
    const char = joined[position] ?? '';
    if (char === '\\') return undefined;
    if (char !== '"') {
      value += char;
      if (!/\s/.test(char)) kept = value.length;
      continue;
    }
    const closing = /^((?:[^"\\]|\\.)*)"/s.exec(joined.slice(position + 1));
    if (closing === null) return undefined;
    value += unquote(closing[1] ?? '');
    kept = value.length;
    position += (closing[0] ?? '').length;
  }
  return value.slice(0, kept);
}

const envfile: Command = {
  usage: 'envfile [ -i | -I ] file prog...',
  options: 'iI',
  run(args, context) {
    const { flags, rest: afterOptions } = parseOptions(args, this.options, this.usage);
    const [file, rest] = takeWord(afterOptions, 'the file', this.usage);
    let text: string;
    try {
      text = readFileSync(resolve(context.state.cwd, file), 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // -I: a file that is not there is an empty one.
      if (flags.has('I') && code === 'ENOENT') return { rest };
      throw new ExeclineError(`unable to open ${file}: ${code ?? String(error)}`, 111);
    }
    for (const [name, value] of parseEnvfile(text, file)) context.state.env.set(name, value);
    return { rest };
  },
};

const withstdinas: Command = {
  usage: 'withstdinas [ -i | -I | -D default ] [ -N | -n ] [ -E | -e ] variable prog...',
  options: 'iID:NnEe',
  blocking: true,
  run(args, context) {
    const { flags, rest: afterOptions } = parseOptions(args, this.options, this.usage);
    const [name, rest] = takeWord(afterOptions, 'the variable name', this.usage);
    let value: string | undefined = readAllChainInput(context.state).toString('utf8');
    if (!flags.has('N')) value = value.replace(/\n$/, '');
    const nul = value.indexOf('\0');
    if (nul >= 0) {
      // An environment variable cannot hold a NUL: -i fails, -I unsets, -D replaces, and by default the value stops there.
      if (flags.has('i')) return { exit: 1 };
      value = flags.has('I') ? undefined : flags.has('D') ? (flags.get('D') ?? '') : value.slice(0, nul);
    }
    if (value === undefined) context.state.env.delete(name);
    else context.state.env.set(name, value);
    if (lastOf(flags, 'E', 'e') !== 'E') return { rest };
    // -E: substituted into the rest, as importas -ui, not left in the environment.
    context.state.env.delete(name);
    return { rest: substitute(rest, new Map(value === undefined ? [] : [[name, value]])) };
  },
};

export const inputCommands: ReadonlyMap<string, Command> = new Map([
  ['envfile', envfile],
  ['withstdinas', withstdinas],
]);
