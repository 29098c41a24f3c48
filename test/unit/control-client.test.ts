import assert from 'node:assert/strict';
import { closeSync, mkdtempSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { sendRequest } from '../../src/control/client.js';
import { StewardError } from '../../src/errors.js';
import { listenOnUnixSocket } from '../../src/sys/ffi/descriptors.js';

/** Connections that sit in the backlog until none is taken any more (EAGAIN), as a busy Steward's do. */
async function fillBacklog(path: string): Promise<Socket[]> {
  const sockets: Socket[] = [];
  for (let attempt = 0; attempt < 64; attempt++) {
    const socket = connect(path);
    sockets.push(socket);
    const refused = await new Promise<boolean>((resolve) => {
      socket.once('connect', () => resolve(false));
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'EAGAIN'));
    });
    if (refused) return sockets;
  }
  throw new Error('the backlog never filled');
}

describe('control client: a Steward too busy to accept for a moment', () => {
  it('is tried again until it accepts, within the time the request may take', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'steward-client-')), 'control.sock');
    // Bound and listening, nothing accepting yet: as PID 1 before its loop gets to the socket.
    const fd = listenOnUnixSocket(path, 1);
    const fillers = await fillBacklog(path);
    const answer = sendRequest(path, { cmd: 'status' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const server = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.once('data', () => socket.end(`${JSON.stringify({ ok: true, result: 'accepted at last' })}\n`));
    });
    server.listen({ fd });
    try {
      assert.deepEqual(await answer, { ok: true, result: 'accepted at last' });
    } finally {
      for (const socket of fillers) socket.destroy();
      server.close();
    }
  });

  it('gives up with a message saying Steward is busy once that time is over', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'steward-client-')), 'control.sock');
    const fd = listenOnUnixSocket(path, 1);
    const fillers = await fillBacklog(path);
    try {
      await assert.rejects(sendRequest(path, { cmd: 'status' }, 400), (error: unknown) => {
        assert.ok(error instanceof StewardError);
        assert.equal(error.code, 'ERR_CONTROL_UNAVAILABLE');
        assert.match(error.message, /did not accept the connection within \d+ s: it is busy, its control socket's backlog is full/);
        return true;
      });
    } finally {
      for (const socket of fillers) socket.destroy();
      closeSync(fd);
    }
  });
});

describe('control client: the connection', () => {
  it('stays open on its side until the answer is in, so that Steward sees it close once the answer is read', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'steward-client-')), 'control.sock');
    let endedBeforeAnswer: boolean | undefined;
    let closedAfterAnswer = false;
    const server = createServer({ allowHalfOpen: true }, (socket) => {
      let ended = false;
      socket.on('error', () => undefined);
      socket.on('end', () => {
        ended = true;
      });
      socket.once('data', () => {
        // Time for a half-close sent right after the request to arrive.
        setTimeout(() => {
          endedBeforeAnswer = ended;
          socket.end(`${JSON.stringify({ ok: true, result: 'answer' })}\n`);
          socket.once('close', () => {
            closedAfterAnswer = true;
          });
        }, 200);
      });
    });
    await new Promise<void>((resolve) => server.listen(path, resolve));
    try {
      assert.deepEqual(await sendRequest(path, { cmd: 'status' }), { ok: true, result: 'answer' });
      assert.equal(endedBeforeAnswer, false);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(closedAfterAnswer, true);
    } finally {
      server.close();
    }
  });
});
