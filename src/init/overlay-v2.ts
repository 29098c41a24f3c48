import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** What s6-overlay v2 leaves in an image: its stage 2. v3 images do not have it. */
export const V2_OVERLAY_MARKER = '/etc/s6/init/init-stage2';

/** Whether the image was made for s6-overlay v2 (it keeps v2's files, whatever runs it now). */
export function isOverlayV2Image(marker = V2_OVERLAY_MARKER): boolean {
  return existsSync(marker);
}

/** Where s6-overlay v3 keeps its files: an image that has either was updated to v3. */
const V3_OVERLAY_SIGNS = ['/package/admin/s6-overlay'];

/**
 * The same, for the image's /etc at `etcDir` (STEWARD_ETC's, on a host), unless the image was
 * updated to v3 over a v2 base that left v2's files: v3's /etc/s6-overlay or its package
 * directory say so, and its scripts expect v3's arguments and environment.
 */
export function isOverlayV2Etc(etcDir: string, v3Signs: readonly string[] = V3_OVERLAY_SIGNS): boolean {
  if (!isOverlayV2Image(join(etcDir, 's6', 'init', 'init-stage2'))) return false;
  return ![join(etcDir, 's6-overlay'), ...v3Signs].some((path) => existsSync(path));
}
