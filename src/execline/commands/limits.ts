import type { Command } from '../command.js';
import { ExeclineError, parseOptions } from '../options.js';

/** The largest value a resource limit holds (rlim_t is 64 bits; this one means unlimited). */
const MAX_LIMIT = 0xffff_ffff_ffff_ffffn;

const USAGE = 's6-softlimit [ -a allbytes ] [ -c corebytes ] [ -d databytes ] [ -f filebytes ] [ -l lockbytes ] [ -m membytes ] [ -o openfiles ] [ -p processes ] [ -r residentbytes ] [ -s stackbytes ] [ -t cpusecs ] prog...';

// Linux's RLIMIT_* numbers (the same on x86-64 and arm64).
const RLIMIT = { cpu: 0, fsize: 1, data: 2, stack: 3, core: 4, rss: 5, nproc: 6, nofile: 7, memlock: 8, as: 9 } as const;

const BY_LETTER: Readonly<Record<string, readonly number[]>> = {
  a: [RLIMIT.as],
  c: [RLIMIT.core],
  d: [RLIMIT.data],
  f: [RLIMIT.fsize],
  l: [RLIMIT.memlock],
  // -m: every memory limit at once, as s6-softlimit's.
  m: [RLIMIT.as, RLIMIT.data, RLIMIT.stack, RLIMIT.memlock, RLIMIT.rss],
  o: [RLIMIT.nofile],
  p: [RLIMIT.nproc],
  r: [RLIMIT.rss],
  s: [RLIMIT.stack],
  t: [RLIMIT.cpu],
};

/**
 * s6-softlimit: soft resource limits for the program, each a number or "=" for the hard
 * limit; a number above the hard limit gets the hard limit, as s6's. Applied when the program
 * is executed, not to the interpreter (a small address-space limit would stop Node itself).
 */
const s6softlimit: Command = {
  usage: USAGE,
  options: 'a:c:d:f:l:m:o:p:r:s:t:',
  run(args, context) {
    const { flags, rest } = parseOptions(args, this.options, this.usage);
    const words: string[] = [];
    for (const [letter, value] of flags) {
      // A limit is a 64-bit number, as s6's reads it: a longer one is a usage error, not Node's RangeError later.
      if (!/^(=|\d+)$/.test(value) || (value !== '=' && BigInt(value) > MAX_LIMIT)) throw new ExeclineError(`-${letter} takes a number up to ${MAX_LIMIT} or "="; usage: ${this.usage}`);
      for (const resource of BY_LETTER[letter] ?? []) context.state.limits.push({ resource, value: value === '=' ? 'hard' : BigInt(value) });
      words.push(`-${letter}`, value);
    }
    if (words.length > 0) context.state.reapply.push('s6-softlimit', ...words);
    return { rest };
  },
};

export const limitCommands: ReadonlyMap<string, Command> = new Map([['s6-softlimit', s6softlimit]]);
