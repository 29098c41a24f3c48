import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { depStartOrder, depWaitMs } from '../../src/init/dep-order.js';

describe('.dep files (the s6-overlay fork of jlesage\'s base images)', () => {
  it('orders the services that have them after what they name, by name where they are free', () => {
    const known = new Set(['xvfb', 'nginx', 'x11vnc', 'openbox', 'app']);
    const after = new Map([
      ['app', ['x11vnc', 'openbox', 'xvfb', 'nginx']],
      ['x11vnc', ['xvfb']],
      ['openbox', ['xvfb']],
    ]);
    const { order, waitsFor, unknown, circular } = depStartOrder(after, known);
    assert.deepEqual(order, ['openbox', 'x11vnc', 'app']);
    assert.deepEqual(waitsFor.get('app'), ['x11vnc', 'openbox', 'xvfb', 'nginx']);
    assert.deepEqual(unknown, []);
    assert.deepEqual(circular, []);
  });

  it('names a file that names no service, and puts services that name each other last, in name order', () => {
    const after = new Map([
      ['b', ['a']],
      ['a', ['b', 'ghost']],
      ['c', ['x']],
    ]);
    const { order, unknown, circular, waitsFor } = depStartOrder(after, new Set(['a', 'b', 'c', 'x']));
    assert.deepEqual(order, ['c', 'a', 'b']);
    assert.deepEqual(unknown, [['a', 'ghost']]);
    assert.deepEqual(circular, ['a', 'b']);
    assert.deepEqual(waitsFor.get('a'), ['b']);
  });

  it('reads S6_WAIT_FOR_SERVICE_MAXTIME as the fork does: 5000 ms when unset or not a number, 0 for no limit', () => {
    assert.equal(depWaitMs({}), 5000);
    assert.equal(depWaitMs({ S6_WAIT_FOR_SERVICE_MAXTIME: '12000' }), 12000);
    assert.equal(depWaitMs({ S6_WAIT_FOR_SERVICE_MAXTIME: '0' }), 0);
    assert.equal(depWaitMs({ S6_WAIT_FOR_SERVICE_MAXTIME: 'soon' }), 5000);
  });
});
