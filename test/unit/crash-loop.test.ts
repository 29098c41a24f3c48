import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { CRASH_LOOP_DEATHS, CrashLoops, SHORT_RUN_MS } from '../../src/log/crash-loop.js';

describe('CrashLoops: what a service dying again and again is worth saying', () => {
  it('reports each death until a few short runs in a row, then once, then reminders whose interval doubles up to an hour', () => {
    let now = 0;
    const loops = new CrashLoops(() => now);
    for (let death = 1; death < CRASH_LOOP_DEATHS; death++) assert.deepEqual(loops.died('web', 100), { kind: 'each' });
    assert.equal(loops.showsStarts('web'), true);
    assert.deepEqual(loops.died('web', 100), { kind: 'loop-begins', deaths: CRASH_LOOP_DEATHS });
    assert.equal(loops.showsStarts('web'), false);
    const said: { at: number; untold: number }[] = [];
    // A death every second for three hours.
    for (let second = 1; second <= 3 * 3600; second++) {
      now = second * 1000;
      const report = loops.died('web', 100);
      if (report.kind === 'reminder') said.push({ at: second, untold: report.untold });
      else assert.equal(report.kind, 'silent');
    }
    assert.deepEqual(said.slice(0, 4), [
      { at: 60, untold: 60 },
      { at: 180, untold: 120 },
      { at: 420, untold: 240 },
      { at: 900, untold: 480 },
    ]);
    // Then at most one an hour: 8 lines in three hours (the first included) instead of 21,600.
    assert.deepEqual(said.slice(4).map((line) => line.at), [1860, 3780, 7380]);
  });

  it('a run that lasts, or a stop that was asked for, makes the next death news again', () => {
    let now = 0;
    const loops = new CrashLoops(() => now);
    for (let death = 0; death < CRASH_LOOP_DEATHS; death++) loops.died('web', 100);
    assert.equal(loops.showsStarts('web'), false);
    now = 1000;
    assert.deepEqual(loops.died('web', SHORT_RUN_MS), { kind: 'each' });
    assert.equal(loops.showsStarts('web'), true);
    for (let death = 0; death < CRASH_LOOP_DEATHS; death++) loops.died('web', 100);
    loops.settled('web');
    assert.equal(loops.showsStarts('web'), true);
    assert.deepEqual(loops.died('web', 100), { kind: 'each' });
    // Each service has its own count.
    assert.deepEqual(loops.died('worker', 100), { kind: 'each' });
  });
});
