import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';

import { cachePathOf, loadBundle } from '../../src/loader/code-cache.js';
import { treesRemovedAfter } from '../helpers/tree.js';

const tree = treesRemovedAfter(after);
const LOADER = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'loader', 'code-cache.js');

/**
 * Loads the bundle in a new Node process and returns the cache outcome and what the
 * bundle printed. V8 keeps what it compiled in memory, so only a fresh process shows
 * whether the cache on disk is used.
 */
function loadInFreshProcess(bundle: string, env: NodeJS.ProcessEnv = {}): { outcome: string; output: string } {
  const code = [
    `import { loadBundle, runBundle } from ${JSON.stringify(LOADER)};`,
    `const outcome = loadBundle(${JSON.stringify(bundle)}).outcome;`,
    `runBundle(${JSON.stringify(bundle)});`,
    `process.stderr.write('outcome=' + outcome);`,
  ].join('\n');
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', code], { env: { ...process.env, ...env }, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  return { outcome: /outcome=(\w+)/.exec(run.stderr)?.[1] ?? '', output: run.stdout };
}

/** A CommonJS bundle that records, on a global, that it ran and what it was given. */
function bundleSource(marker: string): string {
  return [
    `const { basename } = require('node:path');`,
    `globalThis.${marker} = { file: basename(__filename), dir: typeof __dirname, add: (a, b) => a + b };`,
    `module.exports.ran = true;`,
    '',
  ].join('\n');
}

function marker(name: string): { file: string; dir: string; add: (a: number, b: number) => number } | undefined {
  return (globalThis as Record<string, unknown>)[name] as ReturnType<typeof marker>;
}

describe('code cache loader', () => {
  it('runs a bundle that has no cache, with the CommonJS wrapper arguments', () => {
    const root = tree({ 'a.cjs': bundleSource('__stewardCacheA') });
    const loaded = loadBundle(join(root, 'a.cjs'));
    assert.equal(loaded.outcome, 'none');
    loaded.run();
    assert.deepEqual({ ...marker('__stewardCacheA'), add: undefined }, { file: 'a.cjs', dir: 'string', add: undefined });
  });

  it('uses a cache it wrote, and the bundle still runs', () => {
    const root = tree({ 'b.cjs': bundleSource('__stewardCacheB') });
    const bundle = join(root, 'b.cjs');
    const first = loadBundle(bundle);
    first.run();
    marker('__stewardCacheB')?.add(1, 2); // compiled lazily, so the cache holds it
    first.writeCache();
    assert.ok(existsSync(cachePathOf(bundle)));
    assert.equal(loadInFreshProcess(bundle).outcome, 'used');
    const second = loadBundle(bundle);
    second.run();
    assert.equal(marker('__stewardCacheB')?.add(2, 3), 5);
  });

  it('ignores a cache made from another version of the bundle, even of the same length', () => {
    const root = tree({ 'c.cjs': bundleSource('__stewardCacheC') });
    const bundle = join(root, 'c.cjs');
    loadBundle(bundle).writeCache();
    // Same length, other content, other time stamp: V8 alone would accept the old cache.
    writeFileSync(bundle, bundleSource('__stewardCacheX'));
    utimesSync(bundle, new Date(), new Date(Date.now() + 5000));
    const loaded = loadBundle(bundle);
    assert.equal(loaded.outcome, 'stale');
    loaded.run();
    assert.equal(marker('__stewardCacheX')?.file, 'c.cjs');
  });

  it('names a built bundle by its build line, so a new time stamp (npm pack sets one) keeps the cache', () => {
    const built = (id: string): string => `// steward build ${id}\nprocess.stdout.write('built');\n`;
    const root = tree({ 'f.cjs': built('aaaa-1111') });
    const bundle = join(root, 'f.cjs');
    loadBundle(bundle).writeCache();
    utimesSync(bundle, new Date('1985-10-26T08:15:00Z'), new Date('1985-10-26T08:15:00Z'));
    assert.deepEqual(loadInFreshProcess(bundle), { outcome: 'used', output: 'built' });
    // Another build of the same length: the old cache is not used.
    writeFileSync(bundle, built('bbbb-2222'));
    assert.deepEqual(loadInFreshProcess(bundle), { outcome: 'stale', output: 'built' });
  });

  it("ignores a cache made by another Node release, which V8's own check lets through within a major version", () => {
    const built = '// steward build cccc-3333\nprocess.stdout.write(String(6 * 7));\n';
    const root = tree({ 'g.cjs': built });
    const bundle = join(root, 'g.cjs');
    loadBundle(bundle).writeCache();
    assert.deepEqual(loadInFreshProcess(bundle), { outcome: 'used', output: '42' });
    // The same cache, as another Node 20 release would have written it (same V8 version).
    const cache = readFileSync(cachePathOf(bundle));
    const header = cache.subarray(0, cache.indexOf(10)).toString();
    assert.ok(header.includes(`node ${process.version} `), header);
    const other = Buffer.concat([Buffer.from(header.replace(`node ${process.version} `, 'node v20.0.1 ')), cache.subarray(cache.indexOf(10))]);
    writeFileSync(cachePathOf(bundle), other);
    assert.deepEqual(loadInFreshProcess(bundle), { outcome: 'stale', output: '42' });
  });

  it('falls back to compiling when V8 refuses the cache', () => {
    const root2 = tree({ 'd.cjs': 'process.stdout.write(String(1 + 1));\n' });
    const other = join(root2, 'd.cjs');
    loadBundle(other).writeCache();
    const garbled = readFileSync(cachePathOf(other));
    garbled.fill(0x5a, garbled.indexOf(10) + 1, garbled.indexOf(10) + 9); // keeps our header, garbles V8's magic number and version
    writeFileSync(cachePathOf(other), garbled);
    assert.deepEqual(loadInFreshProcess(other), { outcome: 'rejected', output: '2' });
  });

  it('writes the cache at exit when STEWARD_WRITE_CODE_CACHE=1, and hides the variable from the bundle', () => {
    const root = tree({ 'e.cjs': 'process.stdout.write(String(process.env.STEWARD_WRITE_CODE_CACHE));\n' });
    const bundle = join(root, 'e.cjs');
    assert.deepEqual(loadInFreshProcess(bundle, { STEWARD_WRITE_CODE_CACHE: '1' }), { outcome: 'none', output: 'undefined' });
    assert.deepEqual(loadInFreshProcess(bundle), { outcome: 'used', output: 'undefined' });
  });
});

describe('the built bundles', () => {
  const dist = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'dist');
  for (const name of ['steward-init', 'steward', 's6-tool']) {
    it(`${name} has a code cache this Node accepts (made by the build's warm-up boot)`, () => {
      const bundle = join(dist, `${name}.cjs`);
      const code = `import { loadBundle } from ${JSON.stringify(LOADER)}; process.stdout.write(loadBundle(${JSON.stringify(bundle)}).outcome);`;
      const run = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
      assert.equal(run.stdout, 'used', run.stderr);
    });
  }
});
