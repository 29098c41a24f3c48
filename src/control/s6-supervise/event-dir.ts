import { closeSync, constants, mkdirSync, openSync, readdirSync, rmSync, statSync, chmodSync, chownSync, writeSync } from 'node:fs';
import { join } from 'node:path';

import { errnoCode } from '../../errors.js';

/** The fifos s6's listeners (s6-svwait, s6-svlisten, s6-svc -w) create in a service's event/ directory. */
const LISTENER_PREFIX = 'ftrig1:@';

/**
 * Makes `dir` an s6 fifodir: setgid, sticky, group-writable for the supervisor's group
 * (03730), so a listener of that group may add its fifo and nobody may remove another's.
 */
export function makeEventDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const gid = process.getegid?.() ?? 0;
  if (statSync(dir).gid !== gid) chownSync(dir, -1, gid);
  chmodSync(dir, 0o3730);
}

/**
 * Writes `letters` to every listener's fifo, as s6-supervise announces an event. A
 * fifo nobody reads any more (its listener died) is removed; a full one is skipped:
 * a slow listener must never hold up the supervisor.
 */
export function notifyListeners(dir: string, letters: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(LISTENER_PREFIX)) continue;
    const path = join(dir, name);
    let fd: number;
    try {
      fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (error) {
      if (errnoCode(error) === 'ENXIO') rmSync(path, { force: true });
      continue;
    }
    try {
      writeSync(fd, letters);
    } catch (error) {
      if (errnoCode(error) === 'EPIPE') rmSync(path, { force: true });
    } finally {
      closeSync(fd);
    }
  }
}
