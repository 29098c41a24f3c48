import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import type { Diagnostic } from '../../src/diagnostic.js';
import { listDirents, listEntries } from '../../src/config/scan.js';

const work = mkdtempSync(join(tmpdir(), 'steward-names-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** A path whose last name is Latin-1 "café", as an old archive leaves it: not valid UTF-8. */
function latin1Path(dir: string): Buffer {
  return Buffer.concat([Buffer.from(`${dir}/caf`), Buffer.from([0xe9])]);
}

describe('names that are not valid UTF-8', () => {
  it('are left out with an error that shows their bytes, instead of being looked for under a name that is not theirs', () => {
    const services = join(work, 'services.d');
    mkdirSync(services);
    mkdirSync(join(services, 'web'));
    mkdirSync(latin1Path(services));
    writeFileSync(Buffer.concat([latin1Path(services), Buffer.from('/run')]), '#!/bin/sh\n');
    // Valid UTF-8 that happens to hold the replacement character itself is a name like any other.
    mkdirSync(join(services, 'odd\uFFFDname'));
    // Names s6-overlay would skip anyway: a dot-file, and a plain file where services are directories.
    writeFileSync(Buffer.concat([Buffer.from(`${services}/.caf`), Buffer.from([0xe9]), Buffer.from('.swp')]), '');
    writeFileSync(Buffer.concat([Buffer.from(`${services}/notes-`), Buffer.from([0xe9, 0xb0])]), '');
    const diagnostics: Diagnostic[] = [];
    assert.deepEqual([...listDirents(services, diagnostics).keys()].sort(), ['odd\uFFFDname', 'web']);
    assert.equal(diagnostics.length, 1, 'the service directory only');
    assert.deepEqual(listEntries(services, diagnostics), ['odd\uFFFDname', 'web']);
    assert.equal(diagnostics.length, 3, 'as scripts, the plain file counts too; the dot-file never');
    assert.deepEqual(
      diagnostics.map((diagnostic) => [diagnostic.severity, diagnostic.error.path, diagnostic.error.message]).sort(),
      [
        ['error', services, 'the name "caf\\xe9" is not valid UTF-8, so it cannot be used: left out'],
        ['error', services, 'the name "caf\\xe9" is not valid UTF-8, so it cannot be used: left out'],
        ['error', services, 'the name "notes-\\xe9\\xb0" is not valid UTF-8, so it cannot be used: left out'],
      ],
    );
    // The command the hint gives renames it, in plain sh (a glob would miss: Node makes one U+FFFD of \\xe9\\xb0).
    const hint = diagnostics.find((diagnostic) => diagnostic.error.message.includes('notes-'))?.error.hint ?? '';
    const command = /for example: (mv .*)$/.exec(hint)?.[1];
    assert.ok(command !== undefined, hint);
    execFileSync('sh', ['-c', command.replace('NEW-NAME', 'notes-renamed')]);
    assert.ok(existsSync(join(services, 'notes-renamed')));
  });
});
