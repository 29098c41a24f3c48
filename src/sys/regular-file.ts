import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';

import { errnoCode } from '../errors.js';

/** What is read at first when the size is not known (a /proc file says 0). */
const INITIAL_READ = 4096;

/**
 * The small files an image gives Steward to read (an s6-rc `type` or `up`, a `notification-fd`,
 * a fix-attrs.d list, the exit code file) are read with this rather than readFileSync: a FIFO
 * left there would block PID 1 for good in open() or read() (no service started, SIGTERM never
 * handled), and a link to /dev/zero would fill its memory until it died. Opened without
 * blocking, such a file is refused at once, with what it is; so is one too large to be a
 * setting.
 */
export function readRegularFile(path: string, maxBytes: number): Buffer {
  // O_NONBLOCK: a FIFO opens at once instead of waiting for a writer; no effect on a regular file.
  // (libuv opens every file close-on-exec.)
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw notRegular(path, stat);
    if (stat.size > maxBytes) throw tooLarge(path, maxBytes);
    // Read to the end, not to the size fstat gave: /proc and /sys files say 0, and a file may
    // have grown meanwhile. The buffer grows as needed, to one byte past the limit at most.
    let buffer = Buffer.alloc(Math.min(Math.max(stat.size + 1, INITIAL_READ), maxBytes + 1));
    let length = 0;
    for (;;) {
      if (length === buffer.length) {
        if (length > maxBytes) throw tooLarge(path, maxBytes);
        const larger = Buffer.alloc(Math.min(buffer.length * 2, maxBytes + 1));
        buffer.copy(larger, 0, 0, length);
        buffer = larger;
      }
      const read = readSync(fd, buffer, length, buffer.length - length, null);
      if (read === 0) break;
      length += read;
    }
    return buffer.subarray(0, length);
  } finally {
    closeSync(fd);
  }
}

/** Why readRegularFile refused a file; `code` is ENOTREG or EFBIG, `message` says it in words. */
export interface RefusedFileError extends NodeJS.ErrnoException {
  readonly code: 'ENOTREG' | 'EFBIG';
}

/** Why a file could not be read, in words: readRegularFile's refusal, else the errno's name. */
export function whyUnreadable(error: unknown): string {
  if (isRefusedFile(error)) return error.message;
  return errnoCode(error) ?? String(error);
}

function isRefusedFile(error: unknown): error is RefusedFileError {
  return error instanceof Error && 'code' in error && (error.code === 'ENOTREG' || error.code === 'EFBIG') && 'refused' in error;
}

function notRegular(path: string, stat: Stats): RefusedFileError {
  return Object.assign(new Error(`it is ${kindOf(stat)}, not a regular file`), { code: 'ENOTREG' as const, path, refused: true });
}

function tooLarge(path: string, maxBytes: number): RefusedFileError {
  return Object.assign(new Error(`it is larger than ${maxBytes} bytes, more than a setting or script of this kind holds`), { code: 'EFBIG' as const, path, refused: true });
}

function kindOf(stat: Stats): string {
  if (stat.isFIFO()) return 'a FIFO (named pipe)';
  if (stat.isSocket()) return 'a socket';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  if (stat.isDirectory()) return 'a directory';
  return 'not a file';
}
