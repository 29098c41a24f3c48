import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { repoRoot } from '../helpers/pid1.js';

const scratch = mkdtempSync(join(tmpdir(), 'steward-node-version-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A preload that makes this Node report another release, as an image's older nodejs would. */
function preloadReporting(release: string): string {
  const file = join(scratch, `as-${release}.cjs`);
  writeFileSync(file, `Object.defineProperty(process, 'versions', { value: { ...process.versions, node: ${JSON.stringify(release)} } });\n`);
  return file;
}

/** Runs an entry point file under this Node as if it were `release`. */
function runAs(release: string, file: string, args: readonly string[]) {
  return spawnSync(process.execPath, ['--require', preloadReporting(release), file, ...args], {
    encoding: 'utf8',
    timeout: 30_000,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', STEWARD_RUN: join(scratch, 'run'), STEWARD_ETC: join(scratch, 'etc') },
  });
}

describe('the Node.js release Steward runs on', () => {
  it('stops each entry point on a Node older than 18.19 with one line naming the release and what to do, exit 111', () => {
    const link = join(scratch, 's6-svc');
    symlinkSync(join(repoRoot, 'bin', 's6-tool'), link);
    const cases: [string, string, string[]][] = [
      ['steward-init', join(repoRoot, 'bin', 'steward-init'), ['true']],
      ['steward', join(repoRoot, 'bin', 'steward'), ['--version']],
      ['s6-svc', link, ['-u', join(scratch, 'nowhere')]],
    ];
    for (const release of ['12.22.12', '16.20.2', '18.18.2']) {
      for (const [name, file, args] of cases) {
        const run = runAs(release, file, args);
        assert.equal(run.status, 111, `${name} on ${release}: ${run.stderr}`);
        assert.match(run.stderr, new RegExp(`^${name}: fatal: Node\\.js ${release.replace(/\./g, '\\.')} \\(.*\\) is too old: Steward needs 18\\.19 or later`));
        assert.match(run.stderr, /Install a newer nodejs in the image/);
        assert.equal(run.stderr.trim().split('\n').length, 1, 'one line, no stack');
      }
    }
  });

  it('lets 18.19 and later through', () => {
    for (const release of ['18.19.0', '19.0.0', '20.0.0', '24.1.0']) {
      const run = runAs(release, join(repoRoot, 'bin', 'steward'), ['--version']);
      assert.equal(run.status, 0, `${release}: ${run.stderr}`);
      assert.match(run.stdout, /^\d+\.\d+\.\d+/);
    }
  });
});

describe("NODE_OPTIONS with Node's permission model, which Steward's first start runs under", () => {
  /** bin/steward-init under a Node that reports itself as 16.0.0 (so it stops right after the look at NODE_OPTIONS), with the given permission model. */
  function entryWith(nodeOptions: string, readAllowed: boolean) {
    const file = join(scratch, `permission-${String(readAllowed)}.cjs`);
    // Node 20 itself refuses --permission in NODE_OPTIONS: the model is stood in for, as Node 22 gives it.
    writeFileSync(
      file,
      `process.env.NODE_OPTIONS = ${JSON.stringify(nodeOptions)};\n` +
        `Object.defineProperty(process, 'permission', { value: { has: (scope) => scope === 'fs.read' && ${String(readAllowed)} } });\n` +
        "Object.defineProperty(process, 'versions', { value: { ...process.versions, node: '16.0.0' } });\n",
    );
    return spawnSync(process.execPath, ['--require', file, join(repoRoot, 'bin', 'steward-init'), 'true'], { encoding: 'utf8', timeout: 30_000 });
  }

  it("lets it through when it grants what the first start needs: Steward's files and its native module", () => {
    const run = entryWith('--permission --allow-fs-read=* --allow-addons --allow-child-process', true);
    assert.equal(run.status, 111);
    // Past the look at NODE_OPTIONS: stopped by the release check that comes after it.
    assert.match(run.stderr, /Node\.js 16\.0\.0 .* is too old/);
    assert.doesNotMatch(run.stderr, /NODE_OPTIONS has/);
  });

  it('stops with what to grant when it does not, before any look for Steward\'s files could throw', () => {
    for (const [options, readAllowed] of [
      ['--permission --allow-fs-read=*', true],
      ['--permission --allow-addons --allow-fs-read=/etc', false],
      ['--experimental-permission', false],
    ] as const) {
      const run = entryWith(options, readAllowed);
      assert.equal(run.status, 111, options);
      assert.match(run.stderr, /^steward-init: fatal: NODE_OPTIONS has --(experimental-)?permission, .*or grant Steward's first start what it needs with it \(--allow-fs-read for Steward's directory and --allow-addons\)$/m, options);
    }
  });
});
