import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { initBin, isRoot, lastValue, noteMountPoint, repoRoot } from '../helpers/pid1.js';
import { checkStartOrder, checkStopOrder, fixturePath, installFixture, realisticGraph, spawnedBeforeInLog, Timeline } from '../helpers/timeline.js';
import { removeTree } from '../helpers/tree.js';

/**
 * The realistic tree, run the way a hardened image runs: Steward and every service as
 * an unprivileged user (nobody, in its own group), /run a tmpfs owned by root and
 * writable by that group, and the root file system read-only.
 */

const USER = 65534;
const GROUP = 65534;
const EXIT_LIMIT_MS = 60_000;

function whyNot(): string | false {
  if (!isRoot) return 'needs root for PID and mount namespaces and to switch users';
  if (spawnSync('setpriv', ['--version']).error !== undefined) return 'setpriv (util-linux) is not installed';
  const probe = spawnSync(process.execPath, [join(repoRoot, 'bin', 'steward'), '--version'], { uid: USER, gid: GROUP, cwd: '/', encoding: 'utf8', timeout: 10_000 });
  if (probe.error !== undefined) return `cannot start node as uid ${USER}: ${probe.error.message}`;
  if (probe.status !== 0) return `node or the built CLI is not usable by uid ${USER}: ${String(probe.stderr).trim()}`;
  return false;
}

const skip = whyNot();
const trees: string[] = [];
after(() => trees.forEach(removeTree));

function tempDir(prefix: string, mode: number): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, mode);
  trees.push(dir);
  return dir;
}

/**
 * Runs the init as PID 1 of new PID and mount namespaces. As root, a wrapper sets up
 * the mounts: a tmpfs /run owned by root:GROUP 0775, /command, the state directory
 * (still writable), and / remounted read-only (a bind remount: this namespace only).
 * Then it drops to USER:GROUP with no supplementary groups and execs the init.
 */
function runContainer(env: NodeJS.ProcessEnv, commandDir: string, state: string, cmd: string, options: { noNewPrivileges?: boolean } = {}): Promise<{ code: number | null; output: string }> {
  noteMountPoint('/command');
  const wrapper = [
    'set -e',
    'mount -t tmpfs -o mode=0755 tmpfs /run',
    `chown root:${GROUP} /run`,
    'chmod 0775 /run',
    // The host may have no /command: made (and removed when the tests end), as a mount point.
    'mkdir -p /command',
    `mount --bind '${commandDir}' /command`,
    `mount --bind '${state}' '${state}'`,
    'mount -o remount,bind,ro /',
    `exec setpriv --reuid ${USER} --regid ${GROUP} --clear-groups ${options.noNewPrivileges === true ? '--no-new-privs ' : ''}"$0" "$@"`,
  ].join('\n');
  const child = spawn('unshare', ['--pid', '--fork', '--mount-proc', '--mount', 'sh', '-c', wrapper, initBin, 'sh', '-c', cmd], {
    env: { PATH: '/command:/usr/sbin:/usr/bin:/sbin:/bin', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      output += `\n(test: no exit within ${EXIT_LIMIT_MS} ms; killed)\n`;
      child.kill('SIGKILL');
    }, EXIT_LIMIT_MS);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('non-root with no-new-privileges (Kubernetes restricted, OpenShift restricted SCC)', { skip }, () => {
  it("does not say s6-overlay would have given /run to the user: its setuid helper could not have either", async () => {
    const etc = tempDir('steward-etc-', 0o755);
    const state = tempDir('steward-state-', 0o777);
    const root = tempDir('steward-install-', 0o755);
    assert.equal(spawnSync(process.execPath, [join(repoRoot, 'bin', 'steward'), 'install', '--root', root], { encoding: 'utf8' }).status, 0);
    const result = await runContainer({ STEWARD_ETC: etc }, join(root, 'command'), state, 'grep NoNewPrivs /proc/self/status', { noNewPrivileges: true });
    assert.equal(result.code, 0, result.output);
    assert.match(result.output, /NoNewPrivs:\s*1/);
    assert.doesNotMatch(result.output, /s6-overlay would have given/);
  });
});

describe('an s6-overlay v2 image as a non-root user (PrivateBin: USER 65534:82)', { skip }, () => {
  it("does not say s6-overlay would have given /run to the user: v2's setuid helper made /var/run/s6 only", async () => {
    const etc = tempDir('steward-etc-', 0o755);
    mkdirSync(join(etc, 's6', 'init'), { recursive: true });
    writeFileSync(join(etc, 's6', 'init', 'init-stage2'), '#!/usr/bin/execlineb -S0\n', { mode: 0o755 });
    const state = tempDir('steward-state-', 0o777);
    const root = tempDir('steward-install-', 0o755);
    assert.equal(spawnSync(process.execPath, [join(repoRoot, 'bin', 'steward'), 'install', '--root', root], { encoding: 'utf8' }).status, 0);
    const result = await runContainer({ STEWARD_ETC: etc }, join(root, 'command'), state, 'stat -c "run=%u" /run; id -u');
    assert.equal(result.code, 0, result.output);
    assert.match(result.output, /run=0\n/);
    assert.doesNotMatch(result.output, /s6-overlay would have given/);
  });
});

describe('the realistic tree as a non-root user, with a read-only root', { skip }, () => {
  let etc = '';
  let state = '';
  let result: { code: number | null; output: string };
  let timeline: Timeline;
  const details = (): string => `timeline:\n${timeline.render()}\noutput:\n${result.output}`;

  before(async () => {
    etc = installFixture(fixturePath(repoRoot, 's6rc-realistic'));
    trees.push(etc);
    state = tempDir('steward-state-', 0o777);
    const root = tempDir('steward-install-', 0o755);
    const install = spawnSync(process.execPath, [join(repoRoot, 'bin', 'steward'), 'install', '--root', root], { encoding: 'utf8' });
    assert.equal(install.status, 0, install.stderr);
    const cmd = `
S='${state}'
T="$S/timeline"
fail() { echo "cmd: $*"; exit 1; }
wait_until() { i=0; until eval "$1"; do i=$((i + 1)); [ $i -le 300 ] || fail "timed out waiting until $1"; sleep 0.05; done; }
logged() { n=$(grep -c "^$1 line " "$S/svc-log.out" 2>/dev/null); echo "\${n:-0}"; }
echo "$(date +%s%N) cmd start" >> "$T"
echo "uid=$(id -u) gid=$(id -g) groups=$(id -G)"
echo "run=$(stat -c '%u:%g %a' /run)"
if touch /steward-probe 2>/dev/null; then echo "root=writable"; rm -f /steward-probe; else echo "root=read-only"; fi
if touch '${etc}/probe' 2>/dev/null; then echo "tree=writable"; else echo "tree=read-only"; fi
echo 10 > "$S/svc-api.allow"; echo 10 > "$S/svc-worker.allow"
wait_until '[ $(logged svc-api) -eq 10 ] && [ $(logged svc-worker) -eq 10 ]'
echo "optional=$(s6-svstat -o up,wantedup /run/service/svc-optional)"
echo "$(date +%s%N) cmd done" >> "$T"
`;
    result = await runContainer(
      { STEWARD_ETC: etc, TIMELINE: join(state, 'timeline'), STATE: state, S6_READ_ONLY_ROOT: '1', S6_CMD_WAIT_FOR_SERVICES: '1', STEWARD_RESTART_THROTTLE: '200' },
      join(root, 'command'),
      state,
      cmd,
    );
    timeline = Timeline.read(join(state, 'timeline'));
  });

  it('boots, runs the CMD and stops with exit 0', () => {
    assert.equal(result.code, 0, details());
    assert.equal(timeline.count('cmd', 'done'), 1, details());
    assert.doesNotMatch(result.output, /: error: |unable to start|not started:|did not stop cleanly/, details());
  });

  it('really ran unprivileged, with /run root:GROUP 0775 and a read-only root', () => {
    assert.equal(lastValue(result.output, 'uid'), `${USER} gid=${GROUP} groups=${GROUP}`, details());
    assert.equal(lastValue(result.output, 'run'), `0:${GROUP} 775`, details());
    assert.equal(lastValue(result.output, 'root'), 'read-only', details());
    assert.equal(lastValue(result.output, 'tree'), 'read-only', details());
    // The services too: init-adduser prints the uid it runs as.
    assert.match(result.output, new RegExp(`User uid: +${USER}\\n`), details());
    // s6-overlay would have given /run to the user: said, with the way to get the same.
    assert.match(result.output, new RegExp(`steward: warning: /run belongs to uid 0, not to uid ${USER} that Steward runs as: .*docker run --tmpfs /run:exec,uid=${USER},gid=${GROUP}`), details());
  });

  it('keeps the dependency order up and down', () => {
    const nodes = realisticGraph(etc);
    const up = checkStartOrder(nodes, timeline, spawnedBeforeInLog(result.output));
    assert.deepEqual(up.violations, [], details());
    assert.ok(up.checked >= 40, `only ${up.checked} pairs compared\n${details()}`);
    const down = checkStopOrder(nodes, timeline);
    assert.deepEqual(down.violations, [], details());
    assert.ok(down.checked >= 20, `only ${down.checked} pairs compared\n${details()}`);
  });

  it('runs the pipeline, the down scripts and s6-svc from a run script', () => {
    const lines = readFileSync(join(state, 'svc-log.out'), 'utf8').split('\n').filter((line) => line !== '');
    for (const producer of ['svc-api', 'svc-worker']) {
      assert.deepEqual(
        lines.filter((line) => line.startsWith(`${producer} `)),
        Array.from({ length: 10 }, (_, index) => `${producer} line ${index + 1}`),
      );
    }
    assert.equal(timeline.count('svc-log', 'eof'), 1, details());
    assert.equal(timeline.count('svc-log', 'finish'), 1, details());
    for (const name of ['init-services', 'init-custom-files', 'init-migrations']) assert.equal(timeline.count(name, 'down-done'), 1, `${name}\n${details()}`);
    assert.equal(lastValue(result.output, 'optional'), 'false false', details());
    assert.equal(timeline.count('svc-optional', 'start'), 1, details());
    assert.equal(timeline.count('cont-finish', 'done'), 1, details());
  });
});
