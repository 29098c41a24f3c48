import assert from 'node:assert/strict';
import { test } from 'node:test';

import { installLastResort, lastResortHandler } from '../../src/init/last-resort.js';
import { ShutdownRequest } from '../../src/init/shutdown-request.js';
import { Reporter } from '../../src/log/reporter.js';

test('an internal error starts a shutdown; a second one during it exits at once', () => {
  const lines: string[] = [];
  const request = new ShutdownRequest();
  let emergencies = 0;
  const onError = lastResortHandler(new Reporter(2, (text) => lines.push(text)), request, () => emergencies++);
  onError(new Error('boom'));
  assert.deepEqual(request.reason, { kind: 'internal-error', message: 'boom' });
  assert.match(lines.join(''), /steward: error: internal error, stopping the container: Error: boom/);
  assert.equal(emergencies, 0);
  onError('again');
  assert.equal(emergencies, 1);
});

test('the handler is installed for uncaught exceptions and unhandled rejections, and removable', () => {
  const before = [process.listenerCount('uncaughtException'), process.listenerCount('unhandledRejection')];
  const uninstall = installLastResort(new Reporter(0, () => undefined), new ShutdownRequest(), () => undefined);
  assert.deepEqual([process.listenerCount('uncaughtException'), process.listenerCount('unhandledRejection')], before.map((count) => count + 1));
  uninstall();
  assert.deepEqual([process.listenerCount('uncaughtException'), process.listenerCount('unhandledRejection')], before);
});
