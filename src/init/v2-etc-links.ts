import { mkdirSync, readlinkSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

import { errnoCode } from '../errors.js';
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
