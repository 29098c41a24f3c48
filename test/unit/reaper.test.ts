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

/**
 * The end of a module whose start hands `pid` over only 2.5 s later (`settled` ends the start):
 * prints the orphans counted by then and the status the watch got.
 */
const WATCHED_LATE = `setTimeout(() => {
  const orphans = reaper.reapedCount;
  let status = null;
  reaper.watch(pid, (raw) => { status = (raw >> 8) & 0xff; });
  settled();
  setTimeout(() => { console.log(JSON.stringify({ orphans, status })); reaper.stop(); }, 300);
}, 2500);`;

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

  it('collects an orphan at once while a start is under way, since the kernel lists it under the main thread', () => {
    const outcome = runModule<{ orphans: number }>(`
const reaper = new Reaper();
reaper.start();
// A start whose pid never comes (its child blocked before its exec): never settled.
reaper.spawnStarted();
// A child the main thread made and the reaper does not know, listed where an orphan is: it exits at once.
posixSpawn({ path: '/bin/sh', argv: ['sh', '-c', 'exit 0'], env: [], cwd: '/', fds: new Map([[0, 'null'], [1, 'null'], [2, 'null']]), newSession: true });
setTimeout(() => { console.log(JSON.stringify({ orphans: reaper.reapedCount })); reaper.stop(); }, 500);
`);
    assert.equal(outcome.orphans, 1);
  });

  it("collects an orphan while a start is under way when /proc is the parent namespace's (unshare --pid without --mount-proc)", { skip: process.getuid?.() !== 0 && 'needs root for a PID namespace' }, () => {
    // /proc numbers every process as the host does there: the listing must be turned into the
    // pids this namespace's waitpid takes, or the orphan is never collected.
    const outcome = runModule<{ orphans: number; pid: number }>(
      `
const reaper = new Reaper();
reaper.start();
reaper.spawnStarted();
posixSpawn({ path: '/bin/sh', argv: ['sh', '-c', 'exit 0'], env: [], cwd: '/', fds: new Map([[0, 'null'], [1, 'null'], [2, 'null']]), newSession: true });
setTimeout(() => { console.log(JSON.stringify({ orphans: reaper.reapedCount, pid: process.pid })); reaper.stop(); }, 500);
`,
      'exec unshare --pid --fork',
    );
    assert.equal(outcome.pid, 1);
    assert.equal(outcome.orphans, 1);
  });

  it("leaves a start's child to its start however long the start takes to write its pid", () => {
    const outcome = runModule<{ orphans: number; status: number | null }>(`
import { posixSpawnInBackground } from '${join(repoRoot, '.build', 'src', 'sys', 'ffi', 'spawn.js')}';
const reaper = new Reaper();
reaper.start();
// The reaper is given no cell: as a start whose thread was held after its child exec'd (a
// tracer, a CPU limit starving it), it never sees the pid written while the child runs and ends.
const settled = reaper.spawnStarted();
posixSpawnInBackground({ path: '/bin/sh', argv: ['sh', '-c', 'exit 7'], env: [], cwd: '/', fds: new Map([[0, 'null'], [1, 'null'], [2, 'null']]), newSession: true }, (pid) => {
  // Seconds later: longer than any time limit a start could be given.
  ${WATCHED_LATE}
});
`);
    assert.equal(outcome.orphans, 0);
    assert.equal(outcome.status, 7);
  });

  it('collects a child no start claimed once the starts under way are over', () => {
    const outcome = runModule<{ before: number; after: number }>(`
import { posixSpawnInBackground } from '${join(repoRoot, '.build', 'src', 'sys', 'ffi', 'spawn.js')}';
const reaper = new Reaper();
reaper.start();
const settled = reaper.spawnStarted();
// Another thread's child that no start hands over (as if its start failed after making it).
posixSpawnInBackground({ path: '/bin/sh', argv: ['sh', '-c', 'exit 0'], env: [], cwd: '/', fds: new Map([[0, 'null'], [1, 'null'], [2, 'null']]), newSession: true }, () => {
  setTimeout(() => {
    const before = reaper.reapedCount;
    settled();
    setTimeout(() => { console.log(JSON.stringify({ before, after: reaper.reapedCount })); reaper.stop(); }, 200);
  }, 300);
});
`);
    assert.equal(outcome.before, 0);
    assert.equal(outcome.after, 1);
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
${WATCHED_LATE}
`);
    assert.equal(outcome.orphans, 0);
    assert.equal(outcome.status, 7);
  });

  it('collects an ended child without listing the children, and names it to no one before then', () => {
    const outcome = runModule<{ listings: number; status: number | null; running: boolean }>(`
class CountingReaper extends Reaper {
  listings = 0;
  children() { this.listings++; return super.children(); }
}
const reaper = new CountingReaper();
reaper.start();
const spawn = (script) => posixSpawn({ path: '/bin/sh', argv: ['sh', '-c', script], env: [], cwd: '/', fds: new Map([[0, 'null'], [1, 'null'], [2, 'null']]), newSession: true });
// Children that go on running: each SIGCHLD used to cost a listing and a waitpid for every one of them.
const others = [spawn('sleep 5'), spawn('sleep 5'), spawn('sleep 5')];
let status = null;
setTimeout(() => {
  const before = reaper.listings;
  reaper.watch(spawn('sleep 0.2; exit 7'), (raw) => { status = (raw >> 8) & 0xff; });
  setTimeout(() => {
    const running = others.every((pid) => { try { process.kill(pid, 0); return true; } catch { return false; } });
    console.log(JSON.stringify({ listings: reaper.listings - before, status, running }));
    for (const pid of others) process.kill(pid, 'SIGKILL');
    reaper.stop();
  }, 800);
}, 100);
`);
    assert.equal(outcome.status, 7);
    assert.equal(outcome.running, true);
    assert.equal(outcome.listings, 0);
  });

  it("leaves the children Node started to Node while collecting the others, whichever ends first", () => {
    const outcome = runModule<{ nodeCode: number | null; watched: number | null; orphans: number }>(`
import childProcess from 'node:child_process';
const { createNodeProcessPort } = await import(${JSON.stringify(join(repoRoot, '.build', 'src', 'sys', 'spawn.js'))});
const reaper = new Reaper();
reaper.start();
const spawn = (script) => posixSpawn({ path: '/bin/sh', argv: ['sh', '-c', script], env: [], cwd: '/', fds: new Map([[0, 'null'], [1, 'null'], [2, 'null']]), newSession: true });
let nodeCode = null;
let watched = null;
// Node's child ends first, so that waitid names it before the others: it must stay Node's.
createNodeProcessPort(childProcess).spawn(
  { file: '/bin/sh', args: ['-c', 'exit 3'], env: {}, cwd: '/', stdin: 'ignore', stdout: 'ignore', stderr: 'ignore', newSession: false },
  { onSpawned() {}, onExit(termination) { nodeCode = termination.code; }, onSpawnError(error) { throw error; } },
);
reaper.watch(spawn('sleep 0.1; exit 5'), (raw) => { watched = (raw >> 8) & 0xff; });
spawn('sleep 0.1');
setTimeout(() => { console.log(JSON.stringify({ nodeCode, watched, orphans: reaper.reapedCount })); reaper.stop(); }, 700);
`);
    assert.equal(outcome.nodeCode, 3);
    assert.equal(outcome.watched, 5);
    assert.equal(outcome.orphans, 1);
  });

  it("tells a watched child's exit before it looks for the next ended child, and a watcher that throws keeps no other from hearing", () => {
    const outcome = runModule<{ heard: number[]; otherStillThere: boolean | null; uncaught: string[] }>(`
import { existsSync } from 'node:fs';
const reaper = new Reaper(); // not started: both children end before anything collects them
const spawn = (script) => posixSpawn({ path: '/bin/sh', argv: ['sh', '-c', script], env: [], cwd: '/', fds: new Map([[0, 'null'], [1, 'null'], [2, 'null']]), newSession: true });
const pids = [spawn('exit 3'), spawn('exit 4')];
const heard = [];
let otherStillThere = null;
const uncaught = [];
process.on('uncaughtException', (error) => uncaught.push(error.message));
for (const pid of pids) {
  reaper.watch(pid, (raw) => {
    heard.push((raw >> 8) & 0xff);
    if (heard.length > 1) return;
    // The other one has ended too, and is not collected yet: a restart is asked for first.
    otherStillThere = existsSync('/proc/' + pids.find((other) => other !== pid));
    throw new Error('watcher failed');
  });
}
setTimeout(() => {
  reaper.reap();
  setTimeout(() => console.log(JSON.stringify({ heard: heard.sort(), otherStillThere, uncaught })), 50);
}, 300);
`);
    assert.deepEqual(outcome.heard, [3, 4]);
    assert.equal(outcome.otherStillThere, true);
    assert.deepEqual(outcome.uncaught, ['watcher failed']);
  });

  it("tells a watched child's end as waitid reads it, with the status waitpid would give, and collects the child after", () => {
    const outcome = runModule<{ seen: { code: number; signal: number; zombieWhileTold: boolean }[]; goneAfter: boolean }>(`
import { existsSync } from 'node:fs';
const reaper = new Reaper(); // not started: reaped below, once every child has ended
const spawn = (script) => posixSpawn({ path: '/bin/sh', argv: ['sh', '-c', script], env: [], cwd: '/', fds: new Map([[0, 'null'], [1, 'null'], [2, 'null']]), newSession: true });
const pids = [spawn('exit 7'), spawn('kill -TERM $$'), spawn('exit 255')];
const seen = [];
for (const pid of pids) reaper.watch(pid, (raw) => seen.push({ pid, code: (raw >> 8) & 0xff, signal: raw & 0x7f, zombieWhileTold: existsSync('/proc/' + pid) }));
setTimeout(() => {
  reaper.reap();
  const goneAfter = pids.every((pid) => !existsSync('/proc/' + pid));
  seen.sort((a, b) => pids.indexOf(a.pid) - pids.indexOf(b.pid));
  console.log(JSON.stringify({ seen: seen.map(({ code, signal, zombieWhileTold }) => ({ code, signal, zombieWhileTold })), goneAfter }));
}, 300);
`);
    assert.deepEqual(outcome.seen, [
      { code: 7, signal: 0, zombieWhileTold: true },
      { code: 0, signal: 15, zombieWhileTold: true },
      { code: 255, signal: 0, zombieWhileTold: true },
    ]);
    assert.equal(outcome.goneAfter, true);
  });

  it('names an ended child without collecting it, then none once it is collected, and says when there are no children', () => {
    const outcome = runModule<{ first: unknown; again: unknown; status: number | null; after: unknown; empty: unknown; pid: number }>(`
const { peekEndedChild, reapIfExited } = await import(${JSON.stringify(join(repoRoot, '.build', 'src', 'sys', 'ffi', 'children.js'))});
const spawn = (script) => posixSpawn({ path: '/bin/sh', argv: ['sh', '-c', script], env: [], cwd: '/', fds: new Map([[0, 'null'], [1, 'null'], [2, 'null']]), newSession: true });
const running = spawn('sleep 5');
const pid = spawn('exit 9');
setTimeout(() => {
  const first = peekEndedChild();
  const again = peekEndedChild();
  const raw = reapIfExited(pid);
  const after = peekEndedChild();
  process.kill(running, 'SIGKILL');
  setTimeout(() => {
    reapIfExited(running);
    console.log(JSON.stringify({ first, again, status: raw === undefined ? null : (raw >> 8) & 0xff, after, empty: peekEndedChild(), pid }));
  }, 200);
}, 300);
`);
    assert.equal(outcome.first, outcome.pid);
    assert.equal(outcome.again, outcome.pid);
    assert.equal(outcome.status, 9);
    assert.equal(outcome.after, 'none');
    assert.equal(outcome.empty, 'no-child');
  });
});

