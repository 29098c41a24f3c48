import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { SETTLE_MAX_MS, SETTLE_PER_START_MS, StartsSettling } from '../../src/init/starts-settling.js';
import { FakeClock } from '../helpers/fake-clock.js';

/** Lets the promise callbacks queued so far run. */
async function drainMicrotasks(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

/** A settling whose turn queue is quiet whenever the test says so. */
function settlingWithQuiet(clock: FakeClock): { settling: StartsSettling; busy: (isBusy: boolean) => void } {
  let waiting: (() => void)[] = [];
  let isBusy = false;
  const settling = new StartsSettling(clock, () => (isBusy ? new Promise<void>((resolve) => waiting.push(resolve)) : Promise.resolve()));
  return {
    settling,
    busy(value) {
      isBusy = value;
      if (value) return;
      const released = waiting;
      waiting = [];
      released.forEach((resolve) => resolve());
    },
  };
}

describe('StartsSettling', () => {
  it('settles at once when nothing started', async () => {
    const clock = new FakeClock();
    const { settling } = settlingWithQuiet(clock);
    let settled = false;
    void settling.whenSettled(1000).then(() => (settled = true));
    await drainMicrotasks();
    assert.equal(settled, true);
  });

  it('waits a settle time per start since the last start, up to its most', async () => {
    const clock = new FakeClock();
    const { settling } = settlingWithQuiet(clock);
    for (let start = 0; start < 20; start++) settling.started();
    let settled = false;
    void settling.whenSettled(1000).then(() => (settled = true));
    await drainMicrotasks();
    assert.equal(settled, false);
    clock.advance(20 * SETTLE_PER_START_MS - 1);
    await drainMicrotasks();
    assert.equal(settled, false, 'before 20 starts have had their time');
    clock.advance(1);
    await drainMicrotasks();
    assert.equal(settled, true);

    // Once settled, the next wait counts only the starts made since.
    for (let start = 0; start < 1000; start++) settling.started();
    assert.equal(settling.leftMs(), SETTLE_MAX_MS, 'a thousand starts wait no more than the most');
  });

  it('waits for the run of starts to be over, and for starts made while it waited', async () => {
    const clock = new FakeClock();
    const { settling, busy } = settlingWithQuiet(clock);
    settling.started();
    busy(true);
    let settled = false;
    void settling.whenSettled(1000).then(() => (settled = true));
    clock.advance(10);
    await drainMicrotasks();
    assert.equal(settled, false, 'the turn queue is still busy with starts');
    busy(false);
    await drainMicrotasks();
    // The one start is long settled: 10 ms have passed.
    assert.equal(settled, true);

    let again = false;
    settling.started();
    void settling.whenSettled(1000).then(() => (again = true));
    await drainMicrotasks();
    clock.advance(SETTLE_PER_START_MS / 2);
    settling.started();
    settling.started();
    clock.advance(SETTLE_PER_START_MS / 2);
    await drainMicrotasks();
    assert.equal(again, false, 'two more starts came while it waited');
    clock.advance(3 * SETTLE_PER_START_MS);
    await drainMicrotasks();
    assert.equal(again, true);
  });

  it('gives up waiting at its latest time, or at once on an abort', async () => {
    const clock = new FakeClock();
    const { settling, busy } = settlingWithQuiet(clock);
    settling.started();
    busy(true);
    let settled = false;
    void settling.whenSettled(100).then(() => (settled = true));
    clock.advance(99);
    await drainMicrotasks();
    assert.equal(settled, false);
    clock.advance(1);
    await drainMicrotasks();
    assert.equal(settled, true, 'at the latest time, starts or not');

    const stop = new AbortController();
    let stopped = false;
    void settling.whenSettled(100, stop.signal).then(() => (stopped = true));
    await drainMicrotasks();
    assert.equal(stopped, false);
    stop.abort();
    await drainMicrotasks();
    assert.equal(stopped, true, 'a stop wants what waits now');
    assert.equal(clock.pendingTimers, 0, 'no timer is left behind');
  });
});
