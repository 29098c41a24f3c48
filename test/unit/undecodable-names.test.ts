import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import type { Diagnostic } from '../../src/config/diagnostic.js';
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
    const diagnostics: Diagnostic[] = [];
    assert.deepEqual([...listDirents(services, diagnostics).keys()].sort(), ['odd\uFFFDname', 'web']);
    assert.deepEqual(listEntries(services, diagnostics), ['odd\uFFFDname', 'web']);
    assert.equal(diagnostics.length, 2, 'one error per listing');
    for (const diagnostic of diagnostics) {
      assert.equal(diagnostic.severity, 'error');
      assert.equal(diagnostic.error.path, services);
      assert.equal(diagnostic.error.message, 'the name "caf\\xe9" is not valid UTF-8, so it cannot be used: left out');
      assert.match(diagnostic.error.hint ?? '', /^Rename it to a UTF-8/);
    }
  });
});
