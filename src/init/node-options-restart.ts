import { moveDescriptor } from '../sys/ffi/descriptors.js';
import { errnoName } from '../sys/ffi/library.js';
import { replaceProcess } from '../sys/ffi/process-image.js';
import { inheritedDescriptors } from '../sys/proc.js';
import { takeNodeOptionsBack, withNodeOptionsAside } from '../util/node-options.js';

/**
 * PID 1 started with the container's NODE_OPTIONS, which is the application's (an APM agent's
 * --require, an --inspect): Steward starts itself again in the same process (same pid, same
 * arguments), with it set aside, so that its own Node runs without it from then on. Not through
 * a shell in front of Node, which would drop the variables whose names are no shell names.
 * Returns only when there is nothing to do, or when the new start fails (Steward then goes on
 * as it is, and says why). The second start puts NODE_OPTIONS back for what Steward runs.
 */
export function startAgainWithoutNodeOptions(warn: (message: string) => void): void {
  if (takeNodeOptionsBack()) return;
  const options = process.env['NODE_OPTIONS'];
  if (options === undefined || options.trim() === '') return;
  const env = Object.entries(withNodeOptionsAside(process.env)).flatMap(([name, value]) => (value === undefined ? [] : [`${name}=${value}`]));
  // Node marked what it inherited close-on-exec: the new start needs its output, and the rest.
  for (const fd of inheritedDescriptors()) {
    try {
      moveDescriptor(fd, fd);
    } catch {
      // Not open: nothing to keep.
    }
  }
  const script = process.argv[1] ?? '';
  const errno = replaceProcess(process.execPath, [process.execPath, ...process.execArgv, script, ...process.argv.slice(2)], env);
  warn(`cannot start again without NODE_OPTIONS (${errnoName(errno)}): Steward's own Node runs with ${JSON.stringify(options)}, which is meant for the application`);
}
