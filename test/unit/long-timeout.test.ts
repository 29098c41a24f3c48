import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';

import { realClock } from '../../src/supervise/clock.js';
import { MAX_TIMER_MS, setLongTimeout } from '../../src/util/long-timeout.js';
import { raceWithLimits } from '../../src/util/race.js';

/** s6 reads its time limits as 32-bit unsigned numbers: this one means "practically never". */
const S6_LARGEST_LIMIT_MS = 4_294_967_295;

describe('time limits longer than a Node timer holds', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
  afterEach(() => mock.timers.reset());

  it('fires after the whole delay, not after 1 ms as a plain setTimeout of it does', () => {
    let fired = 0;
    setLongTimeout(() => fired++, S6_LARGEST_LIMIT_MS);
    mock.timers.tick(1);
    assert.equal(fired, 0);
    mock.timers.tick(MAX_TIMER_MS);
    assert.equal(fired, 0, 'still waiting after the first step');
    // Each step starts when the one before ran: a few milliseconds late at most over the 49.7 days.
    mock.timers.tick(S6_LARGEST_LIMIT_MS - MAX_TIMER_MS - 20);
    assert.equal(fired, 0, 'before the delay is over');
    // The mocked clock starts a step set during a tick from the tick's end: a few more ticks.
    for (let tick = 0; tick < 10 && fired === 0; tick++) mock.timers.tick(10);
    assert.equal(fired, 1);
  });

  it('fires short delays as setTimeout does, and can be cancelled in any step', () => {
    let fired = 0;
    setLongTimeout(() => fired++, 10);
    mock.timers.tick(10);
    assert.equal(fired, 1);
    const cancel = setLongTimeout(() => fired++, S6_LARGEST_LIMIT_MS);
    mock.timers.tick(MAX_TIMER_MS + 5);
    cancel();
    mock.timers.tick(S6_LARGEST_LIMIT_MS);
    assert.equal(fired, 1);
  });

  it("the supervisor's clock and the limit on a wait use it (timeout-kill, timeout-up, S6_* limits)", async () => {
    let killed = false;
    realClock.schedule(S6_LARGEST_LIMIT_MS, () => (killed = true));
    mock.timers.tick(1000);
    assert.equal(killed, false);
    let finish: () => void = () => undefined;
    const work = new Promise<void>((resolve) => (finish = resolve));
    const raced = raceWithLimits(work, new AbortController().signal, S6_LARGEST_LIMIT_MS);
    mock.timers.tick(1000);
    finish();
    assert.equal(await raced, true, 'the work finished first');
  });
});
