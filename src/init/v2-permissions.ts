import { chmodSync, chownSync, cpSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { errnoCode } from '../errors.js';
import type { Settings } from '../config/settings.js';
import type { Reporter } from '../log/reporter.js';
import { expandGlob } from '../sys/glob.js';

/**
 * At every boot, before fix-attrs.d, s6-overlay v2 gave the image's scripts to root with mode
 * 0755 ("ensuring user provided files have correct perms"), and fix-attrs.d's files 0644. Images
 * made for it may ship scripts without the x bit (a repository that never had it, an add-on
 * copied from Windows); v3 dropped this, so it is done for v2 images only, before the scripts
 * are read. Not recursive, and `*` matches no dot-file, as in v2.
 */
const V2_MODES: readonly { readonly pattern: string; readonly mode: number }[] = [
  { pattern: 'fix-attrs.d/*', mode: 0o644 },
  { pattern: 'cont-init.d/*', mode: 0o755 },
  { pattern: 'cont-finish.d/*', mode: 0o755 },
  { pattern: 'services.d/*/run', mode: 0o755 },
  { pattern: 'services.d/*/finish', mode: 0o755 },
  { pattern: 'services.d/*/log/run', mode: 0o755 },
  { pattern: 'services.d/*/log/finish', mode: 0o755 },
  { pattern: 'services.d/*/data/check', mode: 0o755 },
];
/** Directories matched by the patterns (a fix-attrs.d or cont-init.d entry that is one) get this mode. */
const V2_DIRECTORY_MODE = 0o755;

export interface PermissionChange {
  readonly path: string;
  readonly mode: number;
  /** Whether it lacked the x bit that mode gives: without the change, it could not run. */
  readonly makesExecutable: boolean;
  readonly chown: boolean;
}

/** What v2's permission fix would change under `etcDir` now (root's ownership only when running as root). */
export function v2PermissionChanges(etcDir: string): PermissionChange[] {
  const asRoot = process.getuid?.() === 0;
  const changes: PermissionChange[] = [];
  for (const { pattern, mode: fileMode } of V2_MODES) {
    for (const path of expandGlob(join(etcDir, pattern))) {
      let stat;
      try {
        stat = statSync(path);
      } catch {
        continue; // a pattern that matched nothing comes back as it is
      }
      const mode = stat.isDirectory() ? V2_DIRECTORY_MODE : fileMode;
      const chown = asRoot && (stat.uid !== 0 || stat.gid !== 0);
      if ((stat.mode & 0o7777) === mode && !chown) continue;
      changes.push({ path, mode, makesExecutable: !stat.isDirectory() && (mode & 0o111) !== 0 && (stat.mode & 0o111) === 0, chown });
    }
  }
  return changes;
}

/** Applies v2's permission fix; a change that cannot be made is said when the script then cannot run. */
export function applyV2Permissions(etcDir: string, reporter: Reporter): void {
  const madeExecutable: string[] = [];
  for (const change of v2PermissionChanges(etcDir)) {
    try {
      // chown first: it clears set-id bits, which the mode then sets as v2 left them.
      if (change.chown) chownSync(change.path, 0, 0);
      chmodSync(change.path, change.mode);
      if (change.makesExecutable) madeExecutable.push(change.path);
    } catch (error) {
      const message = `cannot give ${change.path} mode ${change.mode.toString(8).padStart(4, '0')}, as s6-overlay v2 did at boot: ${errnoCode(error) ?? String(error)}`;
      if (change.makesExecutable) reporter.warn('fix-attrs', `${message}; it cannot run. Make it executable in the image (RUN chmod +x ${change.path})`);
      else reporter.debug('fix-attrs', message);
    }
  }
  if (madeExecutable.length > 0) {
    reporter.info('fix-attrs', `made executable, as s6-overlay v2 does at boot (v3 does not: RUN chmod +x them in the image): ${madeExecutable.join(', ')}`);
  }
}

/** The directories v2 made available in /var/run/s6/etc, and whose scripts' modes it fixed. */
export const V2_USER_DIRS = ['fix-attrs.d', 'cont-init.d', 'cont-finish.d', 'services.d'];

/**
 * v2's permission fix, where v2 made it: in place (v2 linked /var/run/s6/etc to /etc's
 * directories, and changed the files through the links), or, with S6_READ_ONLY_ROOT=1, on
 * copies in /var/run/s6/etc, which are then the ones read and run. A copy is made only when a
 * script needs the fix: the rest of the time the image's files are read where they are.
 * Returns the settings to read the legacy directories with.
 */
export function prepareV2Scripts(settings: Settings, s6Dir: string, reporter: Reporter): Settings {
  if (!settings.readOnlyRoot) {
    applyV2Permissions(settings.etcDir, reporter);
    return settings;
  }
  if (!v2PermissionChanges(settings.etcDir).some((change) => change.makesExecutable)) return settings;
  const copy = join(s6Dir, 'etc');
  try {
    for (const dir of V2_USER_DIRS) {
      const source = join(settings.etcDir, dir);
      if (existsSync(source)) cpSync(source, join(copy, dir), { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
    }
  } catch (error) {
    reporter.warn('fix-attrs', `cannot copy the image's scripts to ${copy} to make them executable there, as s6-overlay v2 does with S6_READ_ONLY_ROOT=1: ${errnoCode(error) ?? String(error)}; they are read from ${settings.etcDir}`);
    return settings;
  }
  applyV2Permissions(copy, reporter);
  return { ...settings, legacyEtcDir: copy };
}
