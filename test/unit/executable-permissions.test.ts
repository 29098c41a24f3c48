import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const executableModule = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'config', 'executable.js');
const work = mkdtempSync(join(tmpdir(), 'steward-permissions-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** The messages inspectExecutable gives for `path` to the user nobody (the identity is per process). */
function inspectAsNobody(path: string): string[] {
  const script = `const { inspectExecutable } = await import(${JSON.stringify(executableModule)});
for (const diagnostic of inspectExecutable(${JSON.stringify(path)}, 'script')) console.log(diagnostic.severity + ': ' + diagnostic.error.describe());`;
  const result = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout.split('\n').filter((line) => line !== '');
}

describe('scripts a non-root user cannot run', { skip: process.getuid?.() !== 0 && 'needs root to own the files' }, () => {
  chmodSync(work, 0o755);

  it("root's 0700 script: the owner, the mode and a fix that works, not chmod +x", () => {
    const path = join(work, 'private');
    writeFileSync(path, '#!/bin/sh\necho hi\n');
    chmodSync(path, 0o700);
    const [message] = inspectAsNobody(path);
    assert.match(message ?? '', /^error: .*the script cannot be executed by uid 65534: it belongs to uid 0 and gid 0, mode 0700\. Run chmod 755/);
  });

  it('0711: executable but not readable, which a script needs', () => {
    const path = join(work, 'unreadable');
    writeFileSync(path, '#!/bin/sh\necho hi\n');
    chmodSync(path, 0o711);
    const [message] = inspectAsNobody(path);
    assert.match(message ?? '', /^warning: .*cannot be read by uid 65534, which a script's interpreter must do/);
  });

  it('no x bit at all: chmod +x', () => {
    const path = join(work, 'plain');
    writeFileSync(path, '#!/bin/sh\necho hi\n');
    chmodSync(path, 0o644);
    const [message] = inspectAsNobody(path);
    assert.match(message ?? '', /^error: .*the script is not executable\. Run chmod \+x/);
  });
});
