import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { mountOf } from '../../src/sys/mounts.js';

describe('mountOf', () => {
  it('finds the longest mount point above a path, the last one mounted winning, with its options', () => {
    const dir = mkdtempSync(join(tmpdir(), 'steward-mounts-'));
    const mountinfo = join(dir, 'mountinfo');
    writeFileSync(
      mountinfo,
      [
        '22 1 0:21 / / rw,relatime shared:1 - ext4 /dev/vda rw',
        `30 22 0:30 / ${dir} rw,nosuid,nodev,noexec,relatime - tmpfs tmpfs rw`,
        `31 30 0:31 / ${dir}/with\\040space rw,relatime - tmpfs tmpfs rw`,
        `32 22 0:32 / ${dir} rw,nosuid,relatime - tmpfs tmpfs rw`,
        '',
      ].join('\n'),
    );
    assert.deepEqual(mountOf(dir, mountinfo), { mountPoint: dir, options: ['rw', 'nosuid', 'relatime'] });
    assert.deepEqual(mountOf('/', mountinfo)?.mountPoint, '/');
    assert.equal(mountOf(join(dir, 'missing'), mountinfo), undefined);
    assert.equal(mountOf(dir, join(dir, 'no-mountinfo')), undefined);
  });
});
