import { closeSync, constants, openSync } from 'node:fs';

import { removeIfPresent } from '../../util/remove.js';
import { netModule } from '../../sys/builtins.js';
import { makeFifo, readAvailable } from '../../sys/ffi/descriptors.js';

export interface ControlFifo {
  /**
   * Hands what is in the fifo now to `onLetters` at once, rather than at the event loop's next
   * turn: letters a script wrote before it exited are heard before its exit is acted on.
   */
  drain(): void;
  close(): void;
}

/** Where drain() reads, shared by every fifo: each read is made a string before anything else runs. */
const drainChunk = Buffer.alloc(256);

/**
 * A control fifo as s6-supervise and s6-svscan keep one: a new fifo at `path`, read
 * without blocking, with a write end of our own held open so that writers come and go
 * without an end of file, and so that the old "is a supervisor listening" test (opening
 * it for writing) succeeds. Every byte read is handed to `onLetters`.
 */
export function openControlFifo(path: string, mode: number, onLetters: (letters: string) => void): ControlFifo {
  removeIfPresent(path);
  makeFifo(path, mode);
  const readFd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  let writeFd: number;
  try {
    writeFd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch (error) {
    closeSync(readFd);
    throw error;
  }
  const reader = new (netModule().Socket)({ fd: readFd, readable: true, writable: false });
  reader.setEncoding('latin1');
  reader.on('data', (chunk: string) => onLetters(chunk));
  // A read error ends this fifo, never the process.
  reader.on('error', () => reader.destroy());
  // Supervision keeps PID 1 alive, not a fifo nobody writes to.
  reader.unref();
  let closed = false;
  return {
    drain() {
      if (closed) return;
      for (;;) {
        // Non-blocking: -1 (EAGAIN) once it is empty.
        const count = readAvailable(readFd, drainChunk);
        if (count <= 0) return;
        onLetters(drainChunk.toString('latin1', 0, count));
      }
    },
    close() {
      if (closed) return;
      closed = true;
      reader.destroy();
      closeSync(writeFd);
    },
  };
}
