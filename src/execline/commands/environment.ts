import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { environmentFormatFor } from '../contenv-format.js';
import type { Command, CommandContext } from '../command.js';
import { ExeclineError, lastOf, parseOptions, takeBlock, takeWord } from '../options.js';
import type { ScriptNode } from '../script.js';
import type { ChainState } from '../state.js';
import { type Bindings, substitute } from '../substitute.js';
import { bindElglob } from './lookup.js';
import { bindPositionals } from './positionals.js';
import { POSITIONAL_PREFIXES, popVariables } from '../variable-stack.js';

/** The commands that set variables: substitution into the rest of the script, and the environment. */

type Binding = readonly [string, string | readonly string[] | undefined];

/**
 * Splits a value as execline's -s: each delimiter ends a word, so two in a row make an empty
 * word and one at the start an empty first word; what follows the last one is a word unless
 * empty. -C (crunch) takes a run of delimiters as one; -n (chomp) drops one at the very end.
 */
function split(value: string, delimiters: string, crunch: boolean, chomp: boolean): string[] {
  const text = chomp && value !== '' && delimiters.includes(value.slice(-1)) ? value.slice(0, -1) : value;
  const words: string[] = [];
  let current = '';
  let afterDelimiter = false;
  for (const char of text) {
    if (!delimiters.includes(char)) {
      current += char;
      afterDelimiter = false;
      continue;
    }
    if (crunch && afterDelimiter) continue;
    words.push(current);
    current = '';
    afterDelimiter = true;
  }
  if (current !== '') words.push(current);
  return words;
}

/**
 * The value as the options make it: split with -s; otherwise one word, which -C (crunch: a run
 * of delimiters kept as its first one) and -n (chomp: a delimiter at the very end dropped)
 * still apply to, as execline's el_transform does them whether it splits or not: `define -n`
 * takes the newline off a backtick's value.
 */
function shape(value: string | undefined, flags: ReadonlyMap<string, string>): string | readonly string[] | undefined {
  if (value === undefined) return value;
  const delimiters = flags.get('d') ?? ' \t\n\r';
  if (flags.has('s')) return split(value, delimiters, flags.has('C'), flags.has('n'));
  let text = value;
  if (flags.has('C')) {
    let crunched = '';
    let afterDelimiter = false;
    for (const char of text) {
      const delimiter = delimiters.includes(char);
      if (!(delimiter && afterDelimiter)) crunched += char;
      afterDelimiter = delimiter;
    }
    text = crunched;
  }
  if (flags.has('n') && text !== '' && delimiters.includes(text.slice(-1))) text = text.slice(0, -1);
  return text;
}

const IMPORTAS_USAGE = 'importas [ -i | -D default ] [ -u ] [ -s ] [ -C ] [ -n ] [ -d delim ] variable envvar prog... (or importas [ options ] -S variable prog...)';
const DEFINE_USAGE = 'define [ -s ] [ -C ] [ -n ] [ -d delim ] variable value prog...';
const IMPORTAS_OPTIONS = 'iD:uSsCcnNd:';
const DEFINE_OPTIONS = 'sCcnNd:';

function readImportas(args: readonly ScriptNode[], state: ChainState): [Binding, readonly ScriptNode[]] {
  const { flags, rest: afterOptions } = parseOptions(args, IMPORTAS_OPTIONS, IMPORTAS_USAGE);
  const [variable, afterVariable] = takeWord(afterOptions, 'the variable name', IMPORTAS_USAGE);
  // -S: the environment variable has the same name (importas -S VAR is importas VAR VAR).
  const [envvar, rest] = flags.has('S') ? [variable, afterVariable] : takeWord(afterVariable, 'the environment variable', IMPORTAS_USAGE);
  let value = state.env.get(envvar);
  if (value === undefined && flags.has('D')) value = flags.get('D');
  if (value === undefined && flags.has('i')) throw new ExeclineError(`the environment variable ${envvar} is not set`);
  if (flags.has('u')) state.env.delete(envvar);
  return [[variable, shape(value, flags)], rest];
}

function readDefine(args: readonly ScriptNode[]): [Binding, readonly ScriptNode[]] {
  const { flags, rest: afterOptions } = parseOptions(args, DEFINE_OPTIONS, DEFINE_USAGE);
  const [variable, afterVariable] = takeWord(afterOptions, 'the variable name', DEFINE_USAGE);
  const [value, rest] = takeWord(afterVariable, 'the value', DEFINE_USAGE);
  return [[variable, shape(value, flags)], rest];
}

const importas: Command = {
  usage: IMPORTAS_USAGE,
  options: IMPORTAS_OPTIONS,
  run(args, context) {
    const [binding, rest] = readImportas(args, context.state);
    return { rest: substitute(rest, new Map([binding])) };
  },
};

/** The old form: import VAR is importas VAR VAR. */
const importCommand: Command = {
  usage: 'import [ -i | -D default ] [ -u ] [ -s ] variable prog...',
  options: 'iD:usCcnNd:',
  run(args, context) {
    const { rest: afterOptions } = parseOptions(args, this.options, this.usage);
    const [variable] = takeWord(afterOptions, 'the variable name', this.usage);
    const options = args.slice(0, args.length - afterOptions.length);
    const [binding, rest] = readImportas([...options, variable, ...afterOptions], context.state);
    return { rest: substitute(rest, new Map([binding])) };
  },
};

const define: Command = {
  usage: DEFINE_USAGE,
  options: DEFINE_OPTIONS,
  run(args) {
    const [binding, rest] = readDefine(args);
    return { rest: substitute(rest, new Map([binding])) };
  },
};

/** What multisubstitute takes in its block, as execline lists them: each binds, none runs anything. */
const SUBSTITUTIONS: ReadonlyMap<string, (args: readonly ScriptNode[], context: CommandContext) => [Bindings, readonly ScriptNode[]]> = new Map([
  ['importas', (args: readonly ScriptNode[], context: CommandContext): [Bindings, readonly ScriptNode[]] => single(readImportas(args, context.state))],
  ['define', (args: readonly ScriptNode[]): [Bindings, readonly ScriptNode[]] => single(readDefine(args))],
  ['multidefine', (args: readonly ScriptNode[]): [Bindings, readonly ScriptNode[]] => bindMultidefine(args)],
  ['elglob', bindElglob],
  ['elgetpositionals', bindPositionals],
]);

function single([binding, rest]: [Binding, readonly ScriptNode[]]): [Bindings, readonly ScriptNode[]] {
  return [new Map([binding]), rest];
}

const multisubstitute: Command = {
  usage: 'multisubstitute { importas ... define ... multidefine ... elglob ... elgetpositionals ... } prog...',
  run(args, context) {
    const [block, rest] = takeBlock(args, 'the substitutions', this.usage);
    const bindings = new Map<string, Binding[1]>();
    let remaining = block;
    while (remaining.length > 0) {
      const [name, after] = takeWord(remaining, 'a substitution command', this.usage);
      const bind = SUBSTITUTIONS.get(name);
      if (bind === undefined) throw new ExeclineError(`${name} inside multisubstitute is not a substitution: use importas, define, multidefine, elglob or elgetpositionals`);
      const [bound, afterIt] = bind(after, context);
      for (const [key, value] of bound) bindings.set(key, value);
      remaining = afterIt;
    }
    return { rest: substitute(rest, bindings) };
  },
};

/**
 * multidefine: splits a value as define -s and binds its words to the variables in order; a
 * variable without a word is empty (removed with -0), and with -r the last takes the words
 * left; an empty name skips a word.
 */
const MULTIDEFINE_USAGE = 'multidefine [ -0 ] [ -r ] [ -N | -n ] [ -C | -c ] [ -d delim ] value { vars... } prog...';
const MULTIDEFINE_OPTIONS = '0rNnCcd:';

function bindMultidefine(args: readonly ScriptNode[]): [Bindings, readonly ScriptNode[]] {
  const { flags, rest: afterOptions } = parseOptions(args, MULTIDEFINE_OPTIONS, MULTIDEFINE_USAGE);
  const [value, afterValue] = takeWord(afterOptions, 'the value', MULTIDEFINE_USAGE);
  const [names, rest] = takeBlock(afterValue, 'the variable names', MULTIDEFINE_USAGE);
  if (names.length === 0) throw new ExeclineError('empty block');
  const words = split(value, flags.get('d') ?? ' \t\n\r', flags.has('C'), flags.has('n'));
  const bindings = new Map<string, Binding[1]>();
  names.forEach((name, position) => {
    if (typeof name !== 'string') throw new ExeclineError(`the variable names must be words, not a { block }; usage: ${MULTIDEFINE_USAGE}`);
    if (name === '') return;
    if (bindings.has(name)) throw new ExeclineError(`the variable ${name} is named twice`, 111);
    const takesRest = flags.has('r') && position === names.length - 1 && position < words.length;
    bindings.set(name, takesRest ? words.slice(position) : (words[position] ?? (flags.has('0') ? undefined : '')));
  });
  return [bindings, rest];
}

const multidefine: Command = {
  usage: MULTIDEFINE_USAGE,
  options: MULTIDEFINE_OPTIONS,
  run(args) {
    const [bindings, rest] = bindMultidefine(args);
    return { rest: substitute(rest, bindings) };
  },
};

const exportCommand: Command = {
  usage: 'export variable value prog...',
  run(args, context) {
    const [name, afterName] = takeWord(args, 'the variable name', this.usage);
    const [value, rest] = takeWord(afterName, 'the value', this.usage);
    if (name === '' || name.includes('=')) throw new ExeclineError(`${JSON.stringify(name)} is not a variable name`);
    context.state.env.set(name, value);
    return { rest };
  },
};

const unexport: Command = {
  usage: 'unexport variable prog...',
  run(args, context) {
    const [name, rest] = takeWord(args, 'the variable name', this.usage);
    context.state.env.delete(name);
    return { rest };
  },
};

/** What emptyenv -c takes out: what execline's commands leave in the environment for each other. */
function isExeclineVariable(name: string): boolean {
  return name === '!' || name === '?' || /^(ELGETOPT_|EXECLINE_|FD|#|\d)/.test(name);
}

/**
 * emptyenv: an empty environment (PATH kept with -p); -c takes out only execline's own
 * variables; -P pops the positional parameters and -o elgetopt's ELGETOPT_ variables, giving
 * back those a caller had pushed.
 */
const emptyenv: Command = {
  usage: 'emptyenv [ -p | -c | -o | -P ] prog...',
  options: 'pcoP',
  run(args, context) {
    const { flags, rest } = parseOptions(args, this.options, this.usage);
    if (rest.length === 0) throw new ExeclineError(`usage: ${this.usage}`);
    const env = context.state.env;
    if (flags.has('c')) {
      for (const name of [...env.keys()]) if (isExeclineVariable(name)) env.delete(name);
      return { rest };
    }
    if (flags.has('o') || flags.has('P')) {
      popVariables(env, [...(flags.has('P') ? POSITIONAL_PREFIXES : []), ...(flags.has('o') ? ['ELGETOPT_'] : [])]);
      return { rest };
    }
    const path = env.get('PATH');
    env.clear();
    if (flags.has('p') && path !== undefined) env.set('PATH', path);
    return { rest };
  },
};

/**
 * -E (autoimport): the value is substituted into the rest of the chain and not left in its
 * environment, as execline's own hand-over to importas -ui; -e, the default, leaves it there.
 */
export function autoimport(name: string, rest: readonly ScriptNode[], flags: ReadonlyMap<string, string>): readonly ScriptNode[] {
  return lastOf(flags, 'E', 'e') === 'E' ? ['importas', '-ui', name, name, ...rest] : rest;
}

/**
 * getpid: the pid of the process that goes on with the chain and becomes its program, as with
 * execline; in a block that is not the interpreter's, so a new interpreter runs the rest there.
 * -P: its parent's pid instead.
 */
const getpid: Command = {
  usage: 'getpid [ -E | -e ] [ -P | -p ] variable prog...',
  options: 'EePp',
  ownsProcess: true,
  run(args, context) {
    const { flags, rest: afterOptions } = parseOptions(args, this.options, this.usage);
    const [name, rest] = takeWord(afterOptions, 'the variable name', this.usage);
    context.state.env.set(name, String(lastOf(flags, 'P', 'p') === 'P' ? process.ppid : process.pid));
    return { rest: autoimport(name, rest, flags) };
  },
};

const getcwd: Command = {
  usage: 'getcwd [ -E | -e ] variable prog...',
  options: 'Ee',
  run(args, context) {
    const { flags, rest: afterOptions } = parseOptions(args, this.options, this.usage);
    const [name, rest] = takeWord(afterOptions, 'the variable name', this.usage);
    context.state.env.set(name, context.state.cwd);
    return { rest: autoimport(name, rest, flags) };
  },
};

interface EnvdirOptions {
  /** The whole file (its last newline removed unless `keepNewline`), not the first line. */
  readonly wholeFile: boolean;
  /** -n: the first line keeps its trailing blanks, the whole file its last newline. */
  readonly keepNewline: boolean;
  /** What a NUL byte in a value becomes (-c): a newline unless told otherwise. */
  readonly nullChar?: string;
}

/** s6-envdir's reading of one file: undefined unsets the variable (an empty file). */
function envdirValue(path: string, options: EnvdirOptions): string | undefined {
  const text = readFileSync(path, 'utf8');
  if (text === '') return undefined;
  let value = options.wholeFile ? text : (text.split('\n')[0] ?? '');
  if (!options.keepNewline) value = options.wholeFile ? value.replace(/\n$/, '') : value.replace(/[ \t]+$/, '');
  return value.replaceAll('\0', options.nullChar ?? '\n');
}

/**
 * Sets a variable for each file of `dir`, as s6-envdir: a file that cannot be read (a
 * sub-directory, say) is an error, not a variable quietly left out.
 */
export function applyEnvdir(dir: string, env: Map<string, string>, options: EnvdirOptions): void {
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith('.') || name.includes('=')) continue;
    const value = envdirValue(join(dir, name), options);
    if (value === undefined) env.delete(name);
    else env.set(name, value);
  }
}

const s6envdir: Command = {
  usage: 's6-envdir [ -I | -i ] [ -n ] [ -f ] [ -L ] [ -c nullchar ] dir prog...',
  options: 'IinfLc:',
  run(args, context) {
    const { flags, rest: afterOptions } = parseOptions(args, this.options, this.usage);
    const [dir, rest] = takeWord(afterOptions, 'the directory', this.usage);
    const nullChar = flags.get('c');
    try {
      applyEnvdir(dir, context.state.env, { wholeFile: flags.has('f'), keepNewline: flags.has('n'), ...(nullChar === undefined ? {} : { nullChar: nullChar.slice(0, 1) }) });
    } catch (error) {
      if (flags.has('I') && (error as NodeJS.ErrnoException).code === 'ENOENT' && (error as NodeJS.ErrnoException).path === dir) return { rest };
      throw new ExeclineError(`unable to envdir ${dir}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, 111);
    }
    return { rest };
  },
};

/**
 * s6-overlay v2's justc-envdir (its with-contenv reads the container environment with it): as
 * s6-envdir, but each file is its variable's value as it is, newlines and all, up to a NUL
 * byte, and an empty file is an empty value rather than an unset variable.
 */
const justcEnvdir: Command = {
  usage: 'justc-envdir [ -I | -i ] dir prog...',
  options: 'Ii',
  run(args, context) {
    const { flags, rest: afterOptions } = parseOptions(args, this.options, this.usage);
    const [dir, rest] = takeWord(afterOptions, 'the directory', this.usage);
    try {
      // v2 wrote the container environment bare; Steward writes it as the image's with-contenv
      // reads it, which, in an image whose v2 files were removed, is with a newline after each
      // value: that one is not the value's.
      const trailingNewline = isContainerEnvironment(dir, context.state.env) && environmentFormatFor() === 'newline';
      for (const name of readdirSync(dir).sort()) {
        if (name.startsWith('.') || name.includes('=')) continue;
        const text = readFileSync(join(dir, name), 'utf8');
        const end = text.indexOf('\0');
        const value = end < 0 ? text : text.slice(0, end);
        context.state.env.set(name, trailingNewline ? value.replace(/\n$/, '') : value);
      }
    } catch (error) {
      const { code, path } = error as NodeJS.ErrnoException;
      // -I, the last of -I and -i given, lets a missing directory through; -i is the default.
      if (lastOf(flags, 'I', 'i') === 'I' && code === 'ENOENT' && path === dir) return { rest };
      throw new ExeclineError(`unable to envdir ${dir}: ${code ?? String(error)}`, 111);
    }
    return { rest };
  },
};

/**
 * s6-overlay's with-contenv: the container environment Steward saved at boot, on top of
 * PATH alone; nothing changes with S6_KEEP_ENV or when there is no saved environment.
 */
const withContenv: Command = {
  usage: 'with-contenv prog...',
  run(args, context) {
    const env = context.state.env;
    const dir = containerEnvironmentDir(env);
    const keep = env.get('S6_KEEP_ENV') ?? '0';
    if ((keep !== '' && keep !== '0') || !isDirectory(dir)) return { rest: args };
    const path = env.get('PATH');
    env.clear();
    if (path !== undefined) env.set('PATH', path);
    applyEnvdir(dir, env, { wholeFile: true, keepNewline: false });
    return { rest: args };
  },
};

/** Where Steward saved the container environment at boot. */
function containerEnvironmentDir(env: ReadonlyMap<string, string>): string {
  return join(env.get('STEWARD_RUN') ?? '/run', 's6', 'container_environment');
}

/** Whether `dir` is the container environment Steward saved at boot (by any path to it: /var/run/s6/...). */
function isContainerEnvironment(dir: string, env: ReadonlyMap<string, string>): boolean {
  try {
    return realpathSync(dir) === realpathSync(containerEnvironmentDir(env));
  } catch {
    return false;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

export const environmentCommands: ReadonlyMap<string, Command> = new Map([
  ['importas', importas],
  ['import', importCommand],
  ['define', define],
  ['multidefine', multidefine],
  ['multisubstitute', multisubstitute],
  ['export', exportCommand],
  ['unexport', unexport],
  ['emptyenv', emptyenv],
  ['getpid', getpid],
  ['getcwd', getcwd],
  ['s6-envdir', s6envdir],
  ['with-contenv', withContenv],
  ['justc-envdir', justcEnvdir],
]);
