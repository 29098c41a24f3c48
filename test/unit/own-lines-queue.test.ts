import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, writeFileSync } from 'node:fs';
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
import { whenStderrDrained } from '${join(build, 'sys', 'stdio.js')}';
const reporter = new Reporter(2);
const filler = 'x'.repeat(180);
for (let index = 0; index < 64 * 1024; index++) reporter.info('steward', \`line \${index} \${filler}\`);
process.stdout.write(\`queued=\${process.stderr.writableLength}\\n\`);
const done = () => (process.stderr.writableLength === 0 ? process.exit(0) : whenStderrDrained(done));
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
});
