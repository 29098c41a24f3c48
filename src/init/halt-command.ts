import { join } from 'node:path';

import { packageRoot } from '../util/package-root.js';

/**
 * The body of /run/s6/basedir/bin/halt (and poweroff, reboot): ask Steward through the
 * control socket, so it works even when S6_CMD_RECEIVE_SIGNALS hands signals to the CMD;
 * SIGUSR2 is the fallback when the socket cannot be reached.
 */
export function haltCommand(): (stewardPid: number) => string {
  const cli = join(packageRoot(), 'bin', 'steward');
  // 7: the container is stopping already (finish scripts of Frigate's call halt at every exit),
  // which is what halt asks for: no signal then, and no line about it.
  // Steward's Node, not the application's: without its NODE_OPTIONS (an --inspect would fail it).
  return (stewardPid) => `NODE_OPTIONS= "${process.execPath}" "${cli}" halt >/dev/null 2>&1; status=$?; [ "$status" -eq 0 ] || [ "$status" -eq 7 ] || exec kill -USR2 ${stewardPid}`;
}
