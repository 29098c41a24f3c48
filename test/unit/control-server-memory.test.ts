import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import { ControlServer } from '../../src/control/server.js';
import { fakeTarget } from '../helpers/fake-target.js';

/** One request on a connection of its own, kept open until the answer is in (as Steward's client does). */
function ready(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(text));
    socket.on('connect', () => socket.write('{"v":1,"cmd":"ready"}\n'));
  });
}

// In a file of its own: the test runner gives it a process of its own, with no other test's
// objects coming and going in the heap it measures.
describe('control server: memory', () => {
  const fake = fakeTarget([{ name: 'web' }]);
  fake.supervisor('web').up();
  const path = join(fake.root, 'run', 'steward', 'control.sock');
  const server = new ControlServer(path, fake.target, { group: null, now: () => fake.clock.now() });
  after(async () => {
    await server.close();
    fake.cleanup();
  });

  it('keeps nothing of an answered request once its connection is closed', async () => {
    // A collection on demand, to read the live heap: an exec probe every few seconds for months must not add up.
    setFlagsFromString('--expose-gc');
    const collect = runInNewContext('gc') as () => void;
    await server.listen();
    const requests = async (count: number): Promise<void> => {
      for (let index = 0; index < count; index++) assert.match(await ready(path), /"ok":true/);
    };
    const keptPerRequest = async (count: number): Promise<number> => {
      collect();
      const before = process.memoryUsage().heapUsed;
      await requests(count);
      // Let the last connections close on both sides.
      await new Promise((resolve) => setTimeout(resolve, 200));
      collect();
      return (process.memoryUsage().heapUsed - before) / count;
    };
    // Past the compiler's warm-up, whose code and feedback would count as kept.
    await requests(3000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Two rounds, the smaller kept: what a request keeps shows in both, a passing allocation in one.
    const kept = Math.min(await keptPerRequest(8000), await keptPerRequest(8000));
    assert.ok(kept < 10, `${kept.toFixed(1)} bytes kept per request`);
  });
});
