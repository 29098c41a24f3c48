import { realpathSync } from 'node:fs';
import { basename } from 'node:path';

/** Whether each program asked about is BusyBox: looked at once each. */
const known = new Map<string, boolean>();

/**
 * Whether `program` is BusyBox, as Alpine's sh, env and the rest are (links to one binary that
 * picks its applet from the name it is run by, and whose applets lack GNU's options).
 */
export function isBusyBox(program: string): boolean {
  let found = known.get(program);
  if (found === undefined) {
    try {
      found = basename(realpathSync(program)).startsWith('busybox');
    } catch {
      found = false;
    }
    known.set(program, found);
  }
  return found;
}
