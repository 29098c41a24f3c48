import { accessSync, constants, existsSync } from 'node:fs';
import { join } from 'node:path';

import type { Settings } from '../config/settings.js';
import { errorMessage } from '../errors.js';
import { CatchAllLog, parseLoggingScript } from '../log/catch-all.js';
import type { Reporter } from '../log/reporter.js';
import { lookupUser } from '../sys/accounts.js';
import { mountOf } from '../sys/mounts.js';

/**
 * S6_LOGGING 1 and 2: the catch-all log in /run/uncaught-logs. Steward's own lines go
 * there too; with 1 everything is also copied to the container's stderr. A failure
 * to set it up is reported and output stays on the container's stdout and stderr.
 */
export function startCatchAll(settings: Settings, reporter: Reporter, env: NodeJS.ProcessEnv): CatchAllLog | undefined {
  if (settings.logging === 0) return undefined;
  const dir = join(settings.runDir, 'uncaught-logs');
  let owner: { uid: number; gid: number } | null = null;
  if (settings.catchallUser !== null && process.getuid?.() === 0) {
    owner = lookupUser(settings.catchallUser) ?? null;
    if (owner === null) reporter.warn('steward', `S6_CATCHALL_USER=${settings.catchallUser} is not a user here; the catch-all log stays owned by root`);
  }
  try {
    const log = new CatchAllLog({ dir, copyToStderr: settings.logging === 1, owner, ...parseLoggingScript(env['S6_LOGGING_SCRIPT']) });
    log.start();
    reporter.redirect((text) => log.writeOwn(text));
    return log;
  } catch (error) {
    reporter.error('steward', `cannot write the catch-all log in ${dir}: ${errorMessage(error)}; output stays on the container's stdout and stderr`);
    return undefined;
  }
}

/**
 * S6_READ_ONLY_ROOT: /run must be writable even when / is not. If it is not and we are
 * root, a tmpfs is mounted on it, as s6-overlay's preinit does. Anything else is left
 * to prepareRuntimeDir, which says what to do.
 */
export async function prepareWritableRun(settings: Settings, reporter: Reporter): Promise<void> {
  if (!settings.readOnlyRoot) return;
  const dir = settings.runDir;
  if (isWritableDir(dir)) return;
  if (process.getuid?.() !== 0) {
    reporter.warn('steward', `S6_READ_ONLY_ROOT=1: ${dir} is not writable, and only root can mount a tmpfs there; give the container one (docker run --tmpfs /run:exec, or an emptyDir in Kubernetes)`);
    return;
  }
  if (!existsSync(dir)) {
    reporter.warn('steward', `S6_READ_ONLY_ROOT=1: ${dir} is missing, and a read-only root cannot make it; add it to the image (RUN mkdir /run)`);
    return;
  }
  reporter.info('steward', `read-only root: mounting a tmpfs on ${dir}`);
  const { spawnSync } = await import('node:child_process');
  const result = spawnSync('mount', ['-t', 'tmpfs', '-o', 'mode=0755,exec', 'tmpfs', dir], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
  if (result.status !== 0) {
    // util-linux's mount ends with a hint about dmesg: the error is its first line.
    const why = mountError(result.stderr ?? '');
    reporter.warn('steward', `could not mount a tmpfs on ${dir}${why === '' ? '' : ` (${why})`}: mounting needs CAP_SYS_ADMIN, which Docker does not give by default; give the container one instead (docker run --tmpfs /run:exec, or an emptyDir in Kubernetes)`);
  }
}

function isWritableDir(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Services run from the runtime directory (/run/s6/legacy-services, /run/s6-rc/servicedirs):
 * on a noexec mount, such as Docker's --tmpfs /run by default, none could start. As root the
 * mount is made exec, as s6-overlay's preinit does; otherwise the reason and the fix are said,
 * and returned: the boot stops if the tree has services (see boot.ts).
 */
export async function ensureExecutableRun(settings: Settings, reporter: Reporter): Promise<string | undefined> {
  const mount = mountOf(settings.runDir);
  if (mount === undefined || !mount.options.includes('noexec')) return undefined;
  if (process.getuid?.() === 0) {
    const { spawnSync } = await import('node:child_process');
    const result = spawnSync('mount', ['-o', 'remount,exec', mount.mountPoint], { stdio: 'ignore', timeout: 10_000 });
    if (result.status === 0 && mountOf(settings.runDir)?.options.includes('noexec') === false) {
      reporter.info('steward', `${mount.mountPoint} was mounted noexec: remounted it exec, so services can run from ${settings.runDir}`);
      return undefined;
    }
  }
  const problem = `${settings.runDir} is on a noexec mount (${mount.mountPoint}): no service can run from it. Mount it with exec: docker run --tmpfs /run:exec (Docker's --tmpfs is noexec by default), or an emptyDir in Kubernetes`;
  reporter.error('steward', problem);
  return problem;
}
/** What mount said went wrong: its first line, without the "mount: " prefix and the hints after it. */
export function mountError(stderr: string): string {
  const first = stderr.split('\n').map((line) => line.trim()).find((line) => line !== '' && !/dmesg\(1\)/.test(line)) ?? '';
  return first.replace(/^mount: /, '').replace(/\.$/, '');
}
