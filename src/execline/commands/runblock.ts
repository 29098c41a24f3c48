import type { Command } from '../command.js';
import { ExeclineError, parseOptions, takeWord } from '../options.js';
import { warn } from '../report.js';
import type { ChainState } from '../state.js';
import { POSITIONAL_PREFIXES, popVariables } from '../variable-stack.js';

/**
 * runblock, and the blocks among the positional parameters it and shift -b read: a script
 * called with a block (`myscript { prog... } rest...`) gets it in execline's encoding, as
 * words that start with a space, ended by an empty word.
 */

/** EXECLINE_STRICT: 1 warns about a block's word that is not quoted with its space, 2 stops there. */
export function strictness(state: ChainState): number {
  const match = /^\d+/.exec(state.env.get('EXECLINE_STRICT') ?? '');
  return match === null ? 0 : Number(match[0]);
}

/** The number of positional parameters, from #. */
export function positionalCount(state: ChainState): number {
  const count = state.env.get('#');
  if (count === undefined) throw new ExeclineError('# not set');
  if (!/^\d+$/.test(count)) throw new ExeclineError(`# contains an invalid value: ${count}`);
  return Number(count);
}

function positional(state: ChainState, number: number): string {
  const value = state.env.get(String(number));
  if (value === undefined) throw new ExeclineError(`${number} not set`);
  return value;
}

/**
 * The words of the block that starts after parameter `from`, without their space, and the
 * number of the parameter that ends it. `ordinal` names the block in messages.
 */
export function readBlock(state: ChainState, from: number, ordinal: number, tooFew: () => ExeclineError, name: string): { words: string[]; end: number } {
  const count = positionalCount(state);
  const strict = strictness(state);
  const words: string[] = [];
  let number = from;
  for (;;) {
    if (++number > count) throw tooFew();
    const value = positional(state, number);
    if (value === '') return { words, end: number };
    if (value.startsWith(' ')) {
      words.push(value.slice(1));
      continue;
    }
    if (strict > 0) {
      const message = `unquoted positional ${value} at block ${ordinal} position ${number - from}`;
      if (strict > 1) throw new ExeclineError(message);
      warn(name, message);
    }
    words.push(value);
  }
}

/**
 * runblock: runs the nth block among the positional parameters (after -n of them), cmd's words
 * first; -r: the parameters after the nth block instead (none: exit 0). The positional
 * parameters are popped first (a caller's come back), unless -P.
 */
const runblock: Command = {
  usage: 'runblock [ -P ] [ -n argshift ] [ -r ] n cmd...',
  options: 'Prn:',
  run(args, context) {
    const { flags, rest: afterOptions } = parseOptions(args, this.options, this.usage);
    const [nWord, cmd] = takeWord(afterOptions, 'the block number', this.usage);
    const shiftWord = flags.get('n') ?? '0';
    const remainder = flags.has('r');
    if (!/^\d+$/.test(nWord) || !/^\d+$/.test(shiftWord) || (Number(nWord) === 0 && !remainder)) throw new ExeclineError(`usage: ${this.usage}`);
    const state = context.state;
    const count = positionalCount(state);
    const tooFew = (): ExeclineError => new ExeclineError('too few arguments');
    let last = Number(shiftWord);
    for (let ordinal = 1; ordinal < Number(nWord) + (remainder ? 1 : 0); ordinal++) last = readBlock(state, last, ordinal, tooFew, context.name).end;
    let words: string[];
    if (remainder) {
      if (last + 1 > count) return { exit: 0 };
      words = Array.from({ length: count - last }, (_, index) => positional(state, last + 1 + index));
    } else words = readBlock(state, last, Number(nWord), tooFew, context.name).words;
    if (!flags.has('P')) popVariables(state.env, POSITIONAL_PREFIXES);
    // The block's words as they are, as execline's runblock executes them: a nested block in it
    // is read by the command that takes it, and a word that starts with a space is just a word.
    return { rest: [...cmd, ...words] };
  },
};

export const runblockCommands: ReadonlyMap<string, Command> = new Map([['runblock', runblock]]);
