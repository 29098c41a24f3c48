import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { createPipe } from '../../src/sys/ffi/descriptors.js';
import { canPosixSpawn } from '../../src/sys/ffi/spawn.js';
import { posixProcessPort } from '../../src/sys/posix-port.js';
import { Reaper } from '../../src/sys/reaper.js';
import type { ProcessPort, SpawnSpec, Termination } from '../../src/sys/spawn.js';
import { removeTree } from '../helpers/tree.js';

interface Outcome {
  readonly order: string[];
  readonly pid: number | null;
  readonly termination: Termination | null;
  readonly error: NodeJS.ErrnoException | null;
}

function spec(file: string, args: readonly string[] = []): SpawnSpec {
  return { file, args, cwd: '/', env: { PATH: '/usr/bin:/bin' }, stdin: 'ignore', stdout: 'ignore', stderr: 'ignore', newSession: true };
}

/** Starts one process and resolves once it has exited or failed to start, with the callbacks' order. */
function run(port: ProcessPort, what: SpawnSpec): Promise<Outcome> {
  return new Promise((resolve) => {
    const order: string[] = [];
    let pid: number | null = null;
    port.spawn(what, {
      onSpawned: (spawned) => {
        order.push('spawned');
        pid = spawned;
      },
      onExit: (termination) => {
        order.push('exit');
        resolve({ order, pid, termination, error: null });
      },
      onSpawnError: (error) => {
        order.push('error');
        resolve({ order, pid, termination: null, error });
      },
    });
  });
}

function readLink(fd: number): string | undefined {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return undefined;
  }
}

describe('the posix_spawn port', { skip: !canPosixSpawn() && 'posix_spawn is not available here' }, () => {
  const reaper = new Reaper();
  const dirs: string[] = [];
  // Children do not keep Node's event loop alive (a SIGCHLD listener does not either): as in
  // Steward, where supervising keeps it alive, a timer does here while exits are awaited.
  let keepAlive: NodeJS.Timeout | undefined;
  before(() => {
    reaper.start();
    keepAlive = setInterval(() => undefined, 60_000);
  });
  after(() => {
    clearInterval(keepAlive);
    reaper.stop();
    dirs.forEach(removeTree);
  });

  it('starts processes on other threads, and loses no exit status when many start and end at once', { timeout: 120_000 }, async () => {
    const port = posixProcessPort(reaper);
    // Each exits at once: most exits reach the reaper while other starts are still under way,
    // when an unknown child may be one of ours rather than an orphan.
    const outcomes = await Promise.all(Array.from({ length: 60 }, (_, index) => run(port, spec('sh', ['-c', `exit ${index % 7}`]))));
    outcomes.forEach((outcome, index) => {
      assert.deepEqual(outcome.order, ['spawned', 'exit'], `process ${index}`);
      assert.ok(outcome.pid !== null && outcome.pid > 0);
      assert.deepEqual(outcome.termination, { code: index % 7, signal: null }, `process ${index}`);
    });
    assert.equal(new Set(outcomes.map((outcome) => outcome.pid)).size, 60);
    assert.equal(reaper.reapedCount, 0, 'a child of ours was taken for an orphan');
  });

  it('starts 400 processes asked for at once (more than koffi takes asynchronous calls at a time)', { timeout: 120_000 }, async () => {
    const port = posixProcessPort(reaper);
    const outcomes = await Promise.all(Array.from({ length: 400 }, () => run(port, spec('true'))));
    assert.equal(outcomes.filter((outcome) => outcome.termination?.code === 0 && outcome.order.join() === 'spawned,exit').length, 400);
  });

  it('retries a run script that is open for writing for a moment (ETXTBSY), and gives up after about 100 ms', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'steward-port-'));
    dirs.push(dir);
    const script = join(dir, 'run');
    writeFileSync(script, '#!/bin/sh\nexit 4\n', { mode: 0o755 });
    const port = posixProcessPort(reaper);
    // As when another thread's child still holds a copy of the descriptor the copy wrote through.
    const writer = openSync(script, 'r+');
    const started = run(port, spec(script));
    setTimeout(() => closeSync(writer), 30);
    const outcome = await started;
    assert.deepEqual(outcome.order, ['spawned', 'exit']);
    assert.deepEqual(outcome.termination, { code: 4, signal: null });

    const stuck = openSync(script, 'r+');
    try {
      const failed = await run(port, spec(script));
      assert.deepEqual(failed.order, ['error']);
      assert.equal(failed.error?.code, 'ETXTBSY');
    } finally {
      closeSync(stuck);
    }
  });

  it('reports a program that cannot be executed through onSpawnError, with no pid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'steward-port-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'not-executable'), '#!/bin/sh\nexit 0\n', { mode: 0o644 });
    const port = posixProcessPort(reaper);
    const missing = await run(port, spec(join(dir, 'missing')));
    assert.deepEqual(missing.order, ['error']);
    assert.equal(missing.error?.code, 'ENOENT');
    const denied = await run(port, spec(join(dir, 'not-executable')));
    assert.deepEqual(denied.order, ['error']);
    assert.equal(denied.error?.code, 'EACCES');
  });

  it('opens the output pipe ahead for the next child, blocking and of its own, and hands it to that child', async () => {
    const pipe = createPipe();
    const pipeLink = readlinkSync(`/proc/self/fd/${pipe.writeFd}`);
    // Our descriptors on that pipe but its two ends: open files made for children.
    const openedForChildren = (): number[] =>
      readdirSync('/proc/self/fd')
        .map(Number)
        .filter((fd) => fd !== pipe.readFd && fd !== pipe.writeFd && readLink(fd) === pipeLink);
    const port = posixProcessPort(reaper);
    const toPipe = { ...spec('true'), stdout: { freshFrom: pipe.writeFd, fallback: pipe.writeFd } };
    try {
      assert.deepEqual((await run(port, toPipe)).termination, { code: 0, signal: null });
      await new Promise((resolve) => setImmediate(resolve));
      const ahead = openedForChildren();
      assert.equal(ahead.length, 1, 'one open file waits for the next child');
      const flags = Number.parseInt(/flags:\s*(\d+)/.exec(readFileSync(`/proc/self/fdinfo/${ahead[0] ?? -1}`, 'utf8'))?.[1] ?? '', 8);
      assert.equal(flags & 0o4000, 0, 'it is blocking (O_NONBLOCK is clear)');
      let afterSecondStart: number[] = [];
      await new Promise<void>((resolve, reject) => {
        port.spawn(toPipe, {
          onSpawned: () => {
            afterSecondStart = openedForChildren();
          },
          onExit: () => resolve(),
          onSpawnError: reject,
        });
      });
      assert.equal(afterSecondStart.includes(ahead[0] ?? -1), false, 'the second child took it (and ours is closed)');
    } finally {
      await new Promise((resolve) => setImmediate(resolve));
      closeSync(pipe.readFd);
      closeSync(pipe.writeFd);
    }
  });

  it('gives each start its own directory and descriptors, when starts share what they have alike and differ in the rest', async () => {
    const dirs2 = ['a', 'b'].map((name) => {
      const dir = mkdtempSync(join(tmpdir(), `steward-port-${name}-`));
      dirs.push(dir);
      return dir;
    });
    const port = posixProcessPort(reaper);
    // Where it ran, and what its stdout is: a file of the test's or /dev/null (ignore).
    const where = async (cwd: string, stdout: number | 'ignore', marker: string): Promise<void> => {
      const outcome = await run(port, { ...spec('/bin/sh', ['-c', `out=$(readlink /proc/$$/fd/1); pwd > ${marker}; echo "$out" >> ${marker}`]), cwd, stdout });
      assert.deepEqual(outcome.termination, { code: 0, signal: null });
    };
    const output = join(dirs2[0] ?? '', 'output');
    const fd = openSync(output, 'w');
    try {
      // The same request three times, then one with another directory, then another stdout.
      for (let round = 0; round < 3; round++) await where(dirs2[0] ?? '', 'ignore', `mark-${round}`);
      await where(dirs2[1] ?? '', 'ignore', 'mark-b');
      await where(dirs2[0] ?? '', fd, 'mark-file');
    } finally {
      closeSync(fd);
    }
    for (let round = 0; round < 3; round++) assert.equal(readFileSync(join(dirs2[0] ?? '', `mark-${round}`), 'utf8'), `${dirs2[0] ?? ''}\n/dev/null\n`);
    assert.equal(readFileSync(join(dirs2[1] ?? '', 'mark-b'), 'utf8'), `${dirs2[1] ?? ''}\n/dev/null\n`);
    assert.equal(readFileSync(join(dirs2[0] ?? '', 'mark-file'), 'utf8'), `${dirs2[0] ?? ''}\n${output}\n`);
  });

  it('gives each child its arguments and environment byte for byte, the shared environment of many starts included', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'steward-port-'));
    dirs.push(dir);
    // As the services' environment: frozen, shared by every start, and large (Kubernetes' service links).
    const env: NodeJS.ProcessEnv = { PATH: '/usr/bin:/bin', EMPTY: '', 'spring.profiles.active': 'prod', ACCENTED: 'café ☕ 日本', SPACES: ' a  b ' };
    for (let index = 0; index < 500; index++) env[`SERVICE_${index}_PORT`] = `tcp://10.0.${index % 256}.${index % 7}:${8000 + index}`;
    Object.freeze(env);
    const args = ['first', '', 'with space', 'ünïcode ☃', '--flag=value'];
    const port = posixProcessPort(reaper);
    // Run without a shell in between: dash leaves out variables whose names are no shell names.
    const captured = async (file: string, fileArgs: readonly string[], output: string): Promise<string> => {
      const fd = openSync(output, 'w');
      try {
        const outcome = await run(port, { ...spec(file, fileArgs), env, stdout: fd });
        assert.deepEqual(outcome.termination, { code: 0, signal: null });
      } finally {
        closeSync(fd);
      }
      return readFileSync(output, 'utf8');
    };
    const expectedEnv = Object.entries(env)
      .map(([name, value]) => `${name}=${value ?? ''}`)
      .sort();
    const runs = Array.from({ length: 12 }, (_, index) =>
      Promise.all([captured('env', ['-0'], join(dir, `env-${index}`)), captured('printf', ['<%s>', ...args], join(dir, `args-${index}`))]),
    );
    for (const [seenEnv, seenArgs] of await Promise.all(runs)) {
      assert.deepEqual(seenEnv.split('\0').filter((entry) => entry !== '').sort(), expectedEnv);
      assert.equal(seenArgs, args.map((arg) => `<${arg}>`).join(''));
    }
  });
});
