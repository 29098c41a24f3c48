import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { repoRoot } from '../helpers/pid1.js';

/** Prints whether the module sees a controlling terminal, run under `launcher` (a command line for sh). */
function seen(launcher: (command: string) => string): string {
  const dir = mkdtempSync(join(tmpdir(), 'steward-tty-'));
  const script = join(dir, 'tty.mjs');
  writeFileSync(script, `import { hasControllingTerminal } from '${join(repoRoot, '.build', 'src', 'sys', 'proc.js')}';\nconsole.log('terminal=' + hasControllingTerminal());\n`);
  const result = spawnSync('sh', ['-c', launcher(`"${process.execPath}" "${script}"`)], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(result.status, 0, result.stderr);
  return /terminal=(true|false)/.exec(result.stdout)?.[1] ?? `no answer: ${result.stdout}`;
}

describe('a controlling terminal, from which a SIGWINCH can be a resize', () => {
  it('is seen under a terminal (a pseudo-terminal that script(1) makes)', () => {
    assert.equal(seen((command) => `script -qec '${command}' /dev/null`), 'true');
  });

  it('is not seen in a session of its own, as a container started without -t', () => {
    assert.equal(seen((command) => `setsid -w ${command} </dev/null`), 'false');
  });
});
