import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { openControlFifo } from '../../src/control/s6-supervise/control-fifo.js';
import { notifyListeners } from '../../src/control/s6-supervise/event-dir.js';
import { encodeStatus, statusFormatOf, type SuperviseStatus } from '../../src/control/s6-supervise/status-file.js';
import { actionsOfLetter } from '../../src/control/s6-letters.js';
import { chooseStatusFormat, findS6Tools, searchesEverywhere, versionInPath } from '../../src/init/s6-supervise.js';
import { lockWholeFile, makeFifo } from '../../src/sys/ffi/descriptors.js';
import { removeTree } from '../helpers/tree.js';

const dirs: string[] = [];
after(() => dirs.forEach(removeTree));

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'steward-s6sv-unit-'));
  dirs.push(dir);
  return dir;
}

// 2026-11-29T00:00:00.250Z: 1795910400 s after the epoch, 250 ms.
const STAMP_MS = 1_795_910_400_250;
const TAI_SECONDS = 0x4000000000000000n + 1_795_910_400n + 37n;

const status: SuperviseStatus = {
  stampMs: STAMP_MS,
  readyStampMs: STAMP_MS + 1000,
  pid: 4242,
  pgid: 4242,
  waitStatus: 15,
  paused: false,
  finishing: false,
  wantUp: true,
  ready: true,
};

describe('the supervise/status file', () => {
  it('packs s6 up to 2.12 in 35 bytes: two TAI64N stamps, the pid, the wait status, the flags', () => {
    const bytes = encodeStatus(status, 35);
    assert.equal(bytes.length, 35);
    assert.equal(bytes.readBigUInt64BE(0), TAI_SECONDS);
    assert.equal(bytes.readUInt32BE(8), 250_000_000);
    assert.equal(bytes.readBigUInt64BE(12), TAI_SECONDS + 1n);
    assert.equal(bytes.readBigUInt64BE(24), 4242n);
    assert.equal(bytes.readUInt16BE(32), 15);
    assert.equal(bytes[34], 4 | 8);
  });

  it('packs s6 2.13 and later in 43 bytes, with the process group before the wait status', () => {
    const bytes = encodeStatus({ ...status, pgid: 77, paused: true, finishing: true, wantUp: false, ready: false }, 43);
    assert.equal(bytes.length, 43);
    assert.equal(bytes.readBigUInt64BE(24), 4242n);
    assert.equal(bytes.readBigUInt64BE(32), 77n);
    assert.equal(bytes.readUInt16BE(40), 15);
    assert.equal(bytes[42], 1 | 2);
  });

  it('chooses the layout from the version of the image\'s s6', () => {
    assert.equal(statusFormatOf([2, 11, 3, 2]), 35);
    assert.equal(statusFormatOf([2, 12, 0, 4]), 35);
    assert.equal(statusFormatOf([2, 13, 0, 0]), 43);
    assert.equal(statusFormatOf([2, 13]), 43);
    assert.equal(statusFormatOf([3, 0]), 43);
  });

  it('without a version, writes the layout before 2.13 in an s6-overlay v2 image (its s6 is 2.10 at the newest), the newest elsewhere', () => {
    assert.equal(chooseStatusFormat(null, true), 35);
    assert.equal(chooseStatusFormat(null, false), 43);
    // A version found says it, whatever the image.
    assert.equal(chooseStatusFormat([2, 13, 1], true), 43);
    assert.equal(chooseStatusFormat([2, 11, 3], false), 35);
  });

  it("is read by skarnet's s6-svstat as Steward meant it", { skip: !existsSync('/usr/bin/s6-svstat') && 'needs s6-svstat (apt-get install s6)' }, () => {
    // Debian's s6 is 2.11: the 35-byte layout. s6-svstat trusts a supervisor holding supervise/lock.
    const service = tempDir();
    mkdirSync(join(service, 'supervise'));
    writeFileSync(join(service, 'supervise', 'status'), encodeStatus({ ...status, stampMs: Date.now() - 5000, readyStampMs: Date.now() - 2000, pid: process.pid }, 35));
    const lock = openSync(join(service, 'supervise', 'lock'), 'w');
    try {
      assert.ok(lockWholeFile(lock));
      const fields = execFileSync('/usr/bin/s6-svstat', ['-o', 'up,wantedup,normallyup,ready,paused,pid', service], { encoding: 'utf8' }).trim();
      assert.equal(fields, `true true true true false ${process.pid}`);
      const summary = execFileSync('/usr/bin/s6-svstat', [service], { encoding: 'utf8' }).trim();
      assert.match(summary, new RegExp(`^up \\(pid ${process.pid}\\) [45] seconds, ready [12] seconds$`));
      writeFileSync(join(service, 'supervise', 'status'), encodeStatus({ ...status, pid: 0, waitStatus: 3 << 8, wantUp: false }, 35));
      writeFileSync(join(service, 'down'), '');
      assert.equal(execFileSync('/usr/bin/s6-svstat', ['-o', 'up,wantedup,normallyup,exitcode', service], { encoding: 'utf8' }).trim(), 'false false false 3');
    } finally {
      closeSync(lock);
    }
  });
});

describe('the event directory', () => {
  it('writes the letters to every listener, removes the fifos nobody reads, and leaves other files alone', () => {
    const dir = tempDir();
    const listener = join(dir, 'ftrig1:@40000000692a1c2b0e9f6e1a:Ab3dEf9h');
    const stale = join(dir, 'ftrig1:@40000000692a1c2b0e9f6e1a:Zz9yXw8v');
    makeFifo(listener, 0o600);
    makeFifo(stale, 0o600);
    makeFifo(join(dir, 'other'), 0o600);
    const reader = openSync(listener, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      notifyListeners(dir, 'u');
      notifyListeners(dir, 'U');
      const buffer = Buffer.alloc(16);
      const read = readSync(reader, buffer, 0, 16, null);
      assert.equal(buffer.toString('latin1', 0, read), 'uU');
    } finally {
      closeSync(reader);
    }
    assert.deepEqual(readdirSync(dir).sort(), ['ftrig1:@40000000692a1c2b0e9f6e1a:Ab3dEf9h', 'other']);
  });

  it('does nothing when the directory is gone', () => {
    assert.doesNotThrow(() => notifyListeners(join(tempDir(), 'missing'), 'x'));
  });
});

describe('the control fifo', () => {
  it('drain() hands what a writer left in it over at once, without waiting for the event loop', () => {
    const path = join(tempDir(), 'control');
    const heard: string[] = [];
    const fifo = openControlFifo(path, 0o600, (letters) => heard.push(letters));
    try {
      const writer = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
      writeFileSync(writer, 'dO');
      closeSync(writer);
      fifo.drain();
      assert.deepEqual(heard, ['dO']);
      // Empty now: nothing more, and no error.
      fifo.drain();
      assert.deepEqual(heard, ['dO']);
    } finally {
      fifo.close();
    }
    assert.doesNotThrow(() => fifo.drain());
  });
});

describe("finding s6's own tools", () => {
  it("takes the version from s6-overlay's /package path, and skips Steward's links", () => {
    const root = tempDir();
    const tools = join(root, 'package', 'admin', 's6-2.13.1.0', 'command');
    mkdirSync(tools, { recursive: true });
    writeFileSync(join(tools, 's6-svc'), '');
    const steward = join(root, 'steward');
    mkdirSync(join(steward, 'bin'), { recursive: true });
    writeFileSync(join(steward, 'bin', 's6-tool'), '');
    mkdirSync(join(root, 'command'));
    mkdirSync(join(root, 'usr-bin'));
    symlinkSync(join(tools, 's6-svc'), join(root, 'command', 's6-svc'));
    symlinkSync(join(steward, 'bin', 's6-tool'), join(root, 'usr-bin', 's6-svc'));
    const stewardsOnly = [join(root, 'usr-bin', 's6-svc'), join(root, 'missing', 's6-svc')];
    assert.equal(findS6Tools(stewardsOnly, steward), undefined);
    assert.deepEqual(findS6Tools([...stewardsOnly, join(root, 'command', 's6-svc')], steward), { path: join(tools, 's6-svc'), version: [2, 13, 1, 0] });
    // Another Steward's (an older install elsewhere) is not a real s6 either.
    const other = join(root, 'other-steward', 'bin');
    mkdirSync(other, { recursive: true });
    writeFileSync(join(other, 's6-tool'), '');
    mkdirSync(join(root, 'elsewhere'));
    symlinkSync(join(other, 's6-tool'), join(root, 'elsewhere', 's6-svc'));
    assert.equal(findS6Tools([join(root, 'elsewhere', 's6-svc')], steward), undefined);
  });

  it('looks in the usual bin directories when asked, or in an s6-overlay v2 image (its stage 2 is there)', () => {
    const root = tempDir();
    const marker = join(root, 'etc', 's6', 'init', 'init-stage2');
    assert.equal(searchesEverywhere('auto', marker), false);
    assert.equal(searchesEverywhere('on', marker), true);
    mkdirSync(join(root, 'etc', 's6', 'init'), { recursive: true });
    writeFileSync(marker, '');
    assert.equal(searchesEverywhere('auto', marker), true);
    assert.equal(searchesEverywhere('off', marker), false);
  });

  it('reads versions only from a path segment named s6-VERSION', () => {
    assert.deepEqual(versionInPath('/package/admin/s6-2.11.3.2/command/s6-svc'), [2, 11, 3, 2]);
    assert.equal(versionInPath('/usr/bin/s6-svc'), null);
    assert.equal(versionInPath('/package/admin/s6-rc-0.5.4.1/command/s6-rc'), null);
  });
});

describe("s6-svc's letters", () => {
  it('mean the same on the socket and on the control fifo', () => {
    assert.deepEqual(actionsOfLetter('d'), ['down']);
    assert.deepEqual(actionsOfLetter('U'), ['no-down-file', 'up']);
    assert.deepEqual(actionsOfLetter('t'), ['signal:TERM']);
    assert.deepEqual(actionsOfLetter('K'), ['group-signal:KILL']);
    assert.deepEqual(actionsOfLetter('x'), []);
    assert.equal(actionsOfLetter('Z'), undefined);
  });
});
