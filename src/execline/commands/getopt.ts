import type { Command } from '../command.js';
import { ExeclineError, parseOptions, takeWord } from '../options.js';
import { say } from '../report.js';
import type { ChainState } from '../state.js';
import { pushVariables } from '../variable-stack.js';

/** elgetopt: getopt for an execline script's own options, as execline's. */

/** The positional parameters from the environment, $0 first: # says how many follow it. */
function positionalsWithName(state: ChainState): string[] {
  const count = state.env.get('#');
  if (count === undefined) throw new ExeclineError('# not set');
  if (!/^\d+$/.test(count)) throw new ExeclineError(`# contains an invalid value: ${count}`);
  return Array.from({ length: Number(count) + 1 }, (_, index) => {
    const value = state.env.get(String(index));
    if (value === undefined) throw new ExeclineError(`${index} not set`);
    return value;
  });
}

type Parsed = { readonly options: [string, string | undefined][]; readonly operands: readonly string[] } | { readonly error: string };

/**
 * getopt(3) over the parameters (not the first, the script's name): options until the first
 * word that is none, `--` ending them; a letter followed by ':' in `spec` takes a value, the
 * rest of its word or the next word.
 */
function getopt(args: readonly string[], spec: string): Parsed {
  const options: [string, string | undefined][] = [];
  let index = 1;
  while (index < args.length) {
    const word = args[index] ?? '';
    if (!word.startsWith('-') || word === '-') break;
    index++;
    if (word === '--') break;
    for (let at = 1; at < word.length; at++) {
      const letter = word[at] ?? '';
      const position = spec.indexOf(letter);
      if (position < 0 || letter === ':') return { error: 'illegal option' };
      if (spec[position + 1] !== ':') {
        options.push([letter, undefined]);
        continue;
      }
      const value = at + 1 < word.length ? word.slice(at + 1) : args[index++];
      if (value === undefined) return { error: 'option requires an argument' };
      options.push([letter, value]);
      break;
    }
  }
  return { options, operands: args.slice(index) };
}

/**
 * elgetopt: reads the script's options from its positional parameters (the environment's, as
 * execlineb sets them without -P and -S), sets ELGETOPT_x to each option's value (1, or -D's
 * default, for one without), and leaves the operands as the positional parameters. A caller's
 * ELGETOPT_ variables are pushed first (ELGETOPT_x:1), as execline's. An unknown option or a
 * missing value exits 1, said in the script's name as getopt says it.
 */
const elgetopt: Command = {
  usage: 'elgetopt [ -D default ] optstring prog...',
  options: 'D:',
  run(args, context) {
    const { flags, rest: afterOptions } = parseOptions(args, this.options, this.usage);
    const [spec, rest] = takeWord(afterOptions, 'the option string', this.usage);
    if (rest.length === 0) throw new ExeclineError(`usage: ${this.usage}`);
    const env = context.state.env;
    const args0 = positionalsWithName(context.state);
    const parsed = getopt(args0, spec);
    if ('error' in parsed) {
      say(args0[0] ?? 'elgetopt', parsed.error);
      return { exit: 1 };
    }
    pushVariables(env, ['ELGETOPT_']);
    for (const [letter, value] of parsed.options) env.set(`ELGETOPT_${letter}`, value ?? flags.get('D') ?? '1');
    for (let number = 1; number < args0.length; number++) {
      const operand = parsed.operands[number - 1];
      if (operand === undefined) env.delete(String(number));
      else env.set(String(number), operand);
    }
    env.set('#', String(parsed.operands.length));
    return { rest };
  },
};

export const getoptCommands: ReadonlyMap<string, Command> = new Map([['elgetopt', elgetopt]]);
