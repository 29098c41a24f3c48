import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import type { Diagnostic } from '../../src/diagnostic.js';
import { hasErrors } from '../../src/diagnostic.js';
import { eachLegacyService, inspectScript, legacyPaths, readLegacyTree, type LegacyTree } from '../../src/config/legacy.js';
import { listEntries } from '../../src/config/scan.js';
import { readSettings } from '../../src/config/settings.js';
import { repoRoot } from '../helpers/pid1.js';
import { script, treesRemovedAfter, type TreeEntry } from '../helpers/tree.js';

const RUN_DIR = '/run-test';
const LIVE = `${RUN_DIR}/s6/legacy-services`;

const tree = treesRemovedAfter(after);

function read(root: string): LegacyTree {
  return readLegacyTree(readSettings({ STEWARD_ETC: root, STEWARD_RUN: RUN_DIR }).settings);
}

function readFiles(files: Record<string, TreeEntry>): { root: string; result: LegacyTree } {
  const root = tree(files);
  return { root, result: read(root) };
}

function errorsAbout(result: LegacyTree, path: string): Diagnostic[] {
  return result.diagnostics.filter((diagnostic) => diagnostic.severity === 'error' && diagnostic.error.path === path);
}

function service(result: LegacyTree, name: string) {
  const found = result.services.find((candidate) => candidate.name === name);
  assert.ok(found, `service ${name} should be read; got ${result.services.map((candidate) => candidate.name).join(', ')}`);
  return found;
}

describe('readLegacyTree: layout', () => {
  it('finds nothing, and reports nothing, in an empty directory', () => {
    const { result } = readFiles({});
    assert.deepEqual(result, { fixAttrsFiles: [], contInit: [], services: [], contFinish: [], diagnostics: [] });
  });

  it('lists cont-init.d scripts in byte order, skipping dot-files', () => {
    const { root, result } = readFiles({
      'cont-init.d/10-second': script(),
      'cont-init.d/02-first': script(),
      'cont-init.d/B-upper': script(),
      'cont-init.d/a-lower': script(),
      'cont-init.d/.hidden': script(),
      'cont-init.d/.DS_Store': 'junk',
    });
    const dir = join(root, 'cont-init.d');
    assert.deepEqual(
      result.contInit.map((entry) => entry.path),
      ['02-first', '10-second', 'B-upper', 'a-lower'].map((name) => join(dir, name)),
    );
    assert.deepEqual(result.contInit.flatMap(inspectScript), []);
    assert.deepEqual(result.diagnostics, []);
  });

  it('lists cont-finish.d scripts and fix-attrs.d files in order', () => {
    const { root, result } = readFiles({
      'cont-finish.d/20-b': script(),
      'cont-finish.d/10-a': script(),
      'fix-attrs.d/02-data': '/data true root 0644 0755\n',
      'fix-attrs.d/01-logs': '/logs true root 0644 0755\n',
      'fix-attrs.d/.ignored': 'whatever',
    });
    assert.deepEqual(
      result.contFinish.map((entry) => entry.path),
      [join(root, 'cont-finish.d/10-a'), join(root, 'cont-finish.d/20-b')],
    );
    assert.deepEqual(result.fixAttrsFiles, [join(root, 'fix-attrs.d/01-logs'), join(root, 'fix-attrs.d/02-data')]);
  });

  it('finds a cont-init script that cannot be executed, with an error', () => {
    const { root, result } = readFiles({
      'cont-init.d/01-ok': script(),
      'cont-init.d/02-broken': { content: '#!/bin/sh\necho hi\n', mode: 0o644 },
    });
    const broken = join(root, 'cont-init.d/02-broken');
    assert.deepEqual(
      result.contInit.map((entry) => [entry.path, inspectScript(entry).some((problem) => problem.severity === 'error')]),
      [
        [join(root, 'cont-init.d/01-ok'), false],
        [broken, true],
      ],
    );
    assert.equal(errorsAbout(result, broken).length, 1);
  });

  it('reads services from services.d sub-directories only', () => {
    const { root, result } = readFiles({
      'services.d/web/run': script(),
      'services.d/db/run': script(),
      'services.d/README': 'not a service',
      'services.d/.hidden/run': script(),
    });
    assert.deepEqual(
      result.services.map((entry) => entry.name),
      ['db', 'web'],
    );
    assert.deepEqual(result.diagnostics, []);
    const web = service(result, 'web');
    assert.equal(web.kind, 'longrun');
    assert.equal(web.sourceDir, join(root, 'services.d/web'));
    assert.equal(web.liveDir, `${LIVE}/web`);
    assert.equal(web.runPath, `${LIVE}/web/run`);
    assert.equal(legacyPaths(readSettings({ STEWARD_ETC: root, STEWARD_RUN: RUN_DIR }).settings).liveServices, LIVE);
  });

  it('gives a service the defaults when it has only a run script', () => {
    const { result } = readFiles({ 'services.d/web/run': script() });
    const { kind, name, finishPath, notificationFd, timeoutKillMs, timeoutFinishMs, maxDeathTally, downSignal, startsDown, minRestartIntervalMs, loggerName, producers } =
      service(result, 'web');
    assert.deepEqual(
      { kind, name, finishPath, notificationFd, timeoutKillMs, timeoutFinishMs, maxDeathTally, downSignal, startsDown, minRestartIntervalMs, loggerName, producers },
      {
        kind: 'longrun',
        name: 'web',
        finishPath: null,
        notificationFd: null,
        timeoutKillMs: 0,
        timeoutFinishMs: 5000,
        maxDeathTally: 100,
        downSignal: 'SIGTERM',
        startsDown: false,
        minRestartIntervalMs: 1000,
        loggerName: null,
        producers: [],
      },
    );
  });

  it('reads max-death-tally, at most 4096 as s6-supervise', () => {
    const { result } = readFiles({
      'services.d/web/run': script(),
      'services.d/web/max-death-tally': '3\n',
      'services.d/db/run': script(),
      'services.d/db/max-death-tally': '100000\n',
    });
    assert.equal(service(result, 'web').maxDeathTally, 3);
    assert.equal(service(result, 'db').maxDeathTally, 4096);
  });

  it('takes the restart interval from STEWARD_RESTART_THROTTLE', () => {
    const root = tree({ 'services.d/web/run': script() });
    const result = readLegacyTree(readSettings({ STEWARD_ETC: root, STEWARD_RUN: RUN_DIR, STEWARD_RESTART_THROTTLE: '250' }).settings);
    assert.equal(service(result, 'web').minRestartIntervalMs, 250);
  });

  it('marks a service with a down file as starting down', () => {
    const { result } = readFiles({ 'services.d/web/run': script(), 'services.d/web/down': '' });
    assert.equal(service(result, 'web').startsDown, true);
  });

  it('reads a log/ sub-directory as a logger named NAME/log, linked both ways', () => {
    const { root, result } = readFiles({ 'services.d/web/run': script(), 'services.d/web/log/run': script() });
    assert.deepEqual(
      result.services.map((entry) => entry.name),
      ['web', 'web/log'],
    );
    const main = service(result, 'web');
    const logger = service(result, 'web/log');
    assert.equal(main.loggerName, 'web/log');
    assert.deepEqual(main.producers, []);
    assert.deepEqual(logger.producers, ['web']);
    assert.equal(logger.loggerName, null);
    assert.equal(logger.sourceDir, join(root, 'services.d/web/log'));
    assert.equal(logger.liveDir, `${LIVE}/web/log`);
    assert.equal(logger.runPath, `${LIVE}/web/log/run`);
  });

  it('keeps the service without a logger when the logger run script is broken', () => {
    const { root, result } = readFiles({ 'services.d/web/run': script(), 'services.d/web/log/run': { content: '#!/bin/sh\n', mode: 0o644 } });
    assert.deepEqual(
      result.services.map((entry) => entry.name),
      ['web'],
    );
    assert.equal(service(result, 'web').loggerName, null);
    assert.equal(errorsAbout(result, join(root, 'services.d/web/log/run')).length, 1);
  });
});

describe('readLegacyTree: run and finish scripts that are relative links', () => {
  it('warns of one that leads elsewhere from the copy in /run, and names where; not of one that leads within services.d', () => {
    const root = tree({ 'scripts/web-run': script(), 'services.d/web/finish': script(), 'services.d/db/run': script() });
    const services = join(root, 'services.d');
    symlinkSync('../../scripts/web-run', join(services, 'web/run'));
    // Within services.d: the copy of db is beside the copy of api, as in the image.
    mkdirSync(join(services, 'api'));
    symlinkSync('../db/run', join(services, 'api/run'));
    const result = read(root);
    const warnings = result.diagnostics.filter((diagnostic) => diagnostic.severity === 'warning').map((diagnostic) => diagnostic.error);
    assert.equal(warnings.length, 1, warnings.map((warning) => warning.message).join('\n'));
    assert.equal(warnings[0]?.path, join(services, 'web/run'));
    assert.equal(
      warnings[0]?.message,
      `the run script of service web is a relative link to ../../scripts/web-run: the service runs from its copy in ${LIVE}/web, where the link leads to ${RUN_DIR}/s6/scripts/web-run, not ${join(root, 'scripts/web-run')}`,
    );
    assert.equal(warnings[0]?.hint, `Make the link absolute: ln -sf ${join(root, 'scripts/web-run')} ${join(services, 'web/run')}`);
  });
});

describe('readLegacyTree: run and finish scripts', () => {
  const broken: [string, TreeEntry | undefined, RegExp, number | undefined][] = [
    ['is missing', undefined, /service web has no run script/, undefined],
    ['is not executable', { content: '#!/bin/sh\nexec true\n', mode: 0o644 }, /is not executable/, undefined],
    ['has a CRLF shebang line', { content: '#!/bin/sh\r\nexec true\r\n', mode: 0o755 }, /Windows \(CRLF\) line endings/, 1],
    ['has no shebang', { content: 'exec true\n', mode: 0o755 }, /has no shebang line/, 1],
    ['is empty', { content: '', mode: 0o755 }, /is empty/, undefined],
    ['is a directory', { dir: true }, /is not a regular file/, undefined],
  ];
  for (const [problem, run, message, line] of broken) {
    it(`reports a run script that ${problem} at its path${run === undefined ? ', and leaves the service out' : ': only that service fails, when it starts'}`, () => {
      const files: Record<string, TreeEntry> = { 'services.d/web/finish': script(), 'services.d/db/run': script() };
      if (run !== undefined) files['services.d/web/run'] = run;
      const { root, result } = readFiles(files);
      const runPath = join(root, 'services.d/web/run');
      const errors = errorsAbout(result, runPath);
      assert.equal(errors.length, 1, `diagnostics: ${result.diagnostics.map((diagnostic) => diagnostic.error.describe()).join('; ')}`);
      assert.match(errors[0]?.error.message ?? '', message);
      assert.equal(errors[0]?.error.line, line);
      assert.ok((errors[0]?.error.hint ?? '') !== '', 'the error says what to do');
      // Without a run file there is no service; a script that cannot be executed is supervised
      // all the same (it fails at each start, as under s6-supervise), and stops nothing else.
      assert.deepEqual(
        result.services.map((entry) => entry.name).sort(),
        run === undefined ? ['db'] : ['db', 'web'],
      );
      assert.equal(errors[0]?.scope, run === undefined ? undefined : 'service');
    });
  }

  it('leaves the look at a run script for later when asked (the boot starts every service first), and finds the same then', () => {
    const root = tree({ 'services.d/web/run': { content: '#!/bin/sh\r\nexec true\r\n', mode: 0o755 }, 'services.d/web/log/run': { content: '#!/bin/sh\n', mode: 0o644 } });
    const settings = readSettings({ STEWARD_ETC: root, STEWARD_RUN: RUN_DIR }).settings;
    const [entry] = [...eachLegacyService(settings, { runScripts: 'later' })];
    const runPath = join(root, 'services.d/web/run');
    assert.ok(entry);
    assert.deepEqual(
      entry.diagnostics.filter((diagnostic) => diagnostic.error.path === runPath),
      [],
      'nothing about the run script yet',
    );
    // A logger's run script is still looked at at once: a broken one is left out.
    assert.equal(entry.diagnostics.filter((diagnostic) => diagnostic.error.path === join(root, 'services.d/web/log/run')).length, 1);
    assert.deepEqual(
      entry.definitions.map((definition) => definition.name),
      ['web'],
    );
    const later = entry.runScriptProblems();
    assert.equal(later.length, 1);
    assert.match(later[0]?.error.message ?? '', /Windows \(CRLF\) line endings/);
    assert.equal(later[0]?.error.path, runPath);
    assert.equal(later[0]?.scope, 'service');
    const [now] = [...eachLegacyService(settings)];
    assert.deepEqual(
      now?.diagnostics.filter((diagnostic) => diagnostic.error.path === runPath).map((diagnostic) => diagnostic.error.message),
      later.map((diagnostic) => diagnostic.error.message),
      'the same as a look made at once',
    );
    assert.deepEqual(now?.runScriptProblems(), []);
  });

  it('a look left for later says nothing of a run script removed since (a run-once service removing its own directory)', () => {
    const root = tree({ 'services.d/once/run': { content: '#!/bin/sh\r\nexec true\r\n', mode: 0o755 } });
    const settings = readSettings({ STEWARD_ETC: root, STEWARD_RUN: RUN_DIR }).settings;
    const [entry] = [...eachLegacyService(settings, { runScripts: 'later' })];
    const [kept] = [...eachLegacyService(settings, { runScripts: 'later' })];
    assert.equal(kept?.runScriptProblems().length, 1, 'still there: its problem is said');
    rmSync(join(root, 'services.d/once'), { recursive: true });
    assert.deepEqual(entry?.runScriptProblems(), []);
  });

  it('names the exact chmod command in the hint for a run script that is not executable', () => {
    const { root, result } = readFiles({ 'services.d/web/run': { content: '#!/bin/sh\n', mode: 0o600 } });
    const runPath = join(root, 'services.d/web/run');
    assert.match(errorsAbout(result, runPath)[0]?.error.hint ?? '', new RegExp(`chmod \\+x ${runPath}`));
  });

  it('accepts a run script whose first bytes are an ELF header', () => {
    const { result } = readFiles({ 'services.d/web/run': { content: '\x7fELF\x02\x01\x01', mode: 0o755 } });
    assert.deepEqual(result.diagnostics, []);
    service(result, 'web');
  });

  it('only warns when the shebang names an interpreter that is not installed, and keeps the service', () => {
    const { root, result } = readFiles({ 'services.d/web/run': script('exec true\n', '#!/no/such/interpreter -e') });
    assert.equal(hasErrors(result.diagnostics), false);
    assert.equal(result.diagnostics.length, 1);
    assert.equal(result.diagnostics[0]?.severity, 'warning');
    assert.equal(result.diagnostics[0]?.error.path, join(root, 'services.d/web/run'));
    assert.match(result.diagnostics[0]?.error.message ?? '', /\/no\/such\/interpreter/);
    service(result, 'web');
  });

  it('warns when a shebang runs, through env, a program that is not in PATH; not when it is', () => {
    const missing = readFiles({ 'services.d/web/run': script('exec true\n', '#!/usr/bin/env no-such-shell-here') });
    assert.equal(hasErrors(missing.result.diagnostics), false);
    assert.equal(missing.result.diagnostics.length, 1);
    assert.match(missing.result.diagnostics[0]?.error.message ?? '', /runs no-such-shell-here through \/usr\/bin\/env, and no no-such-shell-here is in PATH/);
    service(missing.result, 'web');
    const found = readFiles({ 'services.d/web/run': script('exec true\n', '#!/usr/bin/env sh') });
    assert.deepEqual(found.result.diagnostics, []);
  });

  it('warns about #!/usr/bin/env bash -e, which env gets as one word, and reads env options that take a value', () => {
    const joined = readFiles({ 'services.d/web/run': script('exec true\n', '#!/usr/bin/env sh -e') });
    assert.equal(joined.result.diagnostics.length, 1, JSON.stringify(joined.result.diagnostics));
    assert.match(joined.result.diagnostics[0]?.error.message ?? '', /runs "sh -e" through \/usr\/bin\/env, which gets it as one word/);
    assert.match(joined.result.diagnostics[0]?.error.hint ?? '', /#!\/usr\/bin\/env -S sh -e/);
    for (const shebang of ['#!/usr/bin/env -S sh -e', '#!/usr/bin/env -Ssh', '#!/usr/bin/env -S -u HOME sh']) {
      assert.deepEqual(readFiles({ 'services.d/web/run': script('exec true\n', shebang) }).result.diagnostics, [], shebang);
    }
  });

  const busybox = ['/usr/bin/busybox', '/bin/busybox'].find((path) => existsSync(path));
  it("warns about #!/usr/bin/env -S when that env is BusyBox's, as in Alpine images, which has no -S", { skip: busybox === undefined && 'needs busybox' }, () => {
    const dir = tree({});
    const env = join(dir, 'env');
    symlinkSync(busybox ?? '', env);
    const found = readFiles({ 'services.d/web/run': script('exec true\n', `#!${env} -S sh -e`) }).result.diagnostics;
    assert.equal(hasErrors(found), false);
    assert.equal(found.length, 1, JSON.stringify(found));
    assert.match(found[0]?.error.message ?? '', /runs through .*\/env -S, and .*\/env is BusyBox's .* whose env has no -S/);
    assert.match(found[0]?.error.hint ?? '', /#!\/bin\/sh -e/);
  });

  it('warns when a with-contenv shebang names a shell that is not installed (#!/usr/bin/with-contenv bash without bash)', () => {
    const withContenv = join(repoRoot, 'shims', 'with-contenv');
    const missing = readFiles({ 'services.d/web/run': script('exec true\n', `#!${withContenv} no-such-shell-here`) });
    assert.equal(hasErrors(missing.result.diagnostics), false);
    assert.equal(missing.result.diagnostics.length, 1, JSON.stringify(missing.result.diagnostics));
    assert.match(missing.result.diagnostics[0]?.error.message ?? '', /runs no-such-shell-here through .*with-contenv, and no no-such-shell-here is in PATH/);
    const absent = readFiles({ 'services.d/web/run': script('exec true\n', `#!${withContenv} /no/such/bash`) });
    assert.match(absent.result.diagnostics[0]?.error.message ?? '', /runs \/no\/such\/bash through .*with-contenv, and \/no\/such\/bash is not installed here/);
    const found = readFiles({ 'services.d/web/run': script('exec true\n', `#!${withContenv} sh`) });
    assert.deepEqual(found.result.diagnostics, []);
  });

  it("names where to get a launched program that no distribution packages (bashio) or that is skarnet's, not bash", () => {
    const withContenv = join(repoRoot, 'shims', 'with-contenv');
    const hintFor = (program: string): string => readFiles({ 'services.d/web/run': script('exec true\n', `#!${withContenv} ${program}`) }).result.diagnostics[0]?.error.hint ?? '';
    // Every Home Assistant community add-on: #!/command/with-contenv bashio.
    assert.match(hintFor('bashio'), /no distribution package: the Home Assistant add-on base images .* \/usr\/lib\/bashio/);
    assert.doesNotMatch(hintFor('bashio'), /apk add bash/);
    // s6-portable-utils, which Debian does not package.
    assert.match(hintFor('s6-hiercopy'), /Install s6-portable-utils/);
  });

  it('checks the syntax of an execline run script, naming the line of an unclosed block', () => {
    const { root, result } = readFiles({ 'services.d/web/run': script('foreground {\n  echo starting\nnginx -g "daemon off;"\n', '#!/bin/execlineb -P') });
    const errors = result.diagnostics.filter((diagnostic) => diagnostic.severity === 'error');
    assert.equal(errors.length, 1, JSON.stringify(result.diagnostics));
    assert.equal(errors[0]?.error.path, join(root, 'services.d/web/run'));
    assert.equal(errors[0]?.error.line, 2);
    assert.match(errors[0]?.error.message ?? '', /block \} is not closed/);
  });

  it("a missing execlineb is a warning whose hint says how Steward's gets there", () => {
    const { result } = readFiles({ 'services.d/web/run': script('nginx -g "daemon off;"\n', '#!/nonexistent-dir/execlineb -P') });
    assert.equal(hasErrors(result.diagnostics), false);
    assert.match(result.diagnostics[0]?.error.hint ?? '', /ln -s \/command\/execlineb \/nonexistent-dir\/execlineb\), or use \/command\/execlineb instead/);
    service(result, 'web');
  });

  it('uses a valid finish script from the live directory', () => {
    const { result } = readFiles({ 'services.d/web/run': script(), 'services.d/web/finish': script() });
    assert.equal(service(result, 'web').finishPath, `${LIVE}/web/finish`);
  });

  it('reports a finish script that cannot be executed, and keeps the service without it', () => {
    const { root, result } = readFiles({ 'services.d/web/run': script(), 'services.d/web/finish': { content: 'exit 0\n', mode: 0o755 } });
    const finishPath = join(root, 'services.d/web/finish');
    const errors = errorsAbout(result, finishPath);
    assert.equal(errors.length, 1);
    assert.match(errors[0]?.error.message ?? '', /finish script of service web has no shebang/);
    assert.equal(service(result, 'web').finishPath, null);
  });

  it('reports a finish script that is not executable', () => {
    const { root, result } = readFiles({ 'services.d/web/run': script(), 'services.d/web/finish': { content: '#!/bin/sh\n', mode: 0o644 } });
    assert.match(errorsAbout(result, join(root, 'services.d/web/finish'))[0]?.error.message ?? '', /not executable/);
  });
});

describe('readLegacyTree: control files', () => {
  function withFile(name: string, content: string): { path: string; result: LegacyTree } {
    const { root, result } = readFiles({ 'services.d/web/run': script(), [`services.d/web/${name}`]: content });
    return { path: join(root, 'services.d/web', name), result };
  }

  it('reads notification-fd', () => {
    const { result } = withFile('notification-fd', '3\n');
    assert.equal(service(result, 'web').notificationFd, 3);
    assert.deepEqual(result.diagnostics, []);
  });

  it('takes a notification-fd of 1, as s6-supervise does: the readiness pipe is then stdout (s6-fdholder-daemon -1)', () => {
    const { result } = withFile('notification-fd', '1\n');
    assert.equal(service(result, 'web').notificationFd, 1);
    assert.deepEqual(result.diagnostics, []);
  });

  it('refuses a notification-fd of 0, which would make stdin the readiness pipe', () => {
    const { path, result } = withFile('notification-fd', '0\n');
    const errors = errorsAbout(result, path);
    assert.equal(errors.length, 1);
    assert.match(errors[0]?.error.message ?? '', /notification-fd 0 would make stdin the readiness pipe/);
    assert.equal(service(result, 'web').notificationFd, null);
  });

  it('reads timeout-kill and timeout-finish in milliseconds', () => {
    const { result } = readFiles({
      'services.d/web/run': script(),
      'services.d/web/timeout-kill': '2500\n',
      'services.d/web/timeout-finish': '0\n',
    });
    const web = service(result, 'web');
    assert.equal(web.timeoutKillMs, 2500);
    assert.equal(web.timeoutFinishMs, 0);
    assert.deepEqual(result.diagnostics, []);
  });

  const signals: [string, NodeJS.Signals][] = [
    ['SIGHUP', 'SIGHUP'],
    ['QUIT', 'SIGQUIT'],
    ['sigint', 'SIGINT'],
    ['10', 'SIGUSR1'],
  ];
  for (const [text, signal] of signals) {
    it(`reads down-signal ${text} as ${signal}`, () => {
      const { result } = withFile('down-signal', `${text}\n`);
      assert.equal(service(result, 'web').downSignal, signal);
      assert.deepEqual(result.diagnostics, []);
    });
  }

  it('keeps SIGTERM for an empty down-signal file', () => {
    const { result } = withFile('down-signal', '\n');
    assert.equal(service(result, 'web').downSignal, 'SIGTERM');
    assert.deepEqual(result.diagnostics, []);
  });

  const badValues: [string, string, RegExp, keyof ReturnType<typeof service>, unknown][] = [
    ['notification-fd', 'three', /"three" is not a file descriptor number/, 'notificationFd', null],
    ['timeout-kill', '5s', /"5s" is not a number of milliseconds/, 'timeoutKillMs', 0],
    ['timeout-finish', '-1', /"-1" is not a number of milliseconds/, 'timeoutFinishMs', 5000],
  ];
  for (const value of ['SIGNOPE', '999']) {
    it(`warns of down-signal ${JSON.stringify(value)}, naming the file, and uses SIGTERM, as s6-supervise does`, () => {
      const { path, result } = withFile('down-signal', `${value}\n`);
      assert.equal(hasErrors(result.diagnostics), false);
      const about = result.diagnostics.filter((diagnostic) => diagnostic.error.path === path);
      assert.deepEqual(
        about.map((diagnostic) => diagnostic.severity),
        ['warning'],
      );
      assert.match(about[0]?.error.message ?? '', new RegExp(`"${value}" is not a signal`));
      assert.equal(about[0]?.error.line, 1);
      assert.equal(service(result, 'web').downSignal, 'SIGTERM');
    });
  }
  for (const [file, value, message, key, fallback] of badValues) {
    it(`reports ${file} ${JSON.stringify(value)} as an error naming the file, and uses the default`, () => {
      const { path, result } = withFile(file, `${value}\n`);
      const errors = errorsAbout(result, path);
      assert.equal(errors.length, 1);
      assert.match(errors[0]?.error.message ?? '', message);
      assert.equal(errors[0]?.error.line, 1);
      assert.ok(errors[0]?.error.describe().startsWith(`${path}:1: `));
      assert.equal(service(result, 'web')[key], fallback);
    });
  }

  it('only warns about CRLF line endings in a value file, and uses the value', () => {
    const { path, result } = withFile('timeout-kill', '1200\r\n');
    assert.equal(hasErrors(result.diagnostics), false);
    assert.equal(result.diagnostics.length, 1);
    assert.equal(result.diagnostics[0]?.severity, 'warning');
    assert.equal(result.diagnostics[0]?.error.path, path);
    assert.match(result.diagnostics[0]?.error.message ?? '', /CRLF/);
    assert.equal(service(result, 'web').timeoutKillMs, 1200);
  });

  it('uses a CRLF down-signal with a warning', () => {
    const { result } = withFile('down-signal', 'SIGQUIT\r\n');
    assert.equal(service(result, 'web').downSignal, 'SIGQUIT');
    assert.deepEqual(
      result.diagnostics.map((diagnostic) => diagnostic.severity),
      ['warning'],
    );
  });
});

describe('readLegacyTree: unreadable directories', () => {
  it('reports a services.d that is not a directory, naming it', () => {
    const { root, result } = readFiles({ 'services.d': 'oops, a file' });
    const path = join(root, 'services.d');
    const errors = errorsAbout(result, path);
    assert.equal(errors.length, 1);
    assert.match(errors[0]?.error.message ?? '', /cannot read the directory: ENOTDIR/);
    assert.deepEqual(result.services, []);
  });

  it('listEntries reports an unreadable directory, with a hint naming the uid', { skip: process.getuid?.() === 0 ? 'root can read a mode 000 directory (covered by check-cli.test as nobody)' : false }, () => {
    const root = tree({ 'services.d/web/run': script() });
    const dir = join(root, 'services.d');
    chmodSync(dir, 0o000);
    const diagnostics: Diagnostic[] = [];
    assert.deepEqual(listEntries(dir, diagnostics), []);
    assert.equal(diagnostics.length, 1);
    assert.equal(diagnostics[0]?.error.path, dir);
    assert.match(diagnostics[0]?.error.message ?? '', /EACCES/);
    assert.match(diagnostics[0]?.error.hint ?? '', /readable by the user/);
  });

  it('listEntries returns nothing and reports nothing for a missing directory', () => {
    const diagnostics: Diagnostic[] = [];
    assert.deepEqual(listEntries('/no/such/directory/here', diagnostics), []);
    assert.deepEqual(diagnostics, []);
  });

  it('listEntries includes dot-files when asked', () => {
    const root = tree({ '.b': '', a: '', c: '' });
    assert.deepEqual(listEntries(root, [], { includeHidden: true }), ['.b', 'a', 'c']);
    assert.deepEqual(listEntries(root, []), ['a', 'c']);
  });
});
