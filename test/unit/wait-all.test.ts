import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';

import { waitForAll } from '../../src/supervise/wait-all.js';
import { settle } from '../helpers/fake-port.js';
import { fakeTarget, type FakeTarget } from '../helpers/fake-target.js';

let current: FakeTarget | undefined;
afterEach(() => current?.cleanup());

const isReady = (status: { ready: boolean }): boolean => status.ready;

describe('waitForAll', () => {
  it('resolves true once every service meets the condition, not before', async () => {
    current = fakeTarget([{ name: 'a', notificationFd: 3 }, { name: 'b', notificationFd: 3 }]);
    const fake = current;
    fake.supervisor('a').up();
    fake.supervisor('b').up();
    let outcome: boolean | undefined;
    const waiting = waitForAll([fake.supervisor('a'), fake.supervisor('b')], isReady, new AbortController().signal).then((reached) => (outcome = reached));
    fake.port.ready(fake.pid('a'));
    await settle();
    assert.equal(outcome, undefined, 'resolved with one of the two ready');
    fake.port.ready(fake.pid('b'));
    await waiting;
    assert.equal(outcome, true);
  });

  it('resolves true at once when every service already meets it, and for none', async () => {
    current = fakeTarget([{ name: 'a' }]);
    current.supervisor('a').up();
    assert.equal(await waitForAll([current.supervisor('a')], isReady, new AbortController().signal), true);
    assert.equal(await waitForAll([], isReady, new AbortController().signal), true);
  });

  it('resolves false when the signal aborts, and leaves no listener on the services', async () => {
    current = fakeTarget([{ name: 'a', notificationFd: 3 }]);
    const fake = current;
    fake.supervisor('a').up();
    const giveUp = new AbortController();
    const waiting = waitForAll([fake.supervisor('a')], isReady, giveUp.signal);
    giveUp.abort();
    assert.equal(await waiting, false);
    let calls = 0;
    const counting = (): boolean => {
      calls++;
      return false;
    };
    const second = new AbortController();
    const again = waitForAll([fake.supervisor('a')], counting, second.signal);
    const before = calls;
    fake.port.ready(fake.pid('a'));
    await settle();
    assert.ok(calls > before, 'the live wait did not see the event');
    second.abort();
    assert.equal(await again, false);
    const after = calls;
    fake.port.exit(fake.pid('a'), { code: 0 });
    await settle();
    assert.equal(calls, after, 'an ended wait still listens');
  });

  it('counts a service that meets it and leaves it again while others are pending', async () => {
    current = fakeTarget([{ name: 'a', notificationFd: 3 }, { name: 'b', notificationFd: 3 }]);
    const fake = current;
    fake.supervisor('a').up();
    fake.supervisor('b').up();
    const waiting = waitForAll([fake.supervisor('a'), fake.supervisor('b')], isReady, new AbortController().signal);
    fake.port.ready(fake.pid('a'));
    fake.supervisor('a').down();
    fake.port.ready(fake.pid('b'));
    assert.equal(await waiting, true);
  });
});
