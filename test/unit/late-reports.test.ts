import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { LateReports } from '../../src/init/late-reports.js';

/** A promise the test settles itself. */
function deferred(): { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void } {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  return { promise, resolve, reject };
}

/** Lets the promise callbacks queued so far run. */
async function drainMicrotasks(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

describe('LateReports', () => {
  it('settles at once with nothing pending', async () => {
    let settled = false;
    void new LateReports().settled().then(() => (settled = true));
    await drainMicrotasks();
    assert.equal(settled, true);
  });

  it('waits for every report, those added while it waits and those that fail included', async () => {
    const reports = new LateReports();
    const first = deferred();
    const second = deferred();
    reports.add(first.promise);
    let settled = false;
    void reports.settled().then(() => (settled = true));
    await drainMicrotasks();
    assert.equal(settled, false);
    reports.add(second.promise);
    first.reject(new Error('a report that failed'));
    await drainMicrotasks();
    assert.equal(settled, false, 'the report added meanwhile is still pending');
    second.resolve();
    await drainMicrotasks();
    assert.equal(settled, true);
  });
});
