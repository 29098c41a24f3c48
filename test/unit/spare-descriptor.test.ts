import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const sysDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'sys');

/**
 * Runs `body` in a fresh Node whose descriptor limit is spent before it starts: the
 * scenario is a process-wide state, so it cannot share this test's process.
 */
function runStarved(body: string, reserve: boolean): { stdout: string; stderr: string; status: number | null; signal: string | null } {
  const script = `
import { openSync } from 'node:fs';
const spare = await import(${JSON.stringify(join(sysDir, 'spare-descriptor.js'))});
const { netModule } = await import(${JSON.stringify(join(sysDir, 'builtins.js'))});
if (${reserve}) spare.reserveSpareDescriptors();
const taken = [];
for (;;) { try { taken.push(openSync('/dev/null', 'r')); } catch (error) { if (error.code !== 'EMFILE') throw error; break; } }
${body}`;
  const result = spawnSync('prlimit', ['--nofile=64:64', process.execPath, '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
  return { stdout: result.stdout, stderr: result.stderr, status: result.status, signal: result.signal };
}

describe('spare descriptors', () => {
  it('lets /proc be read with every descriptor in use, and is there again for the next time', () => {
    const body = `
import('node:fs').then(({ readdirSync }) => {
  for (let i = 0; i < 3; i++) console.log('tasks=' + spare.withSpareDescriptor(() => readdirSync('/proc/self/task')).length);
});`;
    const withSpare = runStarved(body, true);
    assert.equal(withSpare.status, 0, withSpare.stderr);
    assert.equal(withSpare.stdout.match(/tasks=[1-9]/g)?.length, 3, withSpare.stdout);
    const without = runStarved(body, false);
    assert.match(without.stderr, /EMFILE/, 'without the spare the same read fails');
  });

  it('gives libuv the descriptor it needs to turn connections away, so a full process does not spin on accept', async () => {
    /** Whether a client that connects to a process out of descriptors is turned away while that process runs. */
    const turnedAway = async (reserve: boolean): Promise<boolean> => {
      const path = join(tmpdir(), `steward-spare-${process.pid}-${String(reserve)}.sock`);
      // As Steward's control socket: bound while descriptors are free, served once the limit
      // is spent. libuv accepts and drops a connection it has no descriptor for, with a spare
      // of its own; without one, accept() fails on every turn of the event loop (a process
      // at full CPU) and the client waits until the process ends.
      const script = `
import { openSync } from 'node:fs';
const spare = await import(${JSON.stringify(join(sysDir, 'spare-descriptor.js'))});
const { netModule } = await import(${JSON.stringify(join(sysDir, 'builtins.js'))});
const { listenOnUnixSocket } = await import(${JSON.stringify(join(sysDir, 'ffi', 'descriptors.js'))});
if (${String(reserve)}) spare.reserveSpareDescriptors();
const fd = listenOnUnixSocket(${JSON.stringify(path)}, 16);
for (;;) { try { openSync('/dev/null', 'r'); } catch (error) { if (error.code !== 'EMFILE') throw error; break; } }
const server = netModule().createServer(() => undefined);
server.on('error', () => undefined);
server.listen({ fd }, () => process.stdout.write('listening\\n'));
setTimeout(() => undefined, 60_000);`;
      const child = spawn('prlimit', ['--nofile=64:64', process.execPath, '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      const childGone = once(child, 'close');
      // Turned away is at once; left waiting is forever: the child is ended after a while.
      let givenUp = false;
      const killer = setTimeout(() => {
        givenUp = true;
        child.kill('SIGKILL');
      }, 3000);
      await new Promise<void>((resolve) => child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('listening') && resolve()));
      const client = connect(path);
      client.on('error', () => undefined);
      client.resume();
      // Dropped: a reset or an end, then close (events.once would reject on the reset).
      await new Promise((resolve) => client.on('close', resolve));
      const whileRunning = !givenUp;
      child.kill('SIGKILL');
      await childGone;
      clearTimeout(killer);
      rmSync(path, { force: true });
      return whileRunning;
    };
    assert.equal(await turnedAway(true), true);
    assert.equal(await turnedAway(false), false, 'without the spare, the client is left waiting');
  });
});
