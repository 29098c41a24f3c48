import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { destroy, isRoot, lastValue, repoRoot, scriptTree, startInit, type InitRun } from '../helpers/pid1.js';
import { removeTree } from '../helpers/tree.js';

/**
 * An image that keeps s6-overlay's own s6 tools in /command and only changes its
 * ENTRYPOINT to Steward: scripts calling s6-svc, s6-svstat, s6-svwait... run skarnet's
 * programs, which talk to the supervise/ directories. Debian's s6 stands in for
 * s6-overlay's (same programs, dynamically linked), copied where s6-overlay puts them.
 */
const S6_TOOLS = ['s6-svc', 's6-svstat', 's6-svwait', 's6-svok', 's6-svdt', 's6-svscanctl', 's6-svlisten1', 's6-permafailon'];
const haveS6 = S6_TOOLS.every((name) => existsSync(join('/usr/bin', name)));
const skip = (!isRoot && 'needs root for PID and mount namespaces') || (!haveS6 && "needs Debian's s6 package (apt-get install s6)");

const runs: InitRun[] = [];
const trees: string[] = [];
after(() => {
  runs.forEach(destroy);
  trees.forEach(removeTree);
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'steward-s6sv-'));
  chmodSync(dir, 0o755);
  trees.push(dir);
  return dir;
}

/** /command as s6-overlay lays it out: links into /package/admin/s6-VERSION/command. */
function overlayCommandDir(version: string): { command: string } {
  const root = tempDir();
  const toolsDir = join(root, 'package', 'admin', `s6-${version}`, 'command');
  mkdirSync(toolsDir, { recursive: true });
  const command = join(root, 'command');
  mkdirSync(command);
  for (const name of S6_TOOLS) {
    copyFileSync(join('/usr/bin', name), join(toolsDir, name));
    chmodSync(join(toolsDir, name), 0o755);
    symlinkSync(join(toolsDir, name), join(command, name));
  }
  // s6-overlay's s6-rc needs its own supervision tree: Steward puts its s6-rc in its place.
  const rcDir = join(root, 'package', 'admin', 's6-rc-0.5.4.1', 'command');
  mkdirSync(rcDir, { recursive: true });
  writeFileSync(join(rcDir, 's6-rc'), '#!/bin/sh\necho "s6-overlay\'s s6-rc"; exit 111\n', { mode: 0o755 });
  symlinkSync('../package/admin/s6-rc-0.5.4.1/command/s6-rc', join(command, 's6-rc'));
  return { command };
}

const PRELUDE = `
set -u
S=/run/service
say() { echo "$1=$2"; }
# Polls a condition for up to 10 s: a fixed sleep is a guess at how busy the machine is.
wait_until() { i=0; while ! eval "$1" && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; }
`;

async function container(cmd: string, env: NodeJS.ProcessEnv = {}, overlay = true, tree?: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const etc = scriptTree(tree ?? {
    'services.d/web/run': '#!/bin/sh\nexec sleep 1000\n',
    'services.d/web/max-death-tally': '1\n',
    'services.d/slow/run': '#!/bin/sh\nsleep 0.3\necho >&3\nexec sleep 1000\n',
    'services.d/slow/notification-fd': '3\n',
    'services.d/idle/run': '#!/bin/sh\nexec sleep 1000\n',
    'services.d/idle/down': '',
    // Gives up after its second death with exit code 3, through the death tally (s6's tools only).
    ...(overlay
      ? {
          'services.d/crashy/run': '#!/bin/sh\necho start >> /run/crashy-starts\nexit 3\n',
          'services.d/crashy/finish': '#!/bin/sh\nexec /command/s6-permafailon 60 2 3 true\n',
        }
      : {}),
  });
  trees.push(etc);
  // Without s6-overlay's tools, /command starts empty and Steward links its own there.
  const command = overlay ? overlayCommandDir('2.11.3.2').command : tempDir();
  const init = startInit({
    privateRun: true,
    binds: [[command, '/command']],
    env: { STEWARD_ETC: etc, STEWARD_RESTART_THROTTLE: '0', PATH: '/command:/usr/sbin:/usr/bin:/sbin:/bin', ...env },
    args: ['sh', '-c', `${PRELUDE}\n${cmd}`],
  });
  runs.push(init);
  const { code } = await init.exited;
  return { code, output: init.output() };
}

function expect(output: string, key: string, pattern: RegExp | string): void {
  const found = lastValue(output, key);
  assert.notEqual(found, undefined, `no ${key}= line in the output:\n${output}`);
  if (typeof pattern === 'string') assert.equal(found, pattern, `${key}:\n${output}`);
  else assert.match(found!, pattern, `${key}:\n${output}`);
}

describe("s6's own tools against Steward's supervisors (s6-overlay left in the image)", { skip }, () => {
  it('s6-svok, s6-svstat, s6-svwait, s6-svc and s6-svdt see and control the services', async () => {
    const { code, output } = await container(`
/command/s6-svok $S/web; say svok $?
/command/s6-svok $S/idle; say svok_idle $?
# The CMD may start before every service has been spawned (as under s6-overlay without S6_CMD_WAIT_FOR_SERVICES).
/command/s6-svwait -u -t 5000 $S/web
say web_status "$(/command/s6-svstat $S/web)"
say idle_status "$(/command/s6-svstat $S/idle)"
/command/s6-svwait -U -t 5000 $S/slow; say wait_ready $?
say slow_status "$(/command/s6-svstat -o up,ready,normallyup $S/slow)"
/command/s6-svc -d $S/web; say svc_down $?
/command/s6-svwait -D -t 5000 $S/web; say wait_down $?
say web_down "$(/command/s6-svstat -o up,wantedup,normallyup,signal $S/web)"
/command/s6-svc -wu -T 5000 -u $S/web; say svc_up $?
say web_up "$(/command/s6-svstat -o up,wantedup $S/web)"
/command/s6-svc -u $S/idle; /command/s6-svwait -u -t 5000 $S/idle; say idle_up $?
/command/s6-svc -p $S/idle; wait_until '[ "$(/command/s6-svstat -o paused $S/idle)" = true ]'; say idle_paused "$(/command/s6-svstat $S/idle | sed 's/[0-9][0-9]*/N/g')"
/command/s6-svc -c $S/idle; wait_until '[ "$(/command/s6-svstat -o paused $S/idle)" = false ]'; say idle_continued "$(/command/s6-svstat -o paused $S/idle)"
pid=$(/command/s6-svstat -o pid $S/web)
/command/s6-svc -k $S/web
/command/s6-svwait -d -t 5000 $S/web; /command/s6-svwait -u -t 5000 $S/web; say restarted $?
say new_pid_differs "$([ "$(/command/s6-svstat -o pid $S/web)" != "$pid" ] && echo yes || echo no)"
say tally "$(/command/s6-svdt $S/web | sed 's/^@[0-9a-f]* //' | tr '\\n' ',')"
say s6rc "$(readlink /command/s6-rc)"
wait_until '[ "$(/command/s6-svstat -o wantedup $S/crashy)" = false ]'
say crashy "$(/command/s6-svstat -o up,wantedup $S/crashy) after $(wc -l < /run/crashy-starts) starts"
`, { STEWARD_S6_SUPERVISE: 'auto' });
    assert.equal(code, 0, output);
    assert.match(output, /keeping s6 supervise directories for .*\/s6-2\.11\.3\.2\/command\/s6-svc \(status layout of s6 2\.11\.3\.2\)/, output);
    expect(output, 'svok', '0');
    expect(output, 'svok_idle', '0');
    expect(output, 'web_status', /^up \(pid \d+\) \d+ seconds$/);
    expect(output, 'idle_status', /^down \(exitcode 0\) \d+ seconds, ready \d+ seconds$/);
    expect(output, 'wait_ready', '0');
    expect(output, 'slow_status', 'true true true');
    expect(output, 'svc_down', '0');
    expect(output, 'wait_down', '0');
    expect(output, 'web_down', 'false false true SIGTERM');
    expect(output, 'svc_up', '0');
    expect(output, 'web_up', 'true true');
    expect(output, 'idle_up', '0');
    // skarnet's s6-svstat reads the paused flag from the status file Steward keeps.
    expect(output, 'idle_paused', 'up (pid N) N seconds, normally down, paused');
    expect(output, 'idle_continued', 'false');
    expect(output, 'restarted', '0');
    expect(output, 'new_pid_differs', 'yes');
    // max-death-tally 1: only the last death is kept.
    expect(output, 'tally', 'signal SIGKILL,');
    expect(output, 's6rc', /\/bin\/s6-tool$/);
    // s6-permafailon in finish read the tally and exited 125: no third start.
    expect(output, 'crashy', 'false false after 2 starts');
    assert.match(output, /service crashy: warning: finish script exited 125/);
  });

  it("a service a scan added, then pruned, says it is down (D) before its supervisor goes (x): skarnet's s6-svwait -D ends with 0", async () => {
    const { code, output } = await container(`
mkdir -p /run/dyn && printf '#!/bin/sh\\nexec sleep 1000\\n' > /run/dyn/run && chmod +x /run/dyn/run
ln -s /run/dyn $S/dyn
/command/s6-svscanctl -a $S
/command/s6-svwait -u -t 5000 $S/dyn; say dyn_up $?
( /command/s6-svwait -D -t 5000 /run/dyn; echo "$?" > /run/waitD ) &
sleep 0.5
rm $S/dyn; /command/s6-svscanctl -h $S
wait_until 'test -s /run/waitD'
say waitD "$(cat /run/waitD)"
`, { STEWARD_S6_SUPERVISE: 'auto' });
    assert.equal(code, 0, output);
    expect(output, 'dyn_up', '0');
    expect(output, 'waitD', '0');
  });

  it("s6-svc -d and -u through supervise/control act on that one s6-rc longrun, as s6-supervise does: what depends on it stays up", async () => {
    const rc = 's6-overlay/s6-rc.d';
    const { code, output } = await container(
      `
/command/s6-svwait -u -t 5000 $S/db $S/app
/command/s6-svc -d $S/db; /command/s6-svwait -D -t 5000 $S/db; say db_down $?
sleep 0.3
say app_after_down "$(/command/s6-svstat -o up,wantedup $S/app)"
/command/s6-svc -u $S/db; /command/s6-svwait -u -t 5000 $S/db; say db_up $?
say app_after_up "$(/command/s6-svstat -o up,wantedup $S/app)"
`,
      { STEWARD_S6_SUPERVISE: 'auto' },
      true,
      {
        [`${rc}/user/type`]: 'bundle\n',
        [`${rc}/user/contents.d/db`]: '',
        [`${rc}/user/contents.d/app`]: '',
        [`${rc}/db/type`]: 'longrun\n',
        [`${rc}/db/run`]: '#!/bin/sh\nexec sleep 1000\n',
        [`${rc}/app/type`]: 'longrun\n',
        [`${rc}/app/run`]: '#!/bin/sh\nexec sleep 1000\n',
        [`${rc}/app/dependencies.d/db`]: '',
      },
    );
    assert.equal(code, 0, output);
    expect(output, 'db_down', '0');
    // skarnet's s6-svc only writes to supervise/control: s6-supervise stops that service, s6-rc's
    // graph is not asked (steward stop db would take app down first).
    expect(output, 'app_after_down', 'true true');
    expect(output, 'db_up', '0');
    expect(output, 'app_after_up', 'true true');
    // Before the container's stop, nothing was said of app.
    assert.doesNotMatch(output.slice(0, output.indexOf('stopping the container')), /service app: stopping/, output);
  });

  it("a finish script's s6-svc -d . through the fifo is heard before its exit is acted on, however many die at once", async () => {
    // cortexlabs/cortex's uvicorn services: their finish scripts s6-svc -O their own service.
    const count = 20;
    const tree: Record<string, string> = {};
    for (let i = 1; i <= count; i++) {
      tree[`services.d/f${i}/run`] = `#!/bin/sh\necho run >> /run/runs.f${i}\nsleep 1.2\nexit 1\n`;
      tree[`services.d/f${i}/finish`] = '#!/bin/sh\n/command/s6-svc -d .\n';
    }
    const { code, output } = await container(
      `for i in $(seq 1 ${count}); do wait_until "[ \\"\\$(/command/s6-svstat -o wantedup $S/f$i)\\" = false ]"; done
# Had a finish script's letter been heard late, its service would have started again by now.
sleep 0.5
n=0; for i in $(seq 1 ${count}); do [ "$(wc -l < /run/runs.f$i)" -gt 1 ] && n=$((n+1)); done
say rerun $n
n=0; for i in $(seq 1 ${count}); do [ "$(/command/s6-svstat -o wantedup $S/f$i)" = false ] && n=$((n+1)); done
say wanted_down $n`,
      { STEWARD_S6_SUPERVISE: 'on' },
      true,
      tree,
    );
    assert.equal(code, 0, output);
    expect(output, 'rerun', '0');
    expect(output, 'wanted_down', String(count));
    assert.doesNotMatch(output, /it will be restarted/);
  });

  it('s6-svc -o while the finish script runs leaves the service down, as -u then -O does there', async () => {
    const { code, output } = await container(
      `wait_until '[ -e /run/finishing.fo ]'
/command/s6-svc -o $S/fo
# skarnet's s6-svc does not wait for the supervisor to read its letter (under s6 either): a moment to.
wait_until '[ "$(/command/s6-svstat -o up,wantedup $S/fo)" = "false false" ]'
say during "$(/command/s6-svstat -o up,wantedup $S/fo)"
sleep 2
say runs "$(wc -l < /run/runs.fo)"
say after "$(/command/s6-svstat -o up,wantedup $S/fo)"`,
      {},
      true,
      {
        'services.d/fo/run': '#!/bin/sh\necho run >> /run/runs.fo\nsleep 0.3\nexit 2\n',
        'services.d/fo/finish': '#!/bin/sh\ntouch /run/finishing.fo\nsleep 1\n',
      },
    );
    assert.equal(code, 0, output);
    expect(output, 'during', 'false false');
    expect(output, 'runs', '1');
    expect(output, 'after', 'false false');
  });

  it("what Steward's own s6-svc changes without a change of state (-O, -p, -d during finish) is written to supervise/status at once", async () => {
    const svc = `${process.execPath} ${join(repoRoot, 'bin', 's6-tool')} s6-svc`;
    const { code, output } = await container(
      `/command/s6-svwait -u -t 5000 $S/web $S/fs
${svc} -O $S/web; say svc_O $?
say web_O "$(/command/s6-svstat -o up,wantedup $S/web)"
${svc} -p $S/web
say web_p "$(/command/s6-svstat -o paused $S/web)"
${svc} -c $S/web
sleep 0.5
${svc} -d $S/fs
say fs_d "$(/command/s6-svstat -o up,wantedup $S/fs)"`,
      {},
      true,
      {
        'services.d/web/run': '#!/bin/sh\nexec sleep 1000\n',
        'services.d/fs/run': '#!/bin/sh\nsleep 0.3\nexit 2\n',
        'services.d/fs/finish': '#!/bin/sh\nsleep 1.5\n',
      },
    );
    assert.equal(code, 0, output);
    expect(output, 'svc_O', '0');
    expect(output, 'web_O', 'true false');
    expect(output, 'web_p', 'true');
    // Its finish script runs: down, and no longer wanted up.
    expect(output, 'fs_d', 'false false');
  });

  it('a status file that cannot be written is said once, as s6-supervise warns, and written again once it can be', async () => {
    const { code, output } = await container(`
/command/s6-svwait -u -t 5000 $S/web
# A directory where the new status file goes: its write fails, as on a full /run.
mkdir $S/web/supervise/status.new
/command/s6-svc -k $S/web; sleep 0.5
/command/s6-svc -k $S/web; sleep 0.5
# Another service's, while web's still fails: said for it too.
mkdir $S/slow/supervise/status.new
/command/s6-svc -k $S/slow; sleep 0.5
rmdir $S/web/supervise/status.new $S/slow/supervise/status.new
/command/s6-svc -k $S/web
/command/s6-svwait -d -t 5000 $S/web; /command/s6-svwait -u -t 5000 $S/web
pid=$(/command/s6-svstat -o pid $S/web)
say status_pid_live "$([ -d /proc/$pid ] && [ "$(cat /proc/$pid/comm)" = sleep ] && echo yes || echo no)"
`);
    assert.equal(code, 0, output);
    assert.equal(output.match(/unable to write \S*\/web\/supervise\/(status|death_tally): EISDIR/g)?.length, 1, output);
    assert.equal(output.match(/unable to write \S*\/slow\/supervise\/status: EISDIR/g)?.length, 1, output);
    assert.match(output, /s6's own s6-svstat and s6-svwait read a stale status until a write succeeds again/);
    expect(output, 'status_pid_live', 'yes');
  });

  it('s6-svscanctl -t on the scan directory stops the container, with the exit code file', async () => {
    const { code, output } = await container(`
echo 7 > /run/s6-linux-init-container-results/exitcode
/command/s6-svscanctl -t $S; say svscanctl $?
sleep 10
say still_running yes
`);
    assert.equal(code, 7, output);
    expect(output, 'svscanctl', '0');
    assert.equal(lastValue(output, 'still_running'), undefined, output);
  });

  it("is off when /command has no s6 of its own (Steward links its tools there), and when STEWARD_S6_SUPERVISE=off", async () => {
    const probe = `say has_supervise "$([ -e $S/web/supervise/control ] && echo yes || echo no)"; say s6svc "$(readlink /command/s6-svc)"`;
    const withoutOverlay = await container(probe, {}, false);
    assert.equal(withoutOverlay.code, 0, withoutOverlay.output);
    expect(withoutOverlay.output, 'has_supervise', 'no');
    expect(withoutOverlay.output, 's6svc', /\/bin\/s6-tool$/);
    const turnedOff = await container(probe, { STEWARD_S6_SUPERVISE: 'off' });
    assert.equal(turnedOff.code, 0, turnedOff.output);
    expect(turnedOff.output, 'has_supervise', 'no');
    for (const output of [withoutOverlay.output, turnedOff.output]) assert.doesNotMatch(output, /keeping s6 supervise directories/);
  });
});
