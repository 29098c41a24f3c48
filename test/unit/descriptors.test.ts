import assert from 'node:assert/strict';
import { closeSync, constants, mkdtempSync, openSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { makeFifo, readAvailable } from '../../src/sys/ffi/descriptors.js';
import { removeTree } from '../helpers/tree.js';

describe('readAvailable', () => {
  it('reads what a non-blocking fifo holds, says -1 when it is empty and 0 at its end, and throws for neither', () => {
    const dir = mkdtempSync(join(tmpdir(), 'steward-descriptors-'));
    try {
      const path = join(dir, 'fifo');
      makeFifo(path, 0o600);
      const readFd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
      const writeFd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
      const buffer = Buffer.alloc(4);
      assert.equal(readAvailable(readFd, buffer), -1, 'empty, with a writer: EAGAIN');
      writeSync(writeFd, 'dxu!!');
      assert.equal(readAvailable(readFd, buffer), 4);
      assert.equal(buffer.toString('latin1'), 'dxu!');
      assert.equal(readAvailable(readFd, buffer), 1);
      closeSync(writeFd);
      assert.equal(readAvailable(readFd, buffer), 0, 'no writer left: the end');
      closeSync(readFd);
      assert.equal(readAvailable(readFd, buffer), -1, 'a closed descriptor');
    } finally {
      removeTree(dir);
    }
  });
});
