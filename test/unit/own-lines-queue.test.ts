import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { repoRoot } from '../helpers/pid1.js';

describe("Steward's own lines while the container's output is blocked", () => {
  it('wait in a bounded queue: the rest is dropped and counted once the output takes lines again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'steward-own-lines-'));
    const script = join(dir, 'lines.mjs');
    const build = join(repoRoot, '.build', 'src');
    // 12 MiB of lines while nobody reads stderr, then how much waits in PID 1, then the exit once it is all out.
    writeFileSync(
      script,
      `import { Reporter } from '${join(build, 'log', 'reporter.js')}';
import { stderrWaitingBytes, whenStderrDrained } from '${join(build, 'sys', 'stdio.js')}';
const reporter = new Reporter(2);
const filler = 'x'.repeat(180);
for (let index = 0; index < 64 * 1024; index++) reporter.info('steward', \`line \${index} \${filler}\`);
process.stdout.write(\`queued=\${stderrWaitingBytes()}\\n\`);
const done = () => (stderrWaitingBytes() === 0 ? process.exit(0) : whenStderrDrained(done));
whenStderrDrained(done);
`,
    );
    // A FIFO for stderr, as Docker gives a container (Node's own pipes are socket pairs), which
    // is not read until the lines are written: a stalled log reader.
    const fifo = join(dir, 'stderr');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    const readFd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const writeFd = openSync(fifo, constants.O_WRONLY);
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', writeFd] });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    closeSync(writeFd);
    let stdout = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    for (let attempt = 0; attempt < 400 && !/queued=\d+/.test(stdout); attempt++) await new Promise((resolve) => setTimeout(resolve, 50));
    const queued = Number(/queued=(\d+)/.exec(stdout)?.[1]);
    let stderr = '';
    const reader = new Socket({ fd: readFd, readable: true, writable: false });
    const readerClosed = new Promise((resolve) => reader.once('close', resolve));
    reader.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await exited;
    await readerClosed;
    assert.equal(code, 0, stderr.slice(-500));
    assert.ok(queued > 0 && queued <= 4.5 * 1024 * 1024, `${queued} bytes waited in the process`);
    const dropped = Number(/steward: warning: (\d+) lines of Steward's own were dropped while the container's output was blocked/.exec(stderr)?.[1]);
    const written = stderr.split('\n').filter((line) => line.startsWith('steward: info: line ')).length;
    assert.ok(dropped > 0, stderr.slice(-300));
    // Each line is either written or counted as dropped.
    assert.equal(written + dropped, 64 * 1024);
  });

  it("stay whole when a service writes to the same pipe meanwhile: no service output lands inside one", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'steward-own-lines-'));
    const script = join(dir, 'lines.mjs');
    const build = join(repoRoot, '.build', 'src');
    const count = 4000;
    writeFileSync(
      script,
      `import { Reporter } from '${join(build, 'log', 'reporter.js')}';
import { stderrWaitingBytes, whenStderrDrained } from '${join(build, 'sys', 'stdio.js')}';
// What Node's stream hands the pipe: one piece of whole lines at a time, or it writes several
// together once the pipe has room, and a full pipe takes them in parts cut anywhere.
let handedTogether = 0;
let notWholeLines = 0;
let handed = 0;
const stream = process.stderr;
const write = stream._write.bind(stream);
const writev = stream._writev?.bind(stream);
stream._write = (chunk, encoding, callback) => {
  handed++;
  if (chunk.length > 4096 || chunk[chunk.length - 1] !== 10) notWholeLines++;
  return write(chunk, encoding, callback);
};
if (writev) stream._writev = (chunks, callback) => {
  handedTogether++;
  return writev(chunks, callback);
};
const reporter = new Reporter(2);
const filler = 'x'.repeat(300);
let index = 0;
// In bursts, so that some wait while the pipe is full and some are written at once.
const burst = () => {
  for (const end = Math.min(count, index + 200); index < end; index++) reporter.info('steward', \`line \${index} \${filler}\`);
  if (index < count) setTimeout(burst, 5);
  else {
    const done = () => {
      if (stderrWaitingBytes() !== 0) return whenStderrDrained(done);
      process.stdout.write(\`handed=\${handed} handed_together=\${handedTogether} not_whole=\${notWholeLines}\\n\`);
      process.exit(0);
    };
    whenStderrDrained(done);
  }
};
const count = ${count};
burst();
`,
    );
    const fifo = join(dir, 'stderr');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    const readFd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const writeFd = openSync(fifo, constants.O_WRONLY);
    // A service sharing the container's stderr, writing as fast as it can.
    const service = spawn('yes', [], { stdio: ['ignore', writeFd, 'ignore'] });
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', writeFd] });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    closeSync(writeFd);
    let stdout = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    // A reader that falls behind at first, then reads in small pieces: the pipe is full most of
    // the time, and has room for a little at once.
    await new Promise((resolve) => setTimeout(resolve, 300));
    let stderr = '';
    const piece = Buffer.alloc(1024);
    let readerDone: () => void = () => undefined;
    const readerClosed = new Promise<void>((resolve) => (readerDone = resolve));
    const readSome = (): void => {
      for (let index = 0; index < 16; index++) {
        let count: number;
        try {
          count = readSync(readFd, piece);
        } catch {
          break; // EAGAIN: nothing there yet
        }
        if (count === 0) {
          closeSync(readFd);
          readerDone();
          return;
        }
        stderr += piece.toString('latin1', 0, count);
      }
      setTimeout(readSome, 1);
    };
    readSome();
    const code = await exited;
    service.kill('SIGKILL');
    await readerClosed;
    assert.equal(code, 0);
    // Some lines waited (the pipe was full), and went out one piece of whole lines at a time.
    assert.ok(Number(/handed=(\d+)/.exec(stdout)?.[1]) > 0, `no line waited for the pipe: ${stdout}`);
    assert.match(stdout, /handed_together=0 not_whole=0\n/);
    const lines = stderr.split('\n');
    const whole = /^steward: info: line \d+ x{300}$/;
    const broken = lines.filter((line) => line !== 'y' && line !== '' && !whole.test(line) && !/lines of Steward's own were dropped/.test(line));
    assert.deepEqual(broken.slice(0, 5), [], `${broken.length} broken lines`);
    assert.equal(lines.filter((line) => whole.test(line)).length, count);
  });
});
