import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { haltCommand, type HaltScriptAction } from '../../src/init/halt-command.js';

const work = mkdtempSync(join(tmpdir(), 'steward-halt-'));
after(() => rmSync(work, { recursive: true, force: true }));

function runHalt(hasShell: boolean, stewardPid = process.pid, action: HaltScriptAction = 'halt'): { status: number | null; stderr: string } {
  const path = join(work, `${action}-${hasShell ? 'sh' : 'js'}`);
  writeFileSync(path, haltCommand(hasShell)(stewardPid, '/run/s6-linux-init-container-results/exitcode', action), { mode: 0o755 });
  // No Steward to ask: what the script does with the answer shows it reached the CLI.
  const result = spawnSync(path, [], { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', STEWARD_RUN: join(work, 'nowhere') }, encoding: 'utf8', timeout: 20_000 });
  return { status: result.status, stderr: result.stderr };
}

describe('the halt command written at boot', () => {
  for (const hasShell of [true, false]) {
    it(`${hasShell ? 'in sh' : 'in JavaScript, where the image has no /bin/sh,'} falls back to SIGUSR2 to Steward when the socket cannot be reached, and exits 0`, async () => {
      const received = new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 5000);
        process.once('SIGUSR2', () => {
          clearTimeout(timer);
          resolve(true);
        });
      });
      const { status, stderr } = runHalt(hasShell);
      assert.equal(status, 0, stderr);
      assert.equal(await received, true);
    });
  }

  for (const hasShell of [true, false]) {
    it(`${hasShell ? 'in sh' : 'in JavaScript'}, says what Steward's CLI said when the signal cannot be sent either (docker exec -u nobody), and exits 1`, () => {
      // A pid no process has: kill fails as it does for a user who may not signal PID 1.
      const { status, stderr } = runHalt(hasShell, 4_194_000);
      assert.equal(status, 1, stderr);
      assert.match(stderr, /^steward halt: .*control socket/m);
      assert.doesNotMatch(stderr, /kill|Operation not permitted|ESRCH/);
    });
  }

  for (const hasShell of [true, false]) {
    it(`${hasShell ? 'in sh' : 'in JavaScript'}, poweroff asks for a poweroff (SIGUSR1 its fallback), as s6-overlay's poweroff`, async () => {
      const received = new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 5000);
        process.once('SIGUSR1', () => {
          clearTimeout(timer);
          resolve(true);
        });
      });
      const { status, stderr } = runHalt(hasShell, process.pid, 'poweroff');
      assert.equal(status, 0, stderr);
      assert.equal(await received, true);
      assert.match(haltCommand(hasShell)(1, '/x', 'reboot'), /reboot/);
    });
  }

  it('in JavaScript, starts with its Node and asks Steward\'s CLI with NODE_OPTIONS cleared', () => {
    const text = haltCommand(false)(1, '/run/s6-linux-init-container-results/exitcode', 'halt');
    assert.ok(text.startsWith(`#!${process.execPath}\n`), text);
    assert.match(text, /NODE_OPTIONS: ''/);
  });
});
