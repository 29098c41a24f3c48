import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';

import { memoryLimit } from '../../src/sys/memory-limit.js';
import { planOomScore } from '../../src/sys/oom-score.js';
import { withOomScoreAdj } from '../../src/sys/oom-score-port.js';
import type { ProcessPort, SpawnCallbacks } from '../../src/sys/spawn.js';

const MIB = 1024 * 1024;
const roots: string[] = [];
after(() => roots.forEach((root) => rmSync(root, { recursive: true, force: true })));

/** A fake /proc and /sys/fs/cgroup: each path to its content. */
function fakeSystem(files: Record<string, string>): { proc: string; cgroup: string } {
  const root = mkdtempSync(join(tmpdir(), 'steward-oom-'));
  roots.push(root);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return { proc: join(root, 'proc'), cgroup: join(root, 'cgroup') };
}

const meminfo = 'MemTotal:       16384000 kB\nMemFree:         1000 kB\n';

describe('memoryLimit', () => {
  it("reads cgroup v2's memory.max, the lowest of this cgroup and its parents", () => {
    const { proc, cgroup } = fakeSystem({
      'proc/self/cgroup': '0::/pod/ctr\n',
      'proc/meminfo': meminfo,
      'cgroup/pod/memory.max': `${1024 * MIB}\n`,
      'cgroup/pod/ctr/memory.max': 'max\n',
    });
    assert.deepEqual(memoryLimit(proc, cgroup), { bytes: 1024 * MIB, source: join(cgroup, 'pod', 'memory.max') });
  });

  it("reads cgroup v1's memory.limit_in_bytes, where the mount shows the container's own cgroup as the root", () => {
    const { proc, cgroup } = fakeSystem({
      'proc/self/cgroup': '5:cpu,cpuacct:/docker/abc\n4:memory:/docker/abc\n0::/\n',
      'proc/meminfo': meminfo,
      'cgroup/memory/memory.limit_in_bytes': `${512 * MIB}\n`,
    });
    assert.deepEqual(memoryLimit(proc, cgroup), { bytes: 512 * MIB, source: join(cgroup, 'memory', 'memory.limit_in_bytes') });
  });

  it("takes the machine's memory when no limit is set or none can be read", () => {
    const unlimited = fakeSystem({
      'proc/self/cgroup': '4:memory:/\n',
      'proc/meminfo': meminfo,
      'cgroup/memory/memory.limit_in_bytes': '9223372036854771712\n',
    });
    assert.equal(memoryLimit(unlimited.proc, unlimited.cgroup)?.bytes, 16384000 * 1024);
    const unmounted = fakeSystem({ 'proc/self/cgroup': '0::/\n', 'proc/meminfo': meminfo });
    assert.equal(memoryLimit(unmounted.proc, unmounted.cgroup)?.bytes, 16384000 * 1024);
  });
});

describe('planOomScore', () => {
  const limited = (own: string): { proc: string; cgroup: string } =>
    fakeSystem({ 'proc/self/oom_score_adj': own, 'proc/self/cgroup': '0::/\n', 'proc/meminfo': meminfo, 'cgroup/memory.max': `${512 * MIB}\n` });

  it('puts the processes Steward starts above PID 1 by what twice its memory weighs against the limit', () => {
    const { proc, cgroup } = limited('0\n');
    // 2 x 50 MiB of 512 MiB: 196 thousandths, rounded up.
    const plan = planOomScore({ mode: 'auto' }, 50 * MIB, proc, cgroup);
    assert.equal(plan?.value, 196);
    assert.equal(plan?.whileStarting, 98);
    // A step of at least 2, so that PID 1, holding half of it while starting, stays below the rest.
    const huge = fakeSystem({ 'proc/self/oom_score_adj': '0\n', 'proc/self/cgroup': '0::/\n', 'proc/meminfo': 'MemTotal:       999999999 kB\n' });
    assert.deepEqual([planOomScore({ mode: 'auto' }, 50 * MIB, huge.proc, huge.cgroup)?.value, planOomScore({ mode: 'auto' }, 50 * MIB, huge.proc, huge.cgroup)?.whileStarting], [2, 1]);
    assert.equal(planOomScore({ mode: 'value', value: 1 }, 50 * MIB, huge.proc, huge.cgroup)?.whileStarting, 0);
    assert.equal(plan?.own, 0);
    // With a machine's memory only, a small step, but one.
    const host = fakeSystem({ 'proc/self/oom_score_adj': '0\n', 'proc/self/cgroup': '0::/\n', 'proc/meminfo': meminfo });
    assert.equal(planOomScore({ mode: 'auto' }, 50 * MIB, host.proc, host.cgroup)?.value, 7);
  });

  it("starts from PID 1's own value and stops at 1000", () => {
    const { proc, cgroup } = limited('900\n');
    assert.equal(planOomScore({ mode: 'auto' }, 50 * MIB, proc, cgroup)?.value, 1000);
    const top = limited('1000\n');
    assert.equal(planOomScore({ mode: 'auto' }, 50 * MIB, top.proc, top.cgroup), undefined);
  });

  it('leaves a container the runtime exempted from the OOM killer (-1000) exempt', () => {
    const exempt = limited('-1000\n');
    assert.equal(planOomScore({ mode: 'auto' }, 50 * MIB, exempt.proc, exempt.cgroup), undefined);
    const guaranteed = limited('-997\n');
    assert.equal(planOomScore({ mode: 'auto' }, 50 * MIB, guaranteed.proc, guaranteed.cgroup)?.value, -997 + 196);
  });

  it('gives the value asked for, and nothing when off', () => {
    const { proc, cgroup } = limited('0\n');
    assert.equal(planOomScore({ mode: 'value', value: 300 }, 50 * MIB, proc, cgroup)?.value, 300);
    assert.equal(planOomScore({ mode: 'off' }, 50 * MIB, proc, cgroup), undefined);
  });
});

describe('withOomScoreAdj', () => {
  const spec = { file: 'sleep', args: ['0.3'], cwd: '/', env: process.env, stdin: 'ignore', stdout: 'ignore', stderr: 'ignore', newSession: false } as const;
  const lastLine = (path: string): string | undefined => readFileSync(path, 'utf8').trim().split('\n').at(-1);

  it('holds the half-way value while a start is under way, gives each started process the full one, and goes back once none is under way', () => {
    const { proc } = fakeSystem({ 'proc/self/oom_score_adj': '0\n', 'proc/10/oom_score_adj': '0\n' });
    const own = join(proc, 'self', 'oom_score_adj');
    const pending: SpawnCallbacks[] = [];
    const seenAtStart: (string | undefined)[] = [];
    const port: ProcessPort = {
      spawn(_spec, callbacks) {
        seenAtStart.push(lastLine(own));
        pending.push(callbacks);
      },
      signal: () => true,
    };
    const shielded = withOomScoreAdj(port, { value: 300, whileStarting: 150, own: 0 }, () => assert.fail('refused'), proc, (pid) => join(proc, String(pid)));
    assert.ok(typeof shielded !== 'string');
    const quiet = { onExit: () => undefined };
    let childWhenHeard: string | undefined;
    shielded.spawn(spec, { ...quiet, onSpawned: (pid) => (childWhenHeard = lastLine(join(proc, String(pid), 'oom_score_adj'))), onSpawnError: () => undefined });
    shielded.spawn(spec, { ...quiet, onSpawned: () => undefined, onSpawnError: () => undefined });
    assert.deepEqual(seenAtStart, ['150', '150']);
    pending[0]?.onSpawned(10);
    assert.equal(childWhenHeard, '300');
    assert.equal(lastLine(own), '150', 'back down while a start was still under way');
    pending[1]?.onSpawnError(Object.assign(new Error('spawn sleep ENOENT'), { code: 'ENOENT' }));
    assert.equal(lastLine(own), '0');
  });

  it('says once that the kernel refuses a value (one below its own without CAP_SYS_RESOURCE), and starts the processes anyway', () => {
    const { proc } = fakeSystem({});
    for (const pid of ['101', '102', '103']) {
      mkdirSync(join(proc, pid), { recursive: true });
      // Every write fails there, as the kernel's EACCES would.
      symlinkSync('/dev/full', join(proc, pid, 'oom_score_adj'));
    }
    mkdirSync(join(proc, 'self'));
    writeFileSync(join(proc, 'self', 'oom_score_adj'), '0\n');
    const refusals: string[] = [];
    let started = 0;
    const port: ProcessPort = {
      spawn(_spec, callbacks) {
        started++;
        callbacks.onSpawned(100 + started);
      },
      signal: () => true,
    };
    const shielded = withOomScoreAdj(port, { value: -100, whileStarting: 0, own: 0 }, (code) => refusals.push(code), proc, (pid) => join(proc, String(pid)));
    assert.ok(typeof shielded !== 'string');
    for (let i = 0; i < 3; i++) shielded.spawn(spec, { onSpawned: () => undefined, onExit: () => undefined, onSpawnError: () => undefined });
    assert.equal(started, 3);
    assert.deepEqual(refusals, ['ENOSPC']);
    // Not raised while starting: a value below its own is for the started processes alone.
    assert.equal(lastLine(join(proc, 'self', 'oom_score_adj')), '0');
  });

  it("finds a started process by its own numbers where /proc is another PID namespace's, and touches no other", () => {
    const { proc } = fakeSystem({ 'proc/self/oom_score_adj': '0\n', 'proc/10/oom_score_adj': '0\n', 'proc/4242/oom_score_adj': '0\n' });
    const port: ProcessPort = { spawn: (_spec, callbacks) => callbacks.onSpawned(10), signal: () => true };
    // Our pid 10 is that /proc's 4242.
    const shielded = withOomScoreAdj(port, { value: 300, whileStarting: 150, own: 0 }, () => assert.fail('refused'), proc, (pid) => (pid === 10 ? join(proc, '4242') : undefined));
    assert.ok(typeof shielded !== 'string');
    shielded.spawn(spec, { onSpawned: () => undefined, onExit: () => undefined, onSpawnError: () => undefined });
    // Pid 10 of that /proc is someone else: untouched.
    assert.equal(lastLine(join(proc, '10', 'oom_score_adj')), '0');
    assert.equal(lastLine(join(proc, '4242', 'oom_score_adj')), '300');
  });

  it("says why when this process's own value cannot be written", () => {
    const { proc } = fakeSystem({});
    const port: ProcessPort = { spawn: () => undefined, signal: () => true };
    assert.equal(withOomScoreAdj(port, { value: 300, whileStarting: 150, own: 0 }, () => undefined, proc), 'ENOENT');
  });

  it('gives a real child the half-way value from its first instruction and the full one once started, and keeps its own', async () => {
    const { spawn } = await import('node:child_process');
    const port: ProcessPort = {
      spawn(started, callbacks: SpawnCallbacks) {
        const child = spawn(started.file, started.args, { stdio: 'ignore' });
        child.on('spawn', () => callbacks.onSpawned(child.pid ?? -1));
        child.on('exit', (code, signal) => callbacks.onExit({ code, signal }));
      },
      signal: (pid, signal) => process.kill(pid, signal) === true,
    };
    const own = Number(readFileSync('/proc/self/oom_score_adj', 'utf8'));
    const wanted = Math.min(1000, own + 6);
    const shielded = withOomScoreAdj(port, { value: wanted, whileStarting: own + 3, own }, (code) => assert.fail(code));
    assert.ok(typeof shielded !== 'string');
    const seen = await new Promise<number>((resolve) => {
      shielded.spawn(spec, {
        onSpawned: (pid) => resolve(Number(readFileSync(`/proc/${pid}/oom_score_adj`, 'utf8'))),
        onExit: () => undefined,
        onSpawnError: () => resolve(Number.NaN),
      });
    });
    assert.equal(seen, wanted);
    assert.equal(Number(readFileSync('/proc/self/oom_score_adj', 'utf8')), own);
  });
});
