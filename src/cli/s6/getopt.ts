/**
 * POSIX getopt as skarnet's tools use it: letters may be grouped (-Od), an option that
 * takes a value reads the rest of the word or the next word (-T5000, -T 5000), and "--"
 * or the first non-option ends the options.
 */
export interface ParsedOptions {
  /** Options in the order given, with their values. */
  readonly options: readonly { readonly letter: string; readonly value: string | null }[];
  readonly operands: readonly string[];
}

export class UsageError extends Error {}

export function getopt(args: readonly string[], optstring: string): ParsedOptions {
  const options: { letter: string; value: string | null }[] = [];
  let index = 0;
  while (index < args.length) {
    const word = args[index] ?? '';
    if (word === '--') {
      index++;
      break;
    }
    if (!word.startsWith('-') || word === '-') break;
    for (let position = 1; position < word.length; position++) {
      const letter = word[position] ?? '';
      const spec = optstring.indexOf(letter);
      if (spec === -1 || letter === ':') throw new UsageError(`unknown option -${letter}`);
      if (optstring[spec + 1] === ':') {
        const rest = word.slice(position + 1);
        const value = rest !== '' ? rest : args[++index];
        if (value === undefined) throw new UsageError(`option -${letter} needs a value`);
        options.push({ letter, value });
        break;
      }
      options.push({ letter, value: null });
    }
    index++;
  }
  return { options, operands: args.slice(index) };
}
