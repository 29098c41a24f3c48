import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { haltCommand } from '../../src/init/halt-command.js';

const work = mkdtempSync(join(tmpdir(), 'steward-halt-'));
after(() => rmSync(work, { recursive: true, force: true }));

function runHalt(hasShell: boolean): { status: number | null; stderr: string } {
  const path = join(work, hasShell ? 'halt-sh' : 'halt-js');
  writeFileSync(path, haltCommand(hasShell)(process.pid, '/run/s6-linux-init-container-results/exitcode'), { mode: 0o755 });
  // No Steward to ask: what the script does with the answer shows it reached the CLI.
  const result = spawnSync(path, [], { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', STEWARD_RUN: join(work, 'nowhere') }, encoding: 'utf8', timeout: 20_000 });
  return { status: result.status, stderr: result.stderr };
}

describe('the halt command written at boot', () => {
  it('without /bin/sh, is JavaScript run by Steward\'s own Node that asks through the control socket', () => {
    const { status, stderr } = runHalt(false);
    assert.equal(status, 5, stderr);
    assert.match(stderr, /^steward halt: Steward is not running here: no control socket at /, stderr);
  });

  it('with a shell, falls back to SIGUSR2 to Steward when the socket cannot be reached', async () => {
    const received = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 5000);
      process.once('SIGUSR2', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    const { status, stderr } = runHalt(true);
    assert.equal(status, 0, stderr);
    assert.equal(await received, true);
  });
});
