import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { destroy, isRoot, scriptTree, startInit, type InitRun } from '../helpers/pid1.js';

const skip = !isRoot && 'needs root for a PID namespace';
const runs: InitRun[] = [];
after(() => runs.forEach(destroy));

const BYTES = 1_000_000;

/** The whole of a line a service writes to a file: the shell makes the file before echo writes to it. */
async function waitForFile(path: string, timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
    if (text.endsWith('\n')) return text;
    if (Date.now() > deadline) throw new Error(`${path} did not appear, or has no whole line: ${JSON.stringify(text)}`);
    await sleep(20);
  }
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
  const run = startInit({ env: { STEWARD_ETC: etc, STEWARD_RUN: join(etc, 'run'), S6_KEEP_ENV: '1', MARK: etc }, fifoOutput: true });
  runs.push(run);
  let stdoutBytes = 0;
  let stderrBytes = 0;
  run.stdout.on('data', (chunk: Buffer) => (stdoutBytes += count(chunk, 1)));
  run.stderr.on('data', (chunk: Buffer) => (stderrBytes += count(chunk, 2)));
  // A log reader that falls behind: nothing is read until the service has filled the pipe.
  run.stdout.pause();
  run.stderr.pause();
  const flags = await waitForFile(join(etc, 'flags'));
  await sleep(500);
  run.stdout.resume();
  run.stderr.resume();
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

// Steward writes its own lines with write(2), through an open file of its own: Node's stream
// for stderr is never made, so the container's pipe keeps the mode it was given, and a log
// reader that stops reading cannot stop PID 1 from supervising.
test("PID 1 leaves its stderr pipe blocking, and a log reader that stops reading does not stop supervision", { skip }, async () => {
  const etc = scriptTree({
    // Each run is a line of Steward's (at verbosity 3); with no throttle it restarts at once.
    'services.d/flappy/run': '#!/bin/sh\necho run >> "$MARK/runs"\nexec sleep 0.02\n',
    // Fills the pipe once nobody reads it (its own writes wait), so Steward's lines cannot go out.
    'services.d/filler/run': `#!/bin/sh\nwhile [ ! -e "$MARK/fill" ]; do sleep 0.05; done\nhead -c ${BYTES} /dev/zero | tr '\\0' '\\3' >&2\necho filled > "$MARK/filled"\nexec sleep 1000\n`,
  });
  const run = startInit({
    env: { STEWARD_ETC: etc, STEWARD_RUN: join(etc, 'run'), S6_KEEP_ENV: '1', MARK: etc, S6_VERBOSITY: '3', STEWARD_RESTART_THROTTLE: '0' },
    fifoOutput: true,
  });
  runs.push(run);
  await waitForFile(join(etc, 'runs'));
  const flags = readFileSync(`/proc/${run.initPid()}/fdinfo/2`, 'utf8');
  assert.equal(Number.parseInt(/^flags:\s*(\d+)/m.exec(flags)?.[1] ?? '', 8) & 0o4000, 0, `PID 1's stderr is non-blocking: ${flags}`);

  // Nothing is read any more, and the pipe is full.
  let fillerBytes = 0;
  run.stderr.on('data', (chunk: Buffer) => (fillerBytes += count(chunk, 3)));
  run.stderr.pause();
  writeFileSync(join(etc, 'fill'), '');
  await sleep(500);
  const runsWhilePaused = (): number => readFileSync(join(etc, 'runs'), 'utf8').split('\n').length;
  const before = runsWhilePaused();
  // Polled for, up to 10 s, as a busy machine restarts it more slowly: a PID 1 held up by the
  // full pipe would not restart it at all.
  let after = runsWhilePaused();
  for (const deadline = Date.now() + 10_000; after - before <= 20 && Date.now() < deadline; after = runsWhilePaused()) await sleep(100);
  assert.ok(after - before > 20, `the service was restarted only ${after - before} times in 10 s while stderr was not read`);
  run.stderr.resume();
  await waitForFile(join(etc, 'filled'));
  run.kill('SIGTERM');
  const { code } = await run.exited;
  assert.equal(code, 0);
  assert.equal(fillerBytes, BYTES);
  // What waited in memory came out afterwards.
  assert.match(run.output(), /stopping the container/);
});

test('S6_LOGGING=1: a slow reader of the container output slows the services down, as s6-log -b would, instead of filling PID 1', { skip, timeout: 60_000 }, async () => {
  const etc = scriptTree({
    'services.d/spew/run': '#!/bin/sh\necho $$ > "$MARK/pid"\nexec seq 1 1000000000\n',
  });
  // The CMD measures, inside the namespace, how much the service wrote while nobody read.
  const measure = `while [ ! -e "${etc}/pid" ]; do sleep 0.05; done; sleep 4; grep ^wchar /proc/$(cat "${etc}/pid")/io > "${etc}/written.tmp"; mv "${etc}/written.tmp" "${etc}/written"; exec sleep 1000`;
  const run = startInit({
    env: { STEWARD_ETC: etc, STEWARD_RUN: join(etc, 'run'), S6_KEEP_ENV: '1', MARK: etc, S6_LOGGING: '1' },
    args: ['sh', '-c', measure],
    fifoOutput: true,
  });
  runs.push(run);
  run.stdout.pause();
  run.stderr.pause();
  const written = Number(/wchar:\s*(\d+)/.exec(await waitForFile(join(etc, 'written'), 30_000))?.[1]);
  // Unread, the service can only fill the pipes and PID 1's bounded copy queue: a few hundred
  // KB, however long; with nothing held back it writes as fast as PID 1 copies, MB a second.
  assert.ok(written < 1_500_000, `the service wrote ${written} bytes while the container output was not read`);
  run.stdout.resume();
  run.stderr.resume();
  run.kill('SIGTERM');
  const { code } = await run.exited;
  assert.equal(code, 0, run.output().slice(-2000));
  assert.ok(existsSync(join(etc, 'run', 'uncaught-logs', 'current')));
});

test('at shutdown, a services.d logger keeps reading while its service takes its time to stop', { skip, timeout: 60_000 }, async () => {
  const etc = scriptTree({
    // On TERM the service says goodbye for longer than a logger is given after its service is down.
    'services.d/app/run': `#!/bin/sh\ntrap 'i=0; while [ $i -lt 30 ]; do echo "final $i"; i=$((i+1)); sleep 0.06; done; exit 0' TERM\necho started\nwhile :; do sleep 0.05; done\n`,
    'services.d/app/log/run': `#!/bin/sh\nexec cat >> "$MARK/app.log"\n`,
  });
  const run = startInit({ env: { STEWARD_ETC: etc, STEWARD_RUN: join(etc, 'run'), S6_KEEP_ENV: '1', MARK: etc, S6_SERVICES_GRACETIME: '10000' } });
  runs.push(run);
  while (!(existsSync(join(etc, 'app.log')) && readFileSync(join(etc, 'app.log'), 'utf8').includes('started'))) await sleep(20);
  run.kill('SIGTERM');
  const { code } = await run.exited;
  assert.equal(code, 0, run.output());
  const finals = readFileSync(join(etc, 'app.log'), 'utf8').split('\n').filter((line) => line.startsWith('final '));
  assert.equal(finals.length, 30, `logged: ${finals.join(', ')}\n${run.output()}`);
});

test("Steward's last lines wait for a full log pipe to be read before PID 1 exits", { skip }, async () => {
  const etc = scriptTree({
    // Fills the pipe once nobody reads it, and stays blocked on it.
    'services.d/filler/run': `#!/bin/sh\nwhile [ ! -e "$MARK/fill" ]; do sleep 0.05; done\nhead -c ${BYTES} /dev/zero | tr '\\0' '\\3' >&2\nexec sleep 1000\n`,
  });
  const run = startInit({ env: { STEWARD_ETC: etc, STEWARD_RUN: join(etc, 'run'), S6_KEEP_ENV: '1', MARK: etc }, fifoOutput: true });
  runs.push(run);
  await run.waitForOutput(/service filler: info: started/);
  run.stderr.pause();
  writeFileSync(join(etc, 'fill'), '');
  await sleep(500);
  run.kill('SIGTERM');
  // The stop happens with the pipe full: Steward's lines about it wait in its queue.
  await sleep(500);
  run.stderr.resume();
  const { code } = await run.exited;
  assert.equal(code, 0);
  assert.match(run.output(), /stopping the container: received SIGTERM/);
  assert.match(run.output(), /steward: info: exiting with code 0\n/);
});

test('S6_LOGGING=1: a service printing short lines as fast as it can leaves PID 1 free to answer and to stop', { skip, timeout: 60_000 }, async () => {
  const etc = scriptTree({ 'services.d/flood/run': '#!/bin/sh\nexec yes\n' });
  const run = startInit({ env: { STEWARD_ETC: etc, STEWARD_RUN: join(etc, 'run'), S6_LOGGING: '1' }, fifoOutput: true });
  runs.push(run);
  await run.waitForOutput(/service flood: info: started/);
  // The container's output read as fast as it comes, and counted, not kept: gigabytes of y.
  for (const stream of [run.stdout, run.stderr]) {
    stream.removeAllListeners('data');
    stream.on('data', () => undefined);
  }
  await sleep(2000);
  // Bounds far above what a free PID 1 takes (milliseconds): one copying two writes per line
  // of `yes` answered nothing for over ten seconds, and stopped in twenty.
  const answer = await new Promise<string>((resolve) => {
    const socket = createConnection(join(etc, 'run', 'steward', 'control.sock'));
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(`no answer within 8 s: ${text}`);
    }, 8000);
    socket.on('connect', () => socket.end('{"cmd":"ping"}\n'));
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    socket.on('error', (error) => resolve(`error: ${error.message}`));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(text);
    });
  });
  assert.match(answer, /"ok":true/);
  run.kill('SIGTERM');
  const stopped = await Promise.race([run.exited.then(() => true), sleep(8000).then(() => false)]);
  assert.ok(stopped, 'the container did not stop within 8 s of SIGTERM');
  assert.equal((await run.exited).code, 0);
});

test("S6_LOGGING=1: the catch-all log keeps reading while Steward's own lines put its copy to stderr behind", { skip, timeout: 60_000 }, async () => {
  // A flood, and services in a crash loop whose every start and end is a line of Steward's (S6_VERBOSITY=3).
  const tree: Record<string, string> = { 'services.d/flood/run': '#!/bin/sh\nexec yes flood-line\n' };
  for (let index = 0; index < 30; index++) tree[`services.d/flap${index}/run`] = '#!/bin/sh\nexit 3\n';
  const etc = scriptTree(tree);
  const run = startInit({ env: { STEWARD_ETC: etc, STEWARD_RUN: join(etc, 'run'), S6_LOGGING: '1', S6_VERBOSITY: '3' }, fifoOutput: true });
  runs.push(run);
  await run.waitForOutput(/service flood: info: started/);
  // Read as fast as it comes, and counted, not kept.
  let floodBytes = 0;
  for (const stream of [run.stdout, run.stderr]) {
    stream.removeAllListeners('data');
    stream.on('data', (chunk: Buffer) => (floodBytes += chunk.includes('flood-line') ? chunk.length : 0));
  }
  // A reading that stopped for good stays stopped: each of these seconds must see more of the
  // service's output come through (the catch-all log's current file rotates, so not its size).
  for (let second = 0; second < 6; second++) {
    const before = floodBytes;
    await sleep(1000);
    assert.ok(floodBytes > before, `none of the service's output came through in second ${second + 1}: the services' pipe is no longer read`);
  }
  run.kill('SIGTERM');
  assert.equal((await run.exited).code, 0);
});

/**
 * Reads the init's stderr as a slow log driver would: `bytes` every `everyMs` (its stdout is
 * read as it comes and dropped). `text` is what was read so far; `done` resolves at its end.
 */
function readSlowly(run: InitRun, bytes: number, everyMs: number): { text(): string; done: Promise<void> } {
  let text = '';
  for (const stream of [run.stdout, run.stderr]) stream.removeAllListeners('data');
  run.stderr.pause();
  run.stdout.on('data', () => undefined);
  run.stderr.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  let ended = false;
  run.stderr.once('end', () => (ended = true));
  const done = (async () => {
    while (!ended) {
      run.stderr.read(bytes);
      await sleep(everyMs);
    }
  })();
  return { text: () => text, done };
}

test("S6_LOGGING=1 with a slow reader: a service's last output comes before Steward's last lines, which still get out", { skip, timeout: 60_000 }, async () => {
  const etc = scriptTree({ 'services.d/flood/run': '#!/bin/sh\nexec yes flood-line\n' });
  const run = startInit({ env: { STEWARD_ETC: etc, STEWARD_RUN: join(etc, 'run'), S6_LOGGING: '1' }, fifoOutput: true });
  runs.push(run);
  await run.waitForOutput(/service flood: info: started/);
  // About 160 KB/s from here on, slower than the service writes.
  const reader = readSlowly(run, 16384, 100);
  await sleep(2000);
  run.kill('SIGTERM');
  assert.equal((await run.exited).code, 0);
  await Promise.race([reader.done, sleep(30_000)]);
  const text = reader.text();
  const exitLine = text.lastIndexOf('exiting with code 0');
  assert.ok(exitLine >= 0, `no exit line in the last of the output: ${text.slice(-300)}`);
  assert.equal(text.slice(exitLine).includes('flood-line'), false, 'the service output goes on after the exit line');
});

test("S6_LOGGING=1 with a slow reader: each line the CMD printed is logged once and in order, in the file and on stderr, while Steward's own lines come between", { skip, timeout: 90_000 }, async () => {
  // A crash loop, every start and end of which is a line of Steward's (S6_VERBOSITY=3): each of
  // those reads the pipe first, while the socket may hold what it read ahead of a pause.
  const etc = scriptTree({ 'services.d/flap/run': '#!/bin/sh\nsleep 0.1\nexit 3\n' });
  const lines = 60_000;
  const run = startInit({
    env: { STEWARD_ETC: etc, STEWARD_RUN: join(etc, 'run'), S6_LOGGING: '1', S6_VERBOSITY: '3', STEWARD_RESTART_THROTTLE: '100' },
    fifoOutput: true,
    args: ['sh', '-c', `seq -f 'N%.0f' 1 ${lines}; echo CMD-END`],
  });
  runs.push(run);
  // About 200 KB/s from the start, slower than the CMD writes: the copy to stderr falls behind.
  const reader = readSlowly(run, 4096, 20);
  assert.equal((await run.exited).code, 0);
  await Promise.race([reader.done, sleep(30_000)]);
  const text = reader.text();
  const numbers = (output: string): number[] => [...output.matchAll(/^N(\d+)$/gm)].map((match) => Number(match[1]));
  const inOrder = (found: number[], where: string): void => {
    const breaks = found.flatMap((value, index) => (index > 0 && value !== (found[index - 1] ?? 0) + 1 ? [`${found[index - 1]} then ${value}`] : []));
    assert.deepEqual(breaks.slice(0, 5), [], `the CMD's lines out of order or missing in ${where}`);
    assert.equal(found.length, lines, `${where} has ${found.length} of the CMD's ${lines} lines`);
  };
  inOrder(numbers(text), 'the copy on stderr');
  const dir = join(etc, 'run', 'uncaught-logs');
  const files = [...readdirSync(dir).filter((name) => name.startsWith('@')).sort(), 'current'];
  inOrder(numbers(files.map((name) => readFileSync(join(dir, name), 'latin1')).join('')), 'the catch-all log');
  assert.match(text, /service flap: info: started/);
});
