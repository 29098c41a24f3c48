import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { envStage3Dir, envStage3Variables, makeEnvStage3, recordStage2Exit, scriptStage2Exit } from '../../src/init/env-stage3.js';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** An s6 directory with v2's stage-3 envdir in it. */
function s6Dir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'steward-env-stage3-'));
  dirs.push(dir);
  makeEnvStage3(dir);
  return dir;
}

function write(dir: string, name: string, value: string): void {
  writeFileSync(join(envStage3Dir(dir), name), value);
}

describe("s6-overlay v2's stage-3 environment", () => {
  it('has no exit code of its own when nothing is there, or only what Steward wrote', () => {
    const dir = s6Dir();
    assert.equal(scriptStage2Exit(dir), undefined);
    recordStage2Exit(dir, 5);
    assert.deepEqual(envStage3Variables(dir), { S6_STAGE2_EXITED: '5' });
    assert.equal(scriptStage2Exit(dir), undefined);
  });

  it("takes the code a script wrote, on the file's first line, modulo 256", () => {
    const dir = s6Dir();
    recordStage2Exit(dir, 0);
    write(dir, 'S6_STAGE2_EXITED', '3\n');
    assert.deepEqual(scriptStage2Exit(dir), { code: 3, from: join(envStage3Dir(dir), 'S6_STAGE2_EXITED') });
    write(dir, 'S6_STAGE2_EXITED', '259');
    assert.equal(scriptStage2Exit(dir)?.code, 3);
  });

  it('reads S6_CMD_EXITED, the name before v1.22, when S6_STAGE2_EXITED is not a script\'s', () => {
    const dir = s6Dir();
    recordStage2Exit(dir, 0);
    write(dir, 'S6_CMD_EXITED', '123');
    assert.equal(scriptStage2Exit(dir)?.code, 123);
  });

  it('ends with 100 for what is not a number, as execline\'s exit in v2\'s stage 3, and says why', () => {
    const dir = s6Dir();
    for (const value of ['failed', ' 3', '7 extra']) {
      write(dir, 'S6_STAGE2_EXITED', value);
      const result = scriptStage2Exit(dir);
      assert.equal(result?.code, 100, value);
      assert.match(result?.problem ?? '', /is not an exit code: exiting with 100/);
    }
  });

  it('gives cont-finish scripts its variables, an empty file unsetting one', () => {
    const dir = s6Dir();
    write(dir, 'S6_STAGE2_EXITED', '4');
    write(dir, 'EMPTY', '');
    assert.deepEqual(envStage3Variables(dir), { S6_STAGE2_EXITED: '4', EMPTY: undefined });
  });

  it('is nothing at all where there is no such directory (a v3 image)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'steward-env-stage3-'));
    dirs.push(dir);
    recordStage2Exit(dir, 9);
    assert.deepEqual(envStage3Variables(dir), {});
    assert.equal(scriptStage2Exit(dir), undefined);
  });
});
