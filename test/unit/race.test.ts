import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { raceWithLimits } from '../../src/util/race.js';

describe('raceWithLimits', () => {
  it('takes a limit past what a timer holds as no limit, rather than one that runs out at once', async () => {
    const never = new AbortController().signal;
    assert.equal(await raceWithLimits(sleep(30), never, 2 ** 31 + 1000), true);
  });

  it('ends at the limit when the work takes longer', async () => {
    const never = new AbortController().signal;
    assert.equal(await raceWithLimits(sleep(300), never, 20), false);
  });

  it('leaves work that rejects later handled when its signal was already aborted', async () => {
    const aborted = AbortSignal.abort();
    let unhandled = false;
    const onUnhandled = (): void => {
      unhandled = true;
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      const work = sleep(10).then(() => Promise.reject(new Error('late failure')));
      assert.equal(await raceWithLimits(work, aborted, 0), false);
      await sleep(50);
      assert.equal(unhandled, false);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
