import { StewardError } from '../errors.js';

/** One CLI command: it parses its own arguments and returns an exit code. */
export interface Command {
  readonly name: string;
  readonly usage: string;
  readonly summary: string;
  readonly help: string;
  run(args: readonly string[]): Promise<number>;
}

/** Splits `--flag`, `--option value` and `--option=value`; rejects anything not listed. */
export function parseOptions(
  command: string,
  args: readonly string[],
  spec: { flags?: readonly string[]; values?: readonly string[] },
): { flags: Set<string>; values: Map<string, string>; positional: string[] } {
  const flags = new Set<string>();
  const values = new Map<string, string>();
  const positional: string[] = [];
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] ?? '';
    if (arg === '--') {
      // The end of the options: a service named -dash can still be given.
      positional.push(...args.slice(index + 1));
      break;
    }
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const [name = '', inline] = arg.slice(2).split(/=(.*)/s, 2);
    if (spec.flags?.includes(name) === true && inline === undefined) {
      flags.add(name);
    } else if (spec.values?.includes(name) === true) {
      const value = inline ?? args[++index];
      if (value === undefined) throw new StewardError('ERR_USAGE', `steward ${command}: --${name} needs a value`);
      values.set(name, value);
    } else {
      throw new StewardError('ERR_USAGE', `steward ${command}: unknown option ${arg}`, { hint: `Run steward ${command} --help` });
    }
  }
  return { flags, values, positional };
}

/** A command that takes no names: a stray word (a forgotten --root or --etc) is refused, never ignored. */
export function refuseWords(command: string, positional: readonly string[], hint: string): void {
  if (positional.length === 0) return;
  throw new StewardError('ERR_USAGE', `steward ${command}: unexpected ${positional.length === 1 ? 'argument' : 'arguments'} ${positional.join(' ')}`, { hint });
}
