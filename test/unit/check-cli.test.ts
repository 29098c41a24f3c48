import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';

import { script, treesRemovedAfter } from '../helpers/tree.js';

/** The repository root: the nearest directory above this file whose package.json is Steward's. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === 'steward') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the steward repository above the test file');
    dir = parent;
  }
}

const ROOT = repoRoot();
const CLI = join(ROOT, 'bin', 'steward');
const NOBODY = 65534;

interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built `steward check` with a clean environment: only PATH and `env`. */
function check(args: readonly string[], env: Record<string, string> = {}, options: SpawnSyncOptions = {}): CliResult {
  const result = spawnSync(process.execPath, [CLI, 'check', ...args], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env },
    encoding: 'utf8',
    ...options,
  });
  if (result.error !== undefined) throw result.error;
  return { status: result.status, stdout: String(result.stdout), stderr: String(result.stderr) };
}

interface JsonReport {
  ok: boolean;
  errors: number;
  warnings: number;
  services: string[];
  problems: { severity: string; code: string; path: string | null; line: number | null; message: string; hint: string | null }[];
}


const tree = treesRemovedAfter(after);

/** Why running the CLI as nobody cannot work here, or false when it can. */
function cannotRunAsNobody(): string | false {
  if (process.getuid?.() !== 0) return 'switching to uid 65534 needs root';
  const probe = spawnSync(process.execPath, [CLI, '--version'], { cwd: '/', uid: NOBODY, gid: NOBODY, encoding: 'utf8' });
  if (probe.error !== undefined) return `cannot start node as uid ${NOBODY}: ${probe.error.message}`;
  if (probe.status !== 0) return `node or the built CLI is not usable by uid ${NOBODY}: ${String(probe.stderr).trim()}`;
  return false;
}

describe('steward check', () => {
  before(() => {
    assert.ok(existsSync(join(ROOT, 'dist', 'steward.cjs')), 'run npm run build first: the CLI bundle is missing');
  });

  it('refuses an --etc that is not a directory, rather than passing an empty tree', () => {
    const result = check(['--etc', join(tree({}), 'no-such-dir')]);
    assert.equal(result.status, 2, result.stdout);
    assert.match(result.stderr, /^steward check: --etc \S+no-such-dir is not a directory\. Give the directory that holds s6-overlay/);
  });

  it('passes a good tree with exit 0 and "0 errors"', () => {
    const root = tree({
      'services.d/web/run': script('exec sleep 1000\n'),
      'services.d/web/finish': script('exit 0\n'),
      'services.d/web/notification-fd': '3\n',
      'services.d/web/log/run': script('exec cat\n'),
      'cont-init.d/10-setup': script('echo setting up\n'),
      'cont-finish.d/10-cleanup': script('echo cleaning up\n'),
      'fix-attrs.d/01-data': '/var/lib/app true root:root 0644 0755\n',
    });
    const result = check(['--etc', root]);
    assert.equal(result.status, 0, result.stdout + result.stderr);
    // web and its logger are one service, as the boot counts them.
    assert.match(result.stdout, /1 services.d service, 1 cont-init and 1 cont-finish script .*, 1 fix-attrs file/);
    assert.match(result.stdout, /: 0 errors, 0 warnings\n$/);
    assert.doesNotMatch(result.stdout, /^error:/m);
  });

  it('names a run script that is not executable, and how to fix it', () => {
    const root = tree({ 'services.d/web/run': { content: '#!/bin/sh\nexec true\n', mode: 0o644 } });
    const run = join(root, 'services.d/web/run');
    const result = check(['--etc', root]);
    assert.equal(result.status, 1);
    assert.ok(result.stdout.includes(`error: ${run}: the run script of service web is not executable. Run chmod +x ${run}`), result.stdout);
    assert.match(result.stdout, /1 services.d service, .*: 1 error, 0 warnings/);
  });

  it('names every problem of one script at once: not executable and CRLF line endings', () => {
    const root = tree({ 'services.d/web/run': { content: '#!/bin/sh\r\nexec true\r\n', mode: 0o644 } });
    const run = join(root, 'services.d/web/run');
    const result = check(['--etc', root]);
    assert.equal(result.status, 1);
    assert.ok(result.stdout.includes(`error: ${run}: the run script of service web is not executable`), result.stdout);
    assert.ok(result.stdout.includes(`error: ${run}:1: the run script of service web has Windows (CRLF) line endings`), result.stdout);
  });

  it('does not say a script without its x bit will be run with /bin/sh: it is not run at all', () => {
    const root = tree({ 'cont-init.d/10-setup': { content: 'echo no shebang\n', mode: 0o644 } });
    const result = check(['--etc', root]);
    assert.equal(result.status, 1);
    assert.match(result.stdout, /is not executable/);
    assert.doesNotMatch(result.stdout, /run with \/bin\/sh/);
  });

  it('names a script with CRLF line endings, at line 1', () => {
    const root = tree({ 'cont-init.d/10-setup': { content: '#!/bin/sh\r\necho hi\r\n', mode: 0o755 } });
    const file = join(root, 'cont-init.d/10-setup');
    const result = check(['--etc', root]);
    assert.equal(result.status, 1);
    assert.ok(result.stdout.includes(`error: ${file}:1: the script has Windows (CRLF) line endings`), result.stdout);
    assert.match(result.stdout, /dos2unix/);
  });

  it('names a run script without a shebang, at line 1', () => {
    const root = tree({ 'services.d/web/run': { content: 'exec nginx -g "daemon off;"\n', mode: 0o755 } });
    const run = join(root, 'services.d/web/run');
    const result = check(['--etc', root]);
    assert.equal(result.status, 1);
    assert.ok(result.stdout.includes(`error: ${run}:1: the run script of service web has no shebang line`), result.stdout);
  });

  it("warns about s6's programs a script runs that neither Steward nor the image has, by name or path, with the package to install", () => {
    const root = tree({
      'services.d/web/run': script(
        [
          '# s6-fghack in a comment is not a call',
          'echo "s6-svscan is only a word here"',
          's6-setlock -n /run/lock true',
          '/command/s6-fghack sleep 1',
          'user=$(s6-cut -d: -f1 /etc/passwd | head -n 1)',
          'exec s6-svdt .',
          '',
        ].join('\n'),
      ),
    });
    const run = join(root, 'services.d/web/run');
    const missing = check(['--etc', root], { PATH: '/nonexistent' });
    assert.equal(missing.status, 0, missing.stdout);
    assert.ok(missing.stdout.includes(`warning: ${run}: the run script of service web runs s6-fghack, a program of s6-overlay's /command that Steward does not provide and that is not installed here`), missing.stdout);
    assert.match(missing.stdout, /s6-fghack[^\n]*apt-get install s6/);
    assert.match(missing.stdout, /runs s6-cut, [^\n]*apk add s6-portable-utils/);
    // Steward's own (s6-setlock, s6-svdt), a word in a string and a comment: nothing.
    assert.doesNotMatch(missing.stdout, /runs s6-(setlock|svdt|svscan),/);
    assert.match(missing.stdout, /: 0 errors, 2 warnings/);
    // Installed in the image: nothing to say.
    const bin = tree({ 's6-fghack': script('exit 0\n'), 's6-cut': script('exit 0\n') });
    const present = check(['--etc', root], { PATH: bin });
    assert.match(present.stdout, /: 0 errors, 0 warnings/);
  });

  it("does not take a word in single quotes for a program a shell script runs (swag's sed of its renewal hooks), but one in a command substitution in double quotes", () => {
    const root = tree({
      'services.d/web/run': script(
        [
          "find /config -exec sed -i 's|s6-fghack nginx|s6-fghack svc-nginx|g' {} \\;",
          "echo 'it\\''s s6-fghack' \"don't\"",
          'first="$(s6-cut -d: -f1 /etc/passwd)"',
          's6-rc-db list services',
          'exec sleep 1000',
          '',
        ].join('\n'),
      ),
    });
    const result = check(['--etc', root], { PATH: '/nonexistent' });
    assert.doesNotMatch(result.stdout, /runs s6-fghack/, result.stdout);
    assert.match(result.stdout, /runs s6-cut, /, result.stdout);
    // s6-rc's programs are not in Debian's s6.
    assert.match(result.stdout, /runs s6-rc-db, [^\n]*apk add s6-rc; Debian has no package/, result.stdout);
    assert.match(result.stdout, /: 0 errors, 2 warnings/, result.stdout);
  });

  it('warns when a run script runs s6-notifyoncheck without -3 in a service without a notification-fd file, not otherwise', () => {
    const root = tree({
      's6-overlay/s6-rc.d/svc-worker/type': 'longrun\n',
      's6-overlay/s6-rc.d/svc-worker/run': script('exec s6-notifyoncheck -d -w 1000 -- sleep 1000\n'),
      's6-overlay/s6-rc.d/svc-fd/type': 'longrun\n',
      's6-overlay/s6-rc.d/svc-fd/run': script('exec s6-notifyoncheck -d -w 1000 -- sleep 1000\n'),
      's6-overlay/s6-rc.d/svc-fd/notification-fd': '3\n',
      's6-overlay/s6-rc.d/svc-option/type': 'longrun\n',
      's6-overlay/s6-rc.d/svc-option/run': script('exec s6-notifyoncheck -w 1000 -3 4 sleep 1000\n'),
      's6-overlay/s6-rc.d/svc-quoted/type': 'longrun\n',
      's6-overlay/s6-rc.d/svc-quoted/run': script('exec s6-notifyoncheck -d -c "nc -z localhost 80" -3 3 sleep 1000\n'),
      's6-overlay/s6-rc.d/user/type': 'bundle\n',
      's6-overlay/s6-rc.d/user/contents.d/svc-quoted': '',
      's6-overlay/s6-rc.d/user/contents.d/svc-worker': '',
      's6-overlay/s6-rc.d/user/contents.d/svc-fd': '',
      's6-overlay/s6-rc.d/user/contents.d/svc-option': '',
      'services.d/legacy/run': script('exec /command/s6-notifyoncheck -s 100 sleep 1000\n'),
    });
    const result = check(['--etc', root], { PATH: '/nonexistent' });
    assert.match(result.stdout, /svc-worker\/run: [^\n]*runs s6-notifyoncheck without -3, and the service has no notification-fd file/, result.stdout);
    assert.match(result.stdout, /services\.d\/legacy\/run: [^\n]*runs s6-notifyoncheck without -3/, result.stdout);
    assert.doesNotMatch(result.stdout, /svc-fd\/run: [^\n]*notifyoncheck/, result.stdout);
    assert.doesNotMatch(result.stdout, /svc-option\/run: [^\n]*notifyoncheck/, result.stdout);
    assert.doesNotMatch(result.stdout, /svc-quoted\/run: [^\n]*notifyoncheck/, result.stdout);
  });

  it("warns when a logger runs s6-log and the image has none (s6-overlay's tarballs removed), not when it has", () => {
    const root = tree({
      'services.d/web/run': script('exec sleep 1000\n'),
      'services.d/web/log/run': script('# s6-log would be nice here, says a comment\nexec s6-log -b n20 s1000000 T /var/log/web\n'),
    });
    const logRun = join(root, 'services.d/web/log/run');
    const missing = check(['--etc', root], { PATH: '/nonexistent' });
    assert.equal(missing.status, 0, missing.stdout);
    assert.ok(missing.stdout.includes(`warning: ${logRun}: the run script of service web/log runs s6-log (directly or through logutil-service), which is not installed here`), missing.stdout);
    assert.match(missing.stdout, /apk add s6/);
    // By path, after a few lines, and not when only a trailing comment names it.
    const more = tree({
      'services.d/a/run': script('exec sleep 1000\n'),
      'services.d/a/log/run': script(`# ${'header '.repeat(60)}\nmkdir -p /var/log/a\nexec /command/s6-log n20 /var/log/a\n`),
      'services.d/b/run': script('exec sleep 1000\n'),
      'services.d/b/log/run': script('exec logger -t b  # was: s6-log n20 /var/log/b\n'),
      'services.d/c/run': script('exec sleep 1000\n'),
      'services.d/c/log/run': script('exec logutil-service /var/log/c\n'),
    });
    const byPath = check(['--etc', more], { PATH: '/nonexistent' });
    assert.ok(byPath.stdout.includes(`${join(more, 'services.d/a/log/run')}: the run script of service a/log runs s6-log (directly or through logutil-service)`), byPath.stdout);
    assert.ok(!byPath.stdout.includes(join(more, 'services.d/b/log/run')), byPath.stdout);
    assert.ok(byPath.stdout.includes(`${join(more, 'services.d/c/log/run')}: the run script of service c/log runs s6-log (directly or through logutil-service)`), byPath.stdout);
    // An s6-log in PATH: nothing to say.
    const bin = tree({ 's6-log': script('exit 0\n') });
    const present = check(['--etc', root], { PATH: bin });
    assert.doesNotMatch(present.stdout, /s6-log/);
  });

  it("follows a logger into the image's own helper script that runs s6-log (Frigate's /usr/local/bin/logutil), one level down", () => {
    const helpers = tree({
      // Frigate's logutil, as a bash array; and a helper whose s6-log is only in a message.
      logutil: script('LOG_DIR=$1\nCMD=(s6-log -b -- ${S6_LOGGING_SCRIPT:-n20 s1000000 T} "$LOG_DIR")\nexec /command/s6-envuidgid nobody /command/s6-applyuidgid -U -- "${CMD[@]}"\n'),
      quiet: script("echo 'no s6-log here'\nexec cat\n"),
    });
    const root = tree({
      'services.d/web/run': script('exec sleep 1000\n'),
      'services.d/web/log/run': script(`exec ${join(helpers, 'logutil')} /dev/shm/logs/web/\n`),
      'services.d/api/run': script('exec sleep 1000\n'),
      'services.d/api/log/run': script(`exec ${join(helpers, 'quiet')} /var/log/api\n`),
    });
    const result = check(['--etc', root], { PATH: '/nonexistent' });
    assert.ok(result.stdout.includes(`warning: ${join(root, 'services.d/web/log/run')}: the run script of service web/log runs ${join(helpers, 'logutil')}, which runs s6-log, which is not installed here`), result.stdout);
    assert.ok(!result.stdout.includes(join(root, 'services.d/api/log/run')), result.stdout);
    assert.match(result.stdout, /: 0 errors, 1 warning\b/, result.stdout);
  });

  it('names a service directory without a run script', () => {
    const root = tree({ 'services.d/web/finish': script() });
    const result = check(['--etc', root]);
    assert.equal(result.status, 1);
    assert.ok(result.stdout.includes(`error: ${join(root, 'services.d/web/run')}: service web has no run script`), result.stdout);
  });

  it('names a directory it cannot read when run as an unprivileged user', { skip: cannotRunAsNobody() }, () => {
    const root = tree({ 'services.d/web/run': script(), 'services.d': { dir: true, mode: 0o000 } });
    const dir = join(root, 'services.d');
    const result = check(['--etc', root], {}, { uid: NOBODY, gid: NOBODY, cwd: '/' });
    assert.equal(result.status, 1, result.stdout + result.stderr);
    assert.ok(result.stdout.includes(`error: ${dir}: cannot read the directory: EACCES. Make it readable by the user Steward runs as (uid ${NOBODY})`), result.stdout);
  });

  it('names the fix-attrs file and line of a bad account and of a bad mode', () => {
    const root = tree({
      'fix-attrs.d/01-app': ['# app data', '/var/lib/app true no-such-account-here 0644 0755', '/var/log/app true root 0644 0999', ''].join('\n'),
    });
    const file = join(root, 'fix-attrs.d/01-app');
    const result = check(['--etc', root]);
    assert.equal(result.status, 1);
    assert.ok(result.stdout.includes(`error: ${file}:2: unknown user "no-such-account-here"`), result.stdout);
    assert.ok(result.stdout.includes(`error: ${file}:3: directory mode "0999" is not an octal mode`), result.stdout);
    assert.match(result.stdout, /: 2 errors, 0 warnings/);
  });

  it('reports a non-numeric S6_* variable, naming it and the default', () => {
    const root = tree({ 'services.d/web/run': script() });
    const result = check(['--etc', root], { S6_SERVICES_GRACETIME: 'soon' });
    assert.equal(result.status, 1);
    assert.match(result.stdout, /^error: S6_SERVICES_GRACETIME="soon" is not a whole number of milliseconds; using the default 3000/m);
  });

  it('reports every problem of a tree at once', () => {
    const root = tree({
      'services.d/a/run': { content: '#!/bin/sh\n', mode: 0o644 },
      'services.d/b/run': { content: 'echo\n', mode: 0o755 },
      'services.d/c/run': script(),
      'services.d/c/timeout-kill': 'ten\n',
    });
    const result = check(['--etc', root]);
    assert.equal(result.status, 1);
    assert.ok(result.stdout.includes(join(root, 'services.d/a/run')));
    assert.ok(result.stdout.includes(join(root, 'services.d/b/run')));
    assert.ok(result.stdout.includes(`${join(root, 'services.d/c/timeout-kill')}:1: "ten" is not a number of milliseconds`));
    assert.match(result.stdout, /3 services.d services, .*: 3 errors/);
  });

  it('prints a JSON report that lists each problem with its file and line', () => {
    const root = tree({
      'services.d/web/run': script(),
      'services.d/worker/run': { content: '#!/bin/sh\r\n', mode: 0o755 },
      'services.d/web/timeout-finish': '100\r\n',
    });
    const result = check(['--etc', root, '--json']);
    assert.equal(result.status, 1);
    const report = JSON.parse(result.stdout) as JsonReport;
    assert.equal(report.ok, false);
    assert.equal(report.errors, 1);
    assert.equal(report.warnings, 1);
    assert.deepEqual(report.services, ['web', 'worker']);
    const crlf = report.problems.find((problem) => problem.severity === 'error');
    assert.deepEqual(
      crlf && { code: crlf.code, path: crlf.path, line: crlf.line },
      { code: 'ERR_SCRIPT', path: join(root, 'services.d/worker/run'), line: 1 },
    );
    assert.match(crlf?.message ?? '', /CRLF/);
    assert.ok((crlf?.hint ?? '').length > 0);
    const warning = report.problems.find((problem) => problem.severity === 'warning');
    assert.equal(warning?.path, join(root, 'services.d/web/timeout-finish'));
  });

  it('says what to do for pipeline, execline block and fix-attrs.d problems too, and names an undefined consumer as such', () => {
    const longrun = (extra: Record<string, string> = {}): Record<string, string | { content: string; mode: number }> => ({ type: 'longrun\n', run: script('exec sleep 1000\n'), ...extra });
    const rc = (name: string, files: Record<string, string | { content: string; mode: number }>): Record<string, string | { content: string; mode: number }> =>
      Object.fromEntries(Object.entries(files).map(([file, content]) => [`s6-overlay/s6-rc.d/${name}/${file}`, content]));
    const root = tree({
      ...rc('app', longrun({ 'producer-for': 'app-log\n' })),
      ...rc('cons', longrun({ 'consumer-for': 'other\n' })),
      ...rc('c2', longrun({ 'pipeline-name': 'cons\n' })),
      ...rc('up1', { type: 'oneshot\n', up: 'echo hi }\n' }),
      ...rc('up2', { type: 'oneshot\n', up: 'foreground echo hi\n' }),
      'fix-attrs.d/subdir/file': 'x\n',
    });
    const result = check(['--etc', root, '--json']);
    assert.equal(result.status, 1);
    const report = JSON.parse(result.stdout) as JsonReport;
    const errors = report.problems.filter((problem) => problem.severity === 'error');
    assert.ok(errors.length >= 6, result.stdout);
    for (const problem of errors) assert.ok((problem.hint ?? '').length > 0, `no hint: ${problem.path}: ${problem.message}`);
    assert.ok(errors.some((problem) => problem.message === 'app is a producer for app-log, which is not defined'), result.stdout);
  });

  it('prints an ok JSON report with exit 0 for a good tree', () => {
    const root = tree({ 'services.d/web/run': script() });
    const result = check(['--etc', root, '--json']);
    assert.equal(result.status, 0);
    const report = JSON.parse(result.stdout) as JsonReport;
    assert.deepEqual(report, { ok: true, errors: 0, warnings: 0, services: ['web'], problems: [] });
  });

  it('refuses an unknown option with exit 2', () => {
    const result = check(['--bogus']);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /unknown option --bogus/);
    assert.equal(result.stdout, '');
  });
});

describe('steward check and install: stray words and lost output', () => {
  it('refuses a directory given without --etc (it would check /etc and pass), and install one without --root', () => {
    const stray = check(['/some/tree']);
    assert.equal(stray.status, 2);
    assert.match(stray.stderr, /unexpected argument \/some\/tree\. To check a tree, give it with --etc DIR/);
    const install = spawnSync(process.execPath, [CLI, 'install', '/some/root'], { encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' } });
    assert.equal(install.status, 2, install.stderr);
    assert.match(install.stderr, /unexpected argument \/some\/root\. To install into an image root, give it with --root DIR/);
  });

  it('fails when its output cannot be written (a full disk)', () => {
    const full = spawnSync('sh', ['-c', `"${process.execPath}" "${CLI}" --help > /dev/full`], { encoding: 'utf8' });
    assert.equal(full.status, 1);
    assert.match(full.stderr, /cannot write the output: ENOSPC/);
  });
});
