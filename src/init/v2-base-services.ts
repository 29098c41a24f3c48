import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import { errnoCode } from '../errors.js';
import type { Reporter } from '../log/reporter.js';
import { copyTree } from './runtime-dir.js';
import type { ServiceScanner } from './scan.js';

/** v1 and v2's catch-all logger: Steward has its own (S6_LOGGING). */
const REPLACED_BY_STEWARD = new Set(['s6-svscan-log']);

/**
 * s6-overlay v1 and v2's own services, in /etc/s6/services: s6-fdholderd, down unless an image
 * removes its down file. v2's stage 1 copied them into the scan directory, so s6-svscan
 * supervised them from the start, before cont-init.d: images that enable s6-fdholderd wait
 * for it there (`s6-svwait -U /var/run/s6/services/s6-fdholderd`) and store their log fifos
 * in it. The same here, in an image that keeps v2's files (its s6-fdholder-daemon with them).
 * Entries starting with a dot are s6-svscan's own.
 */
export function superviseV2BaseServices(etcDir: string, serviceDir: string, scanner: ServiceScanner, reporter: Reporter): void {
  const source = join(etcDir, 's6', 'services');
  let names: string[];
  try {
    names = readdirSync(source).filter((name) => !name.startsWith('.') && !REPLACED_BY_STEWARD.has(name));
  } catch {
    return;
  }
  let copied = 0;
  for (const name of names) {
    const live = join(serviceDir, name);
    if (existsSync(live)) continue;
    try {
      // As a services.d service is copied: a fifo left in the image is not.
      copyTree(join(source, name), live);
      copied++;
    } catch (error) {
      reporter.warn('steward', `cannot copy s6-overlay v2's service ${join(source, name)} to ${live}, where v2 supervised it from the start: ${errnoCode(error) ?? String(error)}`);
    }
  }
  if (copied === 0) return;
  for (const problem of scanner.scan(false).problems) reporter.warn('scan', problem);
}
