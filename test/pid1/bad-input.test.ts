import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import { destroy, initBin, isRoot, lastValue, repoRoot, scriptTree, startInit, type InitRun } from '../helpers/pid1.js';

const skip = !isRoot && 'needs root for a PID namespace';
const runs: InitRun[] = [];
after(() => runs.forEach(destroy));

test('a broken tree boots what it can and names every broken file, without hanging', { skip }, async () => {
  const etc = scriptTree({
    'services.d/crlf/run': '#!/bin/sh\r\nexec sleep 100\r\n',
    'services.d/noshebang/run': 'exec sleep 100\n',
    'services.d/good/run': `#!/bin/sh\ntouch "${'$'}MARK"/good-ran\nexec sleep 100\n`,
    'services.d/good/notification-fd': 'three\n',
    'cont-init.d/10-plain': 'echo not executable\n',
    'cont-init.d/20-no-interpreter': '#!/usr/bin/no-such-interpreter bash\necho hi\n',
  });
  chmodSync(join(etc, 'cont-init.d/10-plain'), 0o644);
  chmodSync(join(etc, 'services.d/noshebang/run'), 0o755);
  const run = startInit({
    env: { STEWARD_ETC: etc, STEWARD_RUN: join(etc, 'run'), S6_KEEP_ENV: '1', MARK: etc, S6_KILL_GRACETIME: 'soon' },
    args: ['sh', '-c', `while [ ! -e "${etc}/good-ran" ]; do sleep 0.05; done; exit 0`],
  });
  runs.push(run);
  const { code } = await run.exited;
  const output = run.output();
  assert.equal(code, 0, output);
  assert.match(output, new RegExp(`${etc}/services.d/crlf/run:1: the run script of service crlf has Windows \\(CRLF\\) line endings`));
  assert.match(output, new RegExp(`${etc}/services.d/noshebang/run:1: the run script of service noshebang has no shebang line`));
  // The supervisor's retry line: the copy under /run failed, and the fix names the image's file.
  const retryLine = output.split('\n').find((line) => line.startsWith(`service crlf: error: cannot execute ${etc}/run/s6/legacy-services/crlf/run: `)) ?? '';
  assert.ok(retryLine.includes(`Convert it with: sed -i 's/\\r$//' ${etc}/services.d/crlf/run`), output);
  assert.match(output, new RegExp(`${etc}/services.d/good/notification-fd:1: "three" is not a file descriptor number`));
  assert.match(output, new RegExp(`${etc}/cont-init.d/10-plain: the script is not executable. Run chmod \\+x`));
  // The kernel says ENOENT for a script that is there: the message says which file is missing.
  assert.match(output, new RegExp(`cannot execute ${etc}/cont-init.d/20-no-interpreter: the cont-init script asks for the interpreter /usr/bin/no-such-interpreter, which is not installed here \\(ENOENT\\)`));
  assert.match(output, /S6_KILL_GRACETIME="soon" is not a whole number of milliseconds; using the default 3000/);
  assert.ok(existsSync(join(etc, 'good-ran')), 'the good service did not run');
});

test('a CMD or cont-init script without a shebang line runs with /bin/sh, as a shell (and s6-overlay) runs it', { skip }, async () => {
  const etc = scriptTree({
    'cont-init.d/10-plain-sh': 'echo "cont-init ran as sh: $0"\n',
    // Emptied to disable it (`: > file`): a shell runs it as an empty script, exit 0.
    'cont-init.d/20-emptied': '',
    'start.sh': 'echo "cmd ran as sh"\nexit 4\n',
  });
  chmodSync(join(etc, 'cont-init.d/10-plain-sh'), 0o755);
  chmodSync(join(etc, 'cont-init.d/20-emptied'), 0o755);
  chmodSync(join(etc, 'start.sh'), 0o755);
  const run = startInit({ env: { STEWARD_ETC: etc, STEWARD_RUN: join(etc, 'run'), S6_BEHAVIOUR_IF_STAGE2_FAILS: '2' }, args: [join(etc, 'start.sh')] });
  runs.push(run);
  const { code } = await run.exited;
  assert.equal(code, 4, run.output());
  assert.match(run.output(), /cont-init ran as sh/);
  assert.match(run.output(), /cmd ran as sh/);
  assert.match(run.output(), /10-plain-sh:1: the script has no shebang line: it is run with \/bin\/sh/);
  assert.match(run.output(), /20-emptied:1: the script is empty: it is run with \/bin\/sh, which does nothing and exits 0/);
});

test('with S6_BEHAVIOUR_IF_STAGE2_FAILS=2, a broken cont-init script stops the container; a broken services.d entry does not, as under s6-overlay', { skip }, async () => {
  const etc = scriptTree({ 'cont-init.d/10-crlf': '#!/bin/sh\r\ntrue\r\n' });
  const run = startInit({ env: { STEWARD_ETC: etc, STEWARD_RUN: join(etc, 'run'), S6_BEHAVIOUR_IF_STAGE2_FAILS: '2' } });
  runs.push(run);
  const { code } = await run.exited;
  assert.equal(code, 1, run.output());
  assert.match(run.output(), /stopping the container \(S6_BEHAVIOUR_IF_STAGE2_FAILS=2\)/);
  // pihole sets it in its image, and an added service whose run lost its x bit (or has CRLF line
  // endings, or no run at all) must not take DNS down: s6-overlay's services.d stage never looks
  // at run scripts, and s6-supervise retries them.
  const services = scriptTree({
    'services.d/noexec/run': '#!/bin/sh\nexec sleep 100\n',
    'services.d/crlf/run': '#!/bin/sh\r\nexec sleep 100\r\n',
    'services.d/norun/notification-fd': '3\n',
    'services.d/good/run': '#!/bin/sh\necho good-running\nexec sleep 100\n',
  });
  chmodSync(join(services, 'services.d/noexec/run'), 0o644);
  const kept = startInit({ env: { STEWARD_ETC: services, STEWARD_RUN: join(services, 'run'), S6_BEHAVIOUR_IF_STAGE2_FAILS: '2' } });
  runs.push(kept);
  await kept.waitForOutput(/good-running/);
  await kept.waitForOutput(/s6-rc: info: service legacy-services successfully started/);
  kept.kill('SIGTERM');
  assert.equal((await kept.exited).code, 0, kept.output());
  const output = kept.output();
  assert.doesNotMatch(output, /stopping the container \(S6_BEHAVIOUR_IF_STAGE2_FAILS/, output);
  assert.match(output, /services\.d\/noexec\/run[^\n]*not executable/, output);
  assert.match(output, /services\.d\/crlf\/run:1: [^\n]*CRLF/, output);
  // Found by the looks made once the starts have settled; summed up once, after them.
  assert.equal(output.match(/some services\.d entries have errors \(listed above\); what can run runs/g)?.length, 1, output);
});

test('a non-numeric exit code file gives exit 1 and an error naming the file', { skip }, async () => {
  const etc = scriptTree({});
  const run = startInit({
    env: { STEWARD_ETC: etc, STEWARD_RUN: join(etc, 'run') },
    args: ['sh', '-c', `echo banana > "${etc}/run/s6-linux-init-container-results/exitcode"; kill -TERM 1; sleep 5`],
  });
  runs.push(run);
  const { code } = await run.exited;
  assert.equal(code, 1, run.output());
  assert.match(run.output(), /exitcode holds "banana", which is not an exit code/);
});

test('with-contenv gives a script the container environment, including what cont-init added', { skip }, async () => {
  const commandDir = mkdtempSync(join(tmpdir(), 'steward-command-'));
  const etc = scriptTree({
    'cont-init.d/10-export': '#!/bin/sh\nprintf "added by init" > /run/s6/container_environment/ADDED\n',
    'services.d/reader/run':
      '#!/command/with-contenv sh\necho "reader: GREETING=$GREETING ADDED=$ADDED" > /run/reader.out\necho "plain=$(printcontenv GREETING)" >> /run/reader.out\necho "empty=[$(printcontenv EMPTY)] rc=$?" >> /run/reader.out\nprintcontenv UNSET_HERE; echo "unset rc=$?" >> /run/reader.out\nexec sleep 100\n',
  });
  const run = startInit({
    privateRun: true,
    binds: [[commandDir, '/command']],
    env: { STEWARD_ETC: etc, GREETING: 'hello world', EMPTY: '' },
    args: ['sh', '-c', 'while [ ! -s /run/reader.out ] || [ $(wc -l < /run/reader.out) -lt 4 ]; do sleep 0.05; done; cat /run/reader.out; echo "cmd sees GREETING=${GREETING:-unset}"'],
  });
  runs.push(run);
  const { code } = await run.exited;
  assert.equal(code, 0, run.output());
  assert.match(run.output(), /reader: GREETING=hello world ADDED=added by init/);
  assert.equal(lastValue(run.output(), 'plain'), 'hello world');
  // Set but empty is not an error (a `sh -e` script reading it goes on), unset is.
  assert.match(run.output(), /empty=\[\] rc=0/);
  assert.doesNotMatch(run.output(), /unset rc=0/);
  // Without S6_KEEP_ENV the CMD gets only PATH, as under s6-overlay.
  assert.match(run.output(), /cmd sees GREETING=unset/);
});

test('a runtime directory on a full file system is named as such, with room to give as the fix', { skip: !isRoot && 'needs root for a mount namespace' }, () => {
  const etc = scriptTree({ 'services.d/web/run': '#!/bin/sh\nexec sleep 1000\n' });
  const mountPoint = mkdtempSync(join(tmpdir(), 'steward-full-'));
  // A tmpfs of a few pages, filled up to its last byte.
  const script = `mount -t tmpfs -o size=16k tmpfs "${mountPoint}" && (cat /dev/zero > "${mountPoint}/filler" 2>/dev/null; true) && exec "$0"`;
  const result = spawnSync('unshare', ['--mount', 'sh', '-c', script, initBin], {
    encoding: 'utf8',
    env: { PATH: process.env['PATH'], STEWARD_ETC: etc, STEWARD_RUN: join(mountPoint, 'run') },
    timeout: 20_000,
  });
  assert.equal(result.status, 100, result.stderr);
  assert.match(result.stderr, /cannot prepare the runtime directory: ENOSPC \(its file system is full\)\. Give \S+ more room/);
});

test('a services.d copy that fails for want of room is made again once there is room, and the service comes up', { skip }, async () => {
  // The cont-init script leaves no room where services.d is copied to; the CMD frees it.
  const etc = scriptTree({
    'cont-init.d/10-fill': '#!/bin/sh\nmount -t tmpfs -o size=64k tmpfs /run/s6/legacy-services && dd if=/dev/zero of=/run/s6/legacy-services/filler bs=4k 2>/dev/null; exit 0\n',
    'services.d/web/run': '#!/bin/sh\necho web-up\nexec sleep 1000\n',
    'services.d/web/log/run': '#!/bin/sh\nwhile read -r line; do echo "logged: $line"; done\n',
    // Not started at boot: its copy's failure is said all the same.
    'services.d/idle/run': '#!/bin/sh\nexec sleep 1000\n',
    'services.d/idle/down': '',
  });
  const run = startInit({
    privateRun: true,
    env: { STEWARD_ETC: etc },
    // The automatic retry comes 10 s after the failed start: 30 s leave it room on a busy machine.
    args: ['sh', '-c', 'rm /run/s6/legacy-services/filler; i=0; until [ -x /run/s6/legacy-services/web/log/run ] && pgrep -x sleep > /dev/null; do i=$((i+1)); [ $i -gt 300 ] && exit 7; sleep 0.1; done; exit 0'],
  });
  runs.push(run);
  await run.waitForOutput(/logged: web-up/, 30_000);
  const { code } = await run.exited;
  assert.equal(code, 0, run.output());
  assert.match(run.output(), /service web: error: cannot copy \S+\/services\.d\/web to \/run\/s6\/legacy-services\/web: ENOSPC \(its file system is full\)\. Give \/run more room .*; retrying in 10 seconds \(or at once on steward start web\)/);
  assert.doesNotMatch(run.output(), /cannot execute/);
  assert.match(run.output(), /services-up: error: cannot copy \S+\/services\.d\/idle to \/run\/s6\/legacy-services\/idle: ENOSPC .*; it is copied again when it is started \(steward start idle\)/);
});

test('a runtime directory on a read-only file system is named as such, with what to do', { skip: !isRoot && 'needs root for a mount namespace' }, () => {
  const etc = scriptTree({ 'services.d/web/run': '#!/bin/sh\nexec sleep 1000\n' });
  const mountPoint = mkdtempSync(join(tmpdir(), 'steward-ro-'));
  const script = `mount -t tmpfs tmpfs "${mountPoint}" && mkdir "${mountPoint}/x" && mount -o remount,ro "${mountPoint}" && exec "$0"`;
  const result = spawnSync('unshare', ['--mount', 'sh', '-c', script, initBin], {
    encoding: 'utf8',
    env: { PATH: process.env['PATH'], STEWARD_ETC: etc, STEWARD_RUN: join(mountPoint, 'x', 'run') },
    timeout: 20_000,
  });
  assert.equal(result.status, 100, result.stderr);
  assert.match(result.stderr, /cannot prepare the runtime directory: EROFS \(a read-only file system\)\. Give the container a tmpfs there/);
});

test('a runtime directory on a pseudo file system that refuses new directories is named, not looped on', () => {
  // mkdir of a child answers ENOENT while the parent exists: Node's recursive mkdir retries forever.
  const etc = scriptTree({});
  const result = spawnSync(initBin, [], {
    encoding: 'utf8',
    env: { PATH: process.env['PATH'], STEWARD_ETC: etc, STEWARD_RUN: '/proc/sys/kernel' },
    timeout: 20_000,
    killSignal: 'SIGKILL',
  });
  assert.equal(result.status, 100, `${result.stderr} (signal ${String(result.signal)})`);
  assert.match(result.stderr, /steward: error: \/proc\/sys\/kernel: cannot prepare the runtime directory: E[A-Z]+/);
});

test('a runtime directory on a noexec mount is remounted exec as root; otherwise it is named with the fix, and a tree with services stops at once', { skip: !isRoot && 'needs root for a mount namespace' }, () => {
  const etc = scriptTree({ 'services.d/web/run': '#!/bin/sh\necho web-ran\nexec sleep 1000\n' });
  const mountPoint = mkdtempSync(join(tmpdir(), 'steward-noexec-'));
  const runAs = (prefix: string, tree = etc, args: string[] = []): ReturnType<typeof spawnSync> =>
    spawnSync('unshare', ['--mount', 'sh', '-c', `mount -t tmpfs -o noexec,mode=1777 tmpfs "${mountPoint}" && exec ${prefix} timeout -s TERM 3 "$0" "$@"`, initBin, ...args], {
      encoding: 'utf8',
      env: { PATH: process.env['PATH'], STEWARD_ETC: tree, STEWARD_RUN: join(mountPoint, 'run') },
      timeout: 20_000,
    });
  const asRoot = runAs('');
  assert.match(String(asRoot.stderr), /was mounted noexec: remounted it exec/, String(asRoot.stderr));
  assert.match(String(asRoot.stdout) + String(asRoot.stderr), /web-ran/);
  const nobody = 'setpriv --reuid=65534 --regid=65534 --clear-groups';
  const asNobody = runAs(nobody);
  assert.match(String(asNobody.stderr), /is on a noexec mount .*: no service can run from it\. Mount it with exec: docker run --tmpfs \/run:exec/, String(asNobody.stderr));
  // Every service would fail and be retried for ever, the container looking up: it stops instead.
  assert.equal(asNobody.status, 100, String(asNobody.stderr));
  assert.match(String(asNobody.stderr), /stopping the container: its services cannot run/, String(asNobody.stderr));
  assert.doesNotMatch(String(asNobody.stderr), /legacy-services successfully started/);
  // Without services nothing needs to run from there: the CMD runs.
  const commandOnly = runAs(nobody, scriptTree({ 'cont-init.d/10-hello': '#!/bin/sh\necho init-ran\n' }), ['sh', '-c', 'echo cmd-ran; exit 7']);
  assert.equal(commandOnly.status, 7, String(commandOnly.stderr));
  assert.match(String(commandOnly.stdout) + String(commandOnly.stderr), /init-ran[\s\S]*cmd-ran/);
});

test('a runtime directory left by another user names the directory that refused', { skip: !isRoot && 'needs root to prepare it' }, () => {
  const etc = scriptTree({ 'services.d/web/run': '#!/bin/sh\nexec sleep 1000\n' });
  const runDir = join(mkdtempSync(join(tmpdir(), 'steward-stale-')), 'run');
  mkdirSync(join(runDir, 's6'), { recursive: true });
  chmodSync(join(runDir, '..'), 0o755);
  chmodSync(runDir, 0o1777);
  const result = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', initBin], {
    encoding: 'utf8',
    env: { PATH: process.env['PATH'], STEWARD_ETC: etc, STEWARD_RUN: runDir },
    timeout: 20_000,
  });
  assert.equal(result.status, 100, result.stderr);
  assert.match(result.stderr, new RegExp(`cannot prepare the runtime directory: E(ACCES|PERM) \\(${join(runDir, 's6')} belongs to uid 0 \\(mode 0755\\); Steward runs as uid 65534\\)`));
  // The fix keeps /run where images expect it.
  assert.match(result.stderr, /a tmpfs \(docker run --tmpfs \/run:exec,uid=65534,gid=65534\), an emptyDir in Kubernetes/);
});

test('a STEWARD_CONTROL_GROUP the user cannot give files to keeps the control socket private instead of losing it', { skip: !isRoot && 'needs root to switch users' }, () => {
  const etc = scriptTree({ 'services.d/web/run': '#!/bin/sh\nexec sleep 1000\n' });
  const runDir = join(mkdtempSync(join(tmpdir(), 'steward-group-')), 'run');
  mkdirSync(runDir, { recursive: true });
  chmodSync(join(runDir, '..'), 0o755);
  chownSync(runDir, 65534, 65534);
  const status = `${process.execPath} ${join(repoRoot, 'bin', 'steward')} status >/dev/null; echo status=$?`;
  const result = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', initBin, 'sh', '-c', status], {
    encoding: 'utf8',
    // Group 0: one the user nobody is not in.
    env: { PATH: process.env['PATH'], STEWARD_ETC: etc, STEWARD_RUN: runDir, STEWARD_CONTROL_GROUP: '0' },
    timeout: 30_000,
  });
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stderr, /STEWARD_CONTROL_GROUP=0: cannot give the control socket to that group \(EPERM/);
  assert.equal(lastValue(result.stdout + result.stderr, 'status'), '0', result.stdout + result.stderr);
});
