import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';

import { destroy, initBin, isRoot, lastValue, repoRoot, scriptTree, startInit, type InitRun } from '../helpers/pid1.js';

const skip = !isRoot && 'needs root for a PID namespace';
const runs: InitRun[] = [];
after(() => runs.forEach(destroy));

function init(etc: string, env: NodeJS.ProcessEnv = {}, args: string[] = []): InitRun {
  const run = startInit({ env: { STEWARD_ETC: etc, STEWARD_RUN: join(etc, 'run'), ...env }, args });
  runs.push(run);
  return run;
}

test("without the KILL capability, a service of another user that cannot be signalled is named, and the others still stop in order", { skip }, async () => {
  const etc = scriptTree({
    // Run as nobody: root without CAP_KILL may not signal it.
    'services.d/other-user/run': '#!/bin/sh\nexec setpriv --reuid=65534 --regid=65534 --clear-groups sleep 1000\n',
    'services.d/graceful/run': `#!/bin/sh\ntrap 'echo drained > "${'$'}MARK"/graceful.term; exit 0' TERM\nwhile :; do sleep 0.1; done\n`,
    'cont-finish.d/10-bye': `#!/bin/sh\necho finished > "${'$'}MARK"/finish.done\n`,
    's6-overlay/s6-rc.d/rc-other-user/type': 'longrun\n',
    's6-overlay/s6-rc.d/rc-other-user/run': '#!/bin/sh\nexec setpriv --reuid=65534 --regid=65534 --clear-groups sleep 1000\n',
    's6-overlay/s6-rc.d/user/contents.d/rc-other-user': '',
  });
  const run = startInit({
    env: { STEWARD_ETC: etc, STEWARD_RUN: join(etc, 'run'), S6_KEEP_ENV: '1', MARK: etc, S6_SERVICES_GRACETIME: '1000', S6_KILL_GRACETIME: '500' },
    // Root with only the capabilities to change user, as a hardened pod's drop: [ALL], add: [SETUID, SETGID].
    launcher: ['setpriv', '--inh-caps=-all', '--bounding-set=-all,+setuid,+setgid'],
  });
  runs.push(run);
  await run.waitForOutput(/service other-user: info: started/);
  await run.waitForOutput(/service graceful: info: started/);
  await run.waitForOutput(/service rc-other-user successfully started/);
  await run.waitForOutput(/^s6-rc: info: service legacy-services successfully started$/m);
  // A stop asked for through the control socket is refused with the reason, and changes nothing.
  const stop = spawnSync(process.execPath, [join(repoRoot, 'bin', 'steward'), 'stop', '--no-wait', 'other-user'], { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', STEWARD_RUN: join(etc, 'run') }, encoding: 'utf8', timeout: 30_000 });
  assert.notEqual(stop.status, 0, stop.stderr);
  assert.match(stop.stderr, /not permitted to signal other-user \(pid \d+\): the kernel refused \(EPERM\), so nothing was changed/, stop.stderr);
  const cli = (...args: string[]): SpawnSyncReturns<string> => spawnSync(process.execPath, [join(repoRoot, 'bin', 'steward'), ...args], { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', STEWARD_RUN: join(etc, 'run') }, encoding: 'utf8', timeout: 30_000 });
  // A signal: refused with the reason, not "not running".
  const hangup = cli('signal', 'HUP', 'other-user');
  assert.notEqual(hangup.status, 0, hangup.stderr);
  assert.match(hangup.stderr, /not permitted to signal other-user/, hangup.stderr);
  // An s6-rc longrun's stop fails at once, rather than waiting for a stop that cannot come.
  const rcStop = cli('stop', 'rc-other-user');
  assert.notEqual(rcStop.status, 0, rcStop.stderr);
  assert.match(rcStop.stderr, /not permitted to signal rc-other-user/, rcStop.stderr);
  // So does s6-rc's: the change fails (1) and the longrun, still running, is still listed as up.
  const s6rc = (...args: string[]): SpawnSyncReturns<string> => spawnSync(process.execPath, [join(repoRoot, 'bin', 's6-tool'), 's6-rc', ...args], { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', STEWARD_RUN: join(etc, 'run') }, encoding: 'utf8', timeout: 30_000 });
  const change = s6rc('-d', 'change', 'rc-other-user');
  assert.equal(change.status, 1, `${change.stdout}${change.stderr}`);
  assert.match(s6rc('-a', 'list').stdout, /^rc-other-user$/m);
  run.kill('SIGTERM');
  const { code } = await run.exited;
  const output = run.output();
  assert.notEqual(code, 111, output);
  assert.match(output, /steward: warning: not permitted to send SIGTERM to pid \d+ \(sleep\) \(EPERM\): it keeps running\. Without the KILL capability/, output);
  assert.equal(readFileSync(join(etc, 'graceful.term'), 'utf8'), 'drained\n', output);
  assert.equal(readFileSync(join(etc, 'finish.done'), 'utf8'), 'finished\n', output);
});

test("cont-init, cont-finish and oneshots run in s6-rc's oneshot runner directory, as under s6-overlay, not in /", { skip }, async () => {
  const record = (name: string): string => `#!/bin/sh\necho "$(pwd) $(find $UNSET_VARIABLE -maxdepth 1 | wc -l)" > "${'$'}MARK"/${name}.cwd\n`;
  const etc = scriptTree({
    'cont-init.d/10-where': record('cont-init'),
    'cont-finish.d/10-where': record('cont-finish'),
    's6-overlay/s6-rc.d/init-where/type': 'oneshot\n',
    's6-overlay/s6-rc.d/init-where/up': 'sh -c "echo $(pwd) $(find $UNSET_VARIABLE -maxdepth 1 | wc -l) > $MARK/oneshot.cwd"\n',
    's6-overlay/s6-rc.d/user/contents.d/init-where': '',
  });
  const run = init(etc, { S6_KEEP_ENV: '1', MARK: etc });
  await run.waitForOutput(/service init-where successfully started/);
  // The oneshot does not wait for cont-init (it is not in base's dependents): both done first.
  await run.waitForOutput(/10-where exited 0/);
  run.kill('SIGTERM');
  const { code } = await run.exited;
  const output = run.output();
  assert.equal(code, 0, output);
  // A `find` with an unset variable lists the runner's directory: itself and little else.
  for (const name of ['cont-init', 'oneshot', 'cont-finish']) {
    const [cwd, count] = readFileSync(join(etc, `${name}.cwd`), 'utf8').trim().split(' ');
    assert.equal(cwd, join(etc, 'run', 's6-rc', 'servicedirs', 's6rc-oneshot-runner'), `${name}: ${output}`);
    assert.ok(Number(count) <= 2, `${name} found ${count} entries: ${output}`);
  }
});

test('halt, steward halt and s6-svscanctl -t run inside the container (docker exec, a preStop hook) exit 0, not killed by the shutdown they asked for', { skip }, async () => {
  const etc = scriptTree({
    // A child left behind (linuxserver's svc-cron), so that the last stage's TERM to every process comes.
    'services.d/cron/run': '#!/bin/bash\nsleep infinity\n',
  });
  const commands = [
    [join(etc, 'run', 's6', 'basedir', 'bin', 'halt')],
    [process.execPath, join(repoRoot, 'bin', 'steward'), 'halt'],
    [process.execPath, join(repoRoot, 'bin', 's6-tool'), 's6-svscanctl', '-t', join(etc, 'run', 'service')],
  ];
  for (const command of commands) {
    const run = init(etc);
    await run.waitForOutput(/service cron: info: started/);
    // Entered into the container's PID namespace, as docker exec does.
    const halt = spawnSync('nsenter', ['-t', String(run.initPid()), '-p', '--', ...command], { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', STEWARD_RUN: join(etc, 'run') }, encoding: 'utf8', timeout: 30_000 });
    const { code } = await run.exited;
    const output = run.output();
    assert.match(output, /sending all processes the TERM signal/, output);
    assert.equal(halt.status, 0, `${command.join(' ')}: status ${halt.status}, signal ${halt.signal}: ${halt.stderr}\n${output}`);
    assert.equal(code, 0, output);
  }
});

test("as root, a /run of another user is taken back, as s6-overlay's preinit does (images tell a non-root container by its owner)", { skip }, async () => {
  const etc = scriptTree({});
  const run = startInit({ privateRun: true, runOwner: 1000, env: { STEWARD_ETC: etc }, args: ['sh', '-c', 'exit $(stat -c %u /run)'] });
  runs.push(run);
  const { code } = await run.exited;
  assert.equal(code, 0, run.output());
  assert.match(run.output(), /\/run belongs to uid 1000 instead of 0: fixing it/, run.output());
});

test('/init run again inside a running container refuses with 100 and leaves the running one alone', { skip }, async () => {
  const etc = scriptTree({
    'cont-init.d/10-count': `#!/bin/sh\necho init >> "${'$'}MARK"/cont-init.runs\n`,
    'services.d/web/run': `#!/bin/sh\necho started >> "${'$'}MARK"/web.starts\nexec sleep 1000\n`,
  });
  const env = { STEWARD_ETC: etc, STEWARD_RUN: join(etc, 'run'), S6_KEEP_ENV: '1', MARK: etc };
  const first = init(etc, { S6_KEEP_ENV: '1', MARK: etc });
  await first.waitForOutput(/^s6-rc: info: service legacy-services successfully started$/m);
  // docker exec CONTAINER /init, or CMD ["/init"]: not PID 1, the same /run.
  const second = startInit({ env, pid1: false });
  runs.push(second);
  // Bounded: one that does not refuse runs on, as a second supervisor of the same services.
  const { code } = await Promise.race([second.exited, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`the second init is still running:\n${second.output()}`)), 20_000).unref())]);
  assert.equal(code, 100, second.output());
  assert.match(second.output(), /steward: error: another Steward runs this container already \(its control socket .*control\.sock answers\)/, second.output());
  assert.equal(readFileSync(join(etc, 'cont-init.runs'), 'utf8'), 'init\n');
  assert.equal(readFileSync(join(etc, 'web.starts'), 'utf8'), 'started\n');
  // The first one still answers on its socket.
  const status = spawnSync(process.execPath, [join(repoRoot, 'bin', 'steward'), 'status', 'web'], { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', STEWARD_RUN: join(etc, 'run') }, encoding: 'utf8', timeout: 30_000 });
  assert.equal(status.status, 0, status.stderr);
  first.kill('SIGTERM');
  assert.equal((await first.exited).code, 0, first.output());
});

test("an up file's foreground block that cannot start is a warning and the rest runs; a background block that cannot start fails the oneshot with 111, as execline's", { skip }, async () => {
  const etc = scriptTree({
    's6-overlay/s6-rc.d/init-fg/type': 'oneshot\n',
    's6-overlay/s6-rc.d/init-fg/up': 'foreground { /no/such/program -p /run/app } sh -c "echo went on > $MARK/fg.out"\n',
    's6-overlay/s6-rc.d/init-bg/type': 'oneshot\n',
    's6-overlay/s6-rc.d/init-bg/up': 'background { /no/such/program } sh -c "echo went on > $MARK/bg.out"\n',
    's6-overlay/s6-rc.d/svc-after-bg/type': 'longrun\n',
    's6-overlay/s6-rc.d/svc-after-bg/run': `#!/bin/sh\necho started > "${'$'}MARK"/after-bg.out\nexec sleep 1000\n`,
    's6-overlay/s6-rc.d/svc-after-bg/dependencies.d/init-bg': '',
    's6-overlay/s6-rc.d/user/contents.d/init-fg': '',
    's6-overlay/s6-rc.d/user/contents.d/init-bg': '',
    's6-overlay/s6-rc.d/user/contents.d/svc-after-bg': '',
  });
  const run = init(etc, { S6_KEEP_ENV: '1', MARK: etc });
  await run.waitForOutput(/service init-fg successfully started/);
  await run.waitForOutput(/unable to start service init-bg/);
  await run.waitForOutput(/service svc-after-bg not started: it depends on init-bg/);
  run.kill('SIGTERM');
  await run.exited;
  const output = run.output();
  assert.match(output, /s6-rc: warning: service init-fg: foreground: warning: unable to spawn \/no\/such\/program: /, output);
  assert.equal(readFileSync(join(etc, 'fg.out'), 'utf8'), 'went on\n', output);
  assert.match(output, /s6-rc: warning: service init-bg: background: fatal: unable to spawn \/no\/such\/program: /, output);
  assert.match(output, /unable to start service init-bg: command background: fatal: unable to spawn \/no\/such\/program/, output);
  assert.equal(existsSync(join(etc, 'bg.out')), false, output);
  assert.equal(existsSync(join(etc, 'after-bg.out')), false, output);
});

test('services and the CMD start with no signal ignored or blocked, glibc\'s own two (32 and 33) included, as after a fork and exec', { skip }, async () => {
  const report = (who: string): string => `grep -E '^Sig(Ign|Blk):' /proc/self/status | sed 's/^/${who} /' >> "$MARK"/signals`;
  const etc = scriptTree({ 'services.d/web/run': `#!/bin/sh\n${report('service')}\nexec sleep 1000\n` });
  const run = init(etc, { S6_KEEP_ENV: '1', MARK: etc, S6_CMD_WAIT_FOR_SERVICES: '1' }, ['sh', '-c', `sleep 0.3; ${report('cmd')}`]);
  assert.equal((await run.exited).code, 0, run.output());
  const lines = readFileSync(join(etc, 'signals'), 'utf8').trim().split('\n').sort();
  assert.deepEqual(lines.map((line) => line.replace(/\s+/g, ' ')), [
    'cmd SigBlk: 0000000000000000', 'cmd SigIgn: 0000000000000000',
    'service SigBlk: 0000000000000000', 'service SigIgn: 0000000000000000',
  ]);
});

test('SIGTERM stops services with TERM, runs cont-finish and exits 0', { skip }, async () => {
  const etc = scriptTree({
    'services.d/web/run': `#!/bin/sh\ntrap 'echo web got TERM > "${'$'}MARK"/web.term; exit 0' TERM\nwhile :; do sleep 0.1; done\n`,
    'cont-finish.d/10-bye': `#!/bin/sh\necho finished > "${'$'}MARK"/finish.done\n`,
  });
  const run = init(etc, { S6_KEEP_ENV: '1', MARK: etc });
  await run.waitForOutput(/service web: info: started/);
  // s6-overlay v3's line that tools wait for, and v2's scan directory, which finish scripts name.
  await run.waitForOutput(/^s6-rc: info: service legacy-services successfully started$/m);
  // v2's scan directory exists in v2 images only (they have v2's stage 2).
  if (existsSync('/etc/s6/init/init-stage2')) assert.equal(readlinkSync(join(etc, 'run', 's6', 'services')), join(etc, 'run', 'service'));
  else assert.equal(existsSync(join(etc, 'run', 's6', 'services')), false);
  run.kill('SIGTERM');
  const { code } = await run.exited;
  assert.equal(code, 0, run.output());
  assert.equal(readFileSync(join(etc, 'web.term'), 'utf8').trim(), 'web got TERM');
  assert.equal(readFileSync(join(etc, 'finish.done'), 'utf8').trim(), 'finished');
  // The order of the stages is visible in the output.
  const output = run.output();
  assert.ok(output.indexOf('services-down') < output.indexOf('cont-finish: info: running'), output);
});

test('a SIGTERM as soon as the entry point holds signals, before the init has loaded, stops the container', { skip }, async () => {
  const etc = scriptTree({ 'services.d/web/run': '#!/bin/sh\nexec sleep 1000\n' });
  const run = init(etc, { S6_VERBOSITY: '3' });
  // Node itself catches SIGTERM from its first instant, only to die of it, which PID 1 cannot:
  // what tells that JavaScript holds signals is SIGPWR caught (SigCgt, signal 30), which
  // Node leaves alone and the entry point takes last.
  const pid = await (async (): Promise<number> => {
    // Looked at on every turn, to send it as early as can be; given up after a time, not a
    // count of turns, which a faster Node runs through before PID 1 reaches its first statement.
    const deadline = performance.now() + 15_000;
    while (performance.now() < deadline) {
      try {
        const pid = run.initPid();
        const caught = /^SigCgt:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
        if (caught !== undefined && (BigInt(`0x${caught}`) & (1n << 29n)) !== 0n) return pid;
      } catch {
        // not there yet
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    throw new Error(`PID 1 never caught SIGTERM:\n${run.output()}`);
  })();
  process.kill(pid, 'SIGTERM');
  await run.waitForOutput(/exiting with code 0/, 10_000);
  const { code } = await run.exited;
  assert.equal(code, 0, run.output());
});

test('without a control socket and with every service asleep, PID 1 keeps running until it is stopped', { skip }, async () => {
  // Nothing else keeps Node's event loop busy here: no socket, no timer, a service that sleeps.
  const etc = scriptTree({ 'services.d/sleeper/run': '#!/bin/sh\nexec sleep 1000\n', 'not-a-directory': 'a file\n' });
  const run = init(etc, { STEWARD_SOCKET: join(etc, 'not-a-directory', 'control.sock') });
  await run.waitForOutput(/service sleeper: info: started/);
  await run.waitForOutput(/cannot serve the control socket at .*not-a-directory\/control\.sock/);
  const early = await Promise.race([run.exited.then(() => 'exited'), new Promise((resolve) => setTimeout(() => resolve('running'), 1500))]);
  assert.equal(early, 'running', run.output());
  run.kill('SIGTERM');
  const { code } = await run.exited;
  assert.equal(code, 0, run.output());
});

test('a SIGTERM while services are still being started stops every one of them, including starts under way', { skip }, async () => {
  const files: Record<string, string> = {};
  for (let index = 0; index < 60; index++) {
    files[`services.d/svc-${String(index).padStart(2, '0')}/run`] = `#!/bin/sh\ntrap 'echo stopped >> "${'$'}MARK"/stopped; exit 0' TERM\necho started >> "${'$'}MARK"/started\nwhile :; do sleep 0.05; done\n`;
  }
  const etc = scriptTree(files);
  const run = init(etc, { S6_KEEP_ENV: '1', MARK: etc });
  await run.waitForOutput(/service svc-\d+: info: started/);
  run.kill('SIGTERM');
  const { code } = await run.exited;
  const output = run.output();
  assert.equal(code, 0, output);
  assert.doesNotMatch(output, /internal error|boot failed|still running after/, output);
  // Every service that got to run its script was stopped by its TERM, not by the final kill
  // (one whose TERM came between its trap and its first line counts as stopped only).
  const count = (file: string): number => (existsSync(join(etc, file)) ? readFileSync(join(etc, file), 'utf8').split('\n').filter(Boolean).length : 0);
  assert.ok(count('started') > 0, output);
  assert.ok(count('stopped') >= count('started'), `${count('started')} started, ${count('stopped')} stopped:\n${output}`);
});

test('a SIGTERM that comes while services.d is being started cuts it short: the rest is not started, and the stage does not say it was', { skip, timeout: 60_000 }, async () => {
  const files: Record<string, string> = {};
  const count = 400;
  for (let index = 0; index < count; index++) {
    // The first one asks for the stop as soon as it runs, while the others are being read and copied.
    const stop = index === 0 ? 'kill -TERM 1\n' : '';
    files[`services.d/svc-${String(index).padStart(3, '0')}/run`] = `#!/bin/sh\ntrap 'echo stopped >> "${'$'}MARK"/stopped; exit 0' TERM\necho started >> "${'$'}MARK"/started\n${stop}while :; do sleep 0.05; done\n`;
  }
  const etc = scriptTree(files);
  const run = init(etc, { S6_KEEP_ENV: '1', MARK: etc });
  const { code } = await run.exited;
  const output = run.output();
  assert.equal(code, 0, output);
  assert.doesNotMatch(output, /internal error|boot failed|still running after/, output);
  const starts = output.match(/copying legacy longrun svc-/g)?.length ?? 0;
  assert.ok(starts > 0 && starts < count, `${starts} of ${count} services started after the stop was asked for:\n${output.slice(-3000)}`);
  assert.doesNotMatch(output, /service legacy-services successfully started/, output.slice(-3000));
  const lines = (file: string): number => (existsSync(join(etc, file)) ? readFileSync(join(etc, file), 'utf8').split('\n').filter(Boolean).length : 0);
  assert.ok(lines('stopped') >= lines('started'), `${lines('started')} started, ${lines('stopped')} stopped`);
});

test('a second SIGTERM during shutdown joins it instead of starting another', { skip }, async () => {
  const etc = scriptTree({
    'services.d/slow/run': `#!/bin/sh\ntrap 'sleep 0.5; exit 0' TERM\nwhile :; do sleep 0.1; done\n`,
  });
  const run = init(etc);
  await run.waitForOutput(/service slow: info: started/);
  run.kill('SIGTERM');
  await run.waitForOutput(/stopping the container/);
  // Several of them while the service takes its half second to stop: said once, not once each.
  for (let index = 0; index < 4; index++) {
    run.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const { code } = await run.exited;
  assert.equal(code, 0);
  assert.equal(run.output().match(/received SIGTERM: already stopping/g)?.length, 1, run.output());
  assert.equal(run.output().match(/stopping the container/g)?.length, 1);
});

test('a CMD that ends by itself while the services stop still sets the exit code; one the last stage kills does not', { skip }, async () => {
  const etc = scriptTree({
    // Slow to stop: the CMD sees it stopping, and ends with 5 before the last stage.
    'services.d/slow/run': `#!/bin/sh\ntrap 'touch "${'$'}MARK"/stopping; sleep 0.5; exit 0' TERM\ntouch "${'$'}MARK"/trapped\nwhile :; do sleep 0.05; done\n`,
  });
  const run = init(etc, { S6_KEEP_ENV: '1', MARK: etc }, ['sh', '-c', `trap '' TERM; echo cmd-trapped; while [ ! -e "${etc}/stopping" ]; do sleep 0.02; done; exit 5`]);
  // Both have their traps in place: a TERM before that would kill them outright.
  await run.waitForOutput(/cmd-trapped/);
  while (!existsSync(join(etc, 'trapped'))) await new Promise((resolve) => setTimeout(resolve, 20));
  run.kill('SIGTERM');
  const { code } = await run.exited;
  assert.equal(code, 5, run.output());
  assert.match(run.output(), /the command exited 5; exit code 5/);

  const second = init(scriptTree({ 'services.d/web/run': '#!/bin/sh\nexec sleep 1000\n' }), {}, ['sleep', '1000']);
  await second.waitForOutput(/running the command/);
  second.kill('SIGTERM');
  assert.equal((await second.exited).code, 0, second.output());
});

test('a process entered from outside (docker exec) gets the last TERM and its grace time, with and without services', { skip }, async () => {
  for (const services of [{}, { 'services.d/web/run': '#!/bin/sh\nexec sleep 1000\n' }]) {
    const etc = scriptTree(services);
    const run = init(etc, { S6_KILL_GRACETIME: '5000' });
    await run.waitForOutput(/service legacy-services successfully started/);
    const done = join(etc, 'entered.done');
    // nsenter forks the shell into the container's PID namespace: its parent stays outside, as
    // docker exec's does. It needs half a second after the TERM to finish its work.
    const entered = spawn('nsenter', ['--target', String(run.initPid()), '--pid', '--', 'sh', '-c',
      `trap 'sleep 0.5; echo graceful > "${done}"; exit 0' TERM; echo entered; while :; do sleep 0.1; done`], { stdio: ['ignore', 'pipe', 'inherit'] });
    const enteredExit = new Promise<number | null>((resolve) => entered.once('close', (code) => resolve(code)));
    await new Promise((resolve) => entered.stdout.once('data', resolve));
    run.kill('SIGTERM');
    const { code } = await run.exited;
    assert.equal(code, 0, run.output());
    assert.match(run.output(), /sending all processes the TERM signal/);
    assert.doesNotMatch(run.output(), /sending all processes the KILL signal/, run.output());
    assert.equal(existsSync(done) ? readFileSync(done, 'utf8') : 'killed before it finished', 'graceful\n');
    assert.equal(await enteredExit, 0);
  }
});

test('what an entered process leaves behind when it ends after the TERM (a docker exec\'d shell\'s backup) gets the rest of the grace time', { skip }, async () => {
  const etc = scriptTree({});
  const run = init(etc, { S6_KILL_GRACETIME: '5000' });
  await run.waitForOutput(/service legacy-services successfully started/);
  const done = join(etc, 'backup.done');
  // The shell ends 0.3 s after the TERM; its backup, left to PID 1 then, needs a second.
  const backup = `(trap 'sleep 1; echo finished > "${done}"; exit 0' TERM; while :; do sleep 0.1; done) &`;
  const entered = spawn('nsenter', ['--target', String(run.initPid()), '--pid', '--', 'sh', '-c',
    `${backup} trap 'sleep 0.3; exit 0' TERM; echo entered; while :; do sleep 0.1; done`], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve) => entered.stdout.once('data', resolve));
  run.kill('SIGTERM');
  const { code } = await run.exited;
  assert.equal(code, 0, run.output());
  assert.equal(existsSync(done) ? readFileSync(done, 'utf8') : 'killed before it finished', 'finished\n', run.output());
  assert.doesNotMatch(run.output(), /sending all processes the KILL signal/, run.output());
});

test('a service that ignores TERM is killed after the grace times, then the init exits', { skip }, async () => {
  const etc = scriptTree({ 'services.d/stubborn/run': `#!/bin/sh\ntrap '' TERM\nexec sleep 1000\n` });
  const run = init(etc, { S6_SERVICES_GRACETIME: '300', S6_KILL_GRACETIME: '300' });
  await run.waitForOutput(/service stubborn: info: started/);
  run.kill('SIGTERM');
  const { code } = await run.exited;
  assert.equal(code, 0, run.output());
  assert.match(run.output(), /still running after 300 ms \(S6_SERVICES_GRACETIME\): stubborn/);
  assert.match(run.output(), /sending all processes the KILL signal/);
});

test('a service killed by the last SIGKILL runs no finish script, so one that records deaths by signal leaves the exit code at 0', { skip }, async () => {
  // Home Assistant add-ons' finish template: a death by signal becomes the container's 128+N.
  const finish = `#!/bin/sh\necho "finish $1 $2" >> "$MARK"/finish.log\nif [ "$1" = 256 ]; then echo $((128 + $2)) > ${'$'}{STEWARD_RUN}/s6-linux-init-container-results/exitcode; fi\n`;
  const etc = scriptTree({
    'services.d/stubborn/run': `#!/bin/sh\ntrap '' TERM\nexec sleep 1000\n`,
    'services.d/stubborn/finish': finish,
    'services.d/polite/run': `#!/bin/sh\nexec sleep 1000\n`,
    'services.d/polite/finish': `#!/bin/sh\necho "polite finish $1 $2" >> "$MARK"/finish.log\n`,
  });
  // Grace enough for polite's stop on a slow moment of the machine: stubborn waits it out anyway.
  const run = init(etc, { S6_SERVICES_GRACETIME: '2000', S6_KILL_GRACETIME: '300', S6_KEEP_ENV: '1', MARK: etc, STEWARD_RUN: join(etc, 'run') });
  await run.waitForOutput(/service stubborn: info: started/);
  await run.waitForOutput(/service polite: info: started/);
  run.kill('SIGTERM');
  const { code } = await run.exited;
  assert.match(run.output(), /sending all processes the KILL signal/);
  assert.equal(code, 0, run.output());
  // polite stopped on its down-signal and ran its finish script; stubborn, killed at the end, ran none.
  assert.equal(readFileSync(join(etc, 'finish.log'), 'utf8'), 'polite finish 256 15\n');
});

test('an s6-rc longrun without timeout-down gets its down-signal once and all the time it needs, beyond S6_SERVICES_GRACETIME', { skip }, async () => {
  const etc = scriptTree({
    's6-overlay/s6-rc.d/drain/type': 'longrun\n',
    's6-overlay/s6-rc.d/drain/down-signal': 'SIGQUIT\n',
    // A graceful drain of 1.5 s on SIGQUIT, counting the signals it gets.
    's6-overlay/s6-rc.d/drain/run': `#!/bin/sh\ntrap 'echo QUIT >> "$MARK"/drain.signals; draining=1' QUIT\ndraining=0\nwhile [ $draining = 0 ]; do sleep 0.05; done\nsleep 1.5\necho drained > "$MARK"/drain.done\n`,
    's6-overlay/s6-rc.d/user/contents.d/drain': '',
  });
  const run = init(etc, { S6_SERVICES_GRACETIME: '300', S6_KILL_GRACETIME: '300', S6_KEEP_ENV: '1', MARK: etc });
  await run.waitForOutput(/service drain successfully started/);
  run.kill('SIGTERM');
  const { code } = await run.exited;
  assert.equal(code, 0, run.output());
  assert.equal(readFileSync(join(etc, 'drain.done'), 'utf8'), 'drained\n', run.output());
  assert.equal(readFileSync(join(etc, 'drain.signals'), 'utf8'), 'QUIT\n');
  assert.doesNotMatch(run.output(), /sending all processes the KILL signal/);
});

test('a service that dies again and again at once gets a few lines, then one saying so, not two lines per restart', { skip }, async () => {
  const etc = scriptTree({ 'services.d/frontend/run': `#!/bin/sh\necho run >> "$MARK"/runs\nexit 0\n` });
  const run = init(etc, { STEWARD_RESTART_THROTTLE: '50', S6_KEEP_ENV: '1', MARK: etc });
  // Many restarts: well past the few that are reported one by one.
  while (!existsSync(join(etc, 'runs')) || readFileSync(join(etc, 'runs'), 'utf8').split('\n').length < 20) await new Promise((resolve) => setTimeout(resolve, 50));
  run.kill('SIGTERM');
  assert.equal((await run.exited).code, 0, run.output());
  const output = run.output();
  assert.equal(output.match(/service frontend: warning: exited 0 unexpectedly; it will be restarted/g)?.length, 2, output);
  assert.equal(output.match(/service frontend: warning: exited 0 unexpectedly, 3 times in a row within 10 seconds of starting; it is restarted each time/g)?.length, 1, output);
  assert.equal(output.match(/service frontend: info: started/g)?.length, 3, output);
});

test('services that stop promptly do not wait for the kill grace time', { skip }, async () => {
  const etc = scriptTree({ 'services.d/prompt/run': `#!/bin/sh\nexec sleep 1000\n` });
  const run = init(etc, { S6_KILL_GRACETIME: '60000', S6_SERVICES_GRACETIME: '60000' });
  await run.waitForOutput(/service prompt: info: started/);
  run.kill('SIGTERM');
  const { code } = await run.exited;
  assert.equal(code, 0);
  // Nothing was left for the TERM-everything phase, so it was skipped, not slept through.
  assert.doesNotMatch(run.output(), /sending all processes the KILL signal/);
});

test('the CMD exit code becomes the container exit code', { skip }, async () => {
  const run = init(scriptTree({}), {}, ['sh', '-c', 'exit 3']);
  const { code } = await run.exited;
  assert.equal(code, 3, run.output());
});

test('a CMD killed by signal N gives 128+N', { skip }, async () => {
  const run = init(scriptTree({}), {}, ['sh', '-c', 'kill -USR1 $$']);
  const { code } = await run.exited;
  assert.equal(code, 128 + 10, run.output());
  assert.match(run.output(), /the command killed by SIGUSR1/);
  // A real-time signal, which Node has no name for: its own number, not SIGKILL's.
  const realTime = init(scriptTree({}), {}, ['sh', '-c', 'kill -40 $$']);
  assert.equal((await realTime.exited).code, 128 + 40, realTime.output());
  assert.match(realTime.output(), /the command killed by SIGRTMIN\+6/);
});

test('a CMD that cannot be found exits 127 with a clear message', { skip }, async () => {
  const run = init(scriptTree({}), {}, ['no-such-program-here']);
  const { code } = await run.exited;
  assert.equal(code, 127);
  assert.match(run.output(), /cannot run the command no-such-program-here: not found/);
  // A skarnet program the image lacks (s6-overlay's tarballs gone) says what to install.
  const skarnet = init(scriptTree({}), {}, ['s6-chroot', '/', 'true']);
  assert.equal((await skarnet.exited).code, 127);
  assert.match(skarnet.output(), /cannot run the command s6-chroot: not found \(PATH is [^)]*\)\. Install s6-linux-utils/);
});

test('a CMD that is there but cannot run says why, as for a run script, and exits 126; a missing path 127', { skip }, async () => {
  const etc = scriptTree({
    'app/crlf': '#!/bin/sh\r\necho hi\r\n',
    'app/interpreter': '#!/no/such/interpreter\necho hi\n',
  });
  writeFileSync(join(etc, 'app', 'not-executable'), '#!/bin/sh\necho hi\n', { mode: 0o644 });
  const cases: [string, number, RegExp][] = [
    ['crlf', 126, /cannot run the command .*\/app\/crlf: the command has Windows \(CRLF\) line endings/],
    ['interpreter', 126, /cannot run the command .*\/app\/interpreter: the command asks for the interpreter \/no\/such\/interpreter, which is not installed here/],
    ['not-executable', 126, /cannot run the command .*\/app\/not-executable: the command is not executable \(EACCES\)\. Run chmod \+x/],
    ['missing', 127, /cannot run the command .*\/app\/missing: not found/],
  ];
  for (const [name, status, message] of cases) {
    const run = init(etc, {}, [join(etc, 'app', name)]);
    const { code } = await run.exited;
    assert.equal(code, status, run.output());
    assert.match(run.output(), message, run.output());
  }
});

test('with no CMD, SIGQUIT and (with no terminal) SIGWINCH stop the container as SIGTERM does: the STOPSIGNAL of the official php-fpm and php-apache images', { skip, timeout: 60_000 }, async () => {
  for (const signal of ['SIGQUIT', 'SIGWINCH'] as const) {
    const etc = scriptTree({
      'services.d/web/run': `#!/bin/sh\ntrap 'echo got TERM > "${'$'}MARK"/web.term; exit 0' TERM\nwhile :; do sleep 0.1; done\n`,
    });
    // setsid: a session without a controlling terminal, as a container started without -t.
    const run = startInit({ env: { STEWARD_ETC: etc, STEWARD_RUN: join(etc, 'run'), S6_KEEP_ENV: '1', MARK: etc }, launcher: ['setsid'] });
    runs.push(run);
    await run.waitForOutput(/service web: info: started/);
    run.kill(signal);
    // Bounded: an init that ignores the signal would never exit.
    const ended = await Promise.race([run.exited, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 20_000))]);
    assert.ok(ended !== undefined, `still running 20 s after ${signal}:\n${run.output()}`);
    assert.equal(ended.code, 0, run.output());
    assert.match(run.output(), new RegExp(`stopping the container: received ${signal}`));
    assert.equal(readFileSync(join(etc, 'web.term'), 'utf8').trim(), 'got TERM', run.output());
  }
});

test('SIGQUIT and SIGWINCH go to a running CMD, which decides (php-fpm drains on QUIT, apache2-foreground on WINCH)', { skip }, async () => {
  for (const [signal, trapped, exitCode] of [['SIGQUIT', 'QUIT', 3], ['SIGWINCH', 'WINCH', 4]] as const) {
    // Armed a moment after it starts: by then Steward has its pid.
    const run = init(scriptTree({}), {}, ['sh', '-c', `trap 'exit ${exitCode}' ${trapped}; sleep 0.3; echo cmd-armed; while :; do sleep 0.1; done`]);
    await run.waitForOutput(/^cmd-armed$/m);
    run.kill(signal);
    const { code } = await run.exited;
    assert.equal(code, exitCode, run.output());
    assert.match(run.output(), new RegExp(`the command exited ${exitCode}`));
  }
});

test('with a terminal, a SIGWINCH is a resize: a CMD in a session of its own (s6-setsid apache2-foreground) does not get it, unless S6_CMD_RECEIVE_SIGNALS=1', { timeout: 60_000 }, async () => {
  for (const receive of ['0', '1']) {
    const etc = scriptTree({});
    // The CMD says where Steward is, then waits a second for a WINCH (apache's graceful stop).
    const cmd = `exec setsid sh -c 'trap "echo got-winch; exit 4" WINCH; echo "steward=$PPID"; i=0; while [ $i -lt 20 ]; do sleep 0.1; i=$((i+1)); done; exit 0'`;
    const line = `STEWARD_ETC='${etc}' STEWARD_RUN='${join(etc, 'run')}' S6_CMD_RECEIVE_SIGNALS=${receive} '${initBin}' sh -c "${cmd.replaceAll('"', '\\"').replaceAll('$', '\\$')}"`;
    // script(1): a pseudo-terminal, which becomes Steward's controlling terminal, as under docker run -t.
    const child = spawn('script', ['-qec', line, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    for (let attempt = 0; attempt < 200 && !/steward=\d+/.test(output); attempt++) await new Promise((resolve) => setTimeout(resolve, 50));
    const pid = Number(/steward=(\d+)/.exec(output)?.[1]);
    assert.ok(pid > 1, output);
    process.kill(pid, 'SIGWINCH');
    const code = await new Promise((resolve) => child.once('exit', resolve));
    assert.equal(code, receive === '1' ? 4 : 0, output);
    if (receive === '1') assert.match(output, /^got-winch/m);
    else assert.doesNotMatch(output, /^got-winch/m);
  }
});

test('with S6_CMD_RECEIVE_SIGNALS=1, SIGHUP stays a rescan, as under s6-overlay, and SIGTERM goes to the CMD', { skip }, async () => {
  const etc = scriptTree({});
  const run = init(etc, { S6_CMD_RECEIVE_SIGNALS: '1' }, ['sh', '-c', "trap 'exit 7' TERM; while :; do sleep 0.1; done"]);
  // Written once the CMD counts as running, the signals it receives being its own from then on.
  const cmdpid = join(etc, 'run', 's6', 'cmdpid');
  for (let attempt = 0; attempt < 200 && !existsSync(cmdpid); attempt++) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.ok(existsSync(cmdpid), run.output());
  run.kill('SIGHUP');
  await run.waitForOutput(/SIGHUP: scanned .*, nothing new/);
  // Later scans that find nothing say so at debug level only (a script may send SIGHUP in a loop).
  for (let index = 0; index < 5; index++) run.kill('SIGHUP');
  await new Promise((resolve) => setTimeout(resolve, 300));
  run.kill('SIGTERM');
  const { code } = await run.exited;
  assert.equal(code, 7, run.output());
  assert.equal(run.output().match(/SIGHUP: scanned .*, nothing new/g)?.length, 1, run.output());
});

test('S6_CMD_ARG0 is put before the CMD', { skip }, async () => {
  const run = init(scriptTree({}), { S6_CMD_ARG0: 'sh -c' }, ['exit 5']);
  const { code } = await run.exited;
  assert.equal(code, 5, run.output());
});

test('S6_CMD_ARG0 alone is the CMD in an image made for s6-overlay v2, as its stage 1 made it; a v3 image without a CMD runs until stopped', { skip, timeout: 60_000 }, async () => {
  const etc = scriptTree({
    's6/init/init-stage2': '#!/usr/bin/execlineb -S0\n',
    'tool': '#!/bin/sh\necho "tool ran with: $*" >&2\nexit 6\n',
    'cont-finish.d/save': '#!/bin/sh\necho "cont-finish ran" >&2\n',
  });
  const v2 = init(etc, { S6_CMD_ARG0: `${join(etc, 'tool')} --first-run` });
  const { code } = await v2.exited;
  assert.equal(code, 6, v2.output());
  assert.match(v2.output(), /tool ran with: --first-run\n/);
  assert.match(v2.output(), /cont-finish ran/);
  const v3 = init(scriptTree({ 'services.d/web/run': '#!/bin/sh\nexec sleep 1000\n' }), { S6_CMD_ARG0: 'sh -c' });
  await v3.waitForOutput(/service web: info: started/);
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.doesNotMatch(v3.output(), /running the command/);
  v3.kill('SIGTERM');
  assert.equal((await v3.exited).code, 0, v3.output());
});

test('a finish script that writes the exit code and calls halt ends the container with it', { skip }, async () => {
  const etc = scriptTree({
    'services.d/worker/run': '#!/bin/sh\necho "run as: $0 $*" >&2\nsleep 0.2\nexit 1\n',
    'services.d/worker/finish':
      '#!/bin/sh\necho "finish args: $1 $2 $3, as $0 in $PWD" >&2\necho 42 > /run/s6-linux-init-container-results/exitcode\nexec /run/s6/basedir/bin/halt\n',
  });
  const run = startInit({ privateRun: true, env: { STEWARD_ETC: etc } });
  runs.push(run);
  const { code } = await run.exited;
  assert.equal(code, 42, run.output());
  // As s6-supervise runs them: ./run and ./finish from the service directory.
  assert.match(run.output(), /run as: \.\/run worker\n/);
  assert.match(run.output(), /finish args: 1 0 worker, as \.\/finish in \/run\/s6\/legacy-services\/worker\n/);
  assert.match(run.output(), /halt requested/);
});

test('a boot script that runs halt itself and then fails is let end, and its failure counts: exit 1 with S6_BEHAVIOUR_IF_STAGE2_FAILS=2, as s6-overlay', { skip, timeout: 60_000 }, async () => {
  // NPM's prepare: log_fatal runs halt, then exit 1. A cont-init script and an s6-rc oneshot.
  const fatal = (mark: string): string => `#!/bin/sh\necho "fatal: /data is not mounted" >&2\n/run/s6/basedir/bin/halt\nsleep 0.3\necho after > "$MARK"/${mark}\nexit 1\n`;
  const contInit = scriptTree({
    'cont-init.d/10-fatal': fatal('cont-init.after'),
    'cont-init.d/20-next': '#!/bin/sh\necho ran > "$MARK"/next\n',
  });
  const oneshot = scriptTree({
    's6-overlay/scripts/prepare': fatal('oneshot.after'),
    's6-overlay/s6-rc.d/prepare/type': 'oneshot\n',
    's6-overlay/s6-rc.d/user/contents.d/prepare': '',
  });
  writeFileSync(join(oneshot, 's6-overlay', 's6-rc.d', 'prepare', 'up'), `${join(oneshot, 's6-overlay', 'scripts', 'prepare')}\n`);
  const outcomes: { code: number | null; output: string }[] = [];
  for (const [etc, policy] of [
    [contInit, '2'],
    [oneshot, '2'],
    [oneshot, '1'],
    [oneshot, '0'],
  ] as const) {
    const run = startInit({ privateRun: true, env: { STEWARD_ETC: etc, S6_KEEP_ENV: '1', MARK: etc, S6_BEHAVIOUR_IF_STAGE2_FAILS: policy } });
    runs.push(run);
    const { code } = await run.exited;
    outcomes.push({ code, output: run.output() });
  }
  const [fromContInit, fromOneshot, onlyWarned, carriedOn] = outcomes;
  assert.equal(fromContInit?.code, 1, fromContInit?.output);
  assert.equal(readFileSync(join(contInit, 'cont-init.after'), 'utf8'), 'after\n', fromContInit?.output);
  assert.match(fromContInit?.output ?? '', /10-fatal exited 1 after asking for the stop/);
  assert.match(fromContInit?.output ?? '', /cont-init: warning: some scripts exited nonzero/);
  // The stop does not wait for the rest of the boot: the next script is not run.
  assert.equal(existsSync(join(contInit, 'next')), false, fromContInit?.output);
  assert.equal(fromOneshot?.code, 1, fromOneshot?.output);
  assert.equal(readFileSync(join(oneshot, 'oneshot.after'), 'utf8'), 'after\n', fromOneshot?.output);
  assert.match(fromOneshot?.output ?? '', /unable to start service prepare: command exited 1 after asking for the stop/);
  // S6_BEHAVIOUR_IF_STAGE2_FAILS=1: a warning, and the halt's exit code (0).
  assert.equal(onlyWarned?.code, 0, onlyWarned?.output);
  assert.match(onlyWarned?.output ?? '', /s6-rc: warning: unable to start service prepare/);
  // 0: s6-rc says it all the same, as it says any oneshot's failure.
  assert.equal(carriedOn?.code, 0, carriedOn?.output);
  assert.match(carriedOn?.output ?? '', /s6-rc: warning: unable to start service prepare: command exited 1 after asking for the stop/);
});

test("an s6-rc oneshot whose up runs halt in a foreground block goes on to its end, as one chain under s6-rc, and its failure counts", { skip, timeout: 60_000 }, async () => {
  const etc = scriptTree({
    's6-overlay/s6-rc.d/prepare/type': 'oneshot\n',
    's6-overlay/s6-rc.d/prepare/up': 'foreground { /run/s6/basedir/bin/halt }\nsh -c "echo cleaned > $MARK/cleaned; exit 1"\n',
    's6-overlay/s6-rc.d/user/contents.d/prepare': '',
  });
  const run = startInit({ privateRun: true, env: { STEWARD_ETC: etc, S6_KEEP_ENV: '1', MARK: etc, S6_BEHAVIOUR_IF_STAGE2_FAILS: '2' } });
  runs.push(run);
  const { code } = await run.exited;
  assert.equal(readFileSync(join(etc, 'cleaned'), 'utf8'), 'cleaned\n', run.output());
  assert.equal(code, 1, run.output());
});

test('what a boot script that ran halt left running gets the stop once the script has ended, before cont-finish.d runs', { skip, timeout: 60_000 }, async () => {
  const etc = scriptTree({
    // A helper in the script's process group that stops on TERM, leaving a mark.
    'cont-init.d/10-fatal': `#!/bin/sh\nsh -c 'trap "echo termed > \\"$MARK\\"/helper; exit 0" TERM; while :; do sleep 0.1; done' &\n/run/s6/basedir/bin/halt\nexit 1\n`,
    'cont-finish.d/10-look': '#!/bin/sh\ncat "$MARK"/helper > "$MARK"/seen-by-finish 2>/dev/null || echo missing > "$MARK"/seen-by-finish\n',
  });
  const run = startInit({ privateRun: true, env: { STEWARD_ETC: etc, S6_KEEP_ENV: '1', MARK: etc, S6_KILL_GRACETIME: '20000' } });
  runs.push(run);
  const { code } = await run.exited;
  assert.equal(code, 0, run.output());
  assert.equal(readFileSync(join(etc, 'seen-by-finish'), 'utf8'), 'termed\n', run.output());
});

test('a boot script that ran halt and then ignores TERM is killed before cont-finish.d runs', { skip, timeout: 60_000 }, async () => {
  const etc = scriptTree({
    'cont-init.d/10-stuck': `#!/bin/sh\ntrap '' TERM\necho $$ > "$MARK"/stuck.pid\n/run/s6/basedir/bin/halt\nwhile :; do sleep 0.1; done\n`,
    'cont-finish.d/10-look': '#!/bin/sh\nif kill -0 "$(cat "$MARK"/stuck.pid)" 2>/dev/null; then echo alive; else echo gone; fi > "$MARK"/seen-by-finish\n',
  });
  const run = startInit({ privateRun: true, env: { STEWARD_ETC: etc, S6_KEEP_ENV: '1', MARK: etc, S6_KILL_GRACETIME: '3000' } });
  runs.push(run);
  await run.exited;
  assert.equal(readFileSync(join(etc, 'seen-by-finish'), 'utf8'), 'gone\n', run.output());
});

test("an image made for s6-overlay v2 runs cont-init.d and cont-finish.d scripts from /var/run/s6/etc, as v2 did: $0 says so", { skip, timeout: 60_000 }, async () => {
  // tiredofit's v2-era functions: case "$(dirname "$0")" in "/var/run/s6/etc/cont-init.d") ...
  const whereAmI = (name: string): string => `#!/bin/sh\necho "$0" > "$MARK"/${name}\n`;
  const etc = scriptTree({
    's6/init/init-stage2': '#!/usr/bin/execlineb -S0\n',
    'cont-init.d/10-where': whereAmI('cont-init'),
    'cont-finish.d/10-where': whereAmI('cont-finish'),
    'services.d/idle/run': '#!/bin/sh\nexec sleep 1000\n',
  });
  const v3 = scriptTree({ 'cont-init.d/10-where': whereAmI('cont-init') });
  for (const tree of [etc, v3]) {
    const run = startInit({ privateRun: true, env: { STEWARD_ETC: tree, S6_KEEP_ENV: '1', MARK: tree } });
    runs.push(run);
    await run.waitForOutput(/10-where exited 0/);
    run.kill('SIGTERM');
    assert.equal((await run.exited).code, 0, run.output());
  }
  assert.equal(readFileSync(join(etc, 'cont-init'), 'utf8'), '/var/run/s6/etc/cont-init.d/10-where\n');
  assert.equal(readFileSync(join(etc, 'cont-finish'), 'utf8'), '/var/run/s6/etc/cont-finish.d/10-where\n');
  // v3 runs them from the image's own directory.
  assert.equal(readFileSync(join(v3, 'cont-init'), 'utf8'), `${join(v3, 'cont-init.d', '10-where')}\n`);
});

test("a oneshot's script that an earlier oneshot makes executable runs, and the boot does not call it an error first (hotio's init-perms)", { skip, timeout: 60_000 }, async () => {
  const etc = scriptTree({
    's6-overlay/scripts/setup': '#!/bin/sh\necho done > "$MARK"/setup\n',
    's6-overlay/s6-rc.d/init-perms/type': 'oneshot\n',
    's6-overlay/s6-rc.d/init-setup/type': 'oneshot\n',
    's6-overlay/s6-rc.d/init-setup/dependencies.d/init-perms': '',
    's6-overlay/s6-rc.d/user/contents.d/init-perms': '',
    's6-overlay/s6-rc.d/user/contents.d/init-setup': '',
  });
  const script = join(etc, 's6-overlay', 'scripts', 'setup');
  chmodSync(script, 0o644);
  writeFileSync(join(etc, 's6-overlay', 's6-rc.d', 'init-perms', 'up'), `chmod +x ${script}\n`);
  writeFileSync(join(etc, 's6-overlay', 's6-rc.d', 'init-setup', 'up'), `${script}\n`);
  const run = init(etc, { S6_KEEP_ENV: '1', MARK: etc });
  await run.waitForOutput(/service init-setup successfully started/);
  run.kill('SIGTERM');
  assert.equal((await run.exited).code, 0, run.output());
  assert.equal(readFileSync(join(etc, 'setup'), 'utf8'), 'done\n', run.output());
  assert.doesNotMatch(run.output(), /not executable/);
});

test("an s6-rc longrun's down file is left out of its live directory, as s6-rc-compile ignores it: it starts, and is normally up", { skip, timeout: 60_000 }, async () => {
  // docker-baseimage-selkies ships one in svc-de.
  const etc = scriptTree({
    's6-overlay/s6-rc.d/svc-de/type': 'longrun\n',
    's6-overlay/s6-rc.d/svc-de/run': '#!/bin/sh\nexec sleep 1000\n',
    's6-overlay/s6-rc.d/svc-de/down': '',
    's6-overlay/s6-rc.d/user/contents.d/svc-de': '',
  });
  const run = init(etc);
  await run.waitForOutput(/service svc-de successfully started/);
  const live = join(etc, 'run', 's6-rc', 'servicedirs', 'svc-de');
  const svstat = spawnSync(process.execPath, [join(repoRoot, 'bin', 's6-tool'), 's6-svstat', '-o', 'up,normallyup', live], { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', STEWARD_RUN: join(etc, 'run') }, encoding: 'utf8', timeout: 30_000 });
  const downThere = existsSync(join(live, 'down'));
  run.kill('SIGTERM');
  assert.equal((await run.exited).code, 0, run.output());
  assert.equal(downThere, false, run.output());
  assert.equal(svstat.stdout.trim(), 'true true', svstat.stderr);
});

test("an image made for s6-overlay v2: v2's script arguments, and the exit code a finish script leaves in its stage-3 environment", { skip, timeout: 60_000 }, async () => {
  const etc = scriptTree({
    // What v2 leaves in an image.
    's6/init/init-stage2': '#!/usr/bin/execlineb -S0\n',
    'services.d/task/run': '#!/bin/sh\necho "task run with $# arguments" >&2\nsleep 0.5\nexit 3\n',
    // As v2 images do it (Cortex's task finish): the code into env-stage3, then stop the container.
    'services.d/task/finish':
      '#!/bin/sh\necho "finish as $0 $*" >&2\nprintf %s "$1" > /var/run/s6/env-stage3/S6_STAGE2_EXITED\nexec s6-svscanctl -t /var/run/s6/services\n',
    // Cortex's finish on every service: the signal that killed it, when one did. v2's stage 3 read
    // the envdir as the stop began, before the TERM it sends makes this one write 15.
    'services.d/worker/run': '#!/bin/sh\nexec sleep 1000\n',
    'services.d/worker/finish':
      '#!/bin/sh\nif [ "$1" = 256 ]; then printf %s "$2"; else printf %s "$1"; fi > /var/run/s6/env-stage3/S6_STAGE2_EXITED\nexec s6-svscanctl -t /var/run/s6/services\n',
    'cont-finish.d/99-message': '#!/bin/sh\necho "stage 2 exited ${S6_STAGE2_EXITED-unset}" >&2\n',
  });
  const run = startInit({ privateRun: true, env: { STEWARD_ETC: etc } });
  runs.push(run);
  const { code } = await run.exited;
  assert.equal(code, 3, run.output());
  assert.match(run.output(), /task run with 0 arguments/);
  assert.match(run.output(), /finish as \.\/finish 3 0\n/);
  assert.match(run.output(), /stage 2 exited 3\n/);
});

test('an image made for s6-overlay v2 prints v2\'s "[services.d] done." and ignores SIGUSR1, SIGUSR2 and SIGPWR, as its s6-svscan did; a v3 one stops on them', { skip, timeout: 60_000 }, async () => {
  const service = { 'services.d/web/run': '#!/bin/sh\nexec sleep 1000\n' };
  const v2 = init(scriptTree({ 's6/init/init-stage2': '#!/usr/bin/execlineb -S0\n', ...service }));
  await v2.waitForOutput(/service web: info: started/);
  for (const signal of ['SIGUSR1', 'SIGUSR2', 'SIGPWR'] as const) {
    v2.kill(signal);
    await v2.waitForOutput(new RegExp(`ignoring ${signal}, as s6-overlay v2 does`));
  }
  assert.doesNotMatch(v2.output(), /stopping the container/);
  v2.kill('SIGTERM');
  assert.equal((await v2.exited).code, 0, v2.output());
  assert.match(v2.output(), /stopping the container: received SIGTERM/);
  // v2's own line when services.d is up, which v2 images' users and test harnesses wait for.
  assert.match(v2.output(), /^\[services\.d\] done\.$/m);
  const v3 = init(scriptTree(service));
  await v3.waitForOutput(/service web: info: started/);
  await v3.waitForOutput(/s6-rc: info: service legacy-services successfully started/);
  assert.doesNotMatch(v3.output(), /\[services\.d\]/);
  v3.kill('SIGUSR1');
  assert.equal((await v3.exited).code, 0, v3.output());
  assert.match(v3.output(), /stopping the container: received SIGUSR1/);
});

test('services.d services with .dep files start once what they name is ready, and stop before it, as jlesage\'s base images expect', { skip, timeout: 60_000 }, async () => {
  const etc = scriptTree({
    // An X server ready half a second after it starts (a notification-fd), and an app that needs it.
    'services.d/xvfb/run': `#!/bin/sh\ntrap 'echo xvfb-stop >> "$MARK"/order; exit 0' TERM\nsleep 0.5\ntouch "$MARK"/display\necho >&3\nwhile :; do sleep 0.05; done\n`,
    'services.d/xvfb/notification-fd': '3\n',
    'services.d/app/run': `#!/bin/sh\ntrap 'sleep 0.3; echo app-stop >> "$MARK"/order; exit 0' TERM\n[ -e "$MARK"/display ] && echo app-found-display >> "$MARK"/order || echo app-found-no-display >> "$MARK"/order\nwhile :; do sleep 0.05; done\n`,
    'services.d/app/xvfb.dep': '',
    'services.d/app/ghost.dep': '',
  });
  const run = init(etc, { S6_KEEP_ENV: '1', MARK: etc });
  await run.waitForOutput(/service app: info: started/);
  // Started means spawned: wait until its script has looked (and set its trap).
  const order = join(etc, 'order');
  for (let attempt = 0; attempt < 200 && !(existsSync(order) && readFileSync(order, 'utf8').includes('app-found')); attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  run.kill('SIGTERM');
  assert.equal((await run.exited).code, 0, run.output());
  assert.deepEqual(readFileSync(order, 'utf8').trim().split('\n'), ['app-found-display', 'app-stop', 'xvfb-stop'], run.output());
  assert.match(run.output(), /app has ghost\.dep, but there is no service ghost: not waited for/);
});

test('a failing cont-init script stops cont-init.d and gives the container its exit code in an s6-overlay v2 image (S6_BEHAVIOUR_IF_STAGE2_FAILS=2 or more); a v3 one runs the rest and ends with 1', { skip, timeout: 60_000 }, async () => {
  for (const v2 of [true, false]) {
    const etc = scriptTree({
      ...(v2 ? { 's6/init/init-stage2': '#!/usr/bin/execlineb -S0\n' } : {}),
      'cont-init.d/00-niceness': '#!/bin/sh\necho "cannot set the niceness" >&2\nexit 6\n',
      'cont-init.d/10-take-ownership': '#!/bin/sh\ntouch "$MARK"/ran-on\n',
      'services.d/app/run': '#!/bin/sh\nexec sleep 1000\n',
    });
    const run = init(etc, { S6_BEHAVIOUR_IF_STAGE2_FAILS: '3', S6_KEEP_ENV: '1', MARK: etc });
    const { code } = await run.exited;
    assert.equal(code, v2 ? 6 : 1, run.output());
    assert.equal(existsSync(join(etc, 'ran-on')), !v2, run.output());
    assert.doesNotMatch(run.output(), /service app: info: started/);
    // Its exit said once, what follows from it once, and the stage that failed as a warning, as in v3.
    assert.equal(run.output().match(/cont-init: warning: \S+00-niceness exited 6/g)?.length, 1, run.output());
    assert.match(run.output(), /s6-rc: warning: unable to start cont-init\.d/, run.output());
    if (v2) {
      assert.match(run.output(), /cont-init: warning: the rest of cont-init\.d is not run after 00-niceness, and the container ends with its exit code, 6, as under s6-overlay v2/, run.output());
      assert.equal(run.output().match(/the rest of cont-init\.d is not run/g)?.length, 1, run.output());
      assert.match(run.output(), /stopping the container: cont-init failed \(see above\)/, run.output());
      assert.match(run.output(), /s6-rc: warning: unable to start cont-init\.d \(stage legacy-cont-init\): 00-niceness exited 6/, run.output());
    }
    // cont-finish.d runs all the same: the stage that failed is named as cont-init.d alone.
    assert.doesNotMatch(run.output(), /and cont-finish\.d/, run.output());
  }
});

test("an image whose s6-overlay v2 files were removed still ends with the exit code its finish script leaves in v2's stage-3 environment", { skip, timeout: 60_000 }, async () => {
  const etc = scriptTree({
    // jlesage's app finish: the code into env-stage3, then TERM to PID 1.
    'services.d/app/run': '#!/bin/sh\nexit 5\n',
    'services.d/app/finish': '#!/bin/sh\necho "$1" > /var/run/s6/env-stage3/S6_CMD_EXITED\nkill 1\n',
  });
  const run = startInit({ privateRun: true, env: { STEWARD_ETC: etc } });
  runs.push(run);
  const { code } = await run.exited;
  assert.equal(code, 5, run.output());
  assert.doesNotMatch(run.output(), /cannot create|Directory nonexistent/);
});

/** A CMD that ends once the app service has run (it touches /run/app-ran), polled for up to 10 s. */
const APP_RAN = 'i=0; while [ ! -e /run/app-ran ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done';

test("in an image made for s6-overlay v2, scripts without the x bit are made executable at boot and run, as v2 did; steward check says so as a warning", { skip, timeout: 60_000 }, async () => {
  const etc = scriptTree({
    's6/init/init-stage2': '#!/usr/bin/execlineb -S0\n',
    'cont-init.d/10-setup': '#!/bin/sh\necho "setup ran" >&2\n',
    'services.d/app/run': '#!/bin/sh\necho "app ran" >&2\ntouch /run/app-ran\nexec sleep 1000\n',
  });
  for (const path of ['cont-init.d/10-setup', 'services.d/app/run']) chmodSync(join(etc, path), 0o644);
  const checked = spawnSync(process.execPath, [join(repoRoot, 'bin', 'steward'), 'check', '--etc', etc], { encoding: 'utf8' });
  assert.equal(checked.status, 0, checked.stdout + checked.stderr);
  assert.match(checked.stdout, /warning: .*10-setup: the script is not executable; in this s6-overlay v2 image the boot makes it executable, as v2 did/);
  // The CMD ends once the service has run (polled for, up to 10 s: a fixed sleep is a guess at how busy the machine is).
  const run = startInit({ privateRun: true, env: { STEWARD_ETC: etc }, args: ['sh', '-c', APP_RAN] });
  runs.push(run);
  const { code } = await run.exited;
  assert.equal(code, 0, run.output());
  assert.match(run.output(), /fix-attrs: info: made executable, as s6-overlay v2 does at boot/);
  assert.match(run.output(), /setup ran/);
  assert.match(run.output(), /app ran/);
  assert.equal(statSync(join(etc, 'services.d/app/run')).mode & 0o777, 0o755);
});

test("in an image made for s6-overlay v2 with S6_READ_ONLY_ROOT=1, scripts without the x bit run from copies in /run/s6/etc, the image's left as they are; a runtime profile's too", { skip, timeout: 60_000 }, async () => {
  for (const profile of [undefined, 'prod']) {
    const base = profile === undefined ? '' : `cont-profile.d/${profile}/`;
    const etc = scriptTree({
      's6/init/init-stage2': '#!/usr/bin/execlineb -S0\n',
      [`${base}cont-init.d/10-setup`]: '#!/bin/sh\necho "setup ran from $0" >&2\n',
      [`${base}services.d/app/run`]: '#!/bin/sh\necho "app ran" >&2\ntouch /run/app-ran\nexec sleep 1000\n',
    });
    for (const path of [`${base}cont-init.d/10-setup`, `${base}services.d/app/run`]) chmodSync(join(etc, path), 0o644);
    const env: NodeJS.ProcessEnv = { STEWARD_ETC: etc, S6_READ_ONLY_ROOT: '1', ...(profile === undefined ? {} : { S6_RUNTIME_PROFILE: profile }) };
    const run = startInit({ privateRun: true, env, args: ['sh', '-c', APP_RAN] });
    runs.push(run);
    const { code } = await run.exited;
    assert.equal(code, 0, run.output());
    // The copies, by v2's own path to them (/var/run is /run).
    assert.match(run.output(), /setup ran from \/var\/run\/s6\/etc\/cont-init\.d\/10-setup/);
    assert.match(run.output(), /app ran/);
    assert.equal(statSync(join(etc, `${base}services.d/app/run`)).mode & 0o777, 0o644);
    assert.equal(statSync(join(etc, `${base}cont-init.d/10-setup`)).mode & 0o777, 0o644);
  }
});

test("v2's /var/run/s6/etc leads to the image's directories, so a cont-init script can enable a service through it before services.d starts", { skip, timeout: 60_000 }, async () => {
  // weahead/docker-bedrock: if -t { s6-rmrf /var/run/s6/etc/services.d/nodejs/down } in dev mode.
  const etc = scriptTree({
    'cont-init.d/10-dev-mode': '#!/bin/sh\nrm /var/run/s6/etc/services.d/nodejs/down && echo enabled >&2\n',
    'services.d/nodejs/run': '#!/bin/sh\necho "nodejs watching" >&2\nexec sleep 1000\n',
    'services.d/nodejs/down': '',
  });
  const run = startInit({ privateRun: true, env: { STEWARD_ETC: etc } });
  runs.push(run);
  await run.waitForOutput(/nodejs watching/);
  assert.ok(!existsSync(join(etc, 'services.d/nodejs/down')));
  run.kill('SIGTERM');
  assert.equal((await run.exited).code, 0, run.output());
  assert.match(run.output(), /^enabled$/m);
});

test('an exit code given during the stop (halt --exit-code from a cont-finish script) beats the one Steward wrote before it', { skip, timeout: 60_000 }, async () => {
  const etc = scriptTree({ 'cont-finish.d/10-code': `#!/bin/sh\n${join(repoRoot, 'bin', 'steward')} halt --exit-code 5\n` });
  const run = init(etc, {}, ['true']);
  const { code } = await run.exited;
  assert.equal(code, 5, run.output());
  assert.doesNotMatch(run.output(), /env-stage3/, run.output());
});

test("in an image made for s6-overlay v2, cont-finish scripts see the CMD's exit code as S6_STAGE2_EXITED", { skip, timeout: 60_000 }, async () => {
  const etc = scriptTree({
    's6/init/init-stage2': '#!/usr/bin/execlineb -S0\n',
    'cont-finish.d/99-message': '#!/bin/sh\necho "stage 2 exited ${S6_STAGE2_EXITED-unset}" >&2\n',
  });
  const run = startInit({ privateRun: true, env: { STEWARD_ETC: etc }, args: ['sh', '-c', 'exit 5'] });
  runs.push(run);
  const { code } = await run.exited;
  assert.equal(code, 5, run.output());
  assert.match(run.output(), /stage 2 exited 5\n/);
});

test('a failing cont-init with S6_BEHAVIOUR_IF_STAGE2_FAILS=2 stops the container non-zero', { skip }, async () => {
  const etc = scriptTree({
    'cont-init.d/10-fail': '#!/bin/sh\necho failing >&2\nexit 4\n',
    'cont-init.d/20-after': `#!/bin/sh\ntouch "${'$'}MARK"/second-ran\n`,
    'services.d/never/run': `#!/bin/sh\ntouch "${'$'}MARK"/service-ran\nexec sleep 100\n`,
  });
  const run = init(etc, { S6_BEHAVIOUR_IF_STAGE2_FAILS: '2', S6_KEEP_ENV: '1', MARK: etc });
  const { code } = await run.exited;
  assert.notEqual(code, 0, run.output());
  assert.equal(code, 1);
  assert.match(run.output(), /cont-init: warning: some scripts exited nonzero/);
  // Every script runs, as in s6-overlay; the services do not.
  assert.ok(existsSync(join(etc, 'second-ran')));
  assert.ok(!existsSync(join(etc, 'service-ran')), run.output());
});

test('a failing cont-init with the default policy carries on', { skip }, async () => {
  const etc = scriptTree({ 'cont-init.d/10-fail': '#!/bin/sh\nexit 4\n' });
  const run = init(etc, {}, ['true']);
  const { code } = await run.exited;
  assert.equal(code, 0, run.output());
  assert.match(run.output(), /10-fail exited 4/);
});

test('a crashing service is restarted, never faster than the throttle', { skip }, async () => {
  const etc = scriptTree({ 'services.d/crasher/run': `#!/bin/sh\ndate +%s%N >> "${'$'}MARK"/starts\nexit 1\n` });
  // Verbosity 3: past three deaths in a row, the starts are debug lines.
  const run = init(etc, { S6_KEEP_ENV: '1', MARK: etc, STEWARD_RESTART_THROTTLE: '400', S6_VERBOSITY: '3' });
  // Five starts seen, so at least four runs have had time to record theirs.
  await run.waitForOutput(/(service crasher: (info|debug): started[^]*){5}/);
  run.kill('SIGTERM');
  await run.exited;
  const starts = readFileSync(join(etc, 'starts'), 'utf8').trim().split('\n').map((line) => Number(BigInt(line) / 1_000_000n));
  assert.ok(starts.length >= 4, `only ${starts.length} starts`);
  for (let index = 1; index < starts.length; index++) {
    const gap = (starts[index] ?? 0) - (starts[index - 1] ?? 0);
    // Each run script records its start some time after its spawn (more on a busy machine), so
    // a gap between two records can be shorter than the gap between the spawns by the first
    // one's delay. Without a throttle the gaps are a few ms; the exact interval is checked
    // with a fake clock in the supervisor's unit tests.
    assert.ok(gap >= 300, `restart ${index} came after ${gap} ms, under the 400 ms throttle (less 100 ms for the script's own start)`);
  }
});

test('a down file keeps a service down, and readiness gates the CMD', { skip }, async () => {
  const etc = scriptTree({
    'services.d/sleepy/down': '',
    'services.d/sleepy/run': `#!/bin/sh\ntouch "${'$'}MARK"/sleepy-ran\nexec sleep 100\n`,
    'services.d/db/notification-fd': '3\n',
    'services.d/db/run': `#!/bin/sh\nsleep 0.5\ndate +%s%N > "${'$'}MARK"/db-ready\necho >&3\nexec sleep 100\n`,
  });
  const run = init(etc, { S6_KEEP_ENV: '1', MARK: etc, S6_CMD_WAIT_FOR_SERVICES: '1' }, ['sh', '-c', `date +%s%N > "${etc}/cmd-start"`]);
  const { code } = await run.exited;
  assert.equal(code, 0, run.output());
  assert.ok(!existsSync(join(etc, 'sleepy-ran')), 'the service with a down file ran');
  assert.match(run.output(), /service sleepy: info: not started: it has a down file/);
  const ready = BigInt(readFileSync(join(etc, 'db-ready'), 'utf8').trim());
  const cmdStart = BigInt(readFileSync(join(etc, 'cmd-start'), 'utf8').trim());
  assert.ok(cmdStart >= ready, 'the CMD started before the service was ready');
  assert.match(run.output(), /service db: info: ready/);
});

test('a notification-fd of 1 makes stdout the readiness pipe, as under s6-supervise: the newline gates the CMD and reaches no log', { skip }, async () => {
  const etc = scriptTree({
    'services.d/holder/notification-fd': '1\n',
    'services.d/holder/run': `#!/bin/sh\nsleep 0.5\ndate +%s%N > "${'$'}MARK"/holder-ready\necho ready-line\nexec sleep 100\n`,
  });
  const run = init(etc, { S6_KEEP_ENV: '1', MARK: etc, S6_CMD_WAIT_FOR_SERVICES: '1' }, ['sh', '-c', `date +%s%N > "${etc}/cmd-start"`]);
  const { code } = await run.exited;
  assert.equal(code, 0, run.output());
  const ready = BigInt(readFileSync(join(etc, 'holder-ready'), 'utf8').trim());
  const cmdStart = BigInt(readFileSync(join(etc, 'cmd-start'), 'utf8').trim());
  assert.ok(cmdStart >= ready, 'the CMD started before the service was ready');
  assert.match(run.output(), /service holder: info: ready/);
  assert.doesNotMatch(run.output(), /ready-line|notification-fd/);
});

test("services and the CMD get an oom_score_adj above PID 1's, so that a memory limit's OOM killer takes one of them, not the container; off leaves them at PID 1's", { skip }, async () => {
  const read = `sleep 0.3; cat /proc/self/oom_score_adj > "${'$'}MARK"/$0-adj; cat /proc/1/oom_score_adj > "${'$'}MARK"/pid1-adj`;
  for (const setting of [undefined, 'off'] as const) {
    const etc = scriptTree({ 'services.d/pool/run': `#!/bin/sh\nsh -c '${read}' service\nexec sleep 100\n` });
    // The CMD ends once the service has read its own (polled for, up to 10 s: the container's stop would end the service's read).
    const run = init(etc, { S6_KEEP_ENV: '1', MARK: etc, ...(setting === undefined ? {} : { STEWARD_OOM_SCORE_ADJ: setting }) }, ['sh', '-c', `${read}; i=0; while [ ! -s "$MARK"/service-adj ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done`, 'cmd']);
    assert.equal((await run.exited).code, 0, run.output());
    const adj = (name: string): number => Number(readFileSync(join(etc, `${name}-adj`), 'utf8'));
    if (setting === 'off') {
      assert.equal(adj('service'), adj('pid1'));
      assert.equal(adj('cmd'), adj('pid1'));
    } else {
      // The run script's own fork comes before the script is given the full value: it has the
      // half-way one PID 1 held while starting it; the CMD's later fork has the full one.
      assert.ok(adj('service') > adj('pid1'), `service ${adj('service')}, PID 1 ${adj('pid1')}`);
      assert.ok(adj('cmd') >= adj('service') && adj('cmd') > adj('pid1'), `CMD ${adj('cmd')}, service ${adj('service')}`);
    }
  }
  // In a PID namespace without a /proc of its own, the service is found by its own pid there.
  const own = Number(readFileSync('/proc/self/oom_score_adj', 'utf8'));
  const wanted = Math.min(1000, own + 10);
  const etc = scriptTree({ 'services.d/pool/run': `#!/bin/sh\nsleep 0.3\ncat /proc/self/oom_score_adj > "${'$'}MARK"/late-adj\nexec sleep 100\n` });
  const foreign = startInit({ ownProc: false, env: { STEWARD_ETC: etc, STEWARD_RUN: join(etc, 'run'), S6_KEEP_ENV: '1', MARK: etc, STEWARD_OOM_SCORE_ADJ: String(wanted) }, args: ['sh', '-c', `i=0; while [ ! -s "$MARK"/late-adj ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done`] });
  runs.push(foreign);
  assert.equal((await foreign.exited).code, 0, foreign.output());
  assert.equal(Number(readFileSync(join(etc, 'late-adj'), 'utf8')), wanted, foreign.output());
});

test('a signal during cont-init is honoured: the rest of boot is skipped', { skip }, async () => {
  const etc = scriptTree({
    'cont-init.d/10-slow': '#!/bin/sh\necho slow-init-started\nexec sleep 30\n',
    'cont-init.d/20-next': `#!/bin/sh\ntouch "${'$'}MARK"/next-ran\n`,
    'services.d/svc/run': `#!/bin/sh\ntouch "${'$'}MARK"/svc-ran\nexec sleep 100\n`,
    'cont-finish.d/10-fin': `#!/bin/sh\ntouch "${'$'}MARK"/finish-ran\n`,
  });
  const run = init(etc, { S6_KEEP_ENV: '1', MARK: etc });
  await run.waitForOutput(/slow-init-started/);
  run.kill('SIGTERM');
  const { code } = await run.exited;
  assert.equal(code, 0, run.output());
  assert.ok(!existsSync(join(etc, 'next-ran')));
  assert.ok(!existsSync(join(etc, 'svc-ran')));
  assert.ok(existsSync(join(etc, 'finish-ran')));
  // What the stop left unstarted is not a failure: no warning, and the reason comes first.
  const output = run.output();
  assert.doesNotMatch(output, /warning:/, output);
  const stopping = output.indexOf('stopping the container: received SIGTERM');
  const notStarted = output.indexOf('services.d (stage legacy-services) not started');
  assert.ok(stopping !== -1 && notStarted > stopping, output);
});

test("a stop during a cont-init script or a oneshot waits for what the script's shell ran, not only the shell, before anything of the shutdown runs", { skip, timeout: 60_000 }, async () => {
  // As docker-unms's init-postgres waiting for initdb: the shell dies of the TERM, initdb
  // catches it and removes what it made before it exits.
  const cleaner = (name: string): string =>
    `#!/bin/sh\nsh -c 'trap "sleep 1; echo cleaned > \\"\\$MARK\\"/${name}.cleaned; exit 1" TERM; echo ready > "$MARK"/${name}.waiting; while :; do sleep 0.1; done'\necho after > "$MARK"/${name}.after\n`;
  const finish = (name: string): string => `#!/bin/sh\nif [ -e "$MARK"/${name}.cleaned ]; then echo after-cleanup; else echo before-cleanup; fi > "$MARK"/${name}.finish\n`;
  const legacy = scriptTree({ 'cont-init.d/10-initdb': cleaner('initdb'), 'cont-finish.d/10-check': finish('initdb') });
  const oneshot = scriptTree({
    's6-overlay/s6-rc.d/init-postgres/type': 'oneshot\n',
    's6-overlay/s6-rc.d/init-postgres/up': 'written below, once the tree is where it is',
    's6-overlay/scripts/init-postgres': cleaner('oneshot'),
    's6-overlay/s6-rc.d/user/contents.d/init-postgres': '',
    'cont-finish.d/10-check': finish('oneshot'),
  });
  writeFileSync(join(oneshot, 's6-overlay/s6-rc.d/init-postgres/up'), join(oneshot, 's6-overlay/scripts/init-postgres'));
  for (const [etc, name] of [[legacy, 'initdb'], [oneshot, 'oneshot']] as const) {
    const run = init(etc, { S6_KEEP_ENV: '1', MARK: etc, S6_KILL_GRACETIME: '10000' });
    for (let attempt = 0; attempt < 300 && !existsSync(join(etc, `${name}.waiting`)); attempt++) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok(existsSync(join(etc, `${name}.waiting`)), run.output());
    run.kill('SIGTERM');
    const { code } = await run.exited;
    const output = run.output();
    assert.equal(code, 0, output);
    // The program had its time to clean up, and cont-finish.d ran after it.
    assert.equal(readFileSync(join(etc, `${name}.cleaned`), 'utf8'), 'cleaned\n', output);
    assert.equal(readFileSync(join(etc, `${name}.finish`), 'utf8'), 'after-cleanup\n', output);
    assert.ok(!existsSync(join(etc, `${name}.after`)), output);
  }
});

test('a logger under log/ gets the service output through a pipe that survives its restart', { skip }, async () => {
  const etc = scriptTree({
    'services.d/talker/run': '#!/bin/sh\ni=0\nwhile [ $i -lt 30 ]; do echo "line $i"; i=$((i+1)); sleep 0.05; done\nexec sleep 100\n',
    // The logger dies after 5 lines; lines written meanwhile wait in the pipe for its successor.
    'services.d/talker/log/run': `#!/bin/sh\nn=0\nwhile read -r line; do echo "$line" >> "${'$'}MARK"/log.txt; n=$((n+1)); [ $n -ge 5 ] && exit 1; done\n`,
  });
  const run = init(etc, { S6_KEEP_ENV: '1', MARK: etc, STEWARD_RESTART_THROTTLE: '200' });
  await run.waitForOutput(/(service talker\/log: info: started[^]*){3}/);
  // Wait (bounded) for all 30 lines to arrive through the restarts.
  for (let attempt = 0; attempt < 100; attempt++) {
    if (existsSync(join(etc, 'log.txt')) && readFileSync(join(etc, 'log.txt'), 'utf8').split('\n').length > 30) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  run.kill('SIGTERM');
  await run.exited;
  const lines = readFileSync(join(etc, 'log.txt'), 'utf8').trim().split('\n');
  assert.deepEqual(lines, Array.from({ length: 30 }, (_, index) => `line ${index}`));
});

test('S6_CMD_WAIT_FOR_SERVICES_MAXTIME bounds cont-init and names the slow script', { skip }, async () => {
  const etc = scriptTree({
    'cont-init.d/10-slow': '#!/bin/sh\nexec sleep 30\n',
    'cont-init.d/20-next': `#!/bin/sh\ntouch "${'$'}MARK"/next-ran\n`,
  });
  const run = init(etc, { S6_KEEP_ENV: '1', MARK: etc, S6_CMD_WAIT_FOR_SERVICES_MAXTIME: '300', S6_BEHAVIOUR_IF_STAGE2_FAILS: '2' });
  const { code } = await run.exited;
  assert.equal(code, 2, run.output());
  assert.match(run.output(), /10-slow was stopped \(S6_CMD_WAIT_FOR_SERVICES_MAXTIME \(300 ms\) reached\)/);
  assert.match(run.output(), /skipping .*20-next: S6_CMD_WAIT_FOR_SERVICES_MAXTIME \(300 ms\) reached/);
  assert.ok(!existsSync(join(etc, 'next-ran')));
});

test("S6_CMD_WAIT_FOR_SERVICES_MAXTIME counts from after the stage 2 hook, as s6-overlay's rc.init reads it then", { skip, timeout: 60_000 }, async () => {
  const etc = scriptTree({
    'hook.sh': '#!/bin/sh\nsleep 1\n',
    'cont-init.d/10-ran': `#!/bin/sh\ntouch "${'$'}MARK"/cont-init-ran\n`,
  });
  const run = init(etc, { S6_KEEP_ENV: '1', MARK: etc, S6_STAGE2_HOOK: join(etc, 'hook.sh'), S6_CMD_WAIT_FOR_SERVICES_MAXTIME: '500', S6_BEHAVIOUR_IF_STAGE2_FAILS: '2' }, ['true']);
  const { code } = await run.exited;
  assert.equal(code, 0, run.output());
  assert.ok(existsSync(join(etc, 'cont-init-ran')), run.output());
});

test('S6_SERVICES_GRACETIME and S6_KILL_FINISH_MAXTIME a cont-init script writes to the container environment apply to the shutdown, as s6-overlay reads them then', { skip, timeout: 60_000 }, async () => {
  const etc = scriptTree({
    'cont-init.d/10-timeouts': '#!/bin/sh\nprintf 10000 > "$STEWARD_RUN"/s6/container_environment/S6_SERVICES_GRACETIME\nprintf 10000 > "$STEWARD_RUN"/s6/container_environment/S6_KILL_FINISH_MAXTIME\n',
    // Takes 1.5 s to stop, as a database writing its dump.
    // Without S6_KEEP_ENV, scripts get no variable of the test's: STEWARD_RUN is etc/run.
    // Says when its trap is set: a TERM before that would end it at once (a race on a slow machine).
    'services.d/db/run': `#!/bin/sh\ntrap 'sleep 1.5; echo dumped > "${'$'}STEWARD_RUN"/../db.dumped; exit 0' TERM\necho db-trap-set\nwhile :; do sleep 0.1; done\n`,
    'cont-finish.d/10-wait': `#!/bin/sh\nsleep 1.5\necho waited > "${'$'}STEWARD_RUN"/../finish.done\n`,
  });
  const run = init(etc, { S6_SERVICES_GRACETIME: '500', S6_KILL_FINISH_MAXTIME: '500' });
  await run.waitForOutput(/db-trap-set/);
  run.kill('SIGTERM');
  const { code } = await run.exited;
  const output = run.output();
  assert.equal(code, 0, output);
  assert.doesNotMatch(output, /still running after/, output);
  assert.equal(readFileSync(join(etc, 'db.dumped'), 'utf8'), 'dumped\n', output);
  assert.equal(readFileSync(join(etc, 'finish.done'), 'utf8'), 'waited\n', output);
});

test('services.d is read after cont-init.d, which may remove a service, add one or give one a down file', { skip }, async () => {
  // Ready once its mark is written, so that the CMD (S6_CMD_WAIT_FOR_SERVICES) comes after it on a busy machine too.
  const longrun = (name: string): string => `#!/bin/sh\ntouch "${'$'}MARK"/${name}.ran\necho >&3\nexec sleep 30\n`;
  const etc = scriptTree({
    'services.d/removed/run': longrun('removed'),
    'services.d/removed/notification-fd': '3\n',
    'services.d/parked/run': longrun('parked'),
    'services.d/parked/notification-fd': '3\n',
    'services.d/kept/run': longrun('kept'),
    'services.d/kept/notification-fd': '3\n',
    // As images do when a feature is switched off by a variable, or generated at boot.
    'cont-init.d/10-configure': [
      '#!/bin/sh',
      `rm -rf "${'$'}MARK"/services.d/removed`,
      `touch "${'$'}MARK"/services.d/parked/down`,
      `mkdir "${'$'}MARK"/services.d/added`,
      `printf '#!/bin/sh\\ntouch "%s"/added.ran\\necho >&3\\nexec sleep 30\\n' "${'$'}MARK" > "${'$'}MARK"/services.d/added/run`,
      `echo 3 > "${'$'}MARK"/services.d/added/notification-fd`,
      `chmod +x "${'$'}MARK"/services.d/added/run`,
      '',
    ].join('\n'),
  });
  const run = init(etc, { S6_KEEP_ENV: '1', MARK: etc, S6_CMD_WAIT_FOR_SERVICES: '1' }, ['true']);
  const { code } = await run.exited;
  assert.equal(code, 0, run.output());
  assert.ok(existsSync(join(etc, 'kept.ran')), run.output());
  assert.ok(existsSync(join(etc, 'added.ran')), run.output());
  assert.ok(!existsSync(join(etc, 'removed.ran')), run.output());
  assert.ok(!existsSync(join(etc, 'parked.ran')), run.output());
  assert.match(run.output(), /service parked: info: not started: it has a down file/);
  assert.doesNotMatch(run.output(), /cannot copy/);
});

test('cont-init.d and cont-finish.d are listed when they run and each script looked at on its turn, as s6-overlay runs them', { skip, timeout: 60_000 }, async () => {
  const etc = scriptTree({
    // Not executable in the image: fix-attrs.d makes it so before cont-init.d runs.
    'fix-attrs.d/01-scripts': `${'$'}{ETC}/cont-init.d/20-fixed-by-fix-attrs false root 0755 0755\n`,
    'cont-init.d/10-chmod-later': [
      '#!/bin/sh',
      // As hotio's init-perms does over its tree: a later script is executable by its turn.
      `chmod +x "${'$'}MARK"/cont-init.d/30-chmodded`,
      // And a cont-finish.d script made at run time runs at the stop.
      `printf '#!/bin/sh\\ntouch "%s"/late-finish.ran\\n' "${'$'}MARK" > "${'$'}MARK"/cont-finish.d/50-made-at-boot`,
      `chmod +x "${'$'}MARK"/cont-finish.d/50-made-at-boot`,
      '',
    ].join('\n'),
    'cont-init.d/20-fixed-by-fix-attrs': `#!/bin/sh\ntouch "${'$'}MARK"/fixed.ran\n`,
    'cont-init.d/30-chmodded': `#!/bin/sh\ntouch "${'$'}MARK"/chmodded.ran\n`,
    'cont-finish.d/10-image': `#!/bin/sh\ntouch "${'$'}MARK"/image-finish.ran\n`,
  });
  const fixAttrs = join(etc, 'fix-attrs.d/01-scripts');
  writeFileSync(fixAttrs, readFileSync(fixAttrs, 'utf8').replace('${ETC}', etc));
  chmodSync(join(etc, 'cont-init.d/20-fixed-by-fix-attrs'), 0o644);
  chmodSync(join(etc, 'cont-init.d/30-chmodded'), 0o644);
  // A failure would stop the container: none is expected.
  const run = init(etc, { S6_KEEP_ENV: '1', MARK: etc, S6_BEHAVIOUR_IF_STAGE2_FAILS: '2' }, ['true']);
  const { code } = await run.exited;
  assert.equal(code, 0, run.output());
  for (const mark of ['fixed', 'chmodded', 'image-finish', 'late-finish']) assert.ok(existsSync(join(etc, `${mark}.ran`)), `${mark}: ${run.output()}`);
  assert.doesNotMatch(run.output(), /is not executable/);
});

test('a services.d service named as an s6-rc service is reported and left out; the s6-rc one runs', { skip, timeout: 60_000 }, async () => {
  const etc = scriptTree({
    's6-overlay/s6-rc.d/dup/type': 'longrun\n',
    's6-overlay/s6-rc.d/dup/run': `#!/bin/sh\ntouch "${'$'}MARK"/rc-ran\nexec sleep 100\n`,
    's6-overlay/s6-rc.d/user/contents.d/dup': '',
    'services.d/dup/run': `#!/bin/sh\ntouch "${'$'}MARK"/legacy-ran\nexec sleep 100\n`,
  });
  const run = init(etc, { S6_KEEP_ENV: '1', MARK: etc }, ['sh', '-c', `while [ ! -e "${etc}/rc-ran" ]; do sleep 0.05; done; sleep 0.3; readlink ${etc}/run/service/dup`]);
  const { code } = await run.exited;
  assert.equal(code, 0, run.output());
  assert.match(run.output(), new RegExp(`${etc}/services.d/dup: service dup is defined twice: here and in ${etc}/s6-overlay/s6-rc.d/dup; the services.d one is not started`));
  assert.ok(!existsSync(join(etc, 'legacy-ran')), run.output());
  // /run/service/dup still leads to the one that runs.
  assert.match(run.output(), /s6-rc\/servicedirs\/dup/);
});

test('S6_VERBOSITY=3 prints a boot summary with the services.d services once they are up', { skip, timeout: 60_000 }, async () => {
  const etc = scriptTree({
    'services.d/slowready/run': '#!/bin/sh\nsleep 0.3\necho >&3\nexec sleep 100\n',
    'services.d/slowready/notification-fd': '3\n',
    'services.d/plain/run': '#!/bin/sh\nexec sleep 100\n',
  });
  const run = init(etc, { S6_VERBOSITY: '3' });
  await run.waitForOutput(/boot summary[^\n]*\n(?:.*\n)*?.*slowready +\d+ +\d+ +\d+ ms/, 20_000);
  await run.waitForOutput(/^s6-rc: debug: {3}plain +\d+ +\d+ +\d+ ms$/m, 20_000);
  run.kill('SIGTERM');
  await run.exited;
});

test("a TERM to Steward's whole process group (dumb-init, tini -g) is a docker stop: the CMD is not killed first, the exit code is 0", { skip, timeout: 60_000 }, async () => {
  const etc = scriptTree({ 'services.d/web/run': '#!/bin/sh\nexec sleep 1000\n' });
  // A process group of its own, so that the test can signal all of it as those inits do.
  const child = spawn('unshare', ['--pid', '--fork', '--mount-proc', initBin, 'sh', '-c', 'echo cmd-running; exec sleep 1000'], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', STEWARD_ETC: etc, STEWARD_RUN: join(etc, 'run') },
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  // The CMD's own line, not Steward's "running the command: ... cmd-running": the CMD is in a
  // session of its own only once its start is over.
  while (!/^cmd-running$/m.test(output) || !/service web: info: started/.test(output)) await new Promise((resolve) => setTimeout(resolve, 20));
  process.kill(-(child.pid ?? 0), 'SIGTERM');
  const code = await exited;
  assert.equal(code, 0, output);
  assert.doesNotMatch(output, /stopping the container with exit code 143/, output);
  assert.match(output, /stopping the container: received SIGTERM/);
});

test('a stop during a cont-init script that ignores TERM kills it before cont-finish.d runs: the two never overlap', { skip, timeout: 60_000 }, async () => {
  const etc = scriptTree({
    'cont-init.d/10-slow': `#!/bin/sh\ntrap 'echo slow-got-term' TERM\necho $$ > "$MARK/slow.pid"\nwhile :; do sleep 0.1; done\n`,
    'cont-finish.d/10-check': `#!/bin/sh\nif kill -0 "$(cat "$MARK/slow.pid")" 2>/dev/null; then echo overlap=yes; else echo overlap=no; fi\n`,
  });
  const run = init(etc, { S6_KEEP_ENV: '1', MARK: etc, S6_KILL_GRACETIME: '500' });
  while (!existsSync(join(etc, 'slow.pid'))) await new Promise((resolve) => setTimeout(resolve, 20));
  run.kill('SIGTERM');
  const { code } = await run.exited;
  assert.equal(code, 0, run.output());
  assert.match(run.output(), /slow-got-term/);
  assert.match(run.output(), /10-slow was stopped \(the container is stopping\) and killed by SIGKILL/);
  assert.equal(lastValue(run.output(), 'overlap'), 'no', run.output());
});

test('a stage 2 hook stopped by a docker stop is not reported as a failure of the hook', { skip, timeout: 60_000 }, async () => {
  const etc = scriptTree({ 'hook.sh': `#!/bin/sh\ntouch "${'$'}MARK/hook-running"\nexec sleep 1000\n` });
  const run = init(etc, { S6_KEEP_ENV: '1', MARK: etc, S6_STAGE2_HOOK: join(etc, 'hook.sh'), S6_BEHAVIOUR_IF_STAGE2_FAILS: '2' });
  while (!existsSync(join(etc, 'hook-running'))) await new Promise((resolve) => setTimeout(resolve, 20));
  run.kill('SIGTERM');
  const { code } = await run.exited;
  assert.equal(code, 0, run.output());
  assert.match(run.output(), /the stage 2 hook \S+ was stopped \(the container is stopping\)/);
  assert.doesNotMatch(run.output(), /carrying on|S6_BEHAVIOUR_IF_STAGE2_FAILS=2\)/);
});

test('every process starts with umask 022 whatever Steward got, and a poweroff leaves p in haltcode for the last stage', { skip }, async () => {
  const etc = scriptTree({ 'cont-init.d/10-umask': '#!/bin/sh\necho "init_umask=$(umask)"\n' });
  const run = startInit({
    privateRun: true,
    launcher: ['sh', '-c', 'umask 077 && exec "$@"', 'sh'],
    env: { STEWARD_ETC: etc },
    args: ['sh', '-c', 'trap \'echo "haltcode=$(cat /run/s6-linux-init-container-results/haltcode)"; exit 0\' TERM; echo "cmd_umask=$(umask)"; while :; do sleep 0.05; done'],
  });
  runs.push(run);
  // Its own line, not the command's text in Steward's "running the command" line; the trap is set by then.
  await run.waitForOutput(/^cmd_umask=\d+$/m);
  run.kill('SIGUSR1');
  const { code } = await run.exited;
  assert.equal(code, 0, run.output());
  assert.equal(lastValue(run.output(), 'init_umask'), '0022', run.output());
  assert.equal(lastValue(run.output(), 'cmd_umask'), '0022', run.output());
  assert.equal(lastValue(run.output(), 'haltcode'), 'p', run.output());
});

test("s6-overlay's reboot command leaves r in haltcode, and says a reboot was asked for", { skip }, async () => {
  const run = startInit({
    privateRun: true,
    env: { STEWARD_ETC: scriptTree({}) },
    args: ['sh', '-c', 'trap \'echo "haltcode=$(cat /run/s6-linux-init-container-results/haltcode)"; exit 0\' TERM; /run/s6/basedir/bin/reboot; while :; do sleep 0.05; done'],
  });
  runs.push(run);
  const { code } = await run.exited;
  assert.equal(code, 0, run.output());
  assert.equal(lastValue(run.output(), 'haltcode'), 'r', run.output());
  assert.match(run.output(), /stopping the container: reboot requested/);
});

test('S6_CMD_WAIT_FOR_SERVICES=1 does not wait for a services.d run script that cannot be executed, and it fails no boot (Home Assistant add-ons set S6_BEHAVIOUR_IF_STAGE2_FAILS=2)', { skip, timeout: 60_000 }, async () => {
  const etc = scriptTree({
    'services.d/broken/run': '#!/usr/bin/no-such-interpreter bash\nexec sleep 100\n',
    'services.d/fine/run': '#!/bin/sh\nexec sleep 100\n',
    // Its x bit lost.
    'services.d/noexec/run': '#!/bin/sh\nexec sleep 100\n',
  });
  chmodSync(join(etc, 'services.d', 'noexec', 'run'), 0o644);
  const run = init(etc, { S6_CMD_WAIT_FOR_SERVICES: '1', S6_CMD_WAIT_FOR_SERVICES_MAXTIME: '0', S6_BEHAVIOUR_IF_STAGE2_FAILS: '2' }, ['sh', '-c', 'echo cmd-ran; exit 4']);
  const { code } = await run.exited;
  assert.match(run.output(), /cmd-ran/, run.output());
  assert.match(run.output(), /not waiting for broken, noexec \(S6_CMD_WAIT_FOR_SERVICES=1\): their run scripts cannot be executed \(see above\); each start is tried again every 10 s, from the copy under /, run.output());
  assert.doesNotMatch(run.output(), /failed to start|S6_BEHAVIOUR_IF_STAGE2_FAILS=2\)/, run.output());
  // Only the looks at the run scripts find them: the summary comes with those, once.
  assert.equal(run.output().match(/some services\.d entries have errors \(listed above\); what can run runs/g)?.length, 1, run.output());
  assert.equal(code, 4, run.output());
});

test('S6_LOGGING=1 copies service output and Steward lines into the catch-all log, with s6-log-style stamps', { skip }, async () => {
  const etc = scriptTree({ 'services.d/talker/run': '#!/bin/sh\necho "hello from talker"\nexec sleep 100\n' });
  const run = init(etc, { S6_LOGGING: '1', S6_LOGGING_SCRIPT: 'n2 s100000 T' });
  await run.waitForOutput(/hello from talker/);
  const current = join(etc, 'run', 'uncaught-logs', 'current');
  const deadline = Date.now() + 10_000;
  // Both lines: the service may print before Steward has heard that its start is over.
  const logged = (): boolean => {
    if (!existsSync(current)) return false;
    const text = readFileSync(current, 'utf8');
    return text.includes('hello from talker') && text.includes('service talker: info: started');
  };
  while (!logged() && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const log = readFileSync(current, 'utf8');
  run.kill('SIGTERM');
  const { code } = await run.exited;
  assert.equal(code, 0, run.output());
  // T: an ISO 8601 stamp with nanosecond digits, then two spaces, as s6-log writes it.
  assert.match(log, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{9} {2}hello from talker$/m, log);
  assert.match(log, /^\S+ \S+ {2}service talker: info: started/m, log);
});

test("a /run kept from the last run (docker restart) loses that run's catch-all log and s6-rc state, as s6-overlay's preinit clears them", { skip }, async () => {
  const etc = scriptTree({ 'services.d/talker/run': '#!/bin/sh\necho "hello from this boot"\nexec sleep 100\n' });
  const run = join(etc, 'run');
  mkdirSync(join(run, 'uncaught-logs'), { recursive: true });
  writeFileSync(join(run, 'uncaught-logs', 'current'), 'line of the last run\n');
  mkdirSync(join(run, 's6-rc', 'servicedirs', 'gone-service'), { recursive: true });
  mkdirSync(join(run, 's6-rc:last-run-state'), { recursive: true });
  const current = join(run, 'uncaught-logs', 'current');
  const started = init(etc, { S6_LOGGING: '1' });
  await started.waitForOutput(/hello from this boot/);
  const deadline = Date.now() + 10_000;
  while (!(existsSync(current) && readFileSync(current, 'utf8').includes('hello from this boot')) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const log = readFileSync(current, 'utf8');
  started.kill('SIGTERM');
  assert.equal((await started.exited).code, 0, started.output());
  assert.match(log, /hello from this boot/);
  assert.doesNotMatch(log, /line of the last run/);
  assert.ok(!existsSync(join(run, 's6-rc', 'servicedirs', 'gone-service')), 'the last run\'s s6-rc service directory is still there');
  assert.ok(!existsSync(join(run, 's6-rc:last-run-state')));
});

test('a run script that puts its daemon in the background and exits 0 is told how to fix it', { skip }, async () => {
  const etc = scriptTree({ 'services.d/forker/run': '#!/bin/sh\nsleep 100 &\nexit 0\n' });
  const run = init(etc, { STEWARD_RESTART_THROTTLE: '200' });
  await run.waitForOutput(/service forker: warning: exited 0 unexpectedly; it will be restarted\. If it starts a daemon, make the daemon stay in the foreground/);
  // Given once: the restarts that follow repeat the line, not the advice.
  await run.waitForOutput(/(exited 0 unexpectedly[\s\S]*){3}/);
  run.kill('SIGTERM');
  const { code } = await run.exited;
  assert.equal(code, 0, run.output());
  assert.equal(run.output().match(/If it starts a daemon/g)?.length, 1, run.output());
  // And for a service that ends on purpose (nginx-proxy-manager's frontend outside development).
  assert.match(run.output(), /if it is meant to end \(nothing to run in this set-up\), have its finish script exit 125, or run s6-svc -O \. before it exits/);
});

test('a run-once service whose finish script takes it down is not warned about; one that is restarted is, after its finish script', { skip }, async () => {
  const steward = join(repoRoot, 'bin', 'steward');
  const etc = scriptTree({
    'services.d/once/run': '#!/bin/sh\nexit 0\n',
    // As s6 images do it with `s6-svc -d .`: the job is done, keep it down.
    'services.d/once/finish': `#!/bin/sh\n"${steward}" stop --no-wait once\n`,
    'services.d/again/run': '#!/bin/sh\nexit 0\n',
    'services.d/again/finish': '#!/bin/sh\nexit 0\n',
  });
  const run = init(etc, { STEWARD_RESTART_THROTTLE: '200' });
  await run.waitForOutput(/service again: warning: exited 0 unexpectedly; it will be restarted/);
  await run.waitForOutput(/service once: info: exited 0; its finish script runs/);
  // The finish script has had time to run, and again has been restarted meanwhile.
  await run.waitForOutput(/(service again: info: started[\s\S]*){3}/);
  run.kill('SIGTERM');
  const { code } = await run.exited;
  assert.equal(code, 0, run.output());
  assert.doesNotMatch(run.output(), /service once: warning/);
  assert.equal(run.output().match(/service once: info: started/g)?.length, 1, run.output());
});

test('stops a producer and its logger on a Node without AbortSignal.any (19, 20.0 to 20.2), which the version gate lets through', { skip }, async () => {
  const preload = join(scriptTree({}), 'no-abort-any.cjs');
  writeFileSync(preload, 'delete AbortSignal.any;\n');
  const etc = scriptTree({
    's6-overlay/s6-rc.d/app/type': 'longrun\n',
    's6-overlay/s6-rc.d/app/producer-for': 'app-log\n',
    's6-overlay/s6-rc.d/app/run': '#!/bin/sh\necho "app: started"\nexec sleep 9999\n',
    's6-overlay/s6-rc.d/app-log/type': 'longrun\n',
    's6-overlay/s6-rc.d/app-log/consumer-for': 'app\n',
    's6-overlay/s6-rc.d/app-log/pipeline-name': 'app-pipeline\n',
    's6-overlay/s6-rc.d/app-log/run': '#!/bin/sh\nexec cat >/dev/null\n',
    's6-overlay/s6-rc.d/user/contents.d/app-pipeline': '',
  });
  const run = startInit({ env: { STEWARD_ETC: etc, STEWARD_RUN: join(etc, 'run') }, launcher: [process.execPath, '--require', preload] });
  runs.push(run);
  await run.waitForOutput(/service app successfully started/);
  run.kill('SIGTERM');
  const { code } = await run.exited;
  assert.equal(code, 0, run.output());
  assert.doesNotMatch(run.output(), /AbortSignal/);
});

test('a logger whose producer left a child holding the pipe gets its down-signal, and the shutdown does not wait out the grace time', { skip }, async () => {
  const etc = scriptTree({
    's6-overlay/s6-rc.d/app/type': 'longrun\n',
    's6-overlay/s6-rc.d/app/producer-for': 'app-log\n',
    // No exec: the sleep is a child of the shell, and keeps the pipe open after the shell is gone.
    's6-overlay/s6-rc.d/app/run': '#!/bin/sh\necho "app: started"\nsleep 9999\n',
    's6-overlay/s6-rc.d/app-log/type': 'longrun\n',
    's6-overlay/s6-rc.d/app-log/consumer-for': 'app\n',
    's6-overlay/s6-rc.d/app-log/pipeline-name': 'app-pipeline\n',
    // The shell waits for its cat with `wait`, which a trapped TERM cuts short at once (a `read`
    // in dash may finish first, its trap then never running before the end of input). The cat
    // reads the pipe through descriptor 3: dash gives a command in the background /dev/null
    // for its input, even with <&0.
    's6-overlay/s6-rc.d/app-log/run': `#!/bin/sh\ntrap 'echo logger got TERM >> "${'$'}MARK"/logger.out; exit 0' TERM\nexec 3<&0\ncat <&3 >> "${'$'}MARK"/logger.out &\nwait\n`,
    's6-overlay/s6-rc.d/user/contents.d/app-pipeline': '',
  });
  const run = init(etc, { S6_KEEP_ENV: '1', MARK: etc, S6_SERVICES_GRACETIME: '20000' });
  await run.waitForOutput(/service app-log successfully started/);
  await run.waitForOutput(/service app successfully started/);
  // Up means spawned: wait until its line went through the logger.
  const logged = join(etc, 'logger.out');
  for (let attempt = 0; attempt < 200 && !(existsSync(logged) && readFileSync(logged, 'utf8').includes('app: started')); attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  run.kill('SIGTERM');
  const { code } = await run.exited;
  const output = run.output();
  assert.equal(code, 0, output);
  assert.doesNotMatch(output, /did not stop cleanly/, output);
  assert.match(output, /service app-log successfully stopped/, output);
  assert.match(readFileSync(join(etc, 'logger.out'), 'utf8'), /app: started\n[\s\S]*logger got TERM/);
});

test("a longrun slower to stop than the grace time gets its own timeout-kill, and its finish script's exit code counts", { skip }, async () => {
  const etc = scriptTree({
    's6-overlay/s6-rc.d/stubborn/type': 'longrun\n',
    's6-overlay/s6-rc.d/stubborn/timeout-kill': '1500\n',
    's6-overlay/s6-rc.d/stubborn/run': "#!/bin/sh\ntrap 'echo ignoring TERM' TERM\nwhile :; do sleep 0.1; done\n",
    's6-overlay/s6-rc.d/stubborn/finish': `#!/bin/sh\necho "finish $1 $2"\necho 77 > "${'$'}STEWARD_RUN"/s6-linux-init-container-results/exitcode\n`,
    's6-overlay/s6-rc.d/user/contents.d/stubborn': '',
  });
  const run = init(etc, { S6_SERVICES_GRACETIME: '500', S6_KILL_GRACETIME: '500' });
  await run.waitForOutput(/service stubborn successfully started/);
  run.kill('SIGTERM');
  const { code } = await run.exited;
  const output = run.output();
  // Its own supervisor killed it at timeout-kill (as s6-supervise does), then its finish ran.
  assert.match(output, /finish 256 9/, output);
  assert.equal(code, 77, output);
});

test("PID 1's command line and name are Steward's, without the CMD's words: a run script's pkill -f meant for a service does not stop the container", { skip }, async () => {
  const etc = scriptTree({});
  // The CMD names nginx's master process, as a linuxserver svc-nginx run script's `pkill -ef [n]ginx:` looks for it.
  const script = [
    'echo "cmdline=$(tr "\\0" " " < /proc/1/cmdline | sed "s/ *$//")"',
    'echo "comm=$(cat /proc/1/comm)"',
    'echo "pid1_by_cmd=$(pgrep -f "nginx: master" | grep -qx 1 && echo yes || echo no)"',
    'echo "pid1_by_node=$(pgrep -x node | grep -qx 1 && echo yes || echo no)"',
    'echo "argument=$1"',
  ].join('\n');
  const run = init(etc, {}, ['sh', '-c', script, 'sh', 'nginx: master process /usr/sbin/nginx']);
  const { code } = await run.exited;
  const output = run.output();
  assert.equal(code, 0, output);
  assert.equal(lastValue(output, 'cmdline'), 'steward', output);
  assert.equal(lastValue(output, 'comm'), 'steward', output);
  assert.equal(lastValue(output, 'pid1_by_cmd'), 'no', output);
  assert.equal(lastValue(output, 'pid1_by_node'), 'no', output);
  // The CMD still gets its words.
  assert.equal(lastValue(output, 'argument'), 'nginx: master process /usr/sbin/nginx', output);
});

test('without /proc mounted, PID 1 boots, supervises and stops, and says what it cannot do', { skip }, async () => {
  const etc = scriptTree({ 'services.d/worker/run': '#!/bin/sh\necho worker-up\nexec sleep 1000\n' });
  const run = startInit({
    ownProc: false,
    // An empty /proc in a mount namespace of its own: the path is there, nothing is in it.
    launcher: ['--mount', 'sh', '-c', 'mount -t tmpfs tmpfs /proc && exec "$0" "$@"'],
    env: { STEWARD_ETC: etc, STEWARD_RUN: join(etc, 'run'), S6_KILL_GRACETIME: '200' },
    args: ['sh', '-c', 'while ! grep -q started "$STEWARD_RUN/worker-seen" 2>/dev/null; do sleep 0.05; done; exit 3'],
  });
  runs.push(run);
  await run.waitForOutput(/worker-up/);
  writeFileSync(join(etc, 'run', 'worker-seen'), 'started\n');
  const { code } = await run.exited;
  const output = run.output();
  assert.equal(code, 3, output);
  assert.match(output, /warning: cannot read its own memory use \(ENOENT; is \/proc mounted\?\)/);
  assert.match(output, /service worker: info: killed by SIGTERM/);
});

test('under a low limit of open files (ulimit -n 64), a boot of 200 services starts them all: a queued start holds no descriptors', { skip }, async () => {
  const services: Record<string, string> = {};
  for (let index = 0; index < 200; index++) services[`services.d/s${index}/run`] = `#!/bin/sh\ntouch "$MARKS/s${index}"\nexec sleep 1000\n`;
  const etc = scriptTree(services);
  const marks = join(etc, 'marks');
  mkdirSync(marks);
  // With the real /run, as in a container (the services are copied there), and pipes for output,
  // as Docker gives: each child gets its own open file of them.
  const run = startInit({
    privateRun: true,
    fifoOutput: true,
    launcher: ['prlimit', '--nofile=64'],
    env: { STEWARD_ETC: etc, S6_KEEP_ENV: '1', MARKS: marks },
    args: ['sh', '-c', 'i=0; while [ "$(ls "$MARKS" | wc -l)" -lt 200 ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done; echo "started=$(ls "$MARKS" | wc -l)"; echo "limit=$(awk \'/^Max open files/ { print $4 }\' /proc/1/limits)"'],
  });
  runs.push(run);
  const { code } = await run.exited;
  const output = run.output();
  assert.equal(code, 0, output);
  assert.equal(lastValue(output, 'limit'), '64', output);
  assert.equal(lastValue(output, 'started'), '200', output);
  assert.doesNotMatch(output, /EMFILE/);
});

test("services.d's stage ends once its services are spawned: their started lines come before the CMD's first output (an interactive shell's prompt)", { skip }, async () => {
  const services: Record<string, string> = {};
  for (let index = 0; index < 40; index++) services[`services.d/s${index}/run`] = '#!/bin/sh\nexec sleep 1000\n';
  const etc = scriptTree(services);
  // The CMD writes where Steward's lines go, so the order read is the order written.
  const run = init(etc, {}, ['sh', '-c', 'echo CMD-OUTPUT >&2']);
  const { code } = await run.exited;
  const output = run.output();
  assert.equal(code, 0, output);
  const stageEnd = output.indexOf('s6-rc: info: service legacy-services successfully started');
  const commandOutput = output.indexOf('CMD-OUTPUT');
  assert.ok(stageEnd !== -1 && commandOutput > stageEnd, output);
  for (let index = 0; index < 40; index++) {
    const started = new RegExp(`^service s${index}: info: started \\(pid \\d+\\)$`, 'm').exec(output);
    assert.ok(started !== null && started.index < stageEnd, `s${index}'s started line is not before the stage's end:\n${output}`);
  }
});

test('a subreaper that fails in its own stop kills its own descendants before it leaves, and no other process', { skip }, async () => {
  const etc = scriptTree({
    'services.d/web/run': '#!/bin/sh\nexec sleep 1000\n',
    // Slow to stop (it ignores TERM), with a child of its own: still there when the failure comes.
    'services.d/slow/run': '#!/bin/sh\ntrap "" TERM\nsleep 991 &\ntouch "$MARK/up"\nwhile :; do sleep 1; done\n',
  });
  // A bug in Steward's stop, stood in for by an exception 300 ms after its SIGTERM.
  const preload = join(etc, 'bug.cjs');
  writeFileSync(preload, "process.on('SIGTERM', () => setTimeout(() => { throw new Error('a bug in the stop'); }, 300));\n");
  // PID 1 is a shell (a pod's pause, tini), with a process of another container beside Steward.
  const pause = [
    'sleep 992 & other=$!',
    `${process.execPath} --require ${preload} "$@" & steward=$!`,
    'i=0; while [ ! -e "$MARK/up" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; sleep 0.3',
    'kill -TERM $steward; wait $steward; echo "steward_rc=$?"',
    'sleep 0.3',
    'echo "left=$(ps -eo args | grep -c "^sleep 99[01]")"',
    'echo "other=$(kill -0 $other 2>/dev/null && echo alive || echo gone)"',
  ].join('\n');
  const run = startInit({ env: { STEWARD_ETC: etc, STEWARD_RUN: join(etc, 'run'), MARK: etc, PATH: process.env['PATH'] ?? '/usr/bin:/bin' }, launcher: ['sh', '-c', pause, 'pause'] });
  runs.push(run);
  await run.exited;
  const output = run.output();
  assert.equal(lastValue(output, 'steward_rc'), '111', output);
  assert.equal(lastValue(output, 'left'), '0', output);
  assert.equal(lastValue(output, 'other'), 'alive', output);
});
