import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { linkCommandsAtBoot } from '../../src/init/shims.js';
import { packageRoot } from '../../src/util/package-root.js';
import { Reporter } from '../../src/log/reporter.js';
import { removeTree } from '../helpers/tree.js';

const dirs: string[] = [];
after(() => dirs.forEach(removeTree));

function layout(): { root: string; command: string; lines: string[]; reporter: Reporter } {
  const root = mkdtempSync(join(tmpdir(), 'steward-links-'));
  dirs.push(root);
  const command = join(root, 'command');
  mkdirSync(command);
  const lines: string[] = [];
  return { root, command, lines, reporter: new Reporter(3, (text) => lines.push(text)) };
}

describe('the commands linked at boot', () => {
  const steward = packageRoot();

  it('fill /command where the image has none', () => {
    const { command, reporter } = layout();
    linkCommandsAtBoot(command, reporter);
    assert.equal(readlinkSync(join(command, 'with-contenv')), join(steward, 'shims', 'with-contenv'));
    assert.equal(readlinkSync(join(command, 's6-svc')), join(steward, 'bin', 's6-tool'));
    assert.equal(readlinkSync(join(command, 'execlineb')), join(steward, 'bin', 's6-tool'));
  });

  it("keep what the image has, s6-overlay's links included, but replace s6-overlay's s6-rc", () => {
    const { root, command, reporter } = layout();
    writeFileSync(join(command, 'with-contenv'), '#!/bin/sh\n# the image has its own\n', { mode: 0o755 });
    mkdirSync(join(root, 'package/admin/s6-2.13.1.0/command'), { recursive: true });
    writeFileSync(join(root, 'package/admin/s6-2.13.1.0/command/s6-svc'), '', { mode: 0o755 });
    symlinkSync('../package/admin/s6-2.13.1.0/command/s6-svc', join(command, 's6-svc'));
    symlinkSync('../package/admin/s6-rc-0.5.4.1/command/s6-rc', join(command, 's6-rc'));
    linkCommandsAtBoot(command, reporter);
    assert.ok(lstatSync(join(command, 'with-contenv')).isFile());
    assert.equal(readlinkSync(join(command, 's6-svc')), '../package/admin/s6-2.13.1.0/command/s6-svc');
    assert.equal(readlinkSync(join(command, 's6-rc')), join(steward, 'bin', 's6-tool'));
  });

  it("replace links that lead nowhere (s6-overlay's /package removed, its /command kept), and keep those that lead somewhere", () => {
    const { root, command, reporter } = layout();
    for (const name of ['with-contenv', 'execlineb', 's6-svc', 's6-log']) symlinkSync(`../package/admin/s6-overlay/command/${name}`, join(command, name));
    // One of the image's own that still works stays.
    mkdirSync(join(root, 'package/admin/s6-2.13.1.0/command'), { recursive: true });
    writeFileSync(join(root, 'package/admin/s6-2.13.1.0/command/s6-svstat'), '', { mode: 0o755 });
    symlinkSync('../package/admin/s6-2.13.1.0/command/s6-svstat', join(command, 's6-svstat'));
    linkCommandsAtBoot(command, reporter);
    assert.equal(readlinkSync(join(command, 'with-contenv')), join(steward, 'shims', 'with-contenv'));
    assert.equal(readlinkSync(join(command, 'execlineb')), join(steward, 'bin', 's6-tool'));
    assert.equal(readlinkSync(join(command, 's6-svc')), join(steward, 'bin', 's6-tool'));
    assert.equal(readlinkSync(join(command, 's6-svstat')), '../package/admin/s6-2.13.1.0/command/s6-svstat');
  });

  it('report what cannot be linked', () => {
    const { root, lines, reporter } = layout();
    // A /command that is a file stands for a read-only or odd root: nothing can go in it.
    const blocked = join(root, 'not-a-dir');
    writeFileSync(blocked, '');
    linkCommandsAtBoot(blocked, reporter);
    const warning = lines.join('');
    assert.match(warning, /warning: .*not-a-dir has no .* and they cannot be linked there \(read-only root\?\): scripts that call them will fail\. Run "steward install" in the image/);
    for (const name of ['with-contenv', 'printcontenv', 's6-svc', 'execlineb']) assert.match(warning, new RegExp(`[ ,]${name}[ ,]`), name);
    assert.deepEqual(readdirSync(root).sort(), ['command', 'not-a-dir']);
  });
});
