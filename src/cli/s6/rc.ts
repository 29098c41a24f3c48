import { callForS6, exitForError, fatal } from './call.js';
import { getopt } from './getopt.js';
import { writeOut } from '../output.js';

export const USAGE = 's6-rc [ -l live ] [ -v verbosity ] [ -t timeout ] [ -u | -d | -D ] [ -a ] [ -p ] [ -n dryrunthrottle ] help|list|listall|change|start|stop [ servicenames... ]';

/** s6-rc's exit codes: 1 a transition failed, 2 timed out, 3 unknown name. */
const RC_EXIT = { failed: 1, timeout: 2, unknownName: 3 } as const;

/** s6-rc over Steward's services: change (start, stop), list, listall. */
export async function s6rc(args: readonly string[]): Promise<number> {
  const { options, operands } = getopt(args, 'l:v:t:udDapn:bE');
  const [subcommand = 'help', ...names] = operands;
  let direction: 'up' | 'down' = 'up';
  let timeoutMs = 0;
  let all = false;
  for (const { letter, value } of options) {
    if (letter === 'u') direction = 'up';
    else if (letter === 'd' || letter === 'D') direction = 'down';
    else if (letter === 'a') all = true;
    else if (letter === 't') timeoutMs = /^\d+$/.test(value ?? '') ? Number(value) : 0;
  }
  switch (subcommand) {
    case 'help':
      writeOut(`${USAGE}\n`);
      return 0;
    case 'list':
      return list(names, all, false);
    case 'listall':
      return list(names, false, true, direction);
    case 'start':
      return change('up', names, timeoutMs);
    case 'stop':
      return change('down', names, timeoutMs);
    case 'change':
      return change(direction, names, timeoutMs);
    default:
      fatal('s6-rc', `unknown subcommand ${subcommand}`);
      return 100;
  }
}

async function list(names: readonly string[] | null, activeOnly: boolean, all: boolean, direction: 'up' | 'down' = 'up'): Promise<number> {
  const call = await callForS6('s6-rc', all ? { cmd: 'rc', op: 'listall', direction, names: names ?? [] } : { cmd: 'rc', op: 'list', names: names ?? [], active: activeOnly });
  if (!call.ok) return call.error.code === 'ERR_UNKNOWN_SERVICE' ? unknownName(call.error.message) : exitForError('s6-rc', call.error);
  for (const name of (call.result as { names: string[] }).names) writeOut(`${name}\n`);
  return 0;
}

async function change(direction: 'up' | 'down', names: readonly string[], timeoutMs: number): Promise<number> {
  if (names.length === 0) return 0;
  const call = await callForS6('s6-rc', { cmd: 'rc', op: 'change', direction, names, timeoutMs });
  if (call.ok) return 0;
  switch (call.error.code) {
    case 'ERR_UNKNOWN_SERVICE':
      return unknownName(call.error.message);
    case 'ERR_TIMEOUT':
      fatal('s6-rc', 'timed out');
      return RC_EXIT.timeout;
    case 'ERR_PERMANENT_FAILURE':
      fatal('s6-rc', call.error.message);
      return RC_EXIT.failed;
    default:
      return exitForError('s6-rc', call.error);
  }
}

function unknownName(message: string): number {
  fatal('s6-rc', message);
  return RC_EXIT.unknownName;
}
