import { parseSignal, signalNumber } from '../../sys/signals.js';
import { tai64n } from '../../util/tai64n.js';
import { writeErr, writeOut } from '../output.js';
import { callForS6, exitForError, fatal, S6_EXIT } from './call.js';
import { absoluteDirs, firstMissingDir } from './dirs.js';
import { getopt, UsageError } from './getopt.js';

export const SVDT_USAGE = 's6-svdt [ -S | -s ] [ -n maxlines ] servicedir';
export const SVDT_CLEAR_USAGE = 's6-svdt-clear servicedir';
export const PERMAFAILON_USAGE = 's6-permafailon seconds deathcount statuslist prog...';

/** The most deaths s6-supervise keeps (S6_MAX_DEATH_TALLY). */
const MAX_DEATH_TALLY = 4096;
/** What a finish script exits with to stop the service from being restarted. */
const PERMANENT_FAILURE = 125;

interface Death {
  readonly at: number;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

type DeathsCall = { deaths: Death[] } | { exit: number };

async function deathsOf(prog: string, dir: string, clear: boolean): Promise<DeathsCall> {
  const missing = firstMissingDir([dir]);
  if (missing !== null) {
    fatal(prog, `unable to read ${dir}/supervise/death_tally: ${missing.reason}`);
    return { exit: S6_EXIT.system };
  }
  const call = await callForS6(prog, { cmd: 'deaths', dirs: absoluteDirs([dir]), clear });
  if (!call.ok && call.error.code === 'ERR_UNKNOWN_SERVICE') {
    // No supervisor there: skarnet's reads supervise/death_tally and finds none, a system failure (111).
    fatal(prog, `unable to read death tally for service ${dir}: No such file or directory (${call.error.message})`);
    return { exit: S6_EXIT.system };
  }
  if (!call.ok) return { exit: exitForError(prog, call.error) };
  const [service] = (call.result as { services: { deaths: Death[] }[] }).services;
  return { deaths: service?.deaths ?? [] };
}

/** s6-svdt: one line per recorded death, oldest first: TAI64N stamp, then "exitcode N" or "signal NAME". */
export async function s6svdt(args: readonly string[]): Promise<number> {
  const { options, operands } = getopt(args, 'Ssn:');
  if (operands.length !== 1) throw new UsageError('give exactly one service directory');
  let numbers = false;
  let maxLines = MAX_DEATH_TALLY;
  for (const { letter, value } of options) {
    if (letter === 's') numbers = true;
    else if (letter === 'S') numbers = false;
    else if (letter === 'n') {
      if (!/^\d+$/.test(value ?? '')) throw new UsageError('-n takes a number of lines');
      maxLines = Number(value);
    }
  }
  const result = await deathsOf('s6-svdt', operands[0] ?? '', false);
  if ('exit' in result) return result.exit;
  const shown = maxLines === 0 ? [] : result.deaths.slice(-maxLines);
  writeOut(shown.map((death) => `${tai64n(death.at)} ${describeDeath(death, numbers)}\n`).join(''));
  return 0;
}

function describeDeath(death: Death, numbers: boolean): string {
  if (death.signal === null) return `exitcode ${death.code ?? 0}`;
  return `signal ${numbers ? String(signalNumber(death.signal)) : death.signal}`;
}

/** s6-svdt-clear: forgets the service's recorded deaths. */
export async function s6svdtClear(args: readonly string[]): Promise<number> {
  const { operands } = getopt(args, '');
  if (operands.length !== 1) throw new UsageError('give exactly one service directory');
  const result = await deathsOf('s6-svdt-clear', operands[0] ?? '', true);
  return 'exit' in result ? result.exit : 0;
}

/** Which deaths a status list names: exit codes (and intervals), and signals. */
interface StatusList {
  readonly codes: ReadonlySet<number>;
  readonly signals: ReadonlySet<number>;
}

/** "1,2-10,SIGTERM,sigabrt,sig11": separated by commas, semicolons or spaces, as skarnet's. */
export function parseStatusList(text: string): StatusList {
  const codes = new Set<number>();
  const signals = new Set<number>();
  for (const item of text.split(/[,;\s]+/).filter((word) => word !== '')) {
    const interval = /^(\d+)(?:-(\d+))?$/.exec(item);
    if (interval !== null) {
      const from = Number(interval[1]);
      const to = interval[2] === undefined ? from : Number(interval[2]);
      if (from > 255 || to > 255) throw new UsageError(`invalid exit code in ${JSON.stringify(item)}: exit codes go from 0 to 255`);
      if (to < from) throw new UsageError(`invalid interval ${JSON.stringify(item)}: it ends before it begins`);
      for (let code = from; code <= to; code++) codes.add(code);
      continue;
    }
    const bare = item.replace(/^sig/i, '');
    const signal = /^\d+$/.test(bare) ? Number(bare) : parseSignal(bare) === undefined ? undefined : signalNumber(parseSignal(bare) as NodeJS.Signals);
    if (signal === undefined || signal < 1 || signal > 64) throw new UsageError(`invalid status list entry ${JSON.stringify(item)}: an exit code, an interval such as 1-50, or a signal such as SIGTERM`);
    signals.add(signal);
  }
  return { codes, signals };
}

/**
 * s6-permafailon, in a finish script (its directory is the service's): when the service died
 * at least `deathcount` times in the last `seconds` seconds for a reason in the status list,
 * exits 125, which stops the restarts; otherwise runs prog. The decision, or the program to run.
 */
export async function permafailon(args: readonly string[], now = Date.now()): Promise<{ exit: number } | { prog: readonly string[] }> {
  if (args.length < 3) throw new UsageError('give seconds, a death count and a status list');
  const [secondsText = '', countText = '', listText = '', ...prog] = args;
  if (!/^\d+$/.test(secondsText) || !/^\d+$/.test(countText) || Number(countText) === 0) throw new UsageError('seconds and deathcount are whole numbers, deathcount at least 1');
  const seconds = Number(secondsText);
  const needed = Math.min(MAX_DEATH_TALLY, Number(countText));
  const list = parseStatusList(listText);
  const call = await callForS6('s6-permafailon', { cmd: 'deaths', dirs: absoluteDirs(['.']), clear: false });
  const goOn = prog.length === 0 ? { exit: 0 } : { prog };
  if (!call.ok) {
    // As skarnet's: a tally that cannot be read is warned about, and the program runs.
    const why = 'describe' in call.error ? call.error.describe() : call.error.message;
    writeErr(`s6-permafailon: warning: unable to read the death tally of ${process.cwd()}: ${why}\n`);
    return goOn;
  }
  const [service] = (call.result as { services: { deaths: Death[] }[] }).services;
  const deaths = service?.deaths ?? [];
  const since = now - seconds * 1000;
  let matches = 0;
  for (const death of deaths) {
    if (death.at < since) continue;
    const signal = death.signal === null ? 0 : signalNumber(death.signal);
    // A death by signal counts as 128 + the signal for the exit codes, as in s6's death tally.
    const code = signal === 0 ? (death.code ?? 0) : 128 + signal;
    if (!((signal !== 0 && list.signals.has(signal)) || list.codes.has(code))) continue;
    if (++matches >= needed) {
      const event = signal === 0 ? `exit code ${code}` : `signal ${death.signal ?? signal}`;
      writeErr(`s6-permafailon: info: permanent failure: ${needed} deaths matching ${listText} in the last ${seconds} seconds (the last: ${event}); the service will not be restarted\n`);
      return { exit: PERMANENT_FAILURE };
    }
  }
  return goOn;
}
