import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { copyTree } from '../../src/init/runtime-dir.js';

const work = mkdtempSync(join(tmpdir(), 'steward-copy-'));
after(() => rmSync(work, { recursive: true, force: true }));

describe('copyTree', () => {
  it('copies a service directory with the modes it has, whatever the umask takes from mkdir', () => {
    const source = join(work, 'source');
    mkdirSync(join(source, 'spool'), { recursive: true });
    mkdirSync(join(source, 'data'));
    writeFileSync(join(source, 'run'), '#!/bin/sh\nexec true\n');
    chmodSync(join(source, 'run'), 0o755);
    chmodSync(join(source, 'spool'), 0o1777);
    chmodSync(join(source, 'data'), 0o750);
    const previous = process.umask(0o022);
    try {
      copyTree(source, join(work, 'live'));
    } finally {
      process.umask(previous);
    }
    const mode = (path: string): number => statSync(join(work, 'live', path)).mode & 0o7777;
    assert.equal(mode('spool'), 0o1777);
    assert.equal(mode('data'), 0o750);
    assert.equal(mode('run'), 0o755);
    assert.equal(readFileSync(join(work, 'live', 'run'), 'utf8'), '#!/bin/sh\nexec true\n');
  });
});
