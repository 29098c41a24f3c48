import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** What s6-overlay v2 leaves in an image: its stage 2. v3 images do not have it. */
export const V2_OVERLAY_MARKER = '/etc/s6/init/init-stage2';

/** Whether the image was made for s6-overlay v2 (it keeps v2's files, whatever runs it now). */
export function isOverlayV2Image(marker = V2_OVERLAY_MARKER): boolean {
  return existsSync(marker);
}

/** The same, for the image's /etc at `etcDir` (STEWARD_ETC's, on a host). */
export function isOverlayV2Etc(etcDir: string): boolean {
  return isOverlayV2Image(join(etcDir, 's6', 'init', 'init-stage2'));
}
