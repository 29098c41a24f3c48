import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, it } from 'node:test';

import { sendRequest, socketPath } from '../../src/control/client.js';
import { MAX_REQUEST_BYTES, parseRequest, type ControlErrorCode, type Response } from '../../src/control/protocol.js';
import { ControlServer } from '../../src/control/server.js';
import { statusSocketPath } from '../../src/control/status-socket.js';
import type { StatusRecord } from '../../src/control/status.js';
import { StewardError } from '../../src/errors.js';
import { fakeTarget, type FakeTarget } from '../helpers/fake-target.js';
import { random } from '../helpers/random.js';

const ERROR_CODES: readonly ControlErrorCode[] = [
  'ERR_BAD_REQUEST',
  'ERR_TOO_LARGE',
  'ERR_REQUEST_TIMEOUT',
  'ERR_UNKNOWN_SERVICE',
  'ERR_BAD_SIGNAL',
  'ERR_TIMEOUT',
  'ERR_SHUTTING_DOWN',
  'ERR_PERMANENT_FAILURE',
  'ERR_PERMISSION',
  'ERR_NOT_RUNNING',
  'ERR_BOOTING',
  'ERR_BUSY',
  'ERR_INTERNAL',
];

interface Harness {
  readonly fake: FakeTarget;
  readonly server: ControlServer;
  readonly path: string;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A ControlServer on a temporary socket, over fake services: web (running), db (readiness, not ready), idle (down). */
async function serve(options: { group?: number | null; services?: number } = {}): Promise<Harness> {
  const extra = Array.from({ length: options.services ?? 0 }, (_, index) => ({ name: `svc-${index}` }));
  const fake = fakeTarget([{ name: 'web' }, { name: 'db', notificationFd: 3 }, { name: 'idle' }, ...extra]);
  fake.supervisor('web').up();
  fake.supervisor('db').up();
  for (const { name } of extra) fake.supervisor(name).up();
  const path = join(fake.root, 'run', 'steward', 'control.sock');
  const server = new ControlServer(path, fake.target, { group: options.group ?? null, now: () => fake.clock.now() });
  await server.listen();
  cleanups.push(() => fake.cleanup());
  cleanups.push(() => server.close());
  return { fake, server, path };
}

interface Exchange {
  /** Everything the server sent before it closed the connection (or the client gave up). */
  readonly text: string;
  /** The server had not closed the connection within the time limit. */
  readonly timedOut: boolean;
}

/**
 * Sends `chunks` (with `gapMs` between them), half-closes unless told not to, and collects
 * the answer until the server closes the connection or `timeoutMs` passes.
 */
function exchange(path: string, chunks: string | Buffer | readonly (string | Buffer)[], options: { end?: boolean; gapMs?: number; timeoutMs?: number } = {}): Promise<Exchange> {
  const parts = typeof chunks === 'string' || Buffer.isBuffer(chunks) ? [chunks] : chunks;
  return new Promise((resolve) => {
    const socket = connect(path);
    let text = '';
    let finished = false;
    const finish = (timedOut: boolean): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, timedOut });
    };
    const timer = setTimeout(() => finish(true), options.timeoutMs ?? 5_000);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
    });
    // A server that answers early and closes may make later writes fail: that is allowed.
    socket.on('error', () => finish(false));
    socket.on('close', () => finish(false));
    socket.on('connect', () => {
      void (async () => {
        for (const part of parts) {
          if (socket.destroyed) return;
          socket.write(part);
          if (options.gapMs !== undefined) await new Promise((wait) => setTimeout(wait, options.gapMs));
        }
        if (options.end !== false && !socket.destroyed) socket.end();
      })();
    });
  });
}

function response(exchanged: Exchange): Response {
  assert.equal(exchanged.timedOut, false, `no answer; got ${JSON.stringify(exchanged.text)}`);
  const lines = exchanged.text.split('\n');
  assert.equal(lines.length, 2, `expected exactly one line, got ${JSON.stringify(exchanged.text)}`);
  assert.equal(lines[1], '', 'the response line must end with a newline');
  return JSON.parse(lines[0] ?? '') as Response;
}

function errorCode(exchanged: Exchange): ControlErrorCode {
  const answer = response(exchanged);
  assert.ok(!answer.ok, `expected an error, got ${exchanged.text}`);
  return answer.error.code;
}

async function until(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  for (const started = Date.now(); !condition(); ) {
    if (Date.now() - started > timeoutMs) assert.fail(`gave up waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Records the abort signal of every wait a supervisor is asked for, to see when waits end. */
function recordWaits(fake: FakeTarget, name: string): AbortSignal[] {
  const supervisor = fake.supervisor(name);
  const waitFor = supervisor.waitFor.bind(supervisor);
  const signals: AbortSignal[] = [];
  supervisor.waitFor = (predicate, signal) => {
    if (signal !== undefined) signals.push(signal);
    return waitFor(predicate, signal);
  };
  return signals;
}

/** `count` clients connected to `path` that send nothing. */
function connectIdle(path: string, count: number): Promise<Socket[]> {
  return Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Socket>((resolve, reject) => {
          const socket = connect(path, () => resolve(socket));
          socket.on('error', () => undefined);
          socket.once('error', reject);
        }),
    ),
  );
}

describe('ControlServer: access', () => {
  it("keeps the socket to Steward's user: socket 0600, in a directory others may only pass through (0711)", async () => {
    const { path } = await serve();
    assert.equal(lstatSync(dirname(path)).mode & 0o777, 0o711);
    const socket = lstatSync(path);
    assert.ok(socket.isSocket());
    assert.equal(socket.mode & 0o777, 0o600);
  });

  it('leaves alone a directory it did not make (STEWARD_SOCKET=/tmp/steward.sock must not take /tmp\'s sticky bit), unless it is its own', async () => {
    const fake = fakeTarget([{ name: 'web' }]);
    cleanups.push(() => fake.cleanup());
    const shared = join(fake.root, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o1777);
    const path = join(shared, 'steward.sock');
    const server = new ControlServer(path, fake.target, { group: null, now: () => fake.clock.now() });
    await server.listen();
    cleanups.push(() => server.close());
    assert.equal(lstatSync(shared).mode & 0o7777, 0o1777);
    assert.equal(lstatSync(path).mode & 0o777, 0o600, 'the socket itself is still private');
    const own = join(fake.root, 'own');
    mkdirSync(own, { mode: 0o755 });
    const owned = new ControlServer(join(own, 'control.sock'), fake.target, { group: null, now: () => fake.clock.now(), ownsDirectory: true });
    await owned.listen();
    cleanups.push(() => owned.close());
    assert.equal(lstatSync(own).mode & 0o777, 0o711, 'its own directory, left from an earlier boot, is set anew');
  });

  it('with a control group, opens the directory (0751) and socket (0660) to that group', { skip: process.getuid?.() !== 0 && 'needs root to chown' }, async () => {
    const { path } = await serve({ group: 65534 });
    const dir = lstatSync(dirname(path));
    const socket = lstatSync(path);
    assert.equal(dir.mode & 0o777, 0o751);
    assert.equal(dir.gid, 65534);
    assert.equal(socket.mode & 0o777, 0o660);
    assert.equal(socket.gid, 65534);
  });

  it('replaces a stale socket file left by an earlier boot', async () => {
    const fake = fakeTarget([]);
    cleanups.push(() => fake.cleanup());
    const path = join(fake.root, 'steward', 'control.sock');
    mkdirSync(dirname(path));
    writeFileSync(path, 'left over');
    const server = new ControlServer(path, fake.target, { group: null, now: () => 0 });
    await server.listen();
    cleanups.push(() => server.close());
    assert.ok(lstatSync(path).isSocket());
    assert.ok(response(await exchange(path, '{"cmd":"ping"}\n')).ok);
  });
});

describe('ControlServer: the status socket', () => {
  it('is open to every user (0666) and answers what only reads; control requests get ERR_PERMISSION with a hint', async () => {
    const { fake, path } = await serve();
    const statusPath = statusSocketPath(path);
    assert.equal(statusPath, join(dirname(path), 'control-status.sock'));
    const server = new ControlServer(statusPath, fake.target, { group: null, now: () => fake.clock.now(), readOnly: true });
    await server.listen();
    cleanups.push(() => server.close());
    assert.equal(lstatSync(statusPath).mode & 0o777, 0o666);
    // It leaves the directory as the control socket made it.
    assert.equal(lstatSync(dirname(path)).mode & 0o777, 0o711);
    const status = response(await exchange(statusPath, '{"cmd":"status","names":["web"]}\n'));
    assert.equal(status.ok, true, JSON.stringify(status));
    const refused = response(await exchange(statusPath, '{"cmd":"control","names":["web"],"action":"down"}\n'));
    assert.equal(refused.ok, false);
    assert.equal(refused.ok ? undefined : refused.error.code, 'ERR_PERMISSION');
    assert.match(refused.ok ? '' : (refused.error.hint ?? ''), /STEWARD_CONTROL_GROUP/);
    assert.equal(fake.supervisor('web').status.wantUp, true, 'the refused request changed nothing');
    // s6-rc's list and listall only read; its change does not.
    Object.assign(fake.target, {
      rc: { unknown: () => [], list: () => ['web'], listAll: () => ['web'], change: () => Promise.resolve({ failed: [], timedOut: false }) },
    });
    const listed = response(await exchange(statusPath, '{"cmd":"rc","op":"list","active":true}\n'));
    assert.deepEqual(listed.ok ? listed.result : listed.error, { names: ['web'] });
    const change = response(await exchange(statusPath, '{"cmd":"rc","op":"change","direction":"down","names":["web"]}\n'));
    assert.equal(change.ok ? undefined : change.error.code, 'ERR_PERMISSION');
    // s6-svdt reads the death tally, as any user may read s6's; s6-svdt-clear changes it.
    const deaths = response(await exchange(statusPath, '{"cmd":"deaths","names":["web"]}\n'));
    assert.deepEqual(deaths.ok ? deaths.result : deaths.error, { services: [{ name: 'web', deaths: [] }] });
    const clear = response(await exchange(statusPath, '{"cmd":"deaths","names":["web"],"clear":true}\n'));
    assert.equal(clear.ok ? undefined : clear.error.code, 'ERR_PERMISSION');
  });
});

describe('ControlServer: bound before it serves', () => {
  it('takes connections as soon as it is bound, and answers their requests once it serves', async () => {
    const fake = fakeTarget([]);
    cleanups.push(() => fake.cleanup());
    const path = join(fake.root, 'steward', 'control.sock');
    const server = new ControlServer(path, fake.target, { group: null, now: () => 0 });
    server.bind();
    cleanups.push(() => server.close());
    assert.ok(lstatSync(path).isSocket());
    assert.equal(lstatSync(path).mode & 0o777, 0o600);
    // The request waits in the socket's backlog: no answer, no refusal.
    const early = exchange(path, '{"cmd":"ping"}\n', { timeoutMs: 5_000 });
    const unanswered = await Promise.race([early.then(() => 'answered'), new Promise((resolve) => setTimeout(() => resolve('waiting'), 200))]);
    assert.equal(unanswered, 'waiting');
    await server.serve();
    const answer = await early;
    assert.equal(answer.timedOut, false);
    assert.deepEqual(response(answer), { ok: true, result: { pong: true, protocol: 1 } });
  });

  it('closes a socket that was bound and never served, and removes it', async () => {
    const fake = fakeTarget([]);
    cleanups.push(() => fake.cleanup());
    const path = join(fake.root, 'steward', 'control.sock');
    const server = new ControlServer(path, fake.target, { group: null, now: () => 0 });
    server.bind();
    await server.close();
    assert.equal(existsSync(path), false);
    const refused = await sendRequest(path, { cmd: 'ping' }).then(
      () => undefined,
      (error: unknown) => error,
    );
    assert.ok(refused instanceof StewardError, String(refused));
  });
});

describe('ControlServer: framing', () => {
  it('answers one request line with one response line, then closes', async () => {
    const { path } = await serve();
    const answer = response(await exchange(path, '{"cmd":"ping"}\n', { end: false }));
    assert.deepEqual(answer, { ok: true, result: { pong: true, protocol: 1 } });
  });

  it('answers a request that has no newline when the client half-closes', async () => {
    const { path } = await serve();
    const answer = response(await exchange(path, '{"cmd":"status","names":["web"]}', { end: true }));
    assert.ok(answer.ok);
    assert.equal((answer.result as { services: StatusRecord[] }).services[0]?.name, 'web');
  });

  it('reassembles a request sent one byte at a time, multi-byte characters included', async () => {
    const { path } = await serve();
    const bytes = Buffer.from('{"cmd":"status","names":["wéb-ü"]}\n');
    const chunks = Array.from(bytes, (byte) => Buffer.from([byte]));
    const answer = response(await exchange(path, chunks, { gapMs: 1, end: false }));
    assert.ok(!answer.ok);
    assert.equal(answer.error.message, 'unknown service: wéb-ü');
  });

  it('ignores anything after the first line: one connection, one request', async () => {
    const { path, fake } = await serve();
    const answer = response(await exchange(path, '{"cmd":"ping"}\n{"cmd":"halt"}\n'));
    assert.ok(answer.ok);
    assert.deepEqual(fake.halts, []);
  });

  it('answers text that is not JSON with ERR_BAD_REQUEST and a hint', async () => {
    const { path } = await serve();
    const answer = response(await exchange(path, 'status web\n'));
    assert.ok(!answer.ok);
    assert.equal(answer.error.code, 'ERR_BAD_REQUEST');
    assert.match(answer.error.hint ?? '', /one JSON object followed by a newline/);
  });

  it('accepts a request of exactly 64 KiB and refuses one byte more with ERR_TOO_LARGE', async () => {
    const { path } = await serve();
    const request = (size: number): string => {
      const base = '{"cmd":"ping"}';
      return `${base}${' '.repeat(size - base.length)}\n`;
    };
    assert.equal(Buffer.byteLength(request(MAX_REQUEST_BYTES)), MAX_REQUEST_BYTES + 1);
    assert.ok(response(await exchange(path, request(MAX_REQUEST_BYTES))).ok);
    assert.equal(errorCode(await exchange(path, request(MAX_REQUEST_BYTES + 1))), 'ERR_TOO_LARGE');
  });

  it('refuses an endless request without a newline as soon as it passes 64 KiB, without reading it all', async () => {
    const { path } = await serve();
    const chunk = Buffer.alloc(16 * 1024, 'a');
    const answer = await exchange(
      path,
      Array.from({ length: 64 }, () => chunk),
      { end: false, gapMs: 2 },
    );
    const line = answer.text.split('\n')[0] ?? '';
    assert.equal((JSON.parse(line) as { error: { code: string } }).error.code, 'ERR_TOO_LARGE');
  });

  it('drops a client that connects and leaves without a word', async () => {
    const { path } = await serve();
    const silent = await exchange(path, [], { end: true });
    assert.deepEqual(silent, { text: '', timedOut: false });
    assert.ok(response(await exchange(path, '{"cmd":"ping"}\n')).ok);
  });
});

describe('ControlServer: slow, many and hostile clients', () => {
  it('serves other clients while slow ones hold their connections, then times the slow ones out', async () => {
    const { path } = await serve();
    const slowAnswered: string[] = [];
    // One trickles a request a byte at a time, one says nothing; neither half-closes.
    const trickle = exchange(path, Array.from('{"cmd":"status","names":["web"]', (character) => character), { end: false, gapMs: 150, timeoutMs: 9_000 });
    const silent = exchange(path, [], { end: false, timeoutMs: 9_000 });
    void trickle.then(() => slowAnswered.push('trickle'));
    void silent.then(() => slowAnswered.push('silent'));
    for (let round = 0; round < 20; round++) {
      assert.ok(response(await exchange(path, '{"cmd":"ping"}\n', { timeoutMs: 2_000 })).ok, `round ${round}`);
    }
    assert.deepEqual(slowAnswered, [], 'the slow clients were let go before the others were served');
    assert.equal(errorCode(await trickle), 'ERR_REQUEST_TIMEOUT');
    assert.equal(errorCode(await silent), 'ERR_REQUEST_TIMEOUT');
  });

  it('holds many connections at once without a MaxListenersExceededWarning, which PID 1 would print into the log', async () => {
    const { path } = await serve();
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning.name);
    };
    process.on('warning', onWarning);
    try {
      const open = await connectIdle(path, 20);
      assert.ok(response(await exchange(path, '{"cmd":"ping"}\n', { timeoutMs: 2_000 })).ok);
      for (const socket of open) socket.destroy();
      // Warnings are emitted on a later turn of the event loop.
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      process.off('warning', onWarning);
    }
    assert.deepEqual(warnings.filter((name) => name === 'MaxListenersExceededWarning'), []);
  });

  it('answers every client of a burst that send their whole requests at once, past 256 of them', async () => {
    const { path } = await serve();
    // From another process, all at once: the server accepts hundreds before it reads any request.
    const clients = `
const net = require('net');
const counts = {};
const add = (key) => (counts[key] = (counts[key] || 0) + 1);
Promise.all(Array.from({ length: 800 }, () => new Promise((done) => {
  const socket = net.connect(process.argv[1]);
  let text = '';
  let failed = false;
  socket.on('connect', () => socket.end('{"cmd":"ping"}\\n'));
  socket.on('data', (chunk) => (text += chunk));
  socket.on('error', (error) => { failed = true; add(error.code); });
  socket.on('close', () => { if (text.includes('"ok":true')) add('answered'); else if (!failed) add('closed-without-answer'); done(); });
}))).then(() => console.log(JSON.stringify(counts)));`;
    const child = spawn(process.execPath, ['-e', clients, path], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await new Promise((resolve) => child.once('close', resolve));
    const counts = JSON.parse(output) as Record<string, number>;
    // EAGAIN: the kernel's backlog was full, before any request was sent (Steward's clients retry that).
    const lost = Object.entries(counts).filter(([outcome]) => outcome !== 'answered' && outcome !== 'EAGAIN');
    assert.deepEqual(lost, [], output);
    assert.ok((counts['answered'] ?? 0) >= 256, output);
  });

  it('drops the oldest idle connection for a new client: 300 silent clients do not keep a status request out', async () => {
    const { path } = await serve();
    const idle = await connectIdle(path, 300);
    const answer = response(await exchange(path, '{"cmd":"status","names":["web"]}\n', { timeoutMs: 3_000 }));
    assert.ok(answer.ok, JSON.stringify(answer));
    for (const socket of idle) socket.destroy();
  });

  it('answers ERR_BUSY to one wait too many, and still answers quick requests', async () => {
    const { path, fake } = await serve();
    const waits = recordWaits(fake, 'db');
    // db has readiness and never gets ready: each of these waits stays parked.
    const parked: Socket[] = [];
    for (let index = 0; index < 224; index++) {
      const socket = connect({ path, allowHalfOpen: true });
      socket.on('error', () => undefined);
      socket.end('{"cmd":"wait","names":["db"],"condition":"ready"}\n');
      parked.push(socket);
    }
    // Every one of them is in (each gets its answer only when db is ready, never here): polled
    // for, up to 10 s, as a busy machine may take more than a moment to read them all.
    for (let attempt = 0; attempt < 200 && waits.length < parked.length; attempt++) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(waits.length, parked.length, 'every parked wait is in');
    const busy = response(await exchange(path, '{"cmd":"wait","names":["db"],"condition":"ready"}\n', { timeoutMs: 3_000 }));
    assert.equal(busy.ok ? undefined : busy.error.code, 'ERR_BUSY');
    assert.ok(response(await exchange(path, '{"cmd":"status"}\n', { timeoutMs: 3_000 })).ok);
    for (const socket of parked) socket.destroy();
  });

  it('does not carry out a request whose end comes after it was answered with ERR_REQUEST_TIMEOUT', async () => {
    const { fake, path } = await serve();
    const socket = connect({ path, allowHalfOpen: true });
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    socket.write('{"cmd":"control","names":["web"],"actions":["down"]');
    await new Promise<void>((resolve) => socket.once('end', () => resolve()));
    assert.match(answer, /ERR_REQUEST_TIMEOUT/);
    socket.end('}\n');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(fake.supervisor('web').status.wantUp, true, 'the late request was carried out');
    socket.destroy();
  });

  it('answers 200 concurrent clients, each with its own answer', async () => {
    const { path } = await serve({ services: 10 });
    const requests = Array.from({ length: 200 }, (_, index) => {
      if (index % 20 === 7) return { request: { cmd: 'status', names: [`gone-${index}`] }, expect: 'unknown' as const };
      if (index % 10 === 3) return { request: { cmd: 'ping' }, expect: 'pong' as const };
      return { request: { cmd: 'status', names: [`svc-${index % 10}`] }, expect: `svc-${index % 10}` };
    });
    const answers = await Promise.all(requests.map(({ request }) => exchange(path, `${JSON.stringify(request)}\n`, { timeoutMs: 10_000 })));
    answers.forEach((exchanged, index) => {
      const { request, expect } = requests[index]!;
      const answer = response(exchanged);
      if (expect === 'unknown') {
        assert.ok(!answer.ok && answer.error.code === 'ERR_UNKNOWN_SERVICE' && answer.error.names?.[0] === request.names?.[0], `client ${index}: ${exchanged.text}`);
      } else if (expect === 'pong') {
        assert.deepEqual(answer, { ok: true, result: { pong: true, protocol: 1 } }, `client ${index}`);
      } else {
        assert.ok(answer.ok, `client ${index}: ${exchanged.text}`);
        const services = (answer.result as { services: StatusRecord[] }).services;
        assert.deepEqual(
          services.map((service) => service.name),
          [expect],
          `client ${index}`,
        );
      }
    });
  });

  it('a client that half-closes after a wait request still gets the answer when the wait ends', async () => {
    const { path, fake } = await serve();
    const answer = exchange(path, '{"cmd":"wait","names":["db"],"condition":"ready"}\n', { end: true, timeoutMs: 8_000 });
    // Long enough for any check on the client to have run a few times.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    fake.port.ready(fake.pid('db'));
    assert.deepEqual(response(await answer), { ok: true, result: { reached: ['db'], failed: [], pending: [] } });
  });

  it('ends the wait of a client that went away', async () => {
    const { path, fake } = await serve();
    const waits = recordWaits(fake, 'db');
    const socket = connect(path);
    socket.on('error', () => undefined);
    // As the CLI does: the request, then a half-close; then the user presses Ctrl-C.
    socket.end('{"cmd":"wait","names":["db"],"condition":"ready"}\n');
    await until(() => waits.length === 1, 'the server to start the wait');
    socket.destroy();
    await until(() => waits[0]?.aborted === true, 'the wait of a client that is gone to end');
  });

  it('clients that give up on waits do not use up the connections', async () => {
    const { path, fake } = await serve();
    const waits = recordWaits(fake, 'db');
    // More than the server's 256 connections in all, in batches it can take at once.
    for (let batch = 0; batch < 3; batch++) {
      const sockets: Socket[] = [];
      for (let index = 0; index < 100; index++) {
        const socket = connect(path);
        socket.on('error', () => undefined);
        socket.end('{"cmd":"wait","names":["db"],"condition":"ready"}\n');
        sockets.push(socket);
      }
      await until(() => waits.length === (batch + 1) * 100, `batch ${batch}: the server to start 100 waits (started ${waits.length})`, 10_000);
      for (const socket of sockets) socket.destroy();
      await until(() => waits.every((signal) => signal.aborted), `batch ${batch}: the waits of clients that are gone to end`, 10_000);
    }
    assert.ok(response(await exchange(path, '{"cmd":"ping"}\n')).ok);
  });

  it('close() ends pending waits and connections, and removes the socket', async () => {
    const { path, server } = await serve();
    const waiting = exchange(path, '{"cmd":"wait","names":["db"],"condition":"ready"}\n', { timeoutMs: 5_000 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await server.close();
    const ended = await waiting;
    assert.equal(ended.timedOut, false, 'the connection stayed open after close()');
    assert.ok(!existsSync(path));
    await server.close(); // a second close is harmless
  });
});


describe('ControlServer: fuzzing', () => {
  const VALID = [
    '{"v":1,"cmd":"ping"}',
    '{"cmd":"status"}',
    '{"cmd":"status","names":["web","db"]}',
    '{"cmd":"status","dirs":["/run/service/idle"]}',
    '{"cmd":"control","names":["idle"],"actions":["up"],"wait":"up","timeoutMs":500}',
    '{"cmd":"control","names":["web"],"actions":["signal:HUP","group-signal:CONT"]}',
    '{"cmd":"signal","names":["web"],"signal":"USR1","group":true}',
    '{"cmd":"wait","names":["web"],"condition":"up","timeoutMs":100}',
    '{"cmd":"wait","names":["db","web"],"condition":"ready","any":true,"timeoutMs":50}',
    '{"cmd":"graph"}',
    '{"cmd":"halt","action":"reboot","exitCode":3}',
  ];
  const NOISE = ['{', '}', '[', ']', '"', ':', ',', '\\', '\n', '\u0000', 'null', '1e999', '-', '\u00e9', '\ud83d', 'cmd', '"__proto__"', ' '];

  function mutate(text: string, next: () => number): string {
    let result = text;
    const edits = 1 + Math.floor(next() * 4);
    for (let edit = 0; edit < edits; edit++) {
      const at = Math.floor(next() * (result.length + 1));
      const kind = Math.floor(next() * 3);
      const noise = NOISE[Math.floor(next() * NOISE.length)] ?? '';
      if (kind === 0) result = result.slice(0, at) + noise + result.slice(at);
      else if (kind === 1) result = result.slice(0, at) + result.slice(at + 1 + Math.floor(next() * 5));
      else result = result.slice(0, at) + noise + result.slice(at + 1);
    }
    return result;
  }

  function payload(next: () => number): Buffer {
    const valid = VALID[Math.floor(next() * VALID.length)] ?? '';
    switch (Math.floor(next() * 5)) {
      case 0: // random bytes, newlines and invalid UTF-8 included
        return Buffer.from(Array.from({ length: Math.floor(next() * 300) }, () => Math.floor(next() * 256)));
      case 1: // a valid request cut short
        return Buffer.from(valid.slice(0, Math.floor(next() * valid.length)));
      case 2: // a valid request with a few edits
        return Buffer.from(`${mutate(valid, next)}${next() < 0.7 ? '\n' : ''}`);
      case 3: // deep nesting
        return Buffer.from(`${'['.repeat(Math.floor(next() * 5000))}\n`);
      default: // valid JSON of the wrong shape
        return Buffer.from(`${JSON.stringify([valid, { cmd: valid }, 17, null, { cmd: 'status', names: [valid] }][Math.floor(next() * 5)])}\n`);
    }
  }

  function chunked(bytes: Buffer, next: () => number): Buffer[] {
    const chunks: Buffer[] = [];
    for (let offset = 0; offset < bytes.length; ) {
      const size = 1 + Math.floor(next() * 64);
      chunks.push(bytes.subarray(offset, offset + size));
      offset += size;
    }
    return chunks;
  }

  /** A request that may rightly wait with no end in sight: a valid wait without a timeout. */
  function mayWaitForever(bytes: Buffer): boolean {
    const line = bytes.toString('utf8').split('\n')[0] ?? '';
    let request;
    try {
      request = parseRequest(JSON.parse(line));
    } catch {
      return false;
    }
    if ('code' in request) return false;
    return request.cmd === 'wait' || (request.cmd === 'control' && request.wait !== null);
  }

  it('answers 400 random, truncated and mutated requests with a valid response or a closed connection, and keeps serving', async () => {
    const { path } = await serve();
    const next = random(20_251_128);
    const cases = Array.from({ length: 400 }, (_, index) => {
      const bytes = payload(next);
      // Without a newline or a half-close a request is only complete at the deadline: the slow-client test covers that.
      return { index, bytes, halfClose: !bytes.includes(10) || next() < 0.5, chunks: chunked(bytes, next) };
    });
    const outcomes = { answered: 0, closed: 0, stillWaiting: 0 };
    for (let start = 0; start < cases.length; start += 25) {
      await Promise.all(
        cases.slice(start, start + 25).map(async ({ index, bytes, halfClose, chunks }) => {
          const exchanged = await exchange(path, chunks, { end: halfClose, timeoutMs: 2_000 });
          const replay = `case ${index}: ${JSON.stringify(bytes.toString('latin1').slice(0, 200))}`;
          if (exchanged.timedOut) {
            assert.ok(mayWaitForever(bytes), `${replay}: no answer`);
            outcomes.stillWaiting++;
            return;
          }
          if (exchanged.text === '') {
            assert.equal(bytes.length, 0, `${replay}: closed without an answer`);
            outcomes.closed++;
            return;
          }
          const answer = response(exchanged);
          assert.equal(typeof answer.ok, 'boolean', replay);
          if (!answer.ok) {
            assert.ok(ERROR_CODES.includes(answer.error.code), `${replay}: unknown code ${answer.error.code}`);
            assert.equal(typeof answer.error.message, 'string', replay);
          }
          outcomes.answered++;
        }),
      );
    }
    assert.ok(outcomes.answered > 300, `only ${outcomes.answered} answered: ${JSON.stringify(outcomes)}`);
    assert.ok(response(await exchange(path, '{"cmd":"ping"}\n')).ok, 'the server stopped serving after the fuzzing');
  });
});

describe('control client', () => {
  it('finds the socket from STEWARD_SOCKET, else under STEWARD_RUN, else /run', () => {
    assert.equal(socketPath({ STEWARD_SOCKET: '/tmp/x.sock', STEWARD_RUN: '/srv/run' }), '/tmp/x.sock');
    assert.equal(socketPath({ STEWARD_RUN: '/srv/run' }), '/srv/run/steward/control.sock');
    assert.equal(socketPath({}), '/run/steward/control.sock');
  });

  it('sends a request and returns the response', async () => {
    const { path } = await serve();
    assert.deepEqual(await sendRequest(path, { cmd: 'ping' }), { ok: true, result: { pong: true, protocol: 1 } });
  });

  it('gives up on a Steward that takes the request and never answers, rather than hang', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'steward-client-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'control.sock');
    const held: Socket[] = [];
    const silent = createServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => silent.listen(path, resolve));
    cleanups.push(() => new Promise<void>((resolve) => silent.close(() => resolve())));
    const failure = await sendRequest(path, { cmd: 'status' }, 200).then(
      () => assert.fail('an answer came from a server that gives none'),
      (error: unknown) => error,
    );
    assert.ok(failure instanceof StewardError);
    assert.equal(failure.code, 'ERR_CONTROL_UNAVAILABLE');
    assert.match(failure.message, /no answer from Steward within 0.2 s/);
    for (const socket of held) socket.destroy();
  });

  it('says Steward is not running, with what to do, when there is no socket', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'steward-client-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const failure = await sendRequest(join(dir, 'control.sock'), { cmd: 'ping' }).then(
      () => assert.fail('connected to nothing'),
      (error: unknown) => error,
    );
    assert.ok(failure instanceof StewardError);
    assert.equal(failure.code, 'ERR_CONTROL_UNAVAILABLE');
    assert.match(failure.message, /Steward is not running here: no control socket at .*control\.sock/);
    assert.match(failure.hint ?? '', /docker exec|STEWARD_SOCKET/);
  });

  it('reports a server that closes without an answer, or answers with something that is not JSON', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'steward-client-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    for (const [reply, message] of [
      ['', /closed the connection without an answer/],
      ['<html>\n', /an answer that is not JSON: <html>/],
    ] as const) {
      const path = join(dir, `${reply.length}.sock`);
      // It reads (and drops) the request, or it would never see the client leave, and close() would wait.
      const fakeServer = createServer((socket) => socket.resume().end(reply));
      await new Promise<void>((resolve) => fakeServer.listen(path, resolve));
      cleanups.push(() => new Promise<void>((resolve) => fakeServer.close(() => resolve())));
      const failure = await sendRequest(path, { cmd: 'ping' }).then(
        () => assert.fail('accepted a broken answer'),
        (error: unknown) => error,
      );
      assert.ok(failure instanceof StewardError);
      assert.equal(failure.code, 'ERR_CONTROL_UNAVAILABLE');
      assert.match(failure.message, message);
    }
  });
});
