import { existsSync } from 'node:fs';

/** What s6-overlay v2 leaves in an image: its stage 2. v3 images do not have it. */
export const V2_OVERLAY_MARKER = '/etc/s6/init/init-stage2';

/** Whether the image was made for s6-overlay v2 (it keeps v2's files, whatever runs it now). */
export function isOverlayV2Image(marker = V2_OVERLAY_MARKER): boolean {
  return existsSync(marker);
}
