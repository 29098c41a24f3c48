import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { TurnQueue } from '../../src/util/turns.js';

/** Resolves in the event loop's next check phase, after the immediates queued before it. */
const nextImmediate = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Lets every pending microtask run, without giving the event loop a turn. */
async function drainMicrotasks(): Promise<void> {
  for (let i = 0; i < 50; i++) await Promise.resolve();
}

describe('TurnQueue', () => {
  it('lets waiters through at once while the slice lasts', async () => {
    let now = 0;
    const turns = new TurnQueue(5, () => now);
    const passed: number[] = [];
    for (let job = 0; job < 3; job++) {
      await turns.next();
      passed.push(job);
      now += 1;
    }
    assert.deepEqual(passed, [0, 1, 2]);
  });

  it('sends a waiter to a later turn of the event loop once the slice is over', async () => {
    let now = 0;
    const turns = new TurnQueue(5, () => now);
    await turns.next();
    now += 5;
    const order: string[] = [];
    // Queued before the waiter asks: the waiter can only pass after it, in the event loop's turn.
    setImmediate(() => order.push('event loop'));
    const waited = turns.next().then(() => order.push('waiter'));
    await drainMicrotasks();
    assert.deepEqual(order, [], 'the thread must be given back to the event loop first');
    await waited;
    assert.deepEqual(order, ['event loop', 'waiter']);
  });

  it('keeps the order of the waiters and gives each new slice to as many as fit', async () => {
    let now = 0;
    const turns = new TurnQueue(5, () => now);
    await turns.next();
    now += 10;
    const order: string[] = [];
    const jobs = ['a', 'b', 'c', 'd'].map((name) =>
      turns.next().then(() => {
        order.push(name);
        // Each job takes 3 ms of the slice: two fit in one.
        now += 3;
      }),
    );
    await drainMicrotasks();
    assert.deepEqual(order, []);
    await nextImmediate();
    await drainMicrotasks();
    assert.deepEqual(order, ['a', 'b'], 'a new slice of 5 ms holds two jobs of 3 ms');
    await Promise.all(jobs);
    assert.deepEqual(order, ['a', 'b', 'c', 'd']);
  });

  it('does not let a newcomer pass waiters already queued, even within the slice', async () => {
    let now = 0;
    const turns = new TurnQueue(5, () => now);
    await turns.next();
    now += 6;
    const order: string[] = [];
    let newcomer: Promise<unknown> = Promise.resolve();
    const first = turns.next().then(() => {
      order.push('first');
      // Asks while the second still waits, in a slice that has time left.
      newcomer = turns.next().then(() => order.push('newcomer'));
    });
    const second = turns.next().then(() => order.push('second'));
    await Promise.all([first, second]);
    await newcomer;
    assert.deepEqual(order, ['first', 'second', 'newcomer']);
  });

  it('tells when a run of jobs is over: the first turn in which nobody asked for one', async () => {
    let now = 0;
    const turns = new TurnQueue(5, () => now);
    const events: string[] = [];
    // A run of twelve jobs of 2 ms each: three per slice, so four turns of the event loop.
    const run = (async () => {
      for (let job = 0; job < 12; job++) {
        await turns.next();
        now += 2;
      }
      events.push('run over');
    })();
    const quiet = turns.whenQuiet().then(() => events.push('quiet'));
    await Promise.all([run, quiet]);
    assert.deepEqual(events, ['run over', 'quiet'], 'quiet only once the last job has had its turn');
  });

  it('is quiet at the next turn when nobody asks for turns', async () => {
    const turns = new TurnQueue(5, () => 0);
    const order: string[] = [];
    setImmediate(() => order.push('immediate before'));
    const quiet = turns.whenQuiet().then(() => order.push('quiet'));
    setImmediate(() => setImmediate(() => order.push('next turn')));
    await quiet;
    await nextImmediate();
    await nextImmediate();
    assert.deepEqual(order, ['immediate before', 'quiet', 'next turn']);
  });

  it('is not quiet while jobs keep asking, each turn, even when each is let through at once', async () => {
    let now = 0;
    const turns = new TurnQueue(5, () => now);
    let quiet = false;
    void turns.whenQuiet().then(() => {
      quiet = true;
    });
    // One job per turn of the event loop, each within its slice: never queued, always asking.
    for (let turn = 0; turn < 5; turn++) {
      await turns.next();
      now += 1;
      await nextImmediate();
      assert.equal(quiet, false, `still busy at turn ${turn}`);
    }
    await nextImmediate();
    await nextImmediate();
    assert.equal(quiet, true);
  });

  it('with a bound, resolves after it while a run of jobs keeps asking for turns', async () => {
    const turns = new TurnQueue(5, () => 0);
    let running = true;
    // Asks every turn until told to stop: a run of starts that outlasts the bound.
    const run = (async () => {
      while (running) {
        await turns.next();
        await nextImmediate();
      }
    })();
    const bounded = await Promise.race([turns.whenQuiet(20).then(() => 'resolved'), new Promise((resolve) => setTimeout(() => resolve('waited 2 s'), 2000))]);
    assert.equal(bounded, 'resolved', 'the bound ends the wait');
    assert.equal(running, true, 'the run was still going');
    let unbounded = false;
    void turns.whenQuiet().then(() => {
      unbounded = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(unbounded, false, 'without a bound, not while the run goes on');
    running = false;
    await run;
    await nextImmediate();
    await nextImmediate();
    assert.equal(unbounded, true);
  });
});

