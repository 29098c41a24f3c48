import { existsSync, lstatSync, realpathSync, symlinkSync } from 'node:fs';
import { dirname } from 'node:path';

import { errnoCode } from '../errors.js';
import type { Reporter } from '../log/reporter.js';
import { mountPointsUnder } from '../sys/mounts.js';
import { removeIfPresent } from '../util/remove.js';

/**
 * s6-overlay makes /var/run a link to /run at every boot, and images count on it: scripts
 * write /var/run/s6/container_environment/NAME, and an init script that replaced the link by a
 * directory (to route a socket elsewhere) expects the next boot to put it back. Done the same
 * way here, except that a /var/run holding a mount (a bind-mounted docker.sock, a volume) is
 * left alone and said so: removing it would delete what the mount shows.
 */
export function ensureVarRunLink(reporter: Reporter, paths: { varRun: string; run: string; mountinfo?: string } = { varRun: '/var/run', run: '/run' }): void {
  const { varRun, run } = paths;
  let isLink: boolean;
  try {
    isLink = lstatSync(varRun).isSymbolicLink();
  } catch (error) {
    // No /var/run: make the link when /var is there, as s6-overlay's preinit does; no /var, nothing to do.
    if (errnoCode(error) !== 'ENOENT' || !existsSync(dirname(varRun))) return;
    isLink = false;
  }
  if (isLink && resolvesTo(varRun, run)) return;
  const mounts = isLink ? [] : mountPointsUnder(varRun, paths.mountinfo);
  const fix = `make it one in the image: RUN rm -rf ${varRun} && ln -s ${run} ${varRun}`;
  if (mounts === undefined || mounts.length > 0) {
    const why = mounts === undefined ? '/proc cannot tell whether something is mounted there' : `${mounts.join(', ')} ${mounts.length > 1 ? 'are mounts' : 'is a mount'}`;
    reporter.warn('steward', `${varRun} is not a link to ${run}, and it is left as it is (${why}); scripts that write under ${varRun}/s6 will not reach ${run}/s6. Mount under ${run} instead, or ${fix}`);
    return;
  }
  reporter.info('steward', `${varRun} is not a link to ${run}: making it one, as s6-overlay does at every boot`);
  try {
    removeIfPresent(varRun);
    symlinkSync(run, varRun);
  } catch (error) {
    reporter.warn('steward', `cannot make ${varRun} a link to ${run} (${errnoCode(error) ?? String(error)}); scripts that write under ${varRun}/s6 will not reach ${run}/s6. Please ${fix}`);
  }
}

function resolvesTo(link: string, target: string): boolean {
  try {
    return realpathSync(link) === realpathSync(target);
  } catch {
    return false;
  }
}
