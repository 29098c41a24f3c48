import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';

import type { Action, WaitCondition } from '../../control/protocol.js';
import { actionsOfLetter } from '../../control/s6-letters.js';
import { callForS6, exitForError, fatal, S6_EXIT } from './call.js';
import { absoluteDirs, firstMissingDir } from './dirs.js';
import { getopt, UsageError } from './getopt.js';
import { underStewardInit } from '../../sys/proc.js';

/** s6-svlisten1's and s6-svwait's exit code when the time runs out. */
export const S6_WAIT_TIMED_OUT = 99;

const WAITS: Record<string, WaitCondition> = { u: 'up', U: 'ready', d: 'down', D: 'finished', r: 'restarted', R: 'restarted-ready' };

export const USAGE = 's6-svc [ -wu | -wU | -wd | -wD | -wr | -wR ] [ -T timeout ] [ -s signal | -abqhkti12pcyrlPCK ] [ -oduDUxOQ ] servicedir...';

/** s6-svc: the letters keep their order, and the optional wait starts before they are applied. */
export async function s6svc(args: readonly string[]): Promise<number> {
  const { options, operands } = getopt(args, 'w:T:s:abqhkti12pcyrlPCKoduDUxOQX');
  if (operands.length === 0) throw new UsageError('no service directory');
  const actions: Action[] = [];
  /** The letters as s6's s6-svc writes them to supervise/control (none for -s, whose encoding depends on s6's release). */
  let letters: string | undefined = '';
  let wait: WaitCondition | null = null;
  let timeoutMs = 0;
  for (const { letter, value } of options) {
    if (letter === 'w') {
      const condition = WAITS[value ?? ''];
      if (condition === undefined) throw new UsageError(`-w takes one of u, U, d, D, r, R`);
      wait = condition;
    } else if (letter === 'T') {
      if (!/^\d+$/.test(value ?? '')) throw new UsageError('-T takes a number of milliseconds');
      timeoutMs = Number(value);
    } else if (letter === 's') {
      actions.push(`signal:${value ?? ''}`);
      letters = undefined;
    } else {
      actions.push(...(actionsOfLetter(letter) ?? []));
      if (letters !== undefined) letters += letter;
    }
  }
  const missing = firstMissingDir(operands);
  if (missing !== null) {
    fatal('s6-svc', `unable to control ${missing.dir}: ${missing.reason}`);
    return S6_EXIT.system;
  }
  // Nothing to do (-x, which Steward's supervisors need not obey, or no letter): the directories
  // are still checked, as skarnet's s6-svc writes its letters to a supervisor that must be there.
  const request =
    actions.length === 0
      ? wait === null
        ? { cmd: 'status', dirs: absoluteDirs(operands) }
        : { cmd: 'wait', dirs: absoluteDirs(operands), condition: wait, timeoutMs, ownProcess: underStewardInit() }
      : { cmd: 'control', dirs: absoluteDirs(operands), actions, wait, timeoutMs };
  const call = await callForS6('s6-svc', request);
  if (call.ok) return 0;
  // As skarnet's: whoever may write a service's supervise/control controls it (an image gives a
  // group of its own that right), where the control socket is root's.
  if (call.error.code === 'ERR_PERMISSION' && wait === null && letters !== undefined && writeControlFifos(absoluteDirs(operands), letters)) return 0;
  if (call.error.code === 'ERR_TIMEOUT') {
    // s6-svc waits through s6-svlisten1, whose timeout is 99.
    fatal('s6-svc', 'timed out');
    return S6_WAIT_TIMED_OUT;
  }
  if (call.error.code === 'ERR_PERMANENT_FAILURE') {
    // s6-svlisten1's: 1, the one service it listened to failed for good.
    fatal('s6-svc', call.error.message);
    return 1;
  }
  if (call.error.code === 'ERR_UNKNOWN_SERVICE') {
    // A directory no supervisor watches: s6-svc exits 100, and with a wait (s6-svlisten1
    // failing to read its status) 111.
    fatal('s6-svc', `unable to control ${call.error.names?.join(', ') ?? operands.join(', ')}: supervisor not listening. ${call.error.hint ?? ''}`.trim());
    return wait === null ? S6_EXIT.usage : S6_EXIT.system;
  }
  return exitForError('s6-svc', call.error);
}

/** Writes the letters to each directory's supervise/control; false, with nothing written, unless every one can take them. */
function writeControlFifos(dirs: readonly string[], letters: string): boolean {
  const opened: number[] = [];
  try {
    // O_NONBLOCK: ENXIO when no supervisor reads it, rather than wait for one.
    for (const dir of dirs) opened.push(openSync(join(dir, 'supervise', 'control'), constants.O_WRONLY | constants.O_NONBLOCK));
    for (const fd of opened) writeSync(fd, letters, null, 'latin1');
    return true;
  } catch {
    return false;
  } finally {
    for (const fd of opened) closeSync(fd);
  }
}

export { S6_EXIT };
