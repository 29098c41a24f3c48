import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect, createServer, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import type { StatusRecord } from '../../src/control/status.js';
import { destroy, isRoot, repoRoot, scriptTree, startInit, type InitRun } from '../helpers/pid1.js';

const skip = !isRoot && 'needs root for a PID namespace';
const runs: InitRun[] = [];
const sockets: Socket[] = [];
/** Set when slow clients must stop replacing themselves. */
let stopped = false;
after(() => {
  stopped = true;
  sockets.forEach((socket) => socket.destroy());
  runs.forEach(destroy);
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

interface HttpAnswer {
  readonly status: number;
  readonly body: unknown;
}

function get(port: number, path: string, method = 'GET', host = '127.0.0.1'): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const call = request({ host, port, path, method, agent: false, timeout: 5_000 }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        text += chunk;
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text === '' ? null : (JSON.parse(text) as unknown) }));
    });
    call.on('timeout', () => call.destroy(new Error(`GET ${path} timed out`)));
    call.on('error', reject);
    call.end();
  });
}

interface Probed {
  readonly run: InitRun;
  readonly etc: string;
  readonly port: number;
  cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  restartsOf(name: string): Promise<number>;
}

async function boot(files: Record<string, string>, env: NodeJS.ProcessEnv = {}): Promise<Probed> {
  const etc = scriptTree(files);
  const runDir = join(etc, 'run');
  const port = await freePort();
  const run = startInit({ env: { STEWARD_ETC: etc, STEWARD_RUN: runDir, STEWARD_HTTP: `127.0.0.1:${port}`, S6_KEEP_ENV: '1', MARK: etc, ...env } });
  runs.push(run);
  await run.waitForOutput(new RegExp(`probe endpoints on http://127\\.0\\.0\\.1:${port}/ \\(/healthz, /readyz, /status\\)`));
  const cli = (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      execFile(process.execPath, [join(repoRoot, 'bin', 'steward'), ...args], { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', STEWARD_RUN: runDir }, timeout: 30_000 }, (error, stdout, stderr) => {
        resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
      });
    });
  return {
    run,
    etc,
    port,
    cli,
    async restartsOf(name) {
      const result = await cli('status', '--json', name);
      assert.equal(result.code, 0, result.stderr);
      return (JSON.parse(result.stdout) as { services: StatusRecord[] }).services[0]?.restarts ?? -1;
    },
  };
}

/** Polls until `check` returns a value (bounded); returns that value. */
async function eventually<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 15_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const found = await check();
    if (found !== undefined) return found;
    if (Date.now() - started > timeoutMs) assert.fail(`gave up waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface Reasons {
  readonly ready: boolean;
  readonly reasons: { name: string; state: string; reason: string }[];
}

/**
 * A client that opens a request and sends its headers one byte at a time, never finishing.
 * It counts what the server does to it: answers (it should get none) and closes.
 */
function slowClient(port: number, stats: { opened: number; answered: number; closed: number }, options: { reconnect: boolean }): void {
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  stats.opened++;
  const text = `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ${'a'.repeat(10_000)}`;
  let sent = 0;
  const timer = setInterval(() => {
    if (!socket.destroyed && socket.writable) socket.write(text[sent++ % text.length] ?? 'a');
  }, 50);
  socket.on('data', () => {
    stats.answered++;
  });
  socket.on('error', () => undefined);
  socket.on('close', () => {
    clearInterval(timer);
    stats.closed++;
    if (options.reconnect && !stopped) slowClient(port, stats, options);
  });
}
describe('probe endpoints', { skip }, () => {
  it('/readyz is 503 with a reason per service that should be up and is not, and 200 once they are', async () => {
    const probed = await boot({
      'services.d/web/run': '#!/bin/sh\nexec sleep 1000\n',
      // Ready once the test creates $MARK/slow-go.
      'services.d/slow/notification-fd': '3\n',
      'services.d/slow/run': '#!/bin/sh\nwhile [ ! -e "$MARK/slow-go" ]; do sleep 0.05; done\necho >&3\nexec sleep 1000\n',
      // Never ready.
      'services.d/never/notification-fd': '3\n',
      'services.d/never/run': '#!/bin/sh\nexec sleep 1000\n',
      // Fails for good: its finish script exits 125.
      'services.d/doomed/run': '#!/bin/sh\nexit 1\n',
      'services.d/doomed/finish': '#!/bin/sh\nexit 125\n',
      // Normally down: not expected to be up, so not a reason.
      'services.d/cron/down': '',
      'services.d/cron/run': '#!/bin/sh\nexec sleep 1000\n',
    });
    const { port } = probed;
    assert.deepEqual(await get(port, '/healthz'), { status: 200, body: { status: 'ok', stopping: false } });

    const notReady = await eventually(async () => {
      const answer = await get(port, '/readyz');
      const reasons = (answer.body as Reasons).reasons;
      // web, started last, may still be on its way when doomed has already failed (a loaded machine),
      // and the boot's end waits for the looks at the run scripts, made once the starts have gone out.
      const settled =
        reasons.some((reason) => reason.name === 'doomed' && reason.state === 'failed') &&
        !reasons.some((reason) => reason.name === 'web' || (reason.name === '*' && reason.state === 'booting'));
      return settled ? answer : undefined;
    }, 'doomed to fail for good, web to be up and the boot to end');
    assert.equal(notReady.status, 503);
    const body = notReady.body as Reasons;
    assert.equal(body.ready, false);
    const byName = new Map(body.reasons.map((reason) => [reason.name, reason]));
    assert.deepEqual([...byName.keys()].sort(), ['doomed', 'never', 'slow']);
    assert.deepEqual(byName.get('slow'), { name: 'slow', state: 'starting', reason: 'running, not ready yet' });
    assert.deepEqual(byName.get('never'), { name: 'never', state: 'starting', reason: 'running, not ready yet' });
    assert.deepEqual(byName.get('doomed'), { name: 'doomed', state: 'failed', reason: 'failed for good (its finish script exited 125)' });

    writeFileSync(join(probed.etc, 'slow-go'), '');
    await eventually(async () => {
      const reasons = ((await get(port, '/readyz')).body as Reasons).reasons;
      return reasons.some((reason) => reason.name === 'slow') ? undefined : true;
    }, 'slow to be ready');
    assert.equal((await get(port, '/readyz')).status, 503, 'ready while never and doomed are not');

    // Stopped on purpose, they are no longer expected to be up.
    assert.equal((await probed.cli('stop', 'never', 'doomed')).code, 0);
    assert.deepEqual(await get(port, '/readyz'), { status: 200, body: { ready: true, reasons: [] } });

    const status = await get(port, '/status');
    assert.equal(status.status, 200);
    const services = (status.body as { stopping: boolean; services: StatusRecord[] }).services;
    assert.deepEqual(services.map((service) => service.name).sort(), ['cron', 'doomed', 'never', 'slow', 'web']);
    assert.equal(services.find((service) => service.name === 'slow')?.state, 'ready');
    probed.run.kill('SIGTERM');
    await probed.run.exited;
  });

  it('/readyz is 503 while the boot runs (cont-init) and when a oneshot failed, and 200 once all is up', async () => {
    const probed = await boot({
      // cont-init waits until the test lets it go.
      'cont-init.d/10-wait': '#!/bin/sh\nwhile [ ! -e "$MARK/init-go" ]; do sleep 0.05; done\n',
      'services.d/web/run': '#!/bin/sh\nexec sleep 1000\n',
      's6-overlay/s6-rc.d/init-bad/type': 'oneshot\n',
      's6-overlay/s6-rc.d/init-bad/up': '/bin/false\n',
      's6-overlay/s6-rc.d/init-bad/dependencies.d/base': '',
      's6-overlay/s6-rc.d/user/contents.d/init-bad': '',
    });
    const { port } = probed;
    const booting = await get(port, '/readyz');
    assert.equal(booting.status, 503);
    assert.deepEqual((booting.body as Reasons).reasons.map((reason) => reason.state), ['booting']);
    writeFileSync(join(probed.etc, 'init-go'), '');
    const failed = await eventually(async () => {
      const reasons = ((await get(port, '/readyz')).body as Reasons).reasons;
      return reasons.some((reason) => reason.name === 'init-bad') ? reasons : undefined;
    }, 'init-bad to fail');
    assert.deepEqual(failed.find((reason) => reason.name === 'init-bad'), { name: 'init-bad', state: 'failed', reason: 'failed to start: command exited 1' });
    // What the failure kept down is named too: here s6-overlay's services.d stage, never read.
    assert.deepEqual(
      failed.find((reason) => reason.name === 'legacy-services'),
      { name: 'legacy-services', state: 'blocked', reason: 'not started: it depends on init-bad, which failed to start' },
      JSON.stringify(failed),
    );
    assert.equal((await get(port, '/readyz')).status, 503);
    // steward status shows the oneshots too, and takes a oneshot's name.
    const one = await probed.cli('status', 'init-bad');
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, /^init-bad +oneshot +failed /m);
    // (services.d comes after the user bundle, which init-bad failed: web is never read.)
    const every = await probed.cli('status');
    assert.match(every.stdout, /^init-bad +oneshot +failed /m);
  });

  it('/readyz stays 503 while a service crash-loops, rather than 200 between two deaths; a restart asked for is ready at once', async () => {
    const probed = await boot({
      'services.d/crashy/run': '#!/bin/sh\nsleep 0.2\nexit 1\n',
      'services.d/web/run': '#!/bin/sh\nexec sleep 1000\n',
    });
    await eventually(async () => ((await probed.restartsOf('crashy')) >= 1 ? true : undefined), 'crashy to restart');
    const answers: number[] = [];
    for (let sample = 0; sample < 15; sample++) {
      answers.push((await get(probed.port, '/readyz')).status);
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    assert.deepEqual([...new Set(answers)], [503]);
    // The exec probe says the same, with the reason (steward wait --ready would pass between two deaths).
    for (let sample = 0; sample < 3; sample++) {
      const notReady = await probed.cli('ready');
      assert.equal(notReady.code, 1, notReady.stdout);
      assert.match(notReady.stderr, /^steward ready: crashy: /m, notReady.stderr);
    }
    assert.equal((await probed.cli('stop', 'crashy')).code, 0);
    assert.equal((await probed.cli('restart', 'web')).code, 0);
    assert.equal((await get(probed.port, '/readyz')).status, 200);
    const ready = await probed.cli('ready');
    assert.equal(ready.code, 0, ready.stderr);
    assert.equal(ready.stdout, 'ready\n');
    probed.run.kill('SIGTERM');
    await probed.run.exited;
  });

  it('a probe port another program holds is said with what to do, and the container runs on without probes', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as { port: number };
    try {
      const etc = scriptTree({ 'services.d/web/run': '#!/bin/sh\nexec sleep 1000\n' });
      const run = startInit({ env: { STEWARD_ETC: etc, STEWARD_RUN: join(etc, 'run'), STEWARD_HTTP: `127.0.0.1:${port}` } });
      runs.push(run);
      await run.waitForOutput(/service web: info: started/);
      await run.waitForOutput(new RegExp(`cannot serve the probe endpoints on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE.*\\. Another program uses port ${port}: give STEWARD_HTTP another one`));
      run.kill('SIGTERM');
      assert.equal((await run.exited).code, 0, run.output());
    } finally {
      holder.close();
    }
  });

  it(':PORT serves every address of the container, IPv6 and IPv4 alike, as a Kubernetes pod IP of either family needs', async () => {
    const port = await freePort();
    const etc = scriptTree({ 'services.d/web/run': '#!/bin/sh\nexec sleep 1000\n' });
    const run = startInit({ env: { STEWARD_ETC: etc, STEWARD_RUN: join(etc, 'run'), STEWARD_HTTP: `:${port}` } });
    runs.push(run);
    const [, host] = await run.waitForOutput(/probe endpoints on http:\/\/(\S+):\d+\//);
    assert.equal((await get(port, '/healthz')).status, 200);
    const hasIpv6 = Object.values(networkInterfaces()).some((addresses) => addresses?.some((address) => address.address === '::1'));
    if (hasIpv6) {
      assert.equal(host, '[::]', run.output());
      assert.equal((await get(port, '/healthz', 'GET', '::1')).status, 200);
    } else {
      assert.equal(host, '0.0.0.0', run.output());
    }
    run.kill('SIGTERM');
    assert.equal((await run.exited).code, 0, run.output());
  });

  it('answers 405 to anything but GET and HEAD, and 404 to unknown paths', async () => {
    const probed = await boot({ 'services.d/web/run': '#!/bin/sh\nexec sleep 1000\n' });
    assert.equal((await get(probed.port, '/healthz', 'POST')).status, 405);
    assert.equal((await get(probed.port, '/healthz', 'HEAD')).status, 200);
    const missing = await get(probed.port, '/metrics');
    assert.equal(missing.status, 404);
    assert.match((missing.body as { error: string }).error, /try \/healthz, \/readyz or \/status/);
    assert.equal((await get(probed.port, '/healthz?verbose=1')).status, 200);
    // What Node cannot parse is answered too, rather than dropped without a word.
    const raw = async (request: string): Promise<string> => {
      const socket = connect(probed.port, '127.0.0.1');
      let answer = '';
      socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
      socket.on('error', () => undefined);
      socket.write(request);
      await new Promise((resolve) => socket.on('close', resolve));
      return answer;
    };
    assert.match(await raw('NOT A REQUEST\r\n\r\n'), /^HTTP\/1\.1 400 Bad Request/);
    assert.match(await raw(`GET /healthz HTTP/1.1\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`), /^HTTP\/1\.1 431 Request Header Fields Too Large/);
    probed.run.kill('SIGTERM');
    await probed.run.exited;
  });

  it('a client keeping its connection for probe after probe is told to close it before its lifetime ends, not cut off under a request', async () => {
    const probed = await boot({ 'services.d/web/run': '#!/bin/sh\nexec sleep 1000\n' });
    const socket = connect(probed.port, '127.0.0.1');
    socket.on('error', () => undefined);
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
    const closed = new Promise((resolve) => socket.on('close', resolve));
    const probe = async (): Promise<string> => {
      const before = received.length;
      socket.write('GET /healthz HTTP/1.1\r\nHost: probe\r\n\r\n');
      await eventually(() => Promise.resolve(/\r\n\r\n\{[^}]*\}\s*$/.test(received.slice(before)) ? true : undefined), 'an answer');
      return received.slice(before);
    };
    // One probe every half second (within the keep-alive timeout), until the connection is told to close.
    const answers: string[] = [];
    for (let count = 0; count < 20 && !/Connection: close/i.test(answers.at(-1) ?? ''); count++) {
      if (count > 0) await new Promise((resolve) => setTimeout(resolve, 500));
      answers.push(await probe());
    }
    assert.match(answers[0] ?? '', /^HTTP\/1\.1 200 [^]*Connection: keep-alive/i);
    assert.ok(answers.every((answer) => answer.startsWith('HTTP/1.1 200 ')), answers.join('\n'));
    assert.match(answers.at(-1) ?? '', /Connection: close/i, `${answers.length} answers, none said to close the connection`);
    await closed;
    probed.run.kill('SIGTERM');
    await probed.run.exited;
  });

  it('slow clients sending headers byte by byte do not stall supervision or the health probe', async () => {
    const probed = await boot({ 'services.d/crasher/run': '#!/bin/sh\nexit 1\n' }, { STEWARD_RESTART_THROTTLE: '100' });
    const stats = { opened: 0, answered: 0, closed: 0 };
    // 50 of them, each replaced as soon as the server drops it: the pressure never lets up.
    for (let index = 0; index < 50; index++) slowClient(probed.port, stats, { reconnect: true });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const before = await probed.restartsOf('crasher');
    let healthy = 0;
    const after = await eventually(async () => {
      assert.equal((await get(probed.port, '/healthz')).status, 200);
      healthy++;
      const restarts = await probed.restartsOf('crasher');
      return restarts >= before + 10 ? restarts : undefined;
    }, 'the crashing service to be restarted 10 more times');
    assert.ok(after >= before + 10);
    assert.ok(healthy >= 1);
    assert.equal(stats.answered, 0, 'a client that never finished its headers got an answer');
    assert.ok(stats.opened - stats.closed >= 50, `only ${stats.opened - stats.closed} slow clients were connected at the end`);
    stopped = true;
    probed.run.kill('SIGTERM');
    await probed.run.exited;
  });

  it('answers a probe at once while more idle connections are open than it keeps: the oldest is dropped', async () => {
    const probed = await boot({ 'services.d/web/run': '#!/bin/sh\nexec sleep 1000\n' });
    const idle: Socket[] = [];
    await Promise.all(
      Array.from({ length: 100 }, () =>
        new Promise<void>((resolve, reject) => {
          const socket = connect(probed.port, '127.0.0.1', () => resolve());
          socket.on('error', reject);
          idle.push(socket);
        }),
      ),
    );
    // Within the 2 s the header timeout gives them: only the eviction can make room.
    assert.equal((await get(probed.port, '/healthz')).status, 200);
    for (const socket of idle) socket.destroy();
    probed.run.kill('SIGTERM');
    await probed.run.exited;
  });

  it('drops clients that never finish their headers, so they cannot keep every connection', async () => {
    const probed = await boot({ 'services.d/web/run': '#!/bin/sh\nexec sleep 1000\n' });
    const stats = { opened: 0, answered: 0, closed: 0 };
    // More than the 64 connections the endpoint keeps: the oldest are dropped at once.
    for (let index = 0; index < 70; index++) slowClient(probed.port, stats, { reconnect: false });
    // A connection lives 5 s at most: well within this bound every one of them must be gone.
    await eventually(() => Promise.resolve(stats.closed === 70 ? true : undefined), `the server to drop the slow clients (${stats.closed} of 70 dropped)`, 10_000);
    assert.equal(stats.answered, 0);
    assert.equal((await get(probed.port, '/healthz')).status, 200);
    probed.run.kill('SIGTERM');
    await probed.run.exited;
  });

  it('an idle PID 1 serving probes does not wake up while no client is connected', async () => {
    const probed = await boot({ 'services.d/web/run': '#!/bin/sh\nexec sleep 1000\n' });
    assert.equal((await get(probed.port, '/healthz')).status, 200);
    const pid = probed.run.initPid();
    const switches = (): number => Number(/^voluntary_ctxt_switches:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/task/${pid}/status`, 'utf8'))?.[1]);
    // Past the boot summary, the keep-alive and the first collections, which a busy machine
    // gets through later: polled for as a second without a wake-up (up to 15 s).
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await eventually(async () => {
      const start = switches();
      await new Promise((resolve) => setTimeout(resolve, 1000));
      return switches() === start ? true : undefined;
    }, 'PID 1 to settle after the boot');
    const before = switches();
    await new Promise((resolve) => setTimeout(resolve, 3000));
    // Node's own connection check ran every 500 ms here: six wake-ups or more.
    assert.ok(switches() - before <= 1, `PID 1's main thread woke ${switches() - before} times in 3 s with nothing to do`);
    probed.run.kill('SIGTERM');
    await probed.run.exited;
  });
});
