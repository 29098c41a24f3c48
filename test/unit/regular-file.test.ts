import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { parseFixAttrsFile } from '../../src/config/fix-attrs.js';
import type { Diagnostic } from '../../src/diagnostic.js';
import { readValueFile } from '../../src/config/scan.js';
import { readRegularFile, whyUnreadable } from '../../src/sys/regular-file.js';

const work = mkdtempSync(join(tmpdir(), 'steward-regular-file-'));
after(() => rmSync(work, { recursive: true, force: true }));

function fifo(name: string): string {
  const path = join(work, name);
  execFileSync('mkfifo', [path]);
  return path;
}

function refusal(path: string, maxBytes = 1024): string {
  try {
    readRegularFile(path, maxBytes);
  } catch (error) {
    return whyUnreadable(error);
  }
  return 'read';
}

describe('reading a small file an image gives', () => {
  it('reads a regular file whole, through a symbolic link too', () => {
    const path = join(work, 'type');
    writeFileSync(path, 'longrun\n');
    symlinkSync(path, join(work, 'type-link'));
    assert.equal(readRegularFile(path, 1024).toString(), 'longrun\n');
    assert.equal(readRegularFile(join(work, 'type-link'), 1024).toString(), 'longrun\n');
    assert.equal(readRegularFile(path, 8).toString(), 'longrun\n', 'a file of exactly the limit');
  });

  it('reads to the end, not to the size the file system gives: /proc files say 0', () => {
    const expected = execFileSync('cat', ['/proc/sys/kernel/pid_max'], { encoding: 'utf8' });
    assert.ok(expected.length > 2);
    assert.equal(readRegularFile('/proc/sys/kernel/pid_max', 1024).toString(), expected);
    // Longer than the first read, and still under the limit.
    const path = join(work, 'longer');
    writeFileSync(path, 'y'.repeat(10_000));
    assert.equal(readRegularFile(path, 10_000).length, 10_000);
    assert.match(refusal('/proc/self/environ', 8), /^it is larger than 8 bytes/);
  });

  // Each of these would block or exhaust PID 1 with readFileSync: the test returns at all only if they do not.
  it('refuses a FIFO at once instead of waiting for a writer that never comes', () => {
    assert.equal(refusal(fifo('notification-fd')), 'it is a FIFO (named pipe), not a regular file');
  });

  it('refuses a link to /dev/zero instead of reading it until memory runs out', () => {
    symlinkSync('/dev/zero', join(work, 'zero'));
    assert.equal(refusal(join(work, 'zero')), 'it is a character device, not a regular file');
  });

  it('refuses a directory and a file larger than the limit, and names the errno of anything else', () => {
    mkdirSync(join(work, 'a-directory'));
    assert.equal(refusal(join(work, 'a-directory')), 'it is a directory, not a regular file');
    writeFileSync(join(work, 'large'), 'x'.repeat(2000));
    assert.match(refusal(join(work, 'large')), /^it is larger than 1024 bytes/);
    assert.equal(refusal(join(work, 'missing')), 'ENOENT');
  });

  it('a FIFO as an s6 control file or a fix-attrs.d file: an error naming the file, not a hang', () => {
    const diagnostics: Diagnostic[] = [];
    assert.equal(readValueFile(fifo('down-signal'), diagnostics), undefined);
    assert.deepEqual(parseFixAttrsFile(fifo('01-perms'), diagnostics), []);
    assert.deepEqual(
      diagnostics.map((diagnostic) => [diagnostic.severity, diagnostic.error.path, diagnostic.error.message]),
      [
        ['error', join(work, 'down-signal'), 'cannot read the file: it is a FIFO (named pipe), not a regular file'],
        ['error', join(work, '01-perms'), 'cannot read: it is a FIFO (named pipe), not a regular file'],
      ],
    );
  });
});
