import assert from 'node:assert/strict';
import { chmodSync, chownSync, lchownSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { copyTree, installLiveService, runtimeLayout } from '../../src/init/runtime-dir.js';

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

  it('keeps owners as s6-hiercopy does, and a setuid bit through the chown', { skip: process.geteuid?.() !== 0 && 'needs root to give files away' }, () => {
    const source = join(work, 'owned');
    mkdirSync(join(source, 'log', 'main'), { recursive: true });
    writeFileSync(join(source, 'run'), '#!/bin/sh\nexec true\n');
    chmodSync(join(source, 'run'), 0o755);
    writeFileSync(join(source, 'helper'), 'x');
    chownSync(join(source, 'helper'), 65534, 65534);
    chmodSync(join(source, 'helper'), 0o4755);
    chownSync(join(source, 'log', 'main'), 65534, 65534);
    chmodSync(join(source, 'log', 'main'), 0o500);
    symlinkSync('run', join(source, 'alias'));
    lchownSync(join(source, 'alias'), 1, 1);
    copyTree(source, join(work, 'owned-live'));
    const live = (path: string) => lstatSync(join(work, 'owned-live', path));
    assert.deepEqual([live('log/main').uid, live('log/main').gid, live('log/main').mode & 0o7777], [65534, 65534, 0o500]);
    assert.deepEqual([live('helper').uid, live('helper').mode & 0o7777], [65534, 0o4755]);
    assert.deepEqual([live('run').uid, live('run').mode & 0o7777], [0, 0o755]);
    assert.deepEqual([live('alias').uid, live('alias').gid], [1, 1]);
  });

  it("makes everything Steward's own when asked, as s6-rc-compile writes a longrun's directory, with no set-id bit left", { skip: process.geteuid?.() !== 0 && 'needs root to give files away' }, () => {
    const source = join(work, 'rc-owned');
    mkdirSync(source);
    writeFileSync(join(source, 'run'), '#!/bin/sh\nexec true\n');
    chownSync(join(source, 'run'), 65534, 65534);
    chmodSync(join(source, 'run'), 0o4755);
    chownSync(source, 65534, 65534);
    copyTree(source, join(work, 'rc-owned-live'), 'own');
    const live = (path: string) => lstatSync(join(work, 'rc-owned-live', path));
    assert.deepEqual([live('.').uid, live('run').uid, live('run').mode & 0o7777], [0, 0, 0o755]);
  });

  it('makes a service anew: what an earlier copy held (a link its user put there) is not copied through', () => {
    const run = join(work, 'install-run');
    const layout = runtimeLayout(run);
    mkdirSync(layout.serviceDir, { recursive: true });
    const source = join(work, 'install-source');
    mkdirSync(join(source, 'log'), { recursive: true });
    writeFileSync(join(source, 'run'), '#!/bin/sh\nexec true\n', { mode: 0o755 });
    writeFileSync(join(source, 'log', 'run'), '#!/bin/sh\nexec cat\n', { mode: 0o755 });
    const victim = join(work, 'victim');
    writeFileSync(victim, 'secret\n', { mode: 0o600 });
    const liveDir = join(run, 's6', 'legacy-services', 'web');
    mkdirSync(join(liveDir, 'log'), { recursive: true });
    symlinkSync(victim, join(liveDir, 'log', 'run'));
    installLiveService(layout, 'web', source, liveDir);
    assert.equal(readFileSync(victim, 'utf8'), 'secret\n');
    assert.equal(statSync(victim).mode & 0o777, 0o600);
    assert.equal(readFileSync(join(liveDir, 'log', 'run'), 'utf8'), '#!/bin/sh\nexec cat\n');
  });
});
