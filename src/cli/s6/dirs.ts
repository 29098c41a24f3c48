import { existsSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

/** s6-overlay v2's scan directory, which v2-era scripts name (`s6-svscanctl -t /var/run/s6/services`). */
const V2_SCAN_DIRS = ['/var/run/s6/services', '/run/s6/services'];
/** Where the services are, as s6-overlay v3 (and Steward) put them. */
const SCAN_DIR = '/run/service';

/**
 * A directory named on the command line, with v2's scan directory read as /run/service when
 * it is not there: an image moved to Steward from v2, with s6-overlay's files removed, has no
 * link there (Steward makes one only for an image that keeps v2's stage 2), and its finish
 * scripts still stop the container with `s6-svscanctl -t /var/run/s6/services`.
 */
export function serviceDirArgument(dir: string): string {
  const absolute = resolve(dir);
  for (const v2 of V2_SCAN_DIRS) {
    if ((absolute === v2 || absolute.startsWith(`${v2}/`)) && !existsSync(v2) && existsSync(SCAN_DIR)) return `${SCAN_DIR}${absolute.slice(v2.length)}`;
  }
  return absolute;
}

/** Service directories as the server can match them: absolute, links resolved when they exist. */
export function absoluteDirs(dirs: readonly string[]): string[] {
  return dirs.map((dir) => {
    const absolute = serviceDirArgument(dir);
    try {
      return realpathSync(absolute);
    } catch {
      return absolute;
    }
  });
}

/** Why a service directory cannot be used, in the words of the system's error, or null when it is a directory. */
export function missingDirReason(dir: string): string | null {
  try {
    return statSync(serviceDirArgument(dir)).isDirectory() ? null : 'Not a directory';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'No such file or directory';
    if (code === 'ENOTDIR') return 'Not a directory';
    if (code === 'EACCES') return 'Permission denied';
    return code ?? 'cannot be read';
  }
}

/**
 * Whether `dir` names a service where Steward puts them (`/run/service/NAME`, the live copies
 * under /run/s6/legacy-services and /run/s6-rc/servicedirs, or NAME/log; under STEWARD_RUN
 * when set), however it is spelled: `../NAME` from a run script's directory, /var/run/service.
 * Such a directory may not be in place yet while Steward boots, where s6-overlay puts every
 * one in place before any starts: a wait for it is the server's to judge.
 */
export function inScanDir(dir: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const runDir = env['STEWARD_RUN'] ?? dirname(SCAN_DIR);
  const parents = [join(runDir, 'service'), join(runDir, 's6', 'legacy-services'), join(runDir, 's6-rc', 'servicedirs')].map(realOrAsIs);
  const absolute = serviceDirArgument(dir);
  const serviceDir = basename(absolute) === 'log' ? dirname(absolute) : absolute;
  return parents.includes(realOrAsIs(dirname(serviceDir)));
}

function realOrAsIs(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** The first of `dirs` that cannot be used, with why: s6's tools fail with 111 on it before anything else. */
export function firstMissingDir(dirs: readonly string[]): { dir: string; reason: string } | null {
  for (const dir of dirs) {
    const reason = missingDirReason(dir);
    if (reason !== null) return { dir, reason };
  }
  return null;
}
