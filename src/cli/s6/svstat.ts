import type { StatusRecord } from '../../control/status.js';
import { signalNumber } from '../../sys/signals.js';
import { callForS6, exitForError } from './call.js';
import { absoluteDirs } from './dirs.js';
import { getopt, UsageError } from './getopt.js';
import { tai64n } from '../../util/tai64n.js';
import { writeErr, writeOut } from '../output.js';

export const USAGE = 's6-svstat [ -uwNrpgest | -o up,wantedup,normallyup,ready,paused,pid,pgid,exitcode,signal,signum,updownsince,readysince,updownfor,readyfor ] [ -n ] servicedir';

const FIELDS = ['up', 'wantedup', 'normallyup', 'ready', 'paused', 'pid', 'pgid', 'exitcode', 'signal', 'signum', 'updownsince', 'readysince', 'updownfor', 'readyfor'];
const LETTER_FIELDS: Record<string, string> = { u: 'up', w: 'wantedup', N: 'normallyup', r: 'ready', p: 'pid', g: 'pgid', e: 'exitcode', s: 'signal', t: 'updownfor' };

/** s6-svstat: the human line, or the chosen fields separated by spaces. */
export async function s6svstat(args: readonly string[], now = Date.now()): Promise<number> {
  const { options, operands } = getopt(args, 'uwNrpgesto:n');
  // More directories are ignored, as skarnet's s6-svstat reads the first alone.
  if (operands.length === 0) throw new UsageError('give a service directory');
  const dirs = operands.slice(0, 1);
  let fields: string[] = [];
  let numeric = false;
  for (const { letter, value } of options) {
    if (letter === 'n') numeric = true;
    else if (letter === 'o') fields = (value ?? '').split(',');
    else fields.push(LETTER_FIELDS[letter] ?? letter);
  }
  const unknown = fields.find((field) => !FIELDS.includes(field));
  if (unknown !== undefined) throw new UsageError(`unknown field ${unknown}`);
  const call = await callForS6('s6-svstat', { cmd: 'status', dirs: absoluteDirs(dirs) });
  if (!call.ok) return call.error.code === 'ERR_UNKNOWN_SERVICE' || call.error.code === 'ERR_CONTROL_UNAVAILABLE' ? notSupervised(operands[0] ?? '') : exitForError('s6-svstat', call.error);
  const record = (call.result as { services: StatusRecord[] }).services[0];
  if (record === undefined) return notSupervised(operands[0] ?? '');
  // -n changes the human line alone: the signal field is a name, signum the number.
  writeOut(`${fields.length === 0 ? humanLine(record, now, numeric) : fields.map((field) => fieldValue(field, record, now)).join(' ')}\n`);
  return 0;
}

function notSupervised(dir: string): number {
  writeErr(`s6-svstat: fatal: unable to read status for ${dir}: s6-supervise not running\n`);
  return 1;
}

function isUp(record: StatusRecord): boolean {
  return record.pid !== null;
}

/** When the service last went up or down: the current run's start, or the last death. */
function upDownSince(record: StatusRecord, now: number): number {
  if (record.uptimeMs !== null) return now - record.uptimeMs;
  return record.lastExit?.at ?? record.since;
}

function readySince(record: StatusRecord): number | null {
  if (isUp(record)) return record.readySince ?? (record.ready ? record.since : null);
  // Down: "ready" means the finish script is done, as s6 reports it.
  return record.state === 'down' || record.state === 'failed' || record.state === 'backoff' ? record.since : null;
}

function seconds(from: number, now: number): number {
  return Math.max(0, Math.floor((now - from) / 1000));
}

function signalText(signal: string, numeric: boolean): string {
  return numeric ? String(signalNumber(signal as NodeJS.Signals)) : signal;
}

export function humanLine(record: StatusRecord, now: number, numeric: boolean): string {
  const parts: string[] = [];
  const since = seconds(upDownSince(record, now), now);
  if (isUp(record)) {
    parts.push(`up (pid ${record.pid} pgid ${record.pid}) ${since} seconds`);
    if (!record.normallyUp) parts.push('normally down');
    if (record.paused) parts.push('paused');
    if (!record.wantUp) parts.push('want down');
  } else {
    const exit = record.lastExit;
    // A service never started reads as exit code 0, as s6-supervise's fresh status file does.
    const why = exit !== null && exit.signal !== null ? `signal ${signalText(exit.signal, numeric)}` : `exitcode ${exit?.code ?? 0}`;
    parts.push(`down (${why}) ${since} seconds`);
    if (record.normallyUp) parts.push('normally up');
    if (record.wantUp) parts.push('want up');
  }
  const ready = readySince(record);
  // s6 reports readiness only for services that notify it (a notification-fd file).
  if (ready !== null && (!isUp(record) || (record.hasReadiness && record.ready))) parts.push(`ready ${seconds(ready, now)} seconds`);
  return parts.join(', ');
}

function fieldValue(field: string, record: StatusRecord, now: number): string {
  const exit = record.lastExit;
  const ready = readySince(record);
  switch (field) {
    case 'up':
      return String(isUp(record));
    case 'wantedup':
      return String(record.wantUp);
    case 'normallyup':
      return String(record.normallyUp);
    case 'ready':
      return String(isUp(record) && record.hasReadiness && record.ready);
    case 'paused':
      return String(isUp(record) && record.paused);
    case 'pid':
    case 'pgid':
      return String(record.pid ?? -1);
    case 'exitcode':
      return String(isUp(record) || (exit !== null && exit.signal !== null) ? -1 : (exit?.code ?? 0));
    case 'signal':
      return !isUp(record) && exit?.signal != null ? exit.signal : 'NA';
    case 'signum':
      return !isUp(record) && exit?.signal != null ? String(signalNumber(exit.signal as NodeJS.Signals)) : '-1';
    case 'updownsince':
      return tai64n(upDownSince(record, now));
    case 'readysince':
      return ready === null ? tai64n(0) : tai64n(ready);
    case 'updownfor':
      return String(seconds(upDownSince(record, now), now));
    case 'readyfor':
      return ready === null ? '0' : String(seconds(ready, now));
    default:
      return '';
  }
}
