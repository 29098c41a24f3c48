import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { bundlesOf, bundlesWithoutUsableCache, writeCodeCaches } from '../../src/cli/code-cache-warm-up.js';
import { cachePathOf } from '../../src/loader/code-cache.js';
import { repoRoot } from '../helpers/pid1.js';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A copy of the built package, as npm would install it elsewhere. */
function packageCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'steward-package-'));
  dirs.push(dir);
  for (const part of ['bin', 'dist', 'shims', 'package.json']) cpSync(join(repoRoot, part), join(dir, part), { recursive: true });
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

/** Rewrites each cache's header as another Node release would have written it. */
function madeByAnotherNode(dir: string): void {
  for (const bundle of bundlesOf(dir)) {
    const cache = readFileSync(cachePathOf(bundle));
    const end = cache.indexOf(10);
    const header = cache.subarray(0, end).toString().replace(`node ${process.version} `, 'node v20.0.1 ');
    writeFileSync(cachePathOf(bundle), Buffer.concat([Buffer.from(header), cache.subarray(end)]));
  }
}

describe('code caches for the Node that runs Steward (steward install)', () => {
  it("tells caches another Node release made, and makes them anew for this one with the build's warm-up", () => {
    const dir = packageCopy();
    assert.deepEqual(bundlesWithoutUsableCache(dir), [], 'the build made them for this Node');
    madeByAnotherNode(dir);
    assert.deepEqual(bundlesWithoutUsableCache(dir), bundlesOf(dir));
    assert.equal(writeCodeCaches(dir), undefined);
    assert.deepEqual(bundlesWithoutUsableCache(dir), []);
  });
});
