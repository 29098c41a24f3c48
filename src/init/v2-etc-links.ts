import { mkdirSync, readlinkSync, statSync, symlinkSync } from 'node:fs';
import { basename, join } from 'node:path';

import { errnoCode } from '../errors.js';
import type { Script } from '../config/legacy.js';
import type { Reporter } from '../log/reporter.js';
import { V2_USER_DIRS } from './v2-permissions.js';

/**
 * v2's /var/run/s6/etc: from 1.18 on, s6-overlay's stage 2 made the image's fix-attrs.d,
 * cont-init.d, cont-finish.d and services.d available there (links to /etc's, or copies with
 * S6_READ_ONLY_ROOT=1, made by prepareV2Scripts) and ran them from there, so v2-era scripts
 * change services through it: `s6-rmrf /var/run/s6/etc/services.d/nodejs/down` enables one
 * before services.d starts. Linked in every image (v3's scripts never look there), unless the
 * copies are there already.
 */
export function linkV2UserDirs(etcDir: string, s6Dir: string, reporter: Reporter): void {
  const available = join(s6Dir, 'etc');
  if (etcDir === available) return;
  for (const dir of V2_USER_DIRS) {
    const source = join(etcDir, dir);
    const link = join(available, dir);
    try {
      mkdirSync(available, { recursive: true, mode: 0o755 });
      symlinkSync(source, link);
    } catch (error) {
      // A /run kept from the last start (docker restart without a tmpfs) has them already.
      if (errnoCode(error) === 'EEXIST' && linksTo(link, source)) continue;
      reporter.debug('steward', `cannot link ${link} to ${source}, as s6-overlay v2 made it available: ${errnoCode(error) ?? String(error)}`);
    }
  }
}

function linksTo(link: string, target: string): boolean {
  try {
    return readlinkSync(link) === target;
  } catch {
    return false;
  }
}

/**
 * The scripts of cont-init.d or cont-finish.d (`dir`) as s6-overlay v2 ran them: by their path
 * under /var/run/s6/etc, so that $0 is /var/run/s6/etc/cont-init.d/NAME. v2-era libraries tell a
 * cont-init script from a service by it (tiredofit's functions: `case "$(dirname "$0")"`). With a
 * runtime directory other than /run, the same path under it. A script whose path there is not
 * the same file (the link could not be made) keeps its own.
 */
export function asV2RanThem(scripts: readonly Script[], dir: 'cont-init.d' | 'cont-finish.d', runDir: string, s6Dir: string): Script[] {
  const v2Dir = join(runDir === '/run' ? '/var/run/s6' : s6Dir, 'etc', dir);
  return scripts.map((script) => {
    const there = join(v2Dir, basename(script.path));
    return sameFile(there, script.path) ? { ...script, path: there } : script;
  });
}

function sameFile(one: string, other: string): boolean {
  try {
    const [a, b] = [statSync(one), statSync(other)];
    return a.ino === b.ino && a.dev === b.dev;
  } catch {
    return false;
  }
}
