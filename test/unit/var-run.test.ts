import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { ensureVarRunLink } from '../../src/init/var-run.js';
import { Reporter } from '../../src/log/reporter.js';
import { mountPointsUnder } from '../../src/sys/mounts.js';

function setup(): { dir: string; run: string; varRun: string; mountinfo: string; lines: string[]; reporter: Reporter } {
  const dir = mkdtempSync(join(tmpdir(), 'steward-var-run-'));
  const run = join(dir, 'run');
  mkdirSync(run);
  mkdirSync(join(dir, 'var'));
  const mountinfo = join(dir, 'mountinfo');
  writeFileSync(mountinfo, '22 1 0:21 / / rw,relatime shared:1 - ext4 /dev/vda rw\n');
  const lines: string[] = [];
  return { dir, run, varRun: join(dir, 'var', 'run'), mountinfo, lines, reporter: new Reporter(2, (text) => lines.push(text)) };
}

describe('ensureVarRunLink: /var/run made a link to /run at every boot, as s6-overlay does', () => {
  it('replaces a directory (an init script left one) by the link, and says so', () => {
    const { run, varRun, mountinfo, lines, reporter } = setup();
    mkdirSync(varRun);
    writeFileSync(join(varRun, 'stale.pid'), '42\n');
    ensureVarRunLink(reporter, { varRun, run, mountinfo });
    assert.equal(readlinkSync(varRun), run);
    assert.match(lines.join(''), /is not a link to .*: making it one, as s6-overlay does at every boot/);
  });

  it('makes a missing one, replaces a link elsewhere, and leaves a good link alone without a word', () => {
    const { dir, run, varRun, mountinfo, lines, reporter } = setup();
    ensureVarRunLink(reporter, { varRun, run, mountinfo });
    assert.equal(readlinkSync(varRun), run);
    lines.length = 0;
    ensureVarRunLink(reporter, { varRun, run, mountinfo });
    assert.deepEqual(lines, []);
    const elsewhere = join(dir, 'elsewhere');
    mkdirSync(elsewhere);
    const other = join(dir, 'var', 'run2');
    symlinkSync(elsewhere, other);
    ensureVarRunLink(reporter, { varRun: other, run, mountinfo });
    assert.equal(readlinkSync(other), run);
  });

  it('says nothing and does nothing when there is no /var at all', () => {
    const { dir, run, mountinfo, lines, reporter } = setup();
    ensureVarRunLink(reporter, { varRun: join(dir, 'no-var', 'run'), run, mountinfo });
    assert.deepEqual(lines, []);
    assert.equal(existsSync(join(dir, 'no-var')), false);
  });

  it('leaves a directory holding a mount (a bind-mounted docker.sock) alone, with a warning that names it', () => {
    const { run, varRun, mountinfo, lines, reporter } = setup();
    mkdirSync(varRun);
    writeFileSync(join(varRun, 'docker.sock'), '');
    writeFileSync(mountinfo, `22 1 0:21 / / rw - ext4 /dev/vda rw\n40 22 0:40 /docker.sock ${varRun}/docker.sock rw - tmpfs tmpfs rw\n`);
    ensureVarRunLink(reporter, { varRun, run, mountinfo });
    assert.ok(lstatSync(varRun).isDirectory());
    assert.match(lines.join(''), new RegExp(`warning: .*is left as it is \\(${varRun}/docker.sock is a mount\\)`));
    assert.deepEqual(mountPointsUnder(varRun, mountinfo), [`${varRun}/docker.sock`]);
  });
});
