import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { imageLacks } from '../../src/init/image-requirements.js';

const work = mkdtempSync(join(tmpdir(), 'steward-image-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** An image root holding these executables, nothing else. */
function root(name: string, files: readonly string[]): string {
  const dir = join(work, name);
  for (const file of files) {
    mkdirSync(join(dir, file, '..'), { recursive: true });
    writeFileSync(join(dir, file), '', { mode: 0o755 });
  }
  return dir;
}

describe("what Steward's commands need of the image", () => {
  it('a distroless root (node outside PATH, no shell): both said, each with its fix', () => {
    const lacks = imageLacks('/usr/local/bin:/usr/bin:/bin', root('distroless', ['nodejs/bin/node']));
    assert.equal(lacks.length, 2, JSON.stringify(lacks));
    assert.match(lacks[0]?.what ?? '', /^this image has no \/bin\/sh: /);
    assert.match(lacks[0]?.hint ?? '', /BusyBox/);
    assert.match(lacks[1]?.what ?? '', /look for node in PATH, \/usr\/local\/bin and \/usr\/bin, and there is none/);
    assert.match(lacks[1]?.hint ?? '', /^Link it there: ln -s /);
  });

  it('a shell and a node in PATH: nothing to say', () => {
    assert.deepEqual(imageLacks('/opt/node/bin:/usr/bin:/bin', root('full', ['bin/sh', 'opt/node/bin/node'])), []);
    assert.deepEqual(imageLacks('/bin', root('usr-local', ['bin/sh', 'usr/local/bin/node'])), []);
  });
});
