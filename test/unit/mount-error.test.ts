import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { mountError } from '../../src/init/output.js';

describe('mountError', () => {
  it("gives util-linux mount's error, not the dmesg hint that follows it", () => {
    const stderr = 'mount: /run: permission denied.\n       dmesg(1) may have more information after failed mount system call.\n';
    assert.equal(mountError(stderr), '/run: permission denied');
  });

  it("gives BusyBox mount's one line as it is, and nothing for no output", () => {
    assert.equal(mountError("mount: mounting tmpfs on /run failed: Operation not permitted\n"), 'mounting tmpfs on /run failed: Operation not permitted');
    assert.equal(mountError(''), '');
  });
});
