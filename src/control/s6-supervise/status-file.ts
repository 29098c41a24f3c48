import { packTai64n } from '../../util/tai64n.js';

/**
 * The two layouts of s6-supervise's supervise/status file: 35 bytes up to s6 2.12,
 * 43 from 2.13 on, which added the process group. A reader takes exactly its own
 * size, so Steward writes the one the image's s6 tools expect.
 */
export type StatusFormat = 35 | 43;

export interface SuperviseStatus {
  /** When the service last went up or down (epoch ms). */
  readonly stampMs: number;
  /** When it last became ready, or down and ready to start again. */
  readonly readyStampMs: number;
  /** The run process, or 0 when there is none. */
  readonly pid: number;
  readonly pgid: number;
  /** The raw wait status of the last exit: code << 8, or the signal number. */
  readonly waitStatus: number;
  readonly paused: boolean;
  readonly finishing: boolean;
  readonly wantUp: boolean;
  readonly ready: boolean;
}

const PAUSED = 1;
const FINISHING = 2;
const WANT_UP = 4;
const READY = 8;

export function encodeStatus(status: SuperviseStatus, format: StatusFormat): Buffer {
  const bytes = Buffer.alloc(format);
  packTai64n(status.stampMs, bytes, 0);
  packTai64n(status.readyStampMs, bytes, 12);
  bytes.writeBigUInt64BE(BigInt(status.pid), 24);
  let offset = 32;
  if (format === 43) {
    bytes.writeBigUInt64BE(BigInt(status.pgid), 32);
    offset = 40;
  }
  bytes.writeUInt16BE(status.waitStatus & 0xffff, offset);
  bytes[offset + 2] = (status.paused ? PAUSED : 0) | (status.finishing ? FINISHING : 0) | (status.wantUp ? WANT_UP : 0) | (status.ready ? READY : 0);
  return bytes;
}

/** s6's release number, as in /package/admin/s6-2.13.1.0, to the status layout its tools read. */
export function statusFormatOf(version: readonly number[]): StatusFormat {
  const [major = 0, minor = 0] = version;
  return major > 2 || (major === 2 && minor >= 13) ? 43 : 35;
}
