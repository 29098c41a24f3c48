import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import type { Diagnostic } from '../../src/diagnostic.js';
import { directoryNames } from '../../src/config/scan.js';

describe('listing a directory', () => {
  it('says why a directory could not be listed, and leaves a missing one to the caller', () => {
    const root = mkdtempSync(join(tmpdir(), 'steward-listing-'));
    try {
      // A link to itself: listing it fails with ELOOP, as it would with EMFILE or EACCES.
      symlinkSync(join(root, 'loop'), join(root, 'loop'));
      const problems: Diagnostic[] = [];
      assert.equal(directoryNames(join(root, 'loop'), problems).size, 0);
      assert.equal(problems.length, 1);
      assert.match(problems[0]?.error.message ?? '', /cannot list \S+\/loop: ELOOP/);
      const none: Diagnostic[] = [];
      directoryNames(join(root, 'missing'), none);
      assert.deepEqual(none, []);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
