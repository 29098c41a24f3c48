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
 * comments skipped, a backslash at the end of a line joining the next, and a double-quoted
 * value keeping its spaces and taking C escapes. Throws with the line of a malformed one.
 */
export function parseEnvfile(text: string, file: string): Map<string, string> {
  const variables = new Map<string, string>();
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const number = index + 1;
    let line = lines[index] ?? '';
    if (/^\s*(#|$)/.test(line)) continue;
    while (line.endsWith('\\') && index + 1 < lines.length) line = line.slice(0, -1) + (lines[++index] ?? '');
    const match = /^\s*([^=\s]+)\s*=(.*)$/s.exec(line);
    if (match === null) throw new ExeclineError(`in ${file}: syntax error line ${number}`, 1);
    const raw = (match[2] ?? '').trim();
    const quoted = /^"((?:[^"\\]|\\.)*)"$/s.exec(raw);
    variables.set(match[1] ?? '', quoted === null ? raw : unquote(quoted[1] ?? ''));
  }
  return variables;
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
