/**
 * TAI64N labels as s6 prints them: "@", then 2^62 + TAI seconds in 16 hex digits and
 * nanoseconds in 8. TAI is 37 s ahead of UTC (10 s + 27 leap seconds).
 */
const TAI_OFFSET = 0x4000000000000000n + 37n;

export function tai64n(epochMs: number): string {
  const seconds = BigInt(Math.floor(epochMs / 1000)) + TAI_OFFSET;
  const nanoseconds = Math.round((epochMs % 1000) * 1_000_000);
  return `@${seconds.toString(16).padStart(16, '0')}${nanoseconds.toString(16).padStart(8, '0')}`;
}
