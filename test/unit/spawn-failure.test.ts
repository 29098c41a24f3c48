import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { whyNotExecutable } from '../../src/init/spawn-failure.js';

const work = mkdtempSync(join(tmpdir(), 'steward-spawn-failure-'));
after(() => rmSync(work, { recursive: true, force: true }));

function spawnError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`spawn ${code}`), { code });
}

function occurrences(text: string, word: string): number {
  return text.split(word).length - 1;
}

describe('why a program could not be executed', () => {
  it('a missing file: said in words, with its code once (an up naming a script left out of the image)', () => {
    const why = whyNotExecutable(join(work, 'init-video', 'run'), spawnError('ENOENT'), 'program');
    assert.match(why, /^cannot read the program: there is no such file \(ENOENT\)\. Check the path/);
    assert.equal(occurrences(why, 'ENOENT'), 1, why);
  });

  it('a script without a shebang: what the inspection found, then the code the kernel gave', () => {
    const path = join(work, 'no-shebang');
    writeFileSync(path, 'echo hi\n', { mode: 0o755 });
    const why = whyNotExecutable(path, spawnError('ENOEXEC'), 'program');
    assert.match(why, /has no shebang line, so the kernel cannot execute it \(ENOEXEC\)\. Make its first line #!\/bin\/sh/);
    assert.equal(occurrences(why, 'ENOEXEC'), 1, why);
  });
});
