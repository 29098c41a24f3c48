import { writeChainOutput } from '../chain-input.js';
import type { Command, CommandContext } from '../command.js';
import type { ChainState } from '../state.js';
import { ExeclineError, parseOptions } from '../options.js';
import type { ScriptNode } from '../script.js';
import { type Bindings, substitute } from '../substitute.js';
import { warn } from '../report.js';
import { positionalCount, readBlock, strictness } from './runblock.js';

/**
 * The commands over the positional parameters execlineb puts in the environment (without -P
 * or -S): `#` their number, `0` the script, `1`, `2`... each one. shift, elgetpositionals, dollarat.
 */

function positionals(state: ChainState): string[] {
  const count = positionalCount(state);
  return Array.from({ length: count }, (_, index) => {
    const value = state.env.get(String(index + 1));
    if (value === undefined) throw new ExeclineError(`${index + 1} not set`);
    return value;
  });
}

/**
 * shift: takes the first positional parameters out (-n of them, 1 by default), and with -b
 * the blocks that follow them too (0 parameters by default then), renumbering the others.
 */
const shift: Command = {
  usage: 'shift [ -n arg# ] [ -b block# ] prog...',
  options: 'n:b:',
  run(args, context) {
    const { flags, rest } = parseOptions(args, this.options, this.usage);
    const byWord = flags.get('n') ?? (flags.has('b') ? '0' : '1');
    const blocks = flags.get('b') ?? '0';
    if (!/^\d+$/.test(byWord) || !/^\d+$/.test(blocks) || rest.length === 0) throw new ExeclineError(`usage: ${this.usage}`);
    const state = context.state;
    const count = positionalCount(state);
    if (Number(byWord) > count && strictness(state) > 0) {
      const message = `unable to shift ${byWord} arguments: got ${count}`;
      if (strictness(state) > 1) throw new ExeclineError(message);
      warn(context.name, message);
    }
    let by = Math.min(Number(byWord), count);
    for (let block = 0; block < Number(blocks); block++) {
      by = readBlock(state, by, block, () => new ExeclineError(`unable to shift block ${block}: too few arguments`), context.name).end;
    }
    const values = Array.from({ length: count }, (_, index) => state.env.get(String(index + 1)));
    for (let number = 1; number <= count; number++) {
      const value = number <= count - by ? values[number - 1 + by] : undefined;
      if (value === undefined) state.env.delete(String(number));
      else state.env.set(String(number), value);
    }
    state.env.set('#', String(count - by));
    return { rest };
  },
};

/**
 * elgetpositionals: substitutes #, @, 0 and each positional parameter; -P num: the numbers up to
 * num that no parameter was given for are substituted as empty words too, as with execlineb -S num
 * (and said under EXECLINE_STRICT, as execlineb -w and -W say it).
 */
const ELGETPOSITIONALS_USAGE = 'elgetpositionals [ -P num ] prog...';
const ELGETPOSITIONALS_OPTIONS = 'P:';

/** elgetpositionals' substitution, for it and for multisubstitute. */
export function bindPositionals(args: readonly ScriptNode[], context: CommandContext): [Bindings, readonly ScriptNode[]] {
  const { flags, rest } = parseOptions(args, ELGETPOSITIONALS_OPTIONS, ELGETPOSITIONALS_USAGE);
  const minimum = flags.get('P') ?? '0';
  if (!/^\d+$/.test(minimum)) throw new ExeclineError(`usage: ${ELGETPOSITIONALS_USAGE}`);
  const values = positionals(context.state);
  if (values.length < Number(minimum) && strictness(context.state) > 0) {
    const message = `too few arguments: expected at least ${minimum} but got ${values.length}`;
    if (strictness(context.state) > 1) throw new ExeclineError(message);
    warn(context.name, message);
  }
  const bindings = new Map<string, string | readonly string[]>([['#', String(values.length)], ['@', values]]);
  bindings.set('0', context.state.env.get('0') ?? '');
  for (let number = 1; number <= Math.max(values.length, Number(minimum)); number++) bindings.set(String(number), values[number - 1] ?? '');
  return [bindings, rest];
}

const elgetpositionals: Command = {
  usage: ELGETPOSITIONALS_USAGE,
  options: ELGETPOSITIONALS_OPTIONS,
  run(args, context) {
    const [bindings, rest] = bindPositionals(args, context);
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
