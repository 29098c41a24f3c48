import { writeChainOutput } from '../chain-input.js';
import type { Command } from '../command.js';
import type { ChainState } from '../state.js';
import { ExeclineError, parseOptions } from '../options.js';
import { substitute } from '../substitute.js';

/**
 * The commands over the positional parameters execlineb puts in the environment (without -P
 * or -S): `#` their number, `0` the script, `1`, `2`... each one. shift, elgetpositionals, dollarat.
 */

function positionalCount(state: ChainState): number {
  const count = state.env.get('#');
  if (count === undefined) throw new ExeclineError('# not set');
  if (!/^\d+$/.test(count)) throw new ExeclineError(`# contains an invalid value: ${count}`);
  return Number(count);
}

function positionals(state: ChainState): string[] {
  const count = positionalCount(state);
  return Array.from({ length: count }, (_, index) => {
    const value = state.env.get(String(index + 1));
    if (value === undefined) throw new ExeclineError(`${index + 1} not set`);
    return value;
  });
}

const shift: Command = {
  usage: 'shift [ -n arg# ] [ -b block# ] prog...',
  options: 'n:b:',
  run(args, context) {
    const { flags, rest } = parseOptions(args, this.options, this.usage);
    if (flags.has('b')) throw new ExeclineError("shift -b (blocks given to runblock) is not provided by Steward's execlineb; shift the arguments with -n instead", 100);
    const by = flags.get('n') ?? '1';
    if (!/^\d+$/.test(by)) throw new ExeclineError(`${JSON.stringify(by)} is not a number; usage: ${this.usage}`);
    const values = positionals(context.state);
    const kept = values.slice(Number(by));
    for (let number = 1; number <= values.length; number++) context.state.env.delete(String(number));
    kept.forEach((value, index) => context.state.env.set(String(index + 1), value));
    context.state.env.set('#', String(kept.length));
    return { rest };
  },
};

/**
 * elgetpositionals: substitutes #, @, 0 and each positional parameter; -P num: the numbers up to
 * num that no parameter was given for are substituted as empty words too, as with execlineb -S num.
 */
const elgetpositionals: Command = {
  usage: 'elgetpositionals [ -P num ] prog...',
  options: 'P:',
  run(args, context) {
    const { flags, rest } = parseOptions(args, this.options, this.usage);
    const minimum = flags.get('P') ?? '0';
    if (!/^\d+$/.test(minimum)) throw new ExeclineError(`usage: ${this.usage}`);
    const values = positionals(context.state);
    const bindings = new Map<string, string | readonly string[]>([['#', String(values.length)], ['@', values]]);
    bindings.set('0', context.state.env.get('0') ?? '');
    for (let number = 1; number <= Math.max(values.length, Number(minimum)); number++) bindings.set(String(number), values[number - 1] ?? '');
    return { rest: substitute(rest, bindings) };
  },
};

const dollarat: Command = {
  usage: 'dollarat [ -n ] [ -0 | -d delimchar ]',
  options: 'n0d:',
  run(args, context) {
    const { flags } = parseOptions(args, this.options, this.usage);
    const values = positionals(context.state);
    const delimiter = flags.has('0') ? '\0' : (flags.get('d') ?? '\n').slice(0, 1);
    let text: string;
    if (delimiter === '') text = values.map((value) => `${Buffer.byteLength(value)}:${value},`).join('');
    else {
      text = values.map((value) => value + delimiter).join('');
      if (flags.has('n')) text = text.slice(0, -delimiter.length);
    }
    try {
      writeChainOutput(context.state, text);
    } catch (error) {
      throw new ExeclineError(`unable to write to stdout: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, 111);
    }
    return { exit: 0 };
  },
};

export const positionalCommands: ReadonlyMap<string, Command> = new Map([
  ['shift', shift],
  ['elgetpositionals', elgetpositionals],
  ['dollarat', dollarat],
]);
