import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { FakeClock } from '../helpers/fake-clock.js';

// The supervisor tests rely on this clock, so its own behaviour is pinned down here.
describe('FakeClock', () => {
  it('fires due timers in time order, at their own time, and no earlier', () => {
    const clock = new FakeClock(1000);
    const fired: [string, number][] = [];
    clock.schedule(300, () => fired.push(['b', clock.now()]));
    clock.schedule(100, () => fired.push(['a', clock.now()]));
    clock.schedule(300, () => fired.push(['c', clock.now()]));
    clock.advance(99);
    assert.deepEqual(fired, []);
    clock.advance(201);
    assert.deepEqual(fired, [
      ['a', 1100],
      ['b', 1300],
      ['c', 1300],
    ]);
    assert.equal(clock.now(), 1300);
  });

  it('fires timers scheduled by a callback during the same advance', () => {
    const clock = new FakeClock();
    const fired: number[] = [];
    clock.schedule(10, () => {
      fired.push(clock.now());
      clock.schedule(10, () => fired.push(clock.now()));
      clock.schedule(0, () => fired.push(clock.now()));
    });
    clock.advance(25);
    assert.deepEqual(fired, [10, 10, 20]);
    assert.equal(clock.now(), 25);
  });

  it('does not fire a cancelled timer', () => {
    const clock = new FakeClock();
    let fired = false;
    const cancel = clock.schedule(5, () => {
      fired = true;
    });
    assert.equal(clock.pendingTimers, 1);
    assert.equal(clock.nextTimerIn, 5);
    cancel();
    clock.advance(10);
    assert.equal(fired, false);
    assert.equal(clock.pendingTimers, 0);
    assert.equal(clock.nextTimerIn, undefined);
  });
});
