/**
 * TAI64N labels as s6 uses them: 2^62 + TAI seconds, then nanoseconds. TAI is 37 s
 * ahead of UTC (10 s + 27 leap seconds).
 */
const TAI_OFFSET = 0x4000000000000000n + 37n;

function parts(epochMs: number): { seconds: bigint; nanoseconds: number } {
  const wholeMs = Math.floor(epochMs);
  return {
    seconds: BigInt(Math.floor(wholeMs / 1000)) + TAI_OFFSET,
    nanoseconds: Math.min(999_999_999, Math.round((epochMs - Math.floor(wholeMs / 1000) * 1000) * 1_000_000)),
  };
}

/** The printed form: "@", the seconds in 16 hex digits and the nanoseconds in 8. */
export function tai64n(epochMs: number): string {
  const { seconds, nanoseconds } = parts(epochMs);
  return `@${seconds.toString(16).padStart(16, '0')}${nanoseconds.toString(16).padStart(8, '0')}`;
}

/** The packed form (12 bytes, big-endian), as in s6's status file. */
export function packTai64n(epochMs: number, into: Buffer, offset: number): void {
  const { seconds, nanoseconds } = parts(epochMs);
  into.writeBigUInt64BE(seconds, offset);
  into.writeUInt32BE(nanoseconds, offset + 8);
}
