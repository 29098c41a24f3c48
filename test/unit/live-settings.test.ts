import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import type { Diagnostic } from '../../src/diagnostic.js';
import { readSettings } from '../../src/config/settings.js';
import { liveSettings } from '../../src/init/live-settings.js';

describe('liveSettings', () => {
  const env = { S6_SERVICES_GRACETIME: '500', S6_KILL_GRACETIME: '1000', S6_CMD_ARG0: 'sh -c' };
  const initial = readSettings(env).settings;

  function containerEnvironment(): string {
    const dir = mkdtempSync(join(tmpdir(), 'steward-contenv-'));
    // As Steward writes it: each value followed by a newline.
    for (const [name, value] of Object.entries(env)) writeFileSync(join(dir, name), `${value}\n`);
    return dir;
  }

  it('reads again what a script wrote to the container environment, and only the settings s6-overlay reads when it uses them', () => {
    const dir = containerEnvironment();
    const reports: Diagnostic[] = [];
    const now = liveSettings(initial, env, dir, (diagnostics) => reports.push(...diagnostics));
    assert.equal(now(), initial, 'nothing changed: the same object');
    writeFileSync(join(dir, 'S6_SERVICES_GRACETIME'), '297000');
    writeFileSync(join(dir, 'S6_KILL_FINISH_MAXTIME'), '297000\n');
    writeFileSync(join(dir, 'S6_KILL_GRACETIME'), '9');
    writeFileSync(join(dir, 'S6_CMD_ARG0'), 'env FOO=1');
    const settings = now();
    assert.equal(settings.servicesGraceTimeMs, 297_000);
    assert.equal(settings.killFinishMaxTimeMs, 297_000);
    assert.deepEqual(settings.cmdArg0, ['env', 'FOO=1']);
    // Stage 0's, read once.
    assert.equal(settings.killGraceTimeMs, 1000);
    assert.deepEqual(reports, []);
    rmSync(dir, { recursive: true });
  });

  it('gives the default for a setting whose file was removed, as printcontenv then fails', () => {
    const dir = containerEnvironment();
    rmSync(join(dir, 'S6_SERVICES_GRACETIME'));
    assert.equal(liveSettings(initial, env, dir, () => undefined)().servicesGraceTimeMs, 3000);
    rmSync(dir, { recursive: true });
  });

  it('reports a bad value written there once, naming it, and uses the default', () => {
    const dir = containerEnvironment();
    const reports: Diagnostic[] = [];
    const now = liveSettings(initial, env, dir, (diagnostics) => reports.push(...diagnostics));
    writeFileSync(join(dir, 'S6_SERVICES_GRACETIME'), 'soon');
    assert.equal(now().servicesGraceTimeMs, 3000);
    assert.equal(now().servicesGraceTimeMs, 3000);
    assert.equal(reports.length, 1);
    assert.match(reports[0]?.error.message ?? '', /^S6_SERVICES_GRACETIME="soon"/);
    rmSync(dir, { recursive: true });
  });

  it('keeps the settings read at the start with S6_KEEP_ENV, which writes no container environment', () => {
    assert.equal(liveSettings(initial, env, null, () => undefined)(), initial);
  });
});
