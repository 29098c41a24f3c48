import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

import { debuggerOpenedByOptions, nodeOptionWords } from '../../src/init/early-inspector.js';

const MODULE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'init', 'early-inspector.js');

/** Runs closeEarlyInspector in a Node whose debugger is open (as an early SIGUSR1 leaves it) or not. */
function probe(inspect: boolean, stopsOnSigusr1 = true, ownOptions: readonly string[] = []): { lines: string[]; requests: unknown[]; urlAfter: string } {
  const script = `
    const { closeEarlyInspector } = await import(${JSON.stringify(MODULE)});
    const inspector = await import('node:inspector');
    const lines = [];
    const requests = [];
    const reporter = { warn: (stage, text) => lines.push(stage + ': ' + text), error: (stage, text) => lines.push(stage + ': ' + text) };
    const shutdown = { request: (reason) => { requests.push(reason); return true; } };
    await closeEarlyInspector(reporter, shutdown, ${stopsOnSigusr1}, ${JSON.stringify(ownOptions)});
    process.stdout.write(JSON.stringify({ lines, requests, urlAfter: String(inspector.url()) }));
  `;
  const result = spawnSync(process.execPath, [...(inspect ? ['--inspect=127.0.0.1:0'] : []), '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout) as { lines: string[]; requests: unknown[]; urlAfter: string };
}

describe("closeEarlyInspector: Node's debugger opened by a SIGUSR1 before Steward's handlers", () => {
  it('closes it, says so and asks for the graceful shutdown SIGUSR1 means', () => {
    const { lines, requests, urlAfter } = probe(true);
    assert.equal(urlAfter, 'undefined');
    assert.deepEqual(requests, [{ kind: 'signal', signal: 'SIGUSR1' }]);
    assert.match(lines.join('\n'), /Node opened its debugger for it; closed it, and stopping the container as SIGUSR1 asks/);
  });

  it('in an image made for s6-overlay v2, closes it and ignores the SIGUSR1, as v2 does', () => {
    const { lines, requests, urlAfter } = probe(true, false);
    assert.equal(urlAfter, 'undefined');
    assert.deepEqual(requests, []);
    assert.match(lines.join('\n'), /closed it, and ignoring the SIGUSR1, as s6-overlay v2 does/);
  });

  it('does nothing when there is none', () => {
    assert.deepEqual(probe(false), { lines: [], requests: [], urlAfter: 'undefined' });
  });

  it('leaves a debugger its own options opened alone (node --inspect .../steward-init), with no signal taken', () => {
    const { lines, requests, urlAfter } = probe(true, true, ['--inspect=127.0.0.1:0']);
    assert.match(urlAfter, /^ws:\/\/127\.0\.0\.1:/);
    assert.deepEqual(requests, []);
    assert.deepEqual(lines, []);
  });
});

describe('debuggerOpenedByOptions and nodeOptionWords', () => {
  it('tell the options that open the debugger from the others, quoted or not', () => {
    for (const option of ['--inspect', '--inspect=0.0.0.0:9229', '--inspect-brk', '--inspect-brk=9230', '--inspect-wait', '"--inspect=127.0.0.1:0"']) {
      assert.equal(debuggerOpenedByOptions([option]), true, option);
    }
    for (const option of ['--inspect-port=9230', '--inspect-publish-uid=http', '--require=./apm.js', '--enable-source-maps', '--inspectx']) {
      assert.equal(debuggerOpenedByOptions([option]), false, option);
    }
  });

  it("splits NODE_OPTIONS at spaces, a quoted word kept whole", () => {
    assert.deepEqual(nodeOptionWords('  --max-old-space-size=64   --inspect=127.0.0.1:0 '), ['--max-old-space-size=64', '--inspect=127.0.0.1:0']);
    assert.deepEqual(nodeOptionWords('--require "./a b.js" --inspect'), ['--require', '"./a b.js"', '--inspect']);
    assert.deepEqual(nodeOptionWords(''), []);
  });
});
