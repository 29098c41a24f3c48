import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { commandRetryDelay, whyNotExecutable } from '../../src/init/spawn-failure.js';

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

  it('a start the system had no resources for names the limit and does not blame a file that is fine', () => {
    const path = join(work, 'fine');
    writeFileSync(path, '#!/bin/sh\nexec sleep 1\n', { mode: 0o755 });
    const refused = whyNotExecutable(path, spawnError('EAGAIN'), 'run script');
    assert.match(refused, /^the system refused a new process \(EAGAIN\): a limit on processes is reached \(docker run --pids-limit/);
    assert.match(refused, /nothing is wrong with the file/);
    assert.match(whyNotExecutable(path, spawnError('EMFILE'), 'run script'), /out of file descriptors \(EMFILE\): raise the limit \(ulimit -n/);
    // Any other failure of a file that is fine stays the kernel's word.
    assert.doesNotMatch(whyNotExecutable(path, spawnError('EPERM'), 'run script'), /limit/);
  });
});

describe("the CMD's start tried again", () => {
  it('for want of resources: a few times, waiting longer each time', () => {
    const delays: (number | undefined)[] = [];
    for (let tries = 1; tries <= 7; tries++) delays.push(commandRetryDelay(spawnError('EAGAIN'), tries));
    assert.deepEqual(delays, [250, 500, 1000, 2000, 4000, undefined, undefined]);
    assert.equal(commandRetryDelay(spawnError('ENOMEM'), 1), 250);
  });

  it('never for a failure another try would meet as well', () => {
    for (const code of ['ENOENT', 'EACCES', 'ENOEXEC']) assert.equal(commandRetryDelay(spawnError(code), 1), undefined, code);
  });
});
