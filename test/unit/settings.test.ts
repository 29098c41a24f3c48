import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { readSettings, type Settings } from '../../src/config/settings.js';

describe('readSettings', () => {
  it('uses the s6-overlay defaults for an empty environment, without diagnostics', () => {
    const { settings, diagnostics } = readSettings({});
    const expected: Settings = {
      verbosity: 2,
      behaviourIfStage2Fails: 0,
      cmdWaitForServices: false,
      cmdWaitForServicesMaxTimeMs: 0,
      killFinishMaxTimeMs: 5000,
      servicesGraceTimeMs: 3000,
      killGraceTimeMs: 3000,
      keepEnv: false,
      cmdArg0: [],
      fixAttrsHidden: false,
      runtimeProfile: null,
      restartThrottleMs: 1000,
      etcDir: '/etc',
      imageEtcDir: '/etc',
      runDir: '/run',
      logging: 0,
      catchallUser: null,
      cmdUseTerminal: false,
      cmdReceiveSignals: false,
      readOnlyRoot: false,
      syncDisks: false,
      s6Supervise: { mode: 'auto', version: null },
      oomScoreAdj: { mode: 'auto' },
    };
    assert.deepEqual(settings, expected);
    assert.deepEqual(diagnostics, []);
  });

  const numbers: [string, keyof Settings, string, number | boolean][] = [
    ['S6_VERBOSITY', 'verbosity', '4', 4],
    ['S6_BEHAVIOUR_IF_STAGE2_FAILS', 'behaviourIfStage2Fails', '2', 2],
    ['S6_CMD_WAIT_FOR_SERVICES', 'cmdWaitForServices', '1', true],
    ['S6_CMD_WAIT_FOR_SERVICES_MAXTIME', 'cmdWaitForServicesMaxTimeMs', '7000', 7000],
    ['S6_KILL_FINISH_MAXTIME', 'killFinishMaxTimeMs', '12000', 12000],
    ['S6_SERVICES_GRACETIME', 'servicesGraceTimeMs', '4500', 4500],
    ['S6_KILL_GRACETIME', 'killGraceTimeMs', '100', 100],
    ['S6_KEEP_ENV', 'keepEnv', '1', true],
    ['S6_FIX_ATTRS_HIDDEN', 'fixAttrsHidden', '1', true],
    ['STEWARD_RESTART_THROTTLE', 'restartThrottleMs', '0', 0],
  ];
  for (const [name, key, raw, value] of numbers) {
    it(`reads ${name}=${raw} into ${key}`, () => {
      const { settings, diagnostics } = readSettings({ [name]: raw });
      assert.equal(settings[key], value);
      assert.deepEqual(diagnostics, []);
    });
  }

  it('reads STEWARD_S6_SUPERVISE as auto, on, off or the version of the image\'s s6', () => {
    const cases: [string, Settings['s6Supervise']][] = [
      ['auto', { mode: 'auto', version: null }],
      ['ON', { mode: 'on', version: null }],
      ['1', { mode: 'on', version: null }],
      ['off', { mode: 'off', version: null }],
      ['0', { mode: 'off', version: null }],
      ['2.11.3.2', { mode: 'on', version: [2, 11, 3, 2] }],
    ];
    for (const [raw, expected] of cases) {
      const { settings, diagnostics } = readSettings({ STEWARD_S6_SUPERVISE: raw });
      assert.deepEqual(settings.s6Supervise, expected, raw);
      assert.deepEqual(diagnostics, []);
    }
    const { settings, diagnostics } = readSettings({ STEWARD_S6_SUPERVISE: 'sometimes' });
    assert.deepEqual(settings.s6Supervise, { mode: 'auto', version: null });
    assert.match(diagnostics[0]?.error.message ?? '', /STEWARD_S6_SUPERVISE="sometimes" is not auto, on, off or an s6 version/);
  });

  it('reads STEWARD_OOM_SCORE_ADJ as auto, off or a value from -1000 to 1000', () => {
    const cases: [string, Settings['oomScoreAdj']][] = [
      ['auto', { mode: 'auto' }],
      ['OFF', { mode: 'off' }],
      ['500', { mode: 'value', value: 500 }],
      ['-1000', { mode: 'value', value: -1000 }],
    ];
    for (const [raw, expected] of cases) {
      const { settings, diagnostics } = readSettings({ STEWARD_OOM_SCORE_ADJ: raw });
      assert.deepEqual(settings.oomScoreAdj, expected, raw);
      assert.deepEqual(diagnostics, []);
    }
    for (const raw of ['1001', 'high', '1.5']) {
      const { settings, diagnostics } = readSettings({ STEWARD_OOM_SCORE_ADJ: raw });
      assert.deepEqual(settings.oomScoreAdj, { mode: 'auto' }, raw);
      assert.match(diagnostics[0]?.error.message ?? '', /STEWARD_OOM_SCORE_ADJ=".*" is not auto, off or a number from -1000 to 1000/);
    }
  });

  it('treats a flag set to 0 as off', () => {
    const { settings } = readSettings({ S6_KEEP_ENV: '0', S6_CMD_WAIT_FOR_SERVICES: '0', S6_FIX_ATTRS_HIDDEN: '0' });
    assert.equal(settings.keepEnv, false);
    assert.equal(settings.cmdWaitForServices, false);
    assert.equal(settings.fixAttrsHidden, false);
  });

  it('ignores white space around a number, and treats an empty value as unset', () => {
    const { settings, diagnostics } = readSettings({ S6_SERVICES_GRACETIME: ' 250\n', S6_KILL_GRACETIME: '  ' });
    assert.equal(settings.servicesGraceTimeMs, 250);
    assert.equal(settings.killGraceTimeMs, 3000);
    assert.deepEqual(diagnostics, []);
  });

  it('reports a non-numeric value as an error naming the variable and the default, and uses the default', () => {
    const { settings, diagnostics } = readSettings({ S6_KILL_GRACETIME: 'abc' });
    assert.equal(settings.killGraceTimeMs, 3000);
    assert.equal(diagnostics.length, 1);
    const [diagnostic] = diagnostics;
    assert.equal(diagnostic?.severity, 'error');
    assert.equal(diagnostic?.error.code, 'ERR_SETTING');
    assert.match(diagnostic?.error.message ?? '', /S6_KILL_GRACETIME="abc"/);
    assert.match(diagnostic?.error.message ?? '', /default 3000/);
    assert.match(diagnostic?.error.hint ?? '', /S6_KILL_GRACETIME=3000/);
  });

  for (const raw of ['-1', '1.5', '3s', '0x10', '1e3']) {
    it(`rejects ${JSON.stringify(raw)} as a number of milliseconds`, () => {
      const { settings, diagnostics } = readSettings({ S6_SERVICES_GRACETIME: raw });
      assert.equal(settings.servicesGraceTimeMs, 3000);
      assert.equal(diagnostics.length, 1);
      assert.equal(diagnostics[0]?.severity, 'error');
      assert.match(diagnostics[0]?.error.message ?? '', /^S6_SERVICES_GRACETIME=/);
    });
  }

  it('reports every bad variable, not only the first', () => {
    const { diagnostics } = readSettings({ S6_VERBOSITY: 'loud', S6_KEEP_ENV: 'yes', S6_KILL_FINISH_MAXTIME: 'never' });
    assert.deepEqual(
      diagnostics.map((diagnostic) => [diagnostic.severity, diagnostic.error.message.split('=')[0]]),
      [
        ['error', 'S6_VERBOSITY'],
        ['error', 'S6_KILL_FINISH_MAXTIME'],
        ['error', 'S6_KEEP_ENV'],
      ],
    );
  });

  it('caps S6_KILL_GRACETIME at 300000 with a warning', () => {
    const { settings, diagnostics } = readSettings({ S6_KILL_GRACETIME: '900000' });
    assert.equal(settings.killGraceTimeMs, 300_000);
    assert.equal(diagnostics.length, 1);
    assert.equal(diagnostics[0]?.severity, 'warning');
    assert.match(diagnostics[0]?.error.message ?? '', /300000/);
  });

  it('reads S6_KILL_GRACETIME=0 as the default 3000, as s6-overlay v3 does', () => {
    const { settings, diagnostics } = readSettings({ S6_KILL_GRACETIME: '0' });
    assert.equal(settings.killGraceTimeMs, 3000);
    assert.deepEqual(diagnostics, []);
  });

  it('leaves everything on the container output for an S6_LOGGING other than 1 or 2, with a warning', () => {
    for (const [raw, expected] of [['1', 1], ['2', 2], ['0', 0]] as const) assert.equal(readSettings({ S6_LOGGING: raw }).settings.logging, expected);
    const { settings, diagnostics } = readSettings({ S6_LOGGING: '3' });
    assert.equal(settings.logging, 0);
    assert.equal(diagnostics.length, 1);
    assert.equal(diagnostics[0]?.severity, 'warning');
    assert.match(diagnostics[0]?.error.message ?? '', /^S6_LOGGING=3 is not 0, 1 or 2; using 0/);
  });

  it('accepts S6_KILL_GRACETIME at exactly the maximum', () => {
    const { settings, diagnostics } = readSettings({ S6_KILL_GRACETIME: '300000' });
    assert.equal(settings.killGraceTimeMs, 300_000);
    assert.deepEqual(diagnostics, []);
  });

  it('splits S6_CMD_ARG0 into words on spaces, tabs and newlines', () => {
    const { settings } = readSettings({ S6_CMD_ARG0: '  /usr/bin/with-contenv\tsh  -c\n' });
    assert.deepEqual(settings.cmdArg0, ['/usr/bin/with-contenv', 'sh', '-c']);
  });

  it('gives no words for a blank S6_CMD_ARG0', () => {
    assert.deepEqual(readSettings({ S6_CMD_ARG0: ' \t ' }).settings.cmdArg0, []);
  });

  it('reads the tree from the runtime profile directory when S6_RUNTIME_PROFILE is set', () => {
    const { settings } = readSettings({ S6_RUNTIME_PROFILE: ' dev ' });
    assert.equal(settings.runtimeProfile, 'dev');
    assert.equal(settings.etcDir, '/etc/cont-profile.d/dev');
  });

  it('warns when the runtime profile names no directory, and not when it does', () => {
    const etc = mkdtempSync(join(tmpdir(), 'steward-profile-'));
    try {
      const missing = readSettings({ STEWARD_ETC: etc, S6_RUNTIME_PROFILE: 'nope' }).diagnostics;
      assert.equal(missing.length, 1);
      assert.equal(missing[0]?.severity, 'warning');
      assert.match(missing[0]?.error.message ?? '', /S6_RUNTIME_PROFILE=nope: there is no \S+\/cont-profile.d\/nope, so no service/);
      mkdirSync(join(etc, 'cont-profile.d', 'dev'), { recursive: true });
      assert.deepEqual(readSettings({ STEWARD_ETC: etc, S6_RUNTIME_PROFILE: 'dev' }).diagnostics, []);
    } finally {
      rmSync(etc, { recursive: true, force: true });
    }
  });

  it('ignores a blank S6_RUNTIME_PROFILE', () => {
    const { settings } = readSettings({ S6_RUNTIME_PROFILE: '  ' });
    assert.equal(settings.runtimeProfile, null);
    assert.equal(settings.etcDir, '/etc');
  });

  it('takes the etc and run directories from STEWARD_ETC and STEWARD_RUN', () => {
    const { settings } = readSettings({ STEWARD_ETC: '/srv/etc', STEWARD_RUN: '/tmp/run' });
    assert.equal(settings.etcDir, '/srv/etc');
    assert.equal(settings.runDir, '/tmp/run');
  });

  it('puts the runtime profile under STEWARD_ETC', () => {
    const { settings } = readSettings({ STEWARD_ETC: '/srv/etc', S6_RUNTIME_PROFILE: 'prod' });
    assert.equal(settings.etcDir, '/srv/etc/cont-profile.d/prod');
  });
});
