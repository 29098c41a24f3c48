import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { destroy, isRoot, scriptTree, startInit, type InitRun } from '../helpers/pid1.js';

const skip = !isRoot && 'needs root for a PID namespace';
const runs: InitRun[] = [];
after(() => runs.forEach(destroy));

const BYTES = 1_000_000;

async function waitForFile(path: string, timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > deadline) throw new Error(`${path} did not appear`);
    await sleep(20);
  }
  return readFileSync(path, 'utf8');
}

// Node makes its own stdout and stderr non-blocking when they are pipes (as under docker
// logs); services given the same open file would then get EAGAIN from a slow log reader.
test('a service writing faster than the container log is read loses nothing: its writes wait', { skip }, async () => {
  const etc = scriptTree({
    'services.d/chatty/run': [
      '#!/bin/sh',
      'grep flags /proc/self/fdinfo/1 > "$MARK/flags"',
      `head -c ${BYTES} /dev/zero | tr '\\0' '\\1'; echo "$?" > "$MARK/stdout-status"`,
      `head -c ${BYTES} /dev/zero | tr '\\0' '\\2' >&2; echo "$?" > "$MARK/stderr-status"`,
      'exec sleep 1000',
      '',
    ].join('\n'),
  });
  const run = startInit({ env: { STEWARD_ETC: etc, STEWARD_RUN: join(etc, 'run'), S6_KEEP_ENV: '1', MARK: etc } });
  runs.push(run);
  let stdoutBytes = 0;
  let stderrBytes = 0;
  run.child.stdout?.on('data', (chunk: Buffer) => (stdoutBytes += count(chunk, 1)));
  run.child.stderr?.on('data', (chunk: Buffer) => (stderrBytes += count(chunk, 2)));
  // A log reader that falls behind: nothing is read until the service has filled the pipe.
  run.child.stdout?.pause();
  run.child.stderr?.pause();
  const flags = await waitForFile(join(etc, 'flags'));
  await sleep(500);
  run.child.stdout?.resume();
  run.child.stderr?.resume();
  assert.equal((await waitForFile(join(etc, 'stdout-status'))).trim(), '0', run.output());
  assert.equal((await waitForFile(join(etc, 'stderr-status'))).trim(), '0', run.output());
  // O_NONBLOCK is 04000 in the octal flags /proc shows.
  assert.equal(Number.parseInt(flags.replace(/^flags:\s*/, ''), 8) & 0o4000, 0, `service stdout ${flags}`);
  run.kill('SIGTERM');
  const { code } = await run.exited;
  assert.equal(code, 0);
  assert.equal(stdoutBytes, BYTES);
  assert.equal(stderrBytes, BYTES);
  assert.doesNotMatch(run.output(), /Resource temporarily unavailable/);
});

/** Bytes 1 and 2 mark the service's output: nothing else the init prints has them. */
function count(chunk: Buffer, marker: number): number {
  let found = 0;
  for (const byte of chunk) if (byte === marker) found++;
  return found;
}
