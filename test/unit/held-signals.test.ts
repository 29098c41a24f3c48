import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { holdSignals, takeHeldSignals } from '../../src/sys/held-signals.js';

describe('held signals', () => {
  it('keeps the signals that come before the handlers, in order, and lets go of them when taken', async () => {
    // Node 24's test runner listens to SIGUSR2 itself: only the holder's listener must go.
    const before = process.listeners('SIGUSR2');
    holdSignals();
    process.kill(process.pid, 'SIGUSR2');
    process.kill(process.pid, 'SIGHUP');
    await sleep(50);
    assert.deepEqual(takeHeldSignals(), ['SIGUSR2', 'SIGHUP']);
    assert.deepEqual(process.listeners('SIGUSR2'), before, 'the holder still listens');
    assert.deepEqual(takeHeldSignals(), [], 'taken twice');
  });
});
