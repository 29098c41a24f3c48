import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { repoRoot } from '../helpers/pid1.js';

/** Runs a module that imports the built ffi and reaper (as FFI and REAPER), under `shell` (a ulimit, say); returns its JSON line. */
function runModule<T>(body: string, shell = 'exec'): T {
  const dir = mkdtempSync(join(tmpdir(), 'steward-reaper-'));
  const script = join(dir, 'reaper.mjs');
  const sys = join(repoRoot, '.build', 'src', 'sys');
  writeFileSync(script, `import { posixSpawn } from '${join(sys, 'ffi', 'spawn.js')}';\nimport { Reaper } from '${join(sys, 'reaper.js')}';\n${body}`);
  const result = spawnSync('sh', ['-c', `${shell} "${process.execPath}" "${script}"`], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout.trim()) as T;
}

describe('Reaper', () => {
  it('collects an exit that happens while every descriptor is in use, with the descriptor it holds back', () => {
    const outcome = runModule<{ during: number | null; after: number | null }>(
      `
import { openSync, closeSync } from 'node:fs';
const reaper = new Reaper();
reaper.start();
const pid = posixSpawn({ path: '/bin/sh', argv: ['sh', '-c', 'sleep 0.3; exit 7'], env: [], cwd: '/', fds: new Map([[0, 'null'], [1, 'null'], [2, 'null']]), newSession: true });
let exited = null;
reaper.watch(pid, (status) => { exited = (status >> 8) & 0xff; });
// Take every descriptor left, so that listing the children fails when the child exits.
const held = [];
try { for (;;) held.push(openSync('/dev/null', 'r')); } catch (error) { if (error.code !== 'EMFILE') throw error; }
setTimeout(() => {
  const during = exited;
  for (const fd of held) closeSync(fd);
  setTimeout(() => { console.log(JSON.stringify({ during, after: exited })); reaper.stop(); }, 500);
}, 800);
`,
      'ulimit -n 64 && exec',
    );
    // Listing /proc takes a descriptor: the reaper's spare, when no other one is free.
    assert.equal(outcome.during, 7);
    assert.equal(outcome.after, 7);
  });

  it('holds an unknown child back while a start is under way, but not behind a start stuck for seconds', () => {
    const outcome = runModule<{ held: number; later: number }>(`
const reaper = new Reaper();
reaper.start();
// A start whose pid never comes (its child blocked before its exec): never settled.
reaper.spawnStarted();
// A child the reaper does not know, as an orphan is: it exits at once.
posixSpawn({ path: '/bin/sh', argv: ['sh', '-c', 'exit 0'], env: [], cwd: '/', fds: new Map([[0, 'null'], [1, 'null'], [2, 'null']]), newSession: true });
setTimeout(() => {
  const held = reaper.reapedCount;
  setTimeout(() => { console.log(JSON.stringify({ held, later: reaper.reapedCount })); reaper.stop(); }, 2500);
}, 500);
`);
    // Held back at first (it could have been the start's own child), collected once the start counts as stuck.
    assert.equal(outcome.held, 0);
    assert.equal(outcome.later, 1);
  });

  it("never takes a child as an orphan once its start has written its pid, however long the start takes to hand it over", () => {
    const outcome = runModule<{ orphans: number; status: number | null }>(`
const reaper = new Reaper();
reaper.start();
const cell = new Int32Array(1);
const settled = reaper.spawnStarted(cell);
const pid = posixSpawn({ path: '/bin/sh', argv: ['sh', '-c', 'exit 7'], env: [], cwd: '/', fds: new Map([[0, 'null'], [1, 'null'], [2, 'null']]), newSession: true });
// As posix_spawn writes it on libuv's thread, before the main thread hears of the start's end
// (a CPU limit of 0.1 can keep it from running for seconds).
cell[0] = pid;
setTimeout(() => {
  const orphans = reaper.reapedCount;
  let status = null;
  reaper.watch(pid, (raw) => { status = (raw >> 8) & 0xff; });
  settled();
  setTimeout(() => { console.log(JSON.stringify({ orphans, status })); reaper.stop(); }, 300);
}, 2500);
`);
    assert.equal(outcome.orphans, 0);
    assert.equal(outcome.status, 7);
  });
});
