import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';

import { decodeWaitStatus } from '../../src/sys/posix-port.js';
import { parseSignal, sendSignal, signalName, signalNumber, terminationSignalName } from '../../src/sys/signals.js';

describe('parseSignal', () => {
  const valid: [string, NodeJS.Signals][] = [
    ['TERM', 'SIGTERM'],
    ['SIGTERM', 'SIGTERM'],
    ['15', 'SIGTERM'],
    ['sigterm', 'SIGTERM'],
    ['hup', 'SIGHUP'],
    [' QUIT\n', 'SIGQUIT'],
    ['9', 'SIGKILL'],
    ['SIGUSR2', 'SIGUSR2'],
  ];
  for (const [text, signal] of valid) {
    it(`reads ${JSON.stringify(text)} as ${signal}`, () => {
      assert.equal(parseSignal(text), signal);
    });
  }

  for (const text of ['bogus', 'SIGBOGUS', '', '0', '999', '-15', '15.0', 'SIG', 'constructor', '__proto__']) {
    it(`rejects ${JSON.stringify(text)}`, () => {
      assert.equal(parseSignal(text), undefined);
    });
  }
});

describe('signal numbers', () => {
  it('maps names to numbers and back', () => {
    assert.equal(signalNumber('SIGTERM'), 15);
    assert.equal(signalNumber('SIGKILL'), 9);
    assert.equal(signalName(15), 'SIGTERM');
    assert.equal(signalName(9), 'SIGKILL');
  });

  it('prefers the common name when two names share a number', () => {
    assert.equal(signalName(signalNumber('SIGIOT')), 'SIGABRT');
  });

  it('has no name for a number that is not a signal', () => {
    assert.equal(signalName(0), undefined);
    assert.equal(signalName(12345), undefined);
  });
});

describe('terminationSignalName', () => {
  it('names every signal that can end a process, real-time ones as bash does, and gives each its number back', () => {
    for (let number = 1; number <= 64; number++) assert.equal(signalNumber(terminationSignalName(number)), number, String(number));
    assert.equal(terminationSignalName(15), 'SIGTERM');
    assert.equal(terminationSignalName(34), 'SIGRTMIN');
    assert.equal(terminationSignalName(40), 'SIGRTMIN+6');
    assert.equal(terminationSignalName(50), 'SIGRTMAX-14');
    assert.equal(terminationSignalName(64), 'SIGRTMAX');
    assert.equal(terminationSignalName(32), 'SIG32');
  });

  it('decodes a wait status of a real-time signal as that signal, not SIGKILL', () => {
    // 40 | 0x80 would be the same with a core dump.
    assert.deepEqual(decodeWaitStatus(40), { code: null, signal: 'SIGRTMIN+6' });
    assert.deepEqual(decodeWaitStatus(40 | 0x80), { code: null, signal: 'SIGRTMIN+6' });
    assert.deepEqual(decodeWaitStatus(9), { code: null, signal: 'SIGKILL' });
  });
});

describe('sendSignal', () => {
  it('signals a live process', () => {
    assert.equal(sendSignal(process.pid, 'SIGCONT'), true);
  });

  it('returns false for a process that is gone', () => {
    const { pid } = spawnSync(process.execPath, ['-e', '0']);
    assert.ok(pid !== undefined && pid > 0);
    assert.equal(sendSignal(pid, 'SIGCONT'), false);
  });
});
