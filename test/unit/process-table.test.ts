import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';

import { listProcessGroup } from '../../src/sys/proc.js';

const python = spawnSync('python3', ['-c', 'import ctypes'], { stdio: 'ignore' }).status === 0;
const started: number[] = [];
after(() => {
  for (const pid of started) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
});

/** The state letter /proc gives the process, or undefined once it is gone. */
function stateOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

describe('the process table', () => {
  it('counts a process whose main thread ended while another runs on as live, though /proc shows it as a zombie', { skip: !python && 'needs python3 with ctypes' }, async () => {
    // The main thread leaves with pthread_exit; the other thread goes on (blocked for good on
    // the interpreter's lock its main thread took with it): a C daemon that ends its main thread first.
    const child = spawn('python3', ['-c', 'import threading, ctypes, time\nthreading.Thread(target=lambda: time.sleep(60)).start()\nctypes.CDLL(None).pthread_exit(None)\n'], { detached: true, stdio: 'ignore' });
    const pid = child.pid;
    assert.ok(pid !== undefined);
    started.push(pid);
    const deadline = Date.now() + 10_000;
    while (stateOf(pid) !== 'Z' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(stateOf(pid), 'Z', 'its main thread did not end');
    assert.deepEqual(listProcessGroup(pid), [pid]);
    process.kill(-pid, 'SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    assert.deepEqual(listProcessGroup(pid), []);
  });
});
