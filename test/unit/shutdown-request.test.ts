import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ShutdownRequest, describeReason, type ShutdownReason } from '../../src/init/shutdown-request.js';

describe('ShutdownRequest', () => {
  it('has no reason and an unaborted signal until a shutdown is requested', () => {
    const request = new ShutdownRequest();
    assert.equal(request.reason, undefined);
    assert.equal(request.signal.aborted, false);
  });

  it('takes the first reason, aborts its signal and resolves the promise with it', async () => {
    const request = new ShutdownRequest();
    let aborts = 0;
    request.signal.addEventListener('abort', () => aborts++);
    const first: ShutdownReason = { kind: 'signal', signal: 'SIGTERM' };
    assert.equal(request.request(first), true);
    assert.equal(request.signal.aborted, true);
    assert.equal(aborts, 1);
    assert.deepEqual(request.reason, first);
    assert.deepEqual(await request.requested, first);
  });

  it('lets a later request join the first one without changing the reason', async () => {
    const request = new ShutdownRequest();
    let aborts = 0;
    request.signal.addEventListener('abort', () => aborts++);
    assert.equal(request.request({ kind: 'cmd-exit', status: 3, description: 'exited 3' }), true);
    assert.equal(request.request({ kind: 'signal', signal: 'SIGINT' }), false);
    assert.equal(request.request({ kind: 'halt' }), false);
    assert.equal(aborts, 1);
    assert.deepEqual(request.reason, { kind: 'cmd-exit', status: 3, description: 'exited 3' });
    assert.deepEqual(await request.requested, { kind: 'cmd-exit', status: 3, description: 'exited 3' });
  });
});

describe('ShutdownRequest.askedFromSession and its listeners', () => {
  it('names the session of a halt that said where it came from, and no other', () => {
    const request = new ShutdownRequest();
    assert.equal(request.askedFromSession(42), false);
    request.request({ kind: 'halt', fromSession: 42 });
    assert.equal(request.askedFromSession(42), true);
    assert.equal(request.askedFromSession(43), false);
    const bySignal = new ShutdownRequest();
    bySignal.request({ kind: 'signal', signal: 'SIGTERM' });
    assert.equal(bySignal.askedFromSession(42), false);
  });

  it('takes a listener from each step under way, however many, without a MaxListenersExceededWarning', async () => {
    const request = new ShutdownRequest();
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning.name);
    };
    process.on('warning', onWarning);
    try {
      const noop = (): void => undefined;
      for (let index = 0; index < 30; index++) request.signal.addEventListener('abort', noop.bind(null), { once: true });
      await new Promise((resolve) => setTimeout(resolve, 20));
    } finally {
      process.off('warning', onWarning);
    }
    assert.deepEqual(warnings, []);
  });
});

describe('describeReason', () => {
  const cases: [ShutdownReason, string][] = [
    [{ kind: 'signal', signal: 'SIGTERM' }, 'received SIGTERM'],
    [{ kind: 'halt' }, 'halt requested'],
    [{ kind: 'cmd-exit', status: 1, description: 'exited 1' }, 'the command exited 1'],
    [{ kind: 'boot-failure', status: 1, message: 'cont-init.d/10-setup failed' }, 'cont-init.d/10-setup failed'],
    [{ kind: 'internal-error', message: 'boom' }, 'internal error: boom'],
  ];
  for (const [reason, text] of cases) {
    it(`describes ${reason.kind} as "${text}"`, () => {
      assert.equal(describeReason(reason), text);
    });
  }
});
