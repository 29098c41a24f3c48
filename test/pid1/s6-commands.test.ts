import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { destroy, isRoot, lastValue, repoRoot, scriptTree, startInit, type InitRun } from '../helpers/pid1.js';
import { removeTree } from '../helpers/tree.js';

const skip = !isRoot && 'needs root for PID and mount namespaces';
const busybox = ['/usr/bin/busybox', '/bin/busybox'].find((path) => existsSync(path));
const runs: InitRun[] = [];
const trees: string[] = [];
after(() => {
  runs.forEach(destroy);
  trees.forEach(removeTree);
});

const CONTROL_TOOLS = ['s6-svc', 's6-svstat', 's6-svwait', 's6-svok', 's6-svscanctl', 's6-rc', 's6-svdt', 's6-svdt-clear', 's6-permafailon', 'execlineb', 's6-maximumtime', 'with-retries', 's6-envuidgid', 's6-applyuidgid', 's6-setlock', 's6-softlimit'];
// Every command in shims/ is linked: a new one cannot be forgotten in the list of links.
const SHELL_SHIMS = readdirSync(join(repoRoot, 'shims'));

/** Runs a program to its end; `env` replaces the environment (the test's own by default). */
function run(file: string, args: readonly string[], env?: NodeJS.ProcessEnv, options: { cwd?: string } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 30_000, ...options, ...(env === undefined ? {} : { env }) }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}

/** A uid that no process on the machine runs as (none has an account), for limits counted per uid. */
function unusedUid(): number {
  const used = new Set<number>();
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const uids = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (uids?.[1] !== undefined) used.add(Number(uids[1]));
    } catch {
      // Gone meanwhile.
    }
  }
  let uid = 3_000_000 + Math.floor(Math.random() * 1_000_000);
  while (used.has(uid)) uid++;
  return uid;
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'steward-s6-'));
  trees.push(dir);
  return dir;
}

/** Helpers for CMD scripts: bounded waits on files the services write. */
const PRELUDE = `
# wait_lines FILE N: until FILE has at least N lines (at most 10 s)
wait_lines() { i=0; while [ "$(cat "$1" 2>/dev/null | wc -l)" -lt "$2" ]; do i=$((i+1)); [ $i -gt 200 ] && return 1; sleep 0.05; done; }
# wait_until CONDITION: until the shell condition holds (at most 10 s): a fixed sleep is a guess at how busy the machine is
wait_until() { i=0; while ! eval "$1"; do i=$((i+1)); [ $i -gt 200 ] && return 1; sleep 0.05; done; }
`;

/**
 * Boots Steward as PID 1 with a private /run and an empty /command (which Steward fills
 * with its commands at boot, as in an image without them), runs `cmd` as the CMD, and
 * returns its output once the container has exited.
 */
async function container(services: Record<string, string>, cmd: string, options: { fifoOutput?: boolean; env?: Record<string, string>; launcher?: readonly string[] } = {}): Promise<{ code: number | null; output: string }> {
  const etc = scriptTree(services);
  trees.push(etc);
  const commandDir = tempDir();
  chmodSync(commandDir, 0o755); // as in an image: services running as other users reach /command
  const init = startInit({
    privateRun: true,
    binds: [[commandDir, '/command']],
    env: { STEWARD_ETC: etc, STEWARD_RESTART_THROTTLE: '200', GREETING: 'hello from the container', PATH: '/command:/usr/sbin:/usr/bin:/sbin:/bin', ...options.env },
    args: ['sh', '-c', `${PRELUDE}\n${cmd}`],
    ...(options.fifoOutput === true ? { fifoOutput: true } : {}),
    ...(options.launcher === undefined ? {} : { launcher: options.launcher }),
  });
  runs.push(init);
  const { code } = await init.exited;
  return { code, output: init.output() };
}

/** The files of an s6-rc.d definition NAME, as paths in the tree. */
function rcd(name: string, files: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(files).map(([file, content]) => [`s6-overlay/s6-rc.d/${name}/${file}`, content]));
}

/** An s6-rc longrun that sleeps, with more files of its definition. */
function longrun(extra: Record<string, string> = {}): Record<string, string> {
  return { type: 'longrun\n', run: '#!/bin/sh\nexec sleep 1000\n', ...extra };
}

/** Asserts a key=value line of the CMD, showing the whole output when it differs. */
function expect(output: string, key: string, expected: string): void {
  assert.equal(value(output, key), expected, `${key}: unexpected value in the output:\n${output}`);
}

function value(output: string, key: string): string {
  const found = lastValue(output, key);
  assert.notEqual(found, undefined, `no ${key}= line in the output:\n${output}`);
  return found!;
}

/** The size of supervise/status for the s6 this machine has in /usr/lib (libs6.so.VERSION), as its s6-svstat reads it; the newest layout without one. */
function installedS6StatusSize(): number {
  for (const dir of ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib', '/lib']) {
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    const version = names.map((name) => /^libs6\.so\.(\d+)\.(\d+)/.exec(name)).find((match) => match !== null);
    if (version) return Number(version[1]) > 2 || Number(version[2]) >= 13 ? 43 : 35;
  }
  return 43;
}

describe('steward install', () => {
  it('links /init and every s6 command into DIR/command, and only replaces its own links', async () => {
    const root = tempDir();
    mkdirSync(join(root, 'command'));
    writeFileSync(join(root, 'command', 's6-rc'), '#!/bin/sh\n# the image has its own\n');
    const first = await run(join(repoRoot, 'bin', 'steward'), ['install', '--root', root, '--usr-bin']);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(readlinkSync(join(root, 'init')), join(repoRoot, 'bin', 'steward-init'));
    for (const dir of ['command', 'usr/bin']) {
      for (const name of SHELL_SHIMS) assert.equal(readlinkSync(join(root, dir, name)), join(repoRoot, 'shims', name), `${dir}/${name}`);
      for (const name of CONTROL_TOOLS) {
        if (dir === 'command' && name === 's6-rc') continue;
        assert.equal(readlinkSync(join(root, dir, name)), join(repoRoot, 'bin', 's6-tool'), `${dir}/${name}`);
      }
      assert.equal(readlinkSync(join(root, dir, 'steward')), join(repoRoot, 'bin', 'steward'), `${dir}/steward`);
    }
    assert.ok(!lstatSync(join(root, 'command', 's6-rc')).isSymbolicLink(), 'a file the image had was replaced');
    assert.match(first.stdout, new RegExp(`${root}/command/s6-rc: kept \\(a file the image already has\\)`));
    // Running it again is harmless.
    const second = await run(join(repoRoot, 'bin', 'steward'), ['install', '--root', root]);
    assert.equal(second.code, 0, second.stderr);
    // A root that is not there (a typo) is refused, not made.
    const typo = await run(join(repoRoot, 'bin', 'steward'), ['install', '--root', join(root, 'no-such-root')]);
    assert.equal(typo.code, 2, typo.stderr);
    assert.match(typo.stderr, /--root \S+\/no-such-root is not a directory/);
    assert.ok(!existsSync(join(root, 'no-such-root')), 'the mistyped root was made');
    // An empty one (an unset variable) is not the working directory.
    const empty = await run(join(repoRoot, 'bin', 'steward'), ['install', '--root', '']);
    assert.equal(empty.code, 2, empty.stderr);
    assert.match(empty.stderr, /--root is empty/);
    assert.equal(readlinkSync(join(root, 'command', 's6-svc')), join(repoRoot, 'bin', 's6-tool'));
  });

  it("keeps s6-overlay's links to its own tools, which work under Steward, and replaces only its s6-rc", async () => {
    const root = tempDir();
    for (const [pkg, name] of [['s6-2.13.1.0', 's6-setuidgid'], ['s6-2.13.1.0', 's6-svc'], ['s6-overlay-3.2.0.2', 'with-contenv'], ['s6-rc-0.5.5.0', 's6-rc']] as const) {
      mkdirSync(join(root, 'package', 'admin', pkg, 'command'), { recursive: true });
      writeFileSync(join(root, 'package', 'admin', pkg, 'command', name), '#!/bin/sh\n', { mode: 0o755 });
      mkdirSync(join(root, 'command'), { recursive: true });
      symlinkSync(`../package/admin/${pkg}/command/${name}`, join(root, 'command', name));
    }
    // Absolute links, as s6-overlay's symlinks tarball makes them: the root's /package and /command, not the host's.
    writeFileSync(join(root, 'package', 'admin', 's6-2.13.1.0', 'command', 's6-envdir'), '#!/bin/sh\n', { mode: 0o755 });
    symlinkSync('/package/admin/s6-2.13.1.0/command/s6-envdir', join(root, 'command', 's6-envdir'));
    mkdirSync(join(root, 'usr', 'bin'), { recursive: true });
    symlinkSync('/command/s6-setuidgid', join(root, 'usr', 'bin', 's6-setuidgid'));
    const result = await run(join(repoRoot, 'bin', 'steward'), ['install', '--root', root, '--usr-bin']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(readlinkSync(join(root, 'command', 's6-envdir')), '/package/admin/s6-2.13.1.0/command/s6-envdir');
    assert.equal(readlinkSync(join(root, 'usr', 'bin', 's6-setuidgid')), '/command/s6-setuidgid');
    assert.equal(readlinkSync(join(root, 'command', 's6-setuidgid')), '../package/admin/s6-2.13.1.0/command/s6-setuidgid');
    assert.equal(readlinkSync(join(root, 'command', 's6-svc')), '../package/admin/s6-2.13.1.0/command/s6-svc');
    assert.equal(readlinkSync(join(root, 'command', 'with-contenv')), '../package/admin/s6-overlay-3.2.0.2/command/with-contenv');
    assert.match(result.stdout, new RegExp(`${root}/command/s6-setuidgid: kept \\(s6-overlay's, which works under Steward\\)`));
    assert.equal(readlinkSync(join(root, 'command', 's6-rc')), join(repoRoot, 'bin', 's6-tool'));
    // What s6-overlay does not have is linked as usual.
    assert.equal(readlinkSync(join(root, 'command', 'printcontenv')), join(repoRoot, 'shims', 'printcontenv'));
  });

  it("moves s6-overlay's /init aside, so ENTRYPOINT [\"/init\"] starts Steward, and keeps any other /init", async () => {
    const overlay = tempDir();
    const overlayInit = '#!/bin/sh -e\n# This is the first program launched at container start.\nexec s6-overlay-suexec \\\n  /package/admin/s6-overlay-3.2.0.2/libexec/stage0 "$@"\n';
    writeFileSync(join(overlay, 'init'), overlayInit, { mode: 0o755 });
    const moved = await run(join(repoRoot, 'bin', 'steward'), ['install', '--root', overlay]);
    assert.equal(moved.code, 0, moved.stderr);
    assert.equal(readlinkSync(join(overlay, 'init')), join(repoRoot, 'bin', 'steward-init'));
    assert.equal(readFileSync(join(overlay, 'init.s6-overlay'), 'utf8'), overlayInit);
    assert.match(moved.stdout, new RegExp(`${overlay}/init: s6-overlay's, moved to ${overlay}/init.s6-overlay`));

    const own = tempDir();
    writeFileSync(join(own, 'init'), '#!/bin/sh\nexec my-app\n', { mode: 0o755 });
    const kept = await run(join(repoRoot, 'bin', 'steward'), ['install', '--root', own]);
    assert.equal(kept.code, 0, kept.stderr);
    assert.ok(!lstatSync(join(own, 'init')).isSymbolicLink());
    assert.match(kept.stdout, new RegExp(`${own}/init: kept \\(a file the image already has\\); point the ENTRYPOINT at`));

    // A link is the image's own too (tini, dumb-init...); a link to a Steward is an earlier install, replaced.
    const tini = tempDir();
    symlinkSync('/sbin/tini', join(tini, 'init'));
    const keptLink = await run(join(repoRoot, 'bin', 'steward'), ['install', '--root', tini]);
    assert.equal(readlinkSync(join(tini, 'init')), '/sbin/tini');
    assert.match(keptLink.stdout, new RegExp(`${tini}/init: kept \\(the image's own, a link to /sbin/tini\\)`));
    const again = tempDir();
    symlinkSync('/opt/old-steward/bin/steward-init', join(again, 'init'));
    assert.equal((await run(join(repoRoot, 'bin', 'steward'), ['install', '--root', again])).code, 0);
    assert.equal(readlinkSync(join(again, 'init')), join(repoRoot, 'bin', 'steward-init'));
  });

  it('--root DIR with Steward inside DIR links where Steward will be once DIR is the image\'s /, and says so when it is outside', async () => {
    // As npm install -g --prefix DIR/usr lays it out, for a FROM scratch image built from DIR.
    const root = tempDir();
    const packageDir = join(root, 'usr', 'lib', 'node_modules', 'steward');
    mkdirSync(packageDir, { recursive: true });
    for (const part of ['bin', 'dist', 'shims', 'package.json']) await run('cp', ['-a', join(repoRoot, part), packageDir]);
    const installed = await run(join(packageDir, 'bin', 'steward'), ['install', '--root', root, '--usr-bin']);
    assert.equal(installed.code, 0, installed.stderr);
    assert.equal(readlinkSync(join(root, 'init')), '/usr/lib/node_modules/steward/bin/steward-init');
    assert.equal(readlinkSync(join(root, 'command', 's6-svc')), '/usr/lib/node_modules/steward/bin/s6-tool');
    assert.equal(readlinkSync(join(root, 'usr', 'bin', 'with-contenv')), '/usr/lib/node_modules/steward/shims/with-contenv');
    assert.doesNotMatch(installed.stdout, /^note:/m);
    const outside = tempDir();
    const noted = await run(join(repoRoot, 'bin', 'steward'), ['install', '--root', outside]);
    assert.equal(noted.code, 0, noted.stderr);
    assert.equal(readlinkSync(join(outside, 'init')), join(repoRoot, 'bin', 'steward-init'));
    assert.match(noted.stdout, new RegExp(`^note: Steward is at ${repoRoot}, outside ${outside}: the links lead there, so the image needs it at that same path`, 'm'));
  });

  it('an /init a later layer edited in place (sed -i, which makes the link a copy) still starts Steward, and install links it again', async () => {
    // docker-unms: RUN sed -i '/sh -e/a \\export S6_CMD_WAIT_FOR_SERVICES_MAXTIME=0' /init, on a base that installed Steward.
    const root = tempDir();
    // The base image had s6-overlay's /init, which the first install moved aside.
    const overlayInit = '#!/bin/sh -e\n# This is the first program launched at container start.\nexec s6-overlay-suexec \\\n  /package/admin/s6-overlay-3.2.0.2/libexec/stage0 "$@"\n';
    writeFileSync(join(root, 'init'), overlayInit, { mode: 0o755 });
    assert.equal((await run(join(repoRoot, 'bin', 'steward'), ['install', '--root', root])).code, 0);
    const sed = await run('sed', ['-i', '/sh -e/a \\export S6_CMD_WAIT_FOR_SERVICES_MAXTIME=0', join(root, 'init')]);
    assert.equal(sed.code, 0, sed.stderr);
    assert.ok(lstatSync(join(root, 'init')).isFile(), 'sed -i left a file, not the link');
    const etc = scriptTree({});
    const env = { STEWARD_ETC: etc, STEWARD_RUN: join(etc, 'run') };
    // The image's /command/steward (here under the root, found through PATH) leads to Steward's files.
    const started = await run(join(root, 'init'), ['sh', '-c', 'exit 7'], { ...env, PATH: `${join(root, 'command')}:/usr/bin:/bin` });
    assert.equal(started.code, 7, started.stderr);
    assert.match(started.stderr, /running the command: sh -c exit 7/);
    // None: said, with what to do, rather than Node's "Cannot find module". The copy looks in
    // /command first: a host with Steward linked there (a run of it outside a container) gets
    // an empty one for this run, in a mount namespace of its own.
    const hostHasCommand = existsSync('/command');
    if (!hostHasCommand || isRoot) {
      const lost = hostHasCommand
        ? await run('unshare', ['--mount', 'sh', '-c', 'mount -t tmpfs tmpfs /command && exec "$@"', 'sh', join(root, 'init')], { ...env, PATH: '/usr/bin:/bin' })
        : await run(join(root, 'init'), [], { ...env, PATH: '/usr/bin:/bin' });
      assert.equal(lost.code, 111, lost.stderr);
      assert.match(lost.stderr, /^steward-init: fatal: .*init is a copy of Steward's entry point away from Steward's files .* run steward install again after that layer/);
    }
    const again = await run(join(repoRoot, 'bin', 'steward'), ['install', '--root', root]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(readlinkSync(join(root, 'init')), join(repoRoot, 'bin', 'steward-init'));
    // The copy is not taken for s6-overlay's: the original moved aside stays.
    assert.equal(readFileSync(join(root, 'init.s6-overlay'), 'utf8'), overlayInit);
  });

  it("keeps the lines an image added to s6-overlay's /init, and starts Steward where it started stage0", async () => {
    const root = tempDir();
    // As shinsenter/php's: a command given runs without the services, unless KEEP is set.
    const added = 'if [ "$#" -gt 0 ]; then [ -n "$KEEP" ] && set -- /bin/echo wrapped "$@" || exec /bin/echo one-off "$@"; fi';
    const original = `#!/bin/sh -e\nif test -z "$PATH" ; then\n  PATH=/bin\nfi\nexport PATH\n${added}\nexec s6-overlay-suexec \\\n  /package/admin/s6-overlay-3.2.1.0/libexec/stage0 \\\n  "$@"\n`;
    writeFileSync(join(root, 'init'), original, { mode: 0o755 });
    const first = await run(join(repoRoot, 'bin', 'steward'), ['install', '--root', root]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /init: s6-overlay's, with 1 lines of the image's own: kept, and starting .*steward-init where it started s6-overlay \(the original/);
    assert.equal(readFileSync(join(root, 'init.s6-overlay'), 'utf8'), original);
    assert.ok(!lstatSync(join(root, 'init')).isSymbolicLink());
    // A second install writes it anew from the original, and does not move it over the original.
    const second = await run(join(repoRoot, 'bin', 'steward'), ['install', '--root', root]);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(readFileSync(join(root, 'init.s6-overlay'), 'utf8'), original);
    assert.match(second.stdout, /init: written anew from .*init\.s6-overlay/);
    const etc = scriptTree({});
    const env = { PATH: '/usr/bin:/bin', STEWARD_ETC: etc, STEWARD_RUN: join(etc, 'run') };
    const oneOff = await run(join(root, 'init'), ['hello'], env);
    assert.equal(oneOff.stdout.trim(), 'one-off hello');
    // A PATH without node, as an /init that resets it to /command:/usr/bin:/bin leaves it in an
    // image whose node is in /usr/local/bin: Steward's Node is found all the same.
    const kept = await run(join(root, 'init'), ['hello'], { ...env, PATH: '/nonexistent', KEEP: '1' });
    assert.equal(kept.code, 0, kept.stderr);
    assert.match(kept.stdout, /^wrapped hello$/m);
    assert.match(kept.stderr, /running the command: \/bin\/echo wrapped hello/);
  });

  it("keeps the lines an image added to s6-overlay v2's execline /init, and starts Steward where it started stage 1", async () => {
    const root = tempDir();
    // As Home Assistant's v2-era image: a command given runs alone, without the services.
    // (importas without v2's /bin/, and test for s6-test: where Debian's execline package has them.)
    const original = '#!/bin/execlineb -S0\n## default PATH\nimportas -D /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin PATH PATH\nexport PATH ${PATH}\nifelse { test $# -ne 0 }\n{\n  /bin/echo alone $@\n}\n/etc/s6/init/init-stage1 $@\n';
    writeFileSync(join(root, 'init'), original, { mode: 0o755 });
    const installed = await run(join(repoRoot, 'bin', 'steward'), ['install', '--root', root]);
    assert.equal(installed.code, 0, installed.stderr);
    assert.match(installed.stdout, /init: s6-overlay's, with 4 lines of the image's own: kept/);
    assert.equal(readFileSync(join(root, 'init.s6-overlay'), 'utf8'), original);
    const script = readFileSync(join(root, 'init'), 'utf8');
    assert.match(script, /^#!\/bin\/execlineb -S0\n/);
    assert.doesNotMatch(script, /init-stage1/);
    const etc = scriptTree({});
    const env = { PATH: '/usr/lib/execline/bin:/usr/bin:/bin', STEWARD_ETC: etc, STEWARD_RUN: join(etc, 'run') };
    const oneOff = await run(join(root, 'init'), ['hello'], env);
    assert.equal(oneOff.stdout.trim(), 'alone hello', oneOff.stderr);
    // No command: Steward boots (here, a tree with nothing to run, stopped by a halt).
    const booted = spawn(join(root, 'init'), [], { env: { ...env, STEWARD_SOCKET: join(etc, 'control.sock') } });
    let stderr = '';
    booted.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    for (let attempt = 0; attempt < 200 && !/s6-rc: info: service legacy-services successfully started/.test(stderr); attempt++) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.match(stderr, /Steward .* \(pid \d+\)/);
    booted.kill('SIGTERM');
    const code = await new Promise((resolve) => booted.once('exit', resolve));
    assert.equal(code, 0, stderr);
  });

  it("links the image's own s6 and execline programs that Steward does not provide, from a distribution's package", async () => {
    const root = tempDir();
    mkdirSync(join(root, 'usr', 'bin'), { recursive: true });
    for (const name of ['s6-svscan', 's6-log', 's6-fghack', 's6-svc', 'loopwhilex-not-skarnet', 'ls']) writeFileSync(join(root, 'usr', 'bin', name), '#!/bin/sh\n', { mode: 0o755 });
    const result = await run(join(repoRoot, 'bin', 'steward'), ['install', '--root', root]);
    assert.equal(result.code, 0, result.stderr);
    // Paths inside the image, for scripts that call them as /command/NAME.
    assert.equal(readlinkSync(join(root, 'command', 's6-log')), '/usr/bin/s6-log');
    assert.equal(readlinkSync(join(root, 'command', 's6-fghack')), '/usr/bin/s6-fghack');
    // Steward's own where it has one; nothing for programs that are not skarnet's.
    assert.equal(readlinkSync(join(root, 'command', 's6-svc')), join(repoRoot, 'bin', 's6-tool'));
    assert.ok(!existsSync(join(root, 'command', 'ls')));
    assert.ok(!existsSync(join(root, 'command', 'loopwhilex-not-skarnet')));
    // Without the package (no s6-svscan, no execlineb), /usr/bin is not read at all.
    const bare = tempDir();
    mkdirSync(join(bare, 'usr', 'bin'), { recursive: true });
    writeFileSync(join(bare, 'usr', 'bin', 's6-log'), '#!/bin/sh\n', { mode: 0o755 });
    assert.equal((await run(join(repoRoot, 'bin', 'steward'), ['install', '--root', bare])).code, 0);
    assert.ok(!existsSync(join(bare, 'command', 's6-log')));
  });

  it('each linked control tool runs as the command it is named after', async () => {
    const root = tempDir();
    assert.equal((await run(join(repoRoot, 'bin', 'steward'), ['install', '--root', root])).code, 0);
    for (const name of ['s6-svc', 's6-svstat', 's6-svwait', 's6-svok', 's6-svscanctl', 's6-svdt', 's6-svdt-clear', 's6-permafailon']) {
      const { code, stderr } = await run(join(root, 'command', name), []);
      assert.equal(code, 100, `${name}: ${stderr}`);
      assert.match(stderr, new RegExp(`^${name}: usage: ${name} `), name);
    }
    const execline = await run(join(root, 'command', 'execlineb'), ['-Pc', 'foreground { echo one } echo two']);
    assert.equal(execline.stdout, 'one\ntwo\n', execline.stderr);
    // The shell that finds node exports a PWD of its own; the program must not get it.
    const environment = await run(join(root, 'command', 'execlineb'), ['-Pc', 'env'], { PATH: process.env['PATH'] ?? '/usr/bin:/bin' });
    assert.doesNotMatch(environment.stdout, /^PWD=/m, environment.stdout);
    // Nor an OLDPWD of its own (the shell's cd sets one).
    assert.doesNotMatch(environment.stdout, /^OLDPWD=/m, environment.stdout);
    // The caller's own PWD, a path through a link (cd /var/run), reaches the program as a C
    // chain loader would pass it on.
    const real = tempDir();
    const linked = `${real}-link`;
    symlinkSync(real, linked);
    try {
      const logical = await run(join(root, 'command', 'execlineb'), ['-Pc', 'env'], { PATH: process.env['PATH'] ?? '/usr/bin:/bin', PWD: linked }, { cwd: linked });
      assert.match(logical.stdout, new RegExp(`^PWD=${linked}$`, 'm'), logical.stdout);
    } finally {
      rmSync(linked);
    }
  });
});

describe('shell commands', () => {
  // s6-maximumtime, with-retries, s6-test, eltest and s6-envdir are bin/s6-tool under their names, as /command links them.
  const toolLinks = mkdtempSync(join(tmpdir(), 'steward-tool-links-'));
  for (const name of ['s6-maximumtime', 'with-retries', 's6-test', 'eltest', 's6-envdir']) symlinkSync(join(repoRoot, 'bin', 's6-tool'), join(toolLinks, name));
  const shim = (name: string): string => (existsSync(join(toolLinks, name)) ? join(toolLinks, name) : join(repoRoot, 'shims', name));

  it('s6-envdir sets the first line of each file, unsets for an empty file wherever it sorts, and keeps an empty line as an empty value', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'A_FIRST'), 'hello  \nsecond line\n');
    writeFileSync(join(dir, 'B_GONE'), '');
    writeFileSync(join(dir, 'C_EMPTY'), '\n');
    writeFileSync(join(dir, 'D_LAST'), 'last');
    const script = 'echo "A=[$A_FIRST] B=[${B_GONE-unset}] C=[${C_EMPTY-unset}] D=[$D_LAST]"';
    const result = await run(shim('s6-envdir'), [dir, 'sh', '-c', script], { PATH: process.env['PATH'], B_GONE: 'inherited' });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'A=[hello] B=[unset] C=[] D=[last]\n');
  });

  it('s6-envdir turns null characters into newlines (or -c\'s character), keeps trailing blanks with -n, and names a program it cannot run', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'NULV'), 'a\0b\n');
    writeFileSync(join(dir, 'BLANK'), 'hello \t\nsecond\n');
    const show = ['sh', '-c', 'printf "[%s][%s]" "$NULV" "$BLANK"'];
    const plain = await run(shim('s6-envdir'), [dir, ...show], { PATH: process.env['PATH'] });
    assert.equal(plain.stdout, '[a\nb][hello]', plain.stderr);
    const keep = await run(shim('s6-envdir'), ['-n', '-c', '@', dir, ...show], { PATH: process.env['PATH'] });
    assert.equal(keep.stdout, '[a@b][hello \t]', keep.stderr);
    const missing = await run(shim('s6-envdir'), [dir, '/nonexistent/program'], { PATH: process.env['PATH'] });
    assert.equal(missing.code, 127);
    assert.match(missing.stderr, /s6-envdir: fatal: unable to exec \/nonexistent\/program/);
  });

  it('with-contenv and s6-envdir read thousands of variables in one pass, and keep names a shell could not (spring.profiles.active)', async () => {
    const run6 = tempDir();
    const dir = join(run6, 's6', 'container_environment');
    mkdirSync(dir, { recursive: true });
    // As a Kubernetes pod in a namespace with 1000 Services: eight variables each.
    for (let service = 0; service < 1000; service++) {
      for (const suffix of ['SERVICE_HOST', 'SERVICE_PORT', 'PORT', 'PORT_80_TCP', 'PORT_80_TCP_ADDR', 'PORT_80_TCP_PORT', 'PORT_80_TCP_PROTO', 'SERVICE_PORT_HTTP']) {
        writeFileSync(join(dir, `SVC_${service}_${suffix}`), `10.0.${service >> 8}.${service & 255}\n`);
      }
    }
    writeFileSync(join(dir, 'spring.profiles.active'), 'prod\n');
    writeFileSync(join(dir, 'QUOTES'), `it's "x" $HOME \\ \n2nd line\n`);
    mkdirSync(join(dir, 'not-a-variable'));
    // env itself shows them: a shell in between would drop the name with dots.
    const check = (stdout: string): void => {
      assert.equal(stdout.split('\n').filter((line) => line.startsWith('SVC_')).length, 8000);
      assert.match(stdout, /^spring\.profiles\.active=prod$/m);
      assert.ok(stdout.includes(`QUOTES=it's "x" $HOME \\ \n2nd line\n`), stdout.slice(0, 200));
    };
    const contenv = await run(shim('with-contenv'), ['env'], { PATH: process.env['PATH'], STEWARD_RUN: run6 });
    assert.equal(contenv.code, 0, contenv.stderr);
    check(contenv.stdout);
    const envdir = await run(shim('s6-envdir'), ['-f', dir, 'env'], { PATH: process.env['PATH'] });
    assert.equal(envdir.code, 111, 'a sub-directory in the envdir is an error, as with s6');
    rmSync(join(dir, 'not-a-variable'), { recursive: true });
    const envdirOk = await run(shim('s6-envdir'), ['-f', dir, 'env'], { PATH: process.env['PATH'] });
    assert.equal(envdirOk.code, 0, envdirOk.stderr);
    check(envdirOk.stdout);
  });

  it("logutil-newfifo makes the fifo anew with its mode and owner, as s6-overlay's deprecated one does", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'app-fifo'), 'a regular file left there');
    const made = await run(shim('logutil-newfifo'), ['-m', '0620', '-o', 'nobody', join(dir, 'app-fifo')], { PATH: process.env['PATH'] });
    assert.equal(made.code, 0, made.stderr);
    assert.match(made.stderr, /deprecated/);
    const fifo = lstatSync(join(dir, 'app-fifo'));
    assert.ok(fifo.isFIFO());
    assert.equal(fifo.mode & 0o777, 0o620);
    if (process.getuid?.() === 0) assert.equal(fifo.uid, 65534);
    assert.equal((await run(shim('logutil-newfifo'), [], { PATH: process.env['PATH'] })).code, 100);
  });

  it('with-contenv gives each saved variable its whole value, an empty one included, and leaves out an empty file', async () => {
    const runDir = tempDir();
    const envDir = join(runDir, 's6', 'container_environment');
    mkdirSync(envDir, { recursive: true });
    writeFileSync(join(envDir, 'MULTI'), 'one\ntwo\n');
    writeFileSync(join(envDir, 'EMPTY'), '\n');
    writeFileSync(join(envDir, 'GONE'), '');
    const result = await run(shim('with-contenv'), ['sh', '-c', 'printf "%s|%s|%s" "$MULTI" "${EMPTY-unset}" "${GONE-unset}"'], { PATH: process.env['PATH'], STEWARD_RUN: runDir, GONE: 'inherited' });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'one\ntwo||unset');
  });

  it('with-contenv needs awk alone (no find), and says why when it cannot run it: missing, or no process could be started (a pids limit)', { skip: !isRoot && 'needs root to run as nobody under a process limit' }, async () => {
    const runDir = tempDir();
    chmodSync(runDir, 0o755);
    const envDir = join(runDir, 's6', 'container_environment');
    mkdirSync(envDir, { recursive: true, mode: 0o755 });
    writeFileSync(join(envDir, 'FOO'), 'bar');
    // A PATH with the shell, env and awk, but no find.
    const bin = tempDir();
    chmodSync(bin, 0o755);
    for (const tool of ['sh', 'env', 'awk']) symlinkSync((await run('sh', ['-c', `command -v ${tool}`])).stdout.trim(), join(bin, tool));
    const noFind = await run(shim('with-contenv'), ['env'], { PATH: bin, STEWARD_RUN: runDir });
    assert.equal(noFind.code, 0, noFind.stderr);
    assert.match(noFind.stdout, /^FOO=bar$/m);
    rmSync(join(bin, 'awk'));
    const missing = await run(shim('with-contenv'), ['env'], { PATH: bin, STEWARD_RUN: runDir });
    assert.equal(missing.code, 111);
    assert.match(missing.stderr, /awk is missing: install it/);
    // A uid of no account, allowed two processes: the shell and its command substitution; the
    // pipeline's fail with EAGAIN. The limit counts every process of that uid on the machine, so
    // not nobody, whose processes elsewhere would leave the shell no fork at all.
    const uid = unusedUid();
    const limited = await run('setpriv', [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', 'prlimit', '--nproc=2', shim('with-contenv'), 'env'], { PATH: process.env['PATH'], STEWARD_RUN: runDir });
    assert.equal(limited.code, 111, limited.stderr);
    assert.match(limited.stderr, /awk could not run: see the error above/);
    assert.doesNotMatch(limited.stderr, /missing/);
  });

  it("s6-setuidgid changes user through Steward itself when the image has no setpriv, su-exec or gosu, or only BusyBox's setpriv", { skip: !isRoot && 'needs root to change user' }, async () => {
    // A PATH with what the command and node need, and none of the three helpers.
    const bin = tempDir();
    chmodSync(bin, 0o755); // nobody runs id from it
    for (const tool of ['sh', 'dirname', 'readlink', 'getent', 'grep', 'cut', 'head', 'id']) {
      const found = (await run('sh', ['-c', `command -v ${tool}`])).stdout.trim();
      symlinkSync(found, join(bin, tool));
    }
    symlinkSync(process.execPath, join(bin, 'node'));
    const result = await run(shim('s6-setuidgid'), ['nobody', 'id', '-u'], { PATH: bin });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, '65534\n');
    // BusyBox's setpriv has none of util-linux's long options: it is not used.
    writeFileSync(join(bin, 'setpriv'), "#!/bin/sh\necho \"setpriv: unrecognized option '$1'\" >&2\nexit 1\n", { mode: 0o755 });
    const busybox = await run(shim('s6-setuidgid'), ['nobody', 'id', '-u'], { PATH: bin });
    assert.equal(busybox.code, 0, busybox.stderr);
    assert.equal(busybox.stdout, '65534\n');
  });

  it('s6-setuidgid UID:GID runs the program with GID as its one supplementary group, as skarnet\'s, through setpriv or Steward itself', { skip: !isRoot && 'needs root to change user' }, async () => {
    // nginx-proxy-manager's run scripts: s6-setuidgid "$PUID:$PGID" nginx.
    // The supplementary groups as the kernel holds them (id -G would show the gid anyway).
    const ids = ['sh', '-c', 'id -u; id -g; sed -n "s/^Groups:[[:space:]]*//p" /proc/self/status'];
    const viaSetpriv = await run(shim('s6-setuidgid'), ['1000:1001', ...ids]);
    assert.equal(viaSetpriv.code, 0, viaSetpriv.stderr);
    assert.equal(viaSetpriv.stdout.trimEnd(), '1000\n1001\n1001');
    const bin = tempDir();
    chmodSync(bin, 0o755);
    for (const tool of ['sh', 'dirname', 'readlink', 'getent', 'grep', 'cut', 'head', 'id', 'sed']) {
      const found = (await run('sh', ['-c', `command -v ${tool}`])).stdout.trim();
      symlinkSync(found, join(bin, tool));
    }
    symlinkSync(process.execPath, join(bin, 'node'));
    const own = await run(shim('s6-setuidgid'), ['1000:1001', ...ids], { PATH: bin });
    assert.equal(own.code, 0, own.stderr);
    assert.equal(own.stdout.trimEnd(), '1000\n1001\n1001');
  });

  it("s6-setuidgid through su-exec or gosu keeps the caller's HOME, or its absence, as skarnet's leaves the environment alone", { skip: !isRoot && 'needs root to change user' }, async () => {
    // Alpine images have su-exec and no util-linux setpriv (nico640/docker-unms: rabbitmq's run
    // exports HOME=/var/lib/rabbitmq before s6-setuidgid unms). Both tools set HOME from the account.
    const bin = tempDir();
    chmodSync(bin, 0o755);
    for (const tool of ['sh', 'dirname', 'readlink', 'getent', 'grep', 'cut', 'head', 'id', 'sed', 'env']) {
      const found = (await run('sh', ['-c', `command -v ${tool}`])).stdout.trim();
      symlinkSync(found, join(bin, tool));
    }
    // A stand-in that does what both do to the environment (the user change is not the point here).
    writeFileSync(join(bin, 'su-exec'), '#!/bin/sh\nHOME=/home/from-the-account\nexport HOME\nshift\nexec "$@"\n', { mode: 0o755 });
    const kept = await run(shim('s6-setuidgid'), ['nobody', 'sh', '-c', 'echo "${HOME-unset}"'], { PATH: bin, HOME: '/var/lib/rabbitmq' });
    assert.equal(kept.code, 0, kept.stderr);
    assert.equal(kept.stdout, '/var/lib/rabbitmq\n');
    const none = await run(shim('s6-setuidgid'), ['nobody', 'sh', '-c', 'echo "${HOME-unset}"'], { PATH: bin });
    assert.equal(none.code, 0, none.stderr);
    assert.equal(none.stdout, 'unset\n');
    // A program whose name holds a =, which env alone would take for a variable.
    writeFileSync(join(bin, 'run=fast'), '#!/bin/sh\necho "fast: $HOME"\n', { mode: 0o755 });
    const named = await run(shim('s6-setuidgid'), ['nobody', join(bin, 'run=fast')], { PATH: bin, HOME: '/srv' });
    assert.equal(named.code, 0, named.stderr);
    assert.equal(named.stdout, 'fast: /srv\n');
  });

  it("s6-setuidgid NAME gives the groups of the account named, not of another account with the same uid", { skip: !isRoot && 'needs root for a mount namespace' }, async () => {
    // ubuntu:24.04 has "ubuntu" at uid 1000, the PUID an image then gives its own user too.
    const etc = tempDir();
    writeFileSync(join(etc, 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nubuntu:x:1000:1000::/home/ubuntu:/bin/sh\nabc:x:1000:1000::/config:/bin/false\n');
    writeFileSync(join(etc, 'group'), 'root:x:0:\nusers:x:100:abc\nubuntu:x:1000:\nrender:x:226:other,abc\nvideo:x:44:ubuntu\n');
    const script = `mount --bind ${etc}/passwd /etc/passwd && mount --bind ${etc}/group /etc/group && exec "$0" abc id -G`;
    const result = await run('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, shim('s6-setuidgid')]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(result.stdout.trim().split(' ').map(Number).sort((a, b) => a - b), [100, 226, 1000]);
  });

  it('s6-setuidgid reads the groups on a read-only root through bash too, whatever the size of the group file, and runs the program as it is for an empty account', { skip: !isRoot && 'needs root for a mount namespace' }, async () => {
    // Past 64 KiB (an LDAP-sized group database), bash makes a file in /tmp for a here-document.
    const etc = tempDir();
    const filler = Array.from({ length: 3000 }, (_, index) => `team${index}:x:${20000 + index}:${'someone-else,'.repeat(3)}other\n`).join('');
    writeFileSync(join(etc, 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nabc:x:1000:1000::/config:/bin/false\n');
    writeFileSync(join(etc, 'group'), `root:x:0:\nabc:x:1000:\n${filler}render:x:226:abc\nvideo:x:44:abc\n`);
    // The shim is copied out of /tmp first (the tree may be under it), then every directory bash
    // would make its file in is read-only.
    const script = `mount --bind ${etc}/passwd /etc/passwd && mount --bind ${etc}/group /etc/group && mount -t tmpfs tmpfs /mnt && cp "$0" /mnt/s6-setuidgid && mount -t tmpfs -o ro tmpfs /tmp && mount -t tmpfs -o ro tmpfs /var/tmp && exec bash /mnt/s6-setuidgid abc id -G`;
    const result = await run('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, shim('s6-setuidgid')]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
    assert.deepEqual(result.stdout.trim().split(' ').map(Number).sort((a, b) => a - b), [44, 226, 1000]);
    const empty = await run(shim('s6-setuidgid'), ['', 'id', '-u']);
    assert.equal(empty.code, 0, empty.stderr);
    assert.equal(empty.stdout, '0\n');
  });

  it('s6-setuidgid as root without the SETUID and SETGID capabilities exits 111 and says so, as skarnet’s', { skip: !isRoot && 'needs root' }, async () => {
    const result = await run('setpriv', ['--inh-caps=-all', '--bounding-set=-all', shim('s6-setuidgid'), 'nobody', 'id', '-u']);
    assert.equal(result.code, 111, result.stderr);
    assert.match(result.stderr, /^s6-setuidgid: fatal: unable to run as nobody \(uid 65534\): the container lacks the SETUID and SETGID capabilities/, result.stderr);
    // With them, as hardened pods keep them: it works.
    const kept = await run('setpriv', ['--inh-caps=-all', '--bounding-set=-all,+setuid,+setgid', shim('s6-setuidgid'), 'nobody', 'id', '-u']);
    assert.equal(kept.code, 0, kept.stderr);
    assert.equal(kept.stdout, '65534\n');
  });

  it("s6-maximumtime and with-retries keep their limits to the millisecond and s6's exit codes, whatever timeout the image has", async () => {
    // BusyBox's timeout rounds to whole seconds and exits with the program's status: not used.
    const bin = tempDir();
    writeFileSync(join(bin, 'timeout'), '#!/bin/sh\nshift\nexec "$@"\n', { mode: 0o755 });
    const env = { PATH: `${bin}:${process.env['PATH'] ?? '/usr/bin:/bin'}` };
    assert.equal((await run(shim('s6-maximumtime'), ['300', 'sleep', '0.9'], env)).code, 99);
    assert.match((await run(shim('s6-maximumtime'), ['300', 'sleep', '0.9'], env)).stderr, /^s6-maximumtime: warning: unable to wait for child process: Connection timed out$/m);
    assert.equal((await run(shim('s6-maximumtime'), ['-0', '200', 'sleep', '0.9'], env)).code, 99);
    assert.equal((await run(shim('s6-maximumtime'), ['-k', '200', 'sleep', '5'], env)).code, 99);
    // A program killed by a signal before the limit: 111, as skarnet's says it.
    const crashed = await run(shim('s6-maximumtime'), ['5000', 'sh', '-c', 'kill -USR1 $$'], env);
    assert.equal(crashed.code, 111);
    assert.match(crashed.stderr, /^s6-maximumtime: warning: child process crashed$/m);
    const missing = await run(shim('s6-maximumtime'), ['5000', 'no-such-program-here'], env);
    assert.equal(missing.code, 111);
    assert.match(missing.stderr, /s6-maximumtime: fatal: unable to spawn no-such-program-here: No such file or directory/);
    assert.equal((await run(shim('s6-maximumtime'), ['soon', 'true'], env)).code, 100);
    assert.equal((await run(shim('with-retries'), ['-n', '2', '-t', '200', 'sleep', '0.9'], env)).code, 1);
    // Past what a Node timer holds (24.8 days): a limit, not a time-out at once; past 32 bits: a usage error, as skarnet's.
    assert.equal((await run(shim('s6-maximumtime'), ['3000000000', 'sh', '-c', 'exit 4'], env)).code, 4);
    assert.equal((await run(shim('s6-maximumtime'), ['5000000000', 'true'], env)).code, 100);
    // At a time-out the next attempt starts, as s6-overlay's does, even if the last one outlives its SIGTERM.
    const slowDir = tempDir();
    const ends = join(slowDir, 'ends');
    const stubborn = await run(shim('with-retries'), ['-n', '2', '-t', '200', 'sh', '-c', `exec >/dev/null 2>&1; trap '' TERM; sleep 1.5; echo end >> ${ends}`], env);
    assert.equal(stubborn.code, 1);
    // (Its attempts let go of the output, so the harness does not wait for them either.)
    assert.equal(existsSync(ends), false, 'with-retries waited for an attempt that outlived its SIGTERM');
    assert.equal((await run(shim('with-retries'), ['-n', '2', '-t', '2000', 'sleep', '0.1'], env)).code, 0);
  });

  it("Steward's s6 commands find node where images install it when a script's PATH leaves it out", { skip: !['/usr/bin/node', '/usr/local/bin/node'].includes(process.execPath) && 'node is installed elsewhere here' }, async () => {
    const result = await run(join(repoRoot, 'bin', 's6-tool'), ['s6-maximumtime', '1000', '/bin/sh', '-c', 'exit 5'], { PATH: '/nonexistent' });
    assert.equal(result.code, 5, result.stderr);
    // Run by their names, as /command links them: no other program from PATH is needed either.
    const linked = await run(shim('with-retries'), ['-n', '1', '/bin/sh', '-c', 'exit 0'], { PATH: '/nonexistent' });
    assert.equal(linked.code, 0, linked.stderr);
  });

  it("s6-portable-utils' commands behave as skarnet's: s6-echo, s6-test, s6-maximumtime, s6-dumpenv, s6-hiercopy, s6-chown", async () => {
    const echoed = await run(shim('s6-echo'), ['-n', '-s', ',', 'a', 'b c', 'd']);
    assert.equal(echoed.stdout, 'a,b c,d');
    assert.equal((await run(shim('s6-echo'), ['one', 'two'])).stdout, 'one two\n');
    assert.equal((await run(shim('s6-test'), ['3', '-ne', '0'])).code, 0);
    assert.equal((await run(shim('eltest'), ['-z', 'x'])).code, 1);
    assert.equal((await run(shim('s6-maximumtime'), ['200', 'sleep', '5'])).code, 99);
    assert.equal((await run(shim('s6-maximumtime'), ['5000', 'sh', '-c', 'exit 7'])).code, 7);
    const dir = tempDir();
    assert.equal((await run(shim('s6-dumpenv'), [join(dir, 'env')], { PATH: process.env['PATH'], GREETING: 'two\nlines' })).code, 0);
    assert.equal(readFileSync(join(dir, 'env', 'GREETING'), 'utf8'), 'two\nlines\n');
    mkdirSync(join(dir, 'tree', 'sub'), { recursive: true });
    writeFileSync(join(dir, 'tree', 'sub', 'run'), '#!/bin/sh\n', { mode: 0o750 });
    assert.equal((await run(shim('s6-hiercopy'), [join(dir, 'tree'), join(dir, 'copy')])).code, 0);
    assert.equal(lstatSync(join(dir, 'copy', 'sub', 'run')).mode & 0o777, 0o750);
    if (isRoot) {
      assert.equal((await run(shim('s6-chown'), ['-u', '65534', '-g', '65534', join(dir, 'copy', 'sub', 'run')])).code, 0);
      assert.equal(lstatSync(join(dir, 'copy', 'sub', 'run')).uid, 65534);
    }
  });

  it('s6-setuidgid as another user than root says only root can change user, and runs the program when it is already that user', { skip: !isRoot && 'needs root to become nobody' }, async () => {
    const asNobody = ['--reuid=65534', '--regid=65534', '--clear-groups', shim('s6-setuidgid')];
    const refused = await run('setpriv', [...asNobody, 'root', 'true']);
    assert.equal(refused.code, 111);
    assert.match(refused.stderr, /s6-setuidgid: fatal: cannot run as root \(uid 0\): this runs as uid 65534, and only root can change user/);
    const same = await run('setpriv', [...asNobody, 'nobody', 'id', '-u']);
    assert.equal(same.code, 0, same.stderr);
    assert.equal(same.stdout, '65534\n');
  });

  it('with-retries stops at the first success, gives up after N attempts with 1, and stops an attempt that runs too long', async () => {
    const dir = tempDir();
    const counter = join(dir, 'count');
    const attempt = `echo x >> ${counter}; [ "$(wc -l < ${counter})" -ge 2 ]`;
    assert.equal((await run(shim('with-retries'), ['-n', '3', 'sh', '-c', attempt])).code, 0);
    assert.equal(readFileSync(counter, 'utf8'), 'x\nx\n');
    assert.equal((await run(shim('with-retries'), ['-n', '2', 'false'])).code, 1);
    const slow = await run(shim('with-retries'), ['-n', '1', '-t', '200', 'sleep', '5']);
    assert.equal(slow.code, 1);
    assert.equal((await run(shim('with-retries'), ['-n', 'x', 'true'])).code, 100);
  });

  it('logutil-service runs s6-log on its log directory with S6_LOGGING_SCRIPT, or says s6-log is missing', { skip: !isRoot && 'needs root to run the logger as nobody' }, async () => {
    const runDir = tempDir();
    const logDir = join(tempDir(), 'logs');
    mkdirSync(logDir);
    chmodSync(join(logDir, '..'), 0o755);
    chownSync(logDir, 65534, 65534);
    mkdirSync(join(runDir, 's6', 'container_environment'), { recursive: true });
    writeFileSync(join(runDir, 's6', 'container_environment', 'S6_LOGGING_SCRIPT'), 'n2 s100000\n');
    const logged = await new Promise<{ code: number; stderr: string }>((resolve) => {
      const child = execFile(shim('logutil-service'), [logDir], { env: { PATH: process.env['PATH'], STEWARD_RUN: runDir } }, (error, _stdout, stderr) => {
        resolve({ code: error === null ? 0 : Number(error.code), stderr });
      });
      child.stdin?.end('first line\nsecond line\n');
    });
    const hasS6Log = (await run('sh', ['-c', 'command -v s6-log'])).code === 0;
    if (!hasS6Log) {
      assert.equal(logged.code, 127);
      assert.match(logged.stderr, /s6-log is not installed/);
      return;
    }
    assert.equal(logged.code, 0, logged.stderr);
    // No T directive in this script: the lines are kept as they came, in a file s6-log owns as nobody.
    assert.equal(readFileSync(join(logDir, 'current'), 'utf8'), 'first line\nsecond line\n');
    assert.equal(lstatSync(join(logDir, 'current')).uid, 65534);
  });
});

describe('s6 commands in run scripts and the CMD', { skip }, () => {
  it("a user the image lets write a service's supervise/control controls it with s6-svc, as with s6, where the control socket is root's", { timeout: 60_000 }, async () => {
    // smebberson/alpine-consul-nginx: mkfifo supervise/control, chown -R root:s6, chmod g+w; then
    // consul-template (group s6) runs s6-svc -h on nginx after each render.
    const etc = scriptTree({ 'services.d/web/run': '#!/bin/sh\necho started >> /run/web.starts\nexec sleep 1000\n' });
    trees.push(etc);
    const supervise = join(etc, 'services.d', 'web', 'supervise');
    mkdirSync(supervise);
    chownSync(supervise, 0, 100);
    chmodSync(supervise, 0o750);
    assert.equal(spawnSync('mkfifo', [join(supervise, 'control')]).status, 0);
    chownSync(join(supervise, 'control'), 0, 100);
    chmodSync(join(supervise, 'control'), 0o620);
    const commandDir = tempDir();
    chmodSync(commandDir, 0o755);
    const init = startInit({
      privateRun: true,
      binds: [[commandDir, '/command']],
      // STEWARD_S6_SUPERVISE left at auto: the image's own fifo turns it on, without s6's tools.
      env: { STEWARD_ETC: etc, STEWARD_RESTART_THROTTLE: '200', PATH: '/command:/usr/sbin:/usr/bin:/sbin:/bin' },
      args: [
        'sh',
        '-c',
        `s6-svwait -u -t 10000 /run/service/web
echo "fifo=$(stat -c %a:%g /run/service/web/supervise/control)"
echo "status_size=$(stat -c %s /run/service/web/supervise/status)"
setpriv --reuid=65534 --regid=100 --clear-groups s6-svc -r /run/service/web; echo "as_group=$?"
setpriv --reuid=65534 --regid=65534 --clear-groups s6-svc -r /run/service/web 2>/dev/null; echo "as_other=$?"
i=0; while [ "$(wc -l < /run/web.starts)" -lt 2 ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
sleep 0.5
echo "starts=$(wc -l < /run/web.starts)"`,
      ],
    });
    runs.push(init);
    const { code } = await init.exited;
    const output = init.output();
    assert.equal(code, 0, output);
    expect(output, 'fifo', '620:100');
    expect(output, 'as_group', '0');
    assert.notEqual(value(output, 'as_other'), '0');
    expect(output, 'starts', '2');
    assert.match(output, /keeping s6 supervise directories \(the image made supervise\/control for web\)/);
    // In the layout of the s6 the image has for its own tools (a distribution's, as here when
    // Debian's is installed: 35 bytes before 2.13), not always the newest.
    expect(output, 'status_size', String(installedS6StatusSize()));
  });

  it('a directory copied into the scan directory at run time keeps the owner and mode of the supervise/control it made, as s6-supervise keeps an existing fifo, with s6 directories on and under auto without s6 tools', { timeout: 90_000 }, async () => {
    // NousResearch/hermes-agent: its slots come with supervise/ and a control fifo its own user may write.
    // auto with no s6 tools in /command: that fifo turns the directories on when the slot arrives.
    for (const env of [{ STEWARD_S6_SUPERVISE: 'on' }, {}]) {
    const { code, output } = await container(
      { 'services.d/web/run': '#!/bin/sh\nexec sleep 1000\n' },
      `s6-svwait -u -t 10000 /run/service/web
d=/run/slot.tmp; mkdir -p $d/supervise
printf '#!/bin/sh\\necho slot >> /run/slot.starts\\nexec sleep 1000\\n' > $d/run; chmod 755 $d/run
mkfifo $d/supervise/control; chown 0:100 $d/supervise $d/supervise/control; chmod 750 $d/supervise; chmod 620 $d/supervise/control
mv $d /run/service/slot
s6-svscanctl -a /run/service
s6-svwait -u -t 5000 /run/service/slot; echo "slot_up=$?"
echo "fifo=$(stat -c %a:%g /run/service/slot/supervise/control)"
setpriv --reuid=65534 --regid=100 --clear-groups s6-svc -r /run/service/slot; echo "as_group=$?"
i=0; while [ "$(wc -l < /run/slot.starts)" -lt 2 ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
echo "starts=$(wc -l < /run/slot.starts)"`,
      { env },
    );
    assert.equal(code, 0, output);
    expect(output, 'slot_up', '0');
    expect(output, 'fifo', '620:100');
    expect(output, 'as_group', '0');
    expect(output, 'starts', '2');
    }
  });

  it("in a v2 image, v2's own services (s6-fdholderd) are supervised from the start, and a wait for a service no tree has fails at once rather than hold the boot", { timeout: 60_000 }, async () => {
    // smebberson/alpine-nginx: RUN rm /etc/s6/services/s6-fdholderd/down, then a cont-init script
    // waits for it (readiness on fd 1) before storing its log fifos in it.
    const { code, output } = await container(
      {
        's6/init/init-stage2': '#!/usr/bin/execlineb -S0\n',
        's6/services/s6-fdholderd/run': '#!/bin/sh\nsleep 0.3\necho\nexec sleep 1000\n',
        's6/services/s6-fdholderd/notification-fd': '1\n',
        's6/services/sleeper/run': '#!/bin/sh\nexec sleep 1000\n',
        's6/services/sleeper/down': '',
        // v2's catch-all logger: Steward has its own.
        's6/services/s6-svscan-log/run': '#!/bin/sh\nexec sleep 1000\n',
        's6/services/.s6-svscan/finish': '#!/bin/sh\n',
        'cont-init.d/00-logs':
          '#!/bin/sh\ns6-svwait -U -t 10000 /var/run/s6/services/s6-fdholderd; echo "holder_ready=$?" > /run/init.out\ns6-svwait -U /var/run/s6/services/nothing-has-this 2>/run/init.err; echo "unknown=$?" >> /run/init.out\n',
      },
      `
cat /run/init.out
echo "unknown_said=$(cat /run/init.err)"
echo "sleeper=$(s6-svstat -o up /var/run/s6/services/sleeper)"
echo "svscan_log=$([ -e /run/service/s6-svscan-log ] && echo there || echo absent)"
`,
    );
    assert.equal(code, 0, output);
    expect(output, 'holder_ready', '0');
    expect(output, 'unknown', '111');
    assert.match(value(output, 'unknown_said'), /unable to subscribe to events for \/var\/run\/s6\/services\/nothing-has-this/);
    expect(output, 'sleeper', 'false');
    expect(output, 'svscan_log', 'absent');
  });

  it('a run script chains with-contenv, s6-envdir, redirfd, fdmove, s6-setuidgid and s6-notifyoncheck, as images do', async () => {
    const services = {
      'services.d/web/run': `#!/command/with-contenv sh
exec s6-envdir ./env redirfd -w 1 /run/web.log fdmove -c 2 1 s6-setuidgid nobody s6-notifyoncheck -w 50 -n 0 \\
  sh -c 'echo "web: uid=$(id -u) gid=$(id -g) greeting=$GREETING from_envdir=$FROM_ENVDIR"; echo "web: on stderr" >&2; exec sleep 1000'
`,
      'services.d/web/env/FROM_ENVDIR': 'envdir value\n',
      'services.d/web/notification-fd': '3\n',
      'services.d/web/data/check': '#!/bin/sh\n[ -e /run/web-may-be-ready ]\n',
    };
    const { code, output } = await container(
      services,
      `
echo "which=$(command -v s6-svc)"
s6-svwait -U -t 300 /run/service/web; echo "not_ready_yet=$?"
echo "ready_field=$(s6-svstat -o up,ready /run/service/web)"
touch /run/web-may-be-ready
s6-svwait -U -t 10000 /run/service/web; echo "ready=$?"
echo "ready_field_after=$(s6-svstat -o up,ready /run/service/web)"
wait_lines /run/web.log 2
echo "log=$(tr '\\n' '|' < /run/web.log)"
pid=$(s6-svstat -p /run/service/web)
echo "runs_as=$(stat -c %u /proc/$pid)"
echo "notification_fd_closed=$([ -e /proc/$pid/fd/3 ] && echo no || echo yes)"
`,
    );
    assert.equal(code, 0, output);
    expect(output, 'which', '/command/s6-svc');
    // Readiness comes from data/check, not from the process starting.
    expect(output, 'not_ready_yet', '99');
    expect(output, 'ready_field', 'true false');
    expect(output, 'ready', '0');
    expect(output, 'ready_field_after', 'true true');
    // with-contenv gave the container environment, s6-envdir added its file, redirfd opened
    // the log on stdout, fdmove copied stdout over stderr, s6-setuidgid switched to nobody.
    expect(output, 'log', 'web: uid=65534 gid=65534 greeting=hello from the container from_envdir=envdir value|web: on stderr|');
    expect(output, 'runs_as', '65534');
    expect(output, 'notification_fd_closed', 'yes');
  });

  it('s6-notifyoncheck without a ./data/check runs the program all the same, up and never ready, as skarnet’s', async () => {
    const services = {
      'services.d/worker/run': "#!/bin/sh\nexec s6-notifyoncheck -w 50 -n 3 sh -c 'echo started >> /run/worker.out; exec sleep 1000'\n",
      'services.d/worker/notification-fd': '3\n',
    };
    const { code, output } = await container(
      services,
      `
wait_lines /run/worker.out 1
first=$(s6-svstat -p /run/service/worker)
sleep 1.5
echo "state=$(s6-svstat -o up,ready /run/service/worker)"
echo "same_run=$([ "$(s6-svstat -p /run/service/worker)" = "$first" ] && echo yes || echo no)"
echo "starts=$(wc -l < /run/worker.out)"
`,
    );
    assert.equal(code, 0, output);
    expect(output, 'state', 'true false');
    expect(output, 'same_run', 'yes');
    expect(output, 'starts', '1');
    assert.match(output, /s6-notifyoncheck: warning: unable to spawn \.\/data\/check/, output);
  });

  it('execline run scripts and up files work without s6-overlay: Steward links its execlineb into /command', async () => {
    const services = {
      // A v3 oneshot whose up file needs variables, and a longrun with an execline run script and readiness.
      's6-overlay/s6-rc.d/init-config/type': 'oneshot\n',
      's6-overlay/s6-rc.d/init-config/up': 'importas -D 911 PUID PUID\nbacktick -E HOST { hostname }\nforeground { sh -c "echo uid=${PUID} host=${HOST} > /run/init-config.out" }\nexit 0\n',
      's6-overlay/s6-rc.d/svc-api/type': 'longrun\n',
      's6-overlay/s6-rc.d/svc-api/notification-fd': '3\n',
      's6-overlay/s6-rc.d/svc-api/dependencies.d/init-config': '',
      's6-overlay/s6-rc.d/svc-api/run': `#!/command/execlineb -P
with-contenv
importas -D none GREETING GREETING
fdmove -c 2 1
foreground { sh -c "echo api greeting=\${GREETING} >> /run/api.log" }
s6-setuidgid nobody
sh -c "echo ready >&3; exec sleep 1000"
`,
      's6-overlay/s6-rc.d/user/contents.d/init-config': '',
      's6-overlay/s6-rc.d/user/contents.d/svc-api': '',
      // A classic services.d service written in execline.
      'services.d/web/run': `#!/command/execlineb -P
cd /run
redirfd -a 1 /run/web.log
sh -c "echo web cwd=$(pwd); exec sleep 1000"
`,
    };
    const { code, output } = await container(
      services,
      `
s6-svwait -U -t 10000 /run/service/svc-api; echo "api_ready=$?"
echo "init_config=$(cat /run/init-config.out)"
wait_lines /run/web.log 1
echo "web_log=$(cat /run/web.log)"
echo "api_log=$(cat /run/api.log)"
pid=$(s6-svstat -p /run/service/svc-api)
echo "api_program=$(cat /proc/$pid/comm) uid=$(stat -c %u /proc/$pid)"
`,
    );
    assert.equal(code, 0, output);
    expect(output, 'api_ready', '0');
    assert.match(value(output, 'init_config'), /^uid=911 host=\S+$/);
    expect(output, 'web_log', 'web cwd=/run');
    expect(output, 'api_log', 'api greeting=hello from the container');
    // The supervised process is the program itself: the interpreter executed into it.
    expect(output, 'api_program', 'sleep uid=65534');
  });

  it('s6-svc controls a service by /run/service/NAME or ".", and its -w options wait', async () => {
    const services = {
      'services.d/web/run': '#!/bin/sh\nexec sleep 1000\n',
      'services.d/never/notification-fd': '3\n',
      'services.d/never/run': '#!/bin/sh\nexec sleep 1000\n',
      'services.d/job/down': '',
      'services.d/job/run': '#!/bin/sh\necho ran >> /run/job.log\nexit 3\n',
    };
    const { code, output } = await container(
      services,
      `
s6-svc -wD -d /run/service/web; echo "down=$?"
echo "down_fields=$(s6-svstat -o up,wantedup /run/service/web)"
sleep 0.5
echo "still_down=$(s6-svstat -o up /run/service/web)"
cd /run/service/web && s6-svc -wu -u .; echo "up_dot=$?"; cd /
echo "up_fields=$(s6-svstat -o up,wantedup /run/service/web)"
old=$(s6-svstat -p /run/service/web)
s6-svc -wr -r /run/service/web; echo "restart=$?"
new=$(s6-svstat -p /run/service/web)
echo "new_pid=$([ "$old" != "$new" ] && [ "$new" -gt 0 ] && echo yes)"
s6-svc -wR -r /run/service/web; echo "restart_ready=$?"
s6-svc -wd -d /run/service/web; echo "wait_down=$?"
s6-svc -wU -u /run/service/web; echo "wait_ready=$?"
s6-svc -T 300 -wU -u /run/service/never; echo "never_ready=$?"
s6-svc -wD -o /run/service/job; echo "once=$?"
sleep 0.5
echo "job_runs=$(wc -l < /run/job.log)"
echo "job_fields=$(s6-svstat -o up,wantedup,normallyup,exitcode /run/service/job)"
s6-svc -x /run/service/web; echo "exit_letter=$?"
s6-svc -u /run/service/nosuch; echo "unknown=$?"
s6-svc -u /tmp; echo "not_supervised=$?"
s6-svc -wz /run/service/web; echo "bad_wait=$?"
`,
    );
    assert.equal(code, 0, output);
    expect(output, 'down', '0');
    expect(output, 'down_fields', 'false false');
    expect(output, 'still_down', 'false');
    expect(output, 'up_dot', '0');
    expect(output, 'up_fields', 'true true');
    expect(output, 'restart', '0');
    expect(output, 'new_pid', 'yes');
    expect(output, 'restart_ready', '0');
    expect(output, 'wait_down', '0');
    expect(output, 'wait_ready', '0');
    // -T bounds the wait: exit 99 and "timed out", as s6-svc (through s6-svlisten1).
    expect(output, 'never_ready', '99');
    assert.match(output, /s6-svc: fatal: timed out/);
    expect(output, 'once', '0');
    expect(output, 'job_runs', '1');
    expect(output, 'job_fields', 'false false false 3');
    expect(output, 'exit_letter', '0');
    // A missing directory is a system failure (111); one no supervisor watches, 100: as s6's.
    expect(output, 'unknown', '111');
    assert.match(output, /s6-svc: fatal: unable to control \/run\/service\/nosuch: No such file or directory/);
    expect(output, 'not_supervised', '100');
    assert.match(output, /s6-svc: fatal: unable to control \/tmp: supervisor not listening/);
    expect(output, 'bad_wait', '100');
  });

  it('s6-svc sends signals by letter (-h -a -q -1 -2 -t -k), and -O stops restarts', async () => {
    const services = {
      'services.d/sig/run': `#!/bin/sh
for s in HUP ALRM QUIT USR1 USR2; do trap "echo $s >> /run/sig.log" $s; done
trap 'echo TERM >> /run/sig.log; exit 0' TERM
while :; do sleep 0.05; done
`,
    };
    const { code, output } = await container(
      services,
      `
s6-svwait -u -t 10000 /run/service/sig
n=0
for letter in h a q 1 2; do
  n=$((n+1))
  s6-svc -$letter /run/service/sig || echo "letter $letter failed"
  wait_lines /run/sig.log $n
done
echo "caught=$(tr '\\n' ' ' < /run/sig.log)"
old=$(s6-svstat -p /run/service/sig)
s6-svc -wr -t /run/service/sig; echo "term=$?"
echo "term_restarted=$([ "$(s6-svstat -p /run/service/sig)" != "$old" ] && echo yes)"
echo "term_caught=$(tail -n 1 /run/sig.log)"
s6-svc -wD -O -k /run/service/sig; echo "kill=$?"
sleep 0.5
echo "human=$(s6-svstat /run/service/sig)"
echo "numeric=$(s6-svstat -n /run/service/sig)"
echo "letters=$(s6-svstat -u -w -N -r -p -e -s -t /run/service/sig)"
echo "signal_fields=$(s6-svstat -o signal,signum,exitcode /run/service/sig)"
`,
    );
    assert.equal(code, 0, output);
    expect(output, 'caught', 'HUP ALRM QUIT USR1 USR2 ');
    assert.doesNotMatch(output, /letter . failed/);
    expect(output, 'term', '0');
    expect(output, 'term_restarted', 'yes');
    expect(output, 'term_caught', 'TERM');
    expect(output, 'kill', '0');
    // -O: killed, and not restarted: down, not wanted up.
    assert.match(value(output, 'human'), /^down \(signal SIGKILL\) \d+ seconds, normally up, ready \d+ seconds$/);
    assert.match(value(output, 'numeric'), /^down \(signal 9\) \d+ seconds, normally up, ready \d+ seconds$/);
    assert.match(value(output, 'letters'), /^false false true false -1 -1 SIGKILL \d+$/);
    expect(output, 'signal_fields', 'SIGKILL 9 -1');
  });

  it('s6-svstat prints the human line and the chosen fields', async () => {
    const services = {
      'services.d/web/notification-fd': '3\n',
      'services.d/web/run': '#!/bin/sh\nwhile [ ! -e /run/web-go ]; do sleep 0.05; done\necho >&3\nexec sleep 1000\n',
      'services.d/plain/run': '#!/bin/sh\nexec sleep 1000\n',
      'services.d/job/down': '',
      'services.d/job/run': '#!/bin/sh\nexit 3\n',
    };
    const { code, output } = await container(
      services,
      `
s6-svwait -u -t 10000 /run/service/web /run/service/plain
echo "starting=$(s6-svstat /run/service/web)"
touch /run/web-go
s6-svwait -U -t 10000 /run/service/web
echo "ready=$(s6-svstat /run/service/web)"
echo "plain=$(s6-svstat /run/service/plain)"
echo "fields=$(s6-svstat -o up,wantedup,normallyup,ready,paused,pid,pgid,exitcode,signal,signum /run/service/web)"
echo "pid=$(s6-svstat -p /run/service/web)"
echo "times=$(s6-svstat -o updownsince,readysince,updownfor,readyfor /run/service/web)"
echo "never_started=$(s6-svstat /run/service/job)"
echo "never_started_exit=$(s6-svstat -e /run/service/job)"
s6-svc -wD -o /run/service/job
echo "exited=$(s6-svstat /run/service/job)"
s6-svstat /run/service/nosuch; echo "unknown=$?"
s6-svstat -o nosuchfield /run/service/web; echo "bad_field=$?"
`,
    );
    assert.equal(code, 0, output);
    const starting = /^up \(pid (\d+) pgid (\d+)\) \d+ seconds$/.exec(value(output, 'starting'));
    assert.ok(starting !== null && starting[1] === starting[2], value(output, 'starting'));
    const ready = /^up \(pid (\d+) pgid \1\) \d+ seconds, ready \d+ seconds$/.exec(value(output, 'ready'));
    assert.ok(ready !== null, value(output, 'ready'));
    // Without a notification-fd, s6 says nothing about readiness for a running service.
    assert.match(value(output, 'plain'), /^up \(pid (\d+) pgid \1\) \d+ seconds$/);
    const pid = value(output, 'pid');
    assert.equal(pid, ready[1]);
    expect(output, 'fields', `true true true true false ${pid} ${pid} -1 NA -1`);
    assert.match(value(output, 'times'), /^@4[0-9a-f]{23} @4[0-9a-f]{23} \d+ \d+$/);
    // Never started: exit code 0, as s6-supervise's first status file says.
    assert.match(value(output, 'never_started'), /^down \(exitcode 0\) \d+ seconds, ready \d+ seconds$/);
    expect(output, 'never_started_exit', '0');
    assert.match(value(output, 'exited'), /^down \(exitcode 3\) \d+ seconds, ready \d+ seconds$/);
    expect(output, 'unknown', '1');
    assert.match(output, /s6-svstat: fatal: unable to read status for \/run\/service\/nosuch: s6-supervise not running/);
    expect(output, 'bad_field', '100');
  });

  it("s6-svwait -u sees a run being stopped as up, s6-svc -x checks its directories, and s6-svstat's and s6-svwait's details are skarnet's", async () => {
    const services = {
      'services.d/stubborn/run': '#!/bin/sh\ntrap "" TERM\nexec sleep 1000\n',
      'services.d/stubborn/down-signal': 'TERM\n',
      'services.d/once/run': '#!/bin/sh\nexit 3\n',
      'services.d/once/finish': '#!/bin/sh\nexit 125\n',
      'services.d/once/down': '',
      'services.d/once/notification-fd': '3\n',
      'services.d/killed/run': '#!/bin/sh\nexec sleep 1000\n',
    };
    const { code, output } = await container(
      services,
      `
mkdir /run/unsupervised
s6-svwait -u -t 10000 /run/service/stubborn /run/service/killed
s6-svc -d /run/service/stubborn
sleep 0.3
echo "stopping=$(s6-svstat /run/service/stubborn)"
s6-svwait -u -t 1500 /run/service/stubborn; echo "wait_up_stopping=$?"
s6-svc -u -wu -T 1500 /run/service/stubborn; echo "wu_stopping=$?"
s6-svc -d /run/service/stubborn
s6-svc -p /run/service/stubborn
echo "paused=$(s6-svstat /run/service/stubborn)"
s6-svc -x /run/service/nosuch; echo "x_missing=$?"
s6-svc -x /run/unsupervised; echo "x_unsupervised=$?"
s6-svc -x /run/service/killed; echo "x_up=$?"
echo "first_of_two=$(s6-svstat -u /run/service/killed /run/service/nosuch) rc=$?"
s6-svc -wD -Ok /run/service/killed
echo "signal_n=$(s6-svstat -n -o signal,signum /run/service/killed)"
echo "human_n=$(s6-svstat -n /run/service/killed)"
s6-svwait -U -t 5000 /run/service/once 2> /run/svwait.err & sleep 0.2; s6-svc -o /run/service/once; wait $!; echo "permanent=$?"
echo "permanent_said=$(cat /run/svwait.err)"
s6-svc -k /run/service/stubborn
`,
    );
    assert.equal(code, 0, output);
    assert.match(value(output, 'stopping'), /^up \(pid \d+ pgid \d+\) \d+ seconds, want down$/);
    expect(output, 'wait_up_stopping', '0');
    expect(output, 'wu_stopping', '0');
    assert.match(value(output, 'paused'), /^up \(pid \d+ pgid \d+\) \d+ seconds, paused, want down$/);
    expect(output, 'x_missing', '111');
    expect(output, 'x_unsupervised', '100');
    expect(output, 'x_up', '0');
    expect(output, 'first_of_two', 'true rc=0');
    expect(output, 'signal_n', 'SIGKILL 9');
    assert.match(value(output, 'human_n'), /^down \(signal 9\) \d+ seconds/);
    expect(output, 'permanent', '1');
    assert.match(value(output, 'permanent_said'), /^s6-svwait: fatal: some services reported permanent failure or their supervisor died: .*once/);
  });

  it('s6-svc -p pauses the run (s6-svstat and steward status say so), -c continues it, and -d stops a paused run', async () => {
    const services = {
      'services.d/ticker/run': '#!/bin/sh\nwhile :; do date +%s%N > /run/tick; sleep 0.05; done\n',
    };
    const { code, output } = await container(
      services,
      `
s6-svwait -u -t 10000 /run/service/ticker
wait_until '[ -s /run/tick ]'
s6-svc -p /run/service/ticker
wait_until '[ "$(s6-svstat -o paused /run/service/ticker)" = true ]'
# A tick under way when the pause came may still land: a moment for it, then none may come.
sleep 0.2
before=$(cat /run/tick); sleep 0.3; after=$(cat /run/tick)
echo "stopped_ticking=$([ "$before" = "$after" ] && echo yes)"
echo "paused_line=$(s6-svstat /run/service/ticker)"
echo "paused_field=$(s6-svstat -o up,paused /run/service/ticker)"
echo "paused_status=$(${repoRoot}/bin/steward status ticker | tail -n 1)"
s6-svc -c /run/service/ticker
wait_until '[ "$(s6-svstat -o paused /run/service/ticker)" = false ]'
before=$(cat /run/tick); wait_until '[ "$(cat /run/tick)" != "$before" ]'; after=$(cat /run/tick)
echo "ticking_again=$([ "$before" != "$after" ] && echo yes)"
echo "continued_field=$(s6-svstat -o paused /run/service/ticker)"
s6-svc -p /run/service/ticker
s6-svc -wd -d -T 5000 /run/service/ticker; echo "down_while_paused=$?"
echo "down_field=$(s6-svstat -o up,paused /run/service/ticker)"
`,
    );
    assert.equal(code, 0, output);
    expect(output, 'stopped_ticking', 'yes');
    assert.match(value(output, 'paused_line'), /^up \(pid (\d+) pgid \1\) \d+ seconds, paused$/);
    expect(output, 'paused_field', 'true true');
    assert.match(value(output, 'paused_status'), /^ticker\s+longrun\s+up, paused\s/);
    expect(output, 'ticking_again', 'yes');
    expect(output, 'continued_field', 'false');
    expect(output, 'down_while_paused', '0');
    expect(output, 'down_field', 'false false');
  });

  it('s6-svwait waits for up, ready, down, finished and restarts, for all (-a) or one (-o); 99 on timeout', async () => {
    const services = {
      'services.d/web/run': '#!/bin/sh\nexec sleep 1000\n',
      'services.d/stopped/down': '',
      'services.d/stopped/run': '#!/bin/sh\nexec sleep 1000\n',
      'services.d/never/notification-fd': '3\n',
      'services.d/never/run': '#!/bin/sh\nexec sleep 1000\n',
    };
    const { code, output } = await container(
      services,
      `
s6-svwait -u -t 10000 /run/service/web; echo "up=$?"
s6-svwait -U -t 10000 /run/service/web; echo "ready_without_fd=$?"
s6-svwait -U -t 300 /run/service/never; echo "never_ready=$?"
s6-svwait -d -t 10000 /run/service/stopped; echo "down=$?"
s6-svwait -D -t 10000 /run/service/stopped; echo "finished=$?"
s6-svwait -a -u -t 300 /run/service/web /run/service/stopped; echo "all_up=$?"
s6-svwait -o -u -t 10000 /run/service/web /run/service/stopped; echo "one_up=$?"
s6-svwait -r -t 10000 /run/service/web & restarted=$!
s6-svwait -R -t 10000 /run/service/web & restarted_ready=$!
# Both waits must have begun before the restart, or they wait for the next one: each has
# connected to the control socket (a fixed sleep is a guess at how long Node takes to start).
connected() { ls -l /proc/$1/fd 2>/dev/null | grep -q 'socket:'; }
wait_until "connected $restarted && connected $restarted_ready"
sleep 0.2
s6-svc -r /run/service/web
wait $restarted; echo "restarted=$?"
wait $restarted_ready; echo "restarted_ready=$?"
s6-svwait -u -t 300 /run/service/nosuch; echo "unknown=$?"
s6-svwait -u -t 300 /tmp; echo "not_supervised=$?"
s6-svwait -u -t soon /run/service/web; echo "bad_timeout=$?"
`,
    );
    assert.equal(code, 0, output);
    expect(output, 'up', '0');
    expect(output, 'ready_without_fd', '0');
    expect(output, 'never_ready', '99');
    assert.match(output, /s6-svwait: fatal: timed out/);
    expect(output, 'down', '0');
    expect(output, 'finished', '0');
    expect(output, 'all_up', '99');
    expect(output, 'one_up', '0');
    expect(output, 'restarted', '0');
    expect(output, 'restarted_ready', '0');
    // s6-svwait cannot read a status there: 111, a missing directory or one nothing supervises.
    expect(output, 'unknown', '111');
    expect(output, 'not_supervised', '111');
    expect(output, 'bad_timeout', '100');
  });

  it('s6-rc changes, lists and lists all services of the s6-rc.d graph, with their dependencies', async () => {
    const longrun = (run = 'exec sleep 1000'): Record<string, string> => ({ type: 'longrun\n', run: `#!/bin/sh\n${run}\n` });
    const services = {
      ...rcd('web', longrun()),
      ...rcd('app', { ...longrun(), 'dependencies.d/web': '' }),
      ...rcd('cron', longrun()),
      ...rcd('never', { ...longrun(), 'notification-fd': '3\n' }),
      // Only web is in the user bundle: the others stay down at boot.
      ...rcd('user', { type: 'bundle\n', 'contents.d/web': '' }),
    };
    const ours = "grep -x -e web -e app -e cron -e never | sort | tr '\\n' ' '";
    const { code, output } = await container(
      services,
      `
s6-svwait -u -t 10000 /run/service/web
echo "active=$(s6-rc -a list | ${ours})"
echo "everything=$(s6-rc -d list | ${ours})"
echo "bundle=$(s6-rc list user | tr '\\n' ' ')"
echo "needs=$(s6-rc listall app | sort | tr '\\n' ' ')"
echo "needed_by=$(s6-rc -d listall web | ${ours})"
s6-rc -u change app; echo "up=$?"
echo "app_up=$(s6-svstat -o up,wantedup /run/service/app)"
s6-rc -d change web; echo "down=$?"
echo "web_up=$(s6-svstat -o up /run/service/web) app_up=$(s6-svstat -o up /run/service/app)"
s6-rc -u change cron; echo "cron=$?"
echo "active_after=$(s6-rc -a list | ${ours})"
s6-rc -t 300 -u change never; echo "timeout=$?"
s6-rc -u change nosuch; echo "unknown=$?"
s6-rc list nosuch; echo "unknown_list=$?"
`,
    );
    assert.equal(code, 0, output);
    expect(output, 'active', 'web ');
    expect(output, 'everything', 'app cron never web ');
    expect(output, 'bundle', 'web ');
    expect(output, 'needs', 'app web ');
    // Going down, a service takes what depends on it along.
    expect(output, 'needed_by', 'app web ');
    expect(output, 'up', '0');
    expect(output, 'app_up', 'true true');
    expect(output, 'down', '0');
    expect(output, 'web_up', 'false app_up=false');
    expect(output, 'cron', '0');
    expect(output, 'active_after', 'cron ');
    // -t bounds the transition: exit 2, "timed out", as s6-rc.
    expect(output, 'timeout', '2');
    assert.match(output, /s6-rc: fatal: timed out/);
    expect(output, 'unknown', '3');
    expect(output, 'unknown_list', '3');
  });

  it('s6-rc -d change leaves a flag-essential service up, and what it needs; -D brings them down', async () => {
    const longrun = { type: 'longrun\n', run: '#!/bin/sh\nexec sleep 1000\n' };
    const { code, output } = await container(
      {
        ...rcd('prep', { type: 'oneshot\n', up: 'true\n' }),
        ...rcd('keeper', { ...longrun, 'flag-essential': '', 'dependencies.d/prep': '' }),
        ...rcd('user', { type: 'bundle\n', 'contents.d/keeper': '' }),
      },
      `
s6-svwait -u -t 10000 /run/service/keeper
s6-rc -d change keeper 2>/run/d.err; echo "d_rc=$?"
echo "d_said=$(cat /run/d.err)"
echo "after_d=$(s6-rc -a list | grep -cx keeper)"
s6-rc -d change prep 2>/run/prep.err; echo "prep_rc=$?"
echo "prep_said=$(cat /run/prep.err)"
echo "after_prep=$(s6-rc -a list | grep -cxE 'keeper|prep')"
s6-rc -D change prep; echo "big_d_rc=$?"
echo "after_big_d=$(s6-rc -a list | grep -cxE 'keeper|prep')"
`,
    );
    assert.equal(code, 0, output);
    expect(output, 'd_rc', '0');
    // What skarnet's s6-rc says at its default verbosity, and nothing of what stays up with it.
    expect(output, 'd_said', 's6-rc: warning: service keeper is marked as essential, not stopping it');
    expect(output, 'prep_said', 's6-rc: warning: service keeper is marked as essential, not stopping it');
    expect(output, 'after_d', '1');
    // As s6-rc: a warning, no failure, and the oneshot the essential service needs stays up.
    expect(output, 'prep_rc', '0');
    expect(output, 'after_prep', '2');
    assert.match(output, /s6-rc: warning: service keeper not stopped: it is marked as essential/, output);
    expect(output, 'big_d_rc', '0');
    expect(output, 'after_big_d', '0');
  });

  it("a oneshot's up gets the services' environment, with nothing of Steward's added (no RC_NAME, which s6-rc does not set)", async () => {
    const { code, output } = await container(
      { ...rcd('shot', { type: 'oneshot\n', up: 'sh -c "echo rc_name=${RC_NAME-unset}"\n' }), ...rcd('user', { type: 'bundle\n', 'contents.d/shot': '' }) },
      'exit 0',
    );
    assert.equal(code, 0, output);
    expect(output, 'rc_name', 'unset');
  });

  it('s6-rc -p change brings nothing up after its down phase failed, as s6-rc; start and stop take no -p', async () => {
    const { code, output } = await container(
      {
        ...rcd('stubborn', { type: 'oneshot\n', up: 'true\n', down: 'false\n' }),
        ...rcd('wanted', { type: 'oneshot\n', up: 'true\n' }),
        ...rcd('other', { type: 'oneshot\n', up: 'true\n' }),
        ...rcd('user', { type: 'bundle\n', 'contents.d/stubborn': '' }),
      },
      `
s6-rc -p start other; echo "start_rc=$?"
s6-rc -pu change wanted; echo "prune_rc=$?"
echo "wanted_up=$(s6-rc -a list | grep -cx wanted)"
echo "stubborn_up=$(s6-rc -a list | grep -cx stubborn)"
`,
    );
    assert.equal(code, 0, output);
    // Pruning would have run stubborn's down, which fails.
    expect(output, 'start_rc', '0');
    expect(output, 'prune_rc', '1');
    expect(output, 'wanted_up', '0');
    expect(output, 'stubborn_up', '1');
  });

  it('s6-svwait in a run script waits for a sibling Steward has not put in /run/service yet, as s6-overlay has them all there first', async () => {
    const services: Record<string, string> = {};
    const count = 300;
    for (let index = 0; index < count; index++) services[`services.d/s${String(index).padStart(3, '0')}/run`] = '#!/bin/sh\nexec sleep 1000\n';
    // The first one to start waits for the last ones, read and copied last, named as run scripts
    // name them; it is ready only then, and the boot waits for it (S6_CMD_WAIT_FOR_SERVICES):
    // a wait for the whole boot would never end.
    services['services.d/s000/notification-fd'] = '3\n';
    services['services.d/s000/run'] = [
      '#!/bin/sh',
      `s6-svwait -u -t 20000 /var/run/service/s${count - 2} & other=$!`,
      `s6-svwait -U -t 20000 ../s${count - 1}; sibling=$?`,
      'wait $other; echo "sibling=$sibling varrun=$?" > /run/sibling',
      'echo >&3',
      'exec sleep 1000',
      '',
    ].join('\n');
    const { code, output } = await container(
      services,
      `
echo "$(cat /run/sibling)"
s6-svwait -u -t 2000 /run/service/nosuch; echo "unknown=$?"
s6-svwait -u -t 2000 /run/nosuch/s001; echo "elsewhere=$?"
`,
      { env: { S6_CMD_WAIT_FOR_SERVICES: '1', S6_CMD_WAIT_FOR_SERVICES_MAXTIME: '20000' } },
    );
    assert.equal(code, 0, output);
    assert.doesNotMatch(output, /S6_CMD_WAIT_FOR_SERVICES_MAXTIME/, output);
    expect(output, 'sibling', '0 varrun=0');
    // Once the boot is over, a directory that is not there is an error at once, as with s6.
    expect(output, 'unknown', '111');
    assert.match(output, /s6-svwait: fatal: unable to subscribe to events for \/run\/service\/nosuch: No such file or directory/);
    expect(output, 'elsewhere', '111');
  });

  it("s6-rc -v 2 prints each start and stop of its change on stderr, as skarnet's s6-rc; the default verbosity only failures", async () => {
    const services = {
      ...rcd('web', longrun()),
      ...rcd('app', longrun({ 'dependencies.d/web': '' })),
      ...rcd('broken', { type: 'oneshot\n', up: '/bin/false\n' }),
      ...rcd('user', { type: 'bundle\n', 'contents.d/web': '' }),
    };
    const { code, output } = await container(
      services,
      `
s6-svwait -u -t 10000 /run/service/web
s6-rc -v 2 -d change web 2> /run/down.err > /run/down.out; echo "down=$?"
s6-rc -v 2 -u change app 2> /run/up.err; echo "up=$?"
s6-rc -d change app 2> /run/quiet.err; echo "quiet=$?"
s6-rc -u change broken 2> /run/broken.err; echo "broken=$?"
s6-rc -v 0 -u change broken 2> /run/broken0.err; echo "broken0=$?"
echo "down_err=$(tr '\\n' '|' < /run/down.err)"
echo "down_out=$(wc -c < /run/down.out)"
echo "up_err=$(tr '\\n' '|' < /run/up.err)"
echo "quiet_err=$(wc -c < /run/quiet.err)"
echo "broken_err=$(grep -c 's6-rc: warning: unable to start service broken: ' /run/broken.err) lines=$(wc -l < /run/broken.err)"
echo "broken0_err=$(wc -c < /run/broken0.err)"
`,
    );
    assert.equal(code, 0, output);
    expect(output, 'down', '0');
    expect(output, 'up', '0');
    expect(output, 'quiet', '0');
    expect(output, 'broken', '1');
    // What depends on web goes down first (s6-overlay's legacy-services, through the user bundle).
    assert.match(output, /^down_err=(s6-rc: info: service [a-z-]+: stopping\|s6-rc: info: service [a-z-]+ successfully stopped\|)*s6-rc: info: service web: stopping\|s6-rc: info: service web successfully stopped\|$/m, output);
    expect(output, 'down_out', '0');
    // Dependencies first, each start announced and then confirmed.
    expect(output, 'up_err', 's6-rc: info: service web: starting|s6-rc: info: service web successfully started|s6-rc: info: service app: starting|s6-rc: info: service app successfully started|');
    expect(output, 'quiet_err', '0');
    // A warning per failed transition and no summary line, as s6-rc; at -v 0 nothing.
    expect(output, 'broken_err', '1 lines=1');
    expect(output, 'broken0', '1');
    expect(output, 'broken0_err', '0');
  });

  it("s6-rc's -a, -p, -n and -d list work as skarnet's s6-rc: -da change brings everything down, a dry run changes nothing", async () => {
    const services = {
      ...rcd('web', longrun()),
      ...rcd('app', longrun({ 'dependencies.d/web': '' })),
      ...rcd('cron', longrun()),
      ...rcd('user', { type: 'bundle\n', 'contents.d/app': '' }),
    };
    const ours = "grep -x -e web -e app -e cron | sort | tr '\\n' ' '";
    const { code, output } = await container(
      services,
      `
s6-svwait -u -t 10000 /run/service/app
echo "down_list=$(s6-rc -da list | ${ours})"
echo "all_but_web=$(s6-rc -d list web | ${ours})"
echo "empty_selection=$(s6-rc list | wc -l)"
s6-rc -n 0 -d change web > /run/dry.out; echo "dry=$?"
echo "dry_order=$(grep -o -e '^s6-rc-dryrun: s6-svc -dwD -T 0 -- /run/service/[a-z]*$' /run/dry.out | sed 's|.*/||' | tr '\\n' ' ')"
echo "after_dry=$(s6-rc -a list | ${ours})"
s6-rc -ua change; echo "ua=$?"
s6-rc -pu change cron; echo "prune_up=$?"
echo "after_prune_up=$(s6-rc -a list | ${ours})"
s6-rc -pd change cron; echo "prune_down=$?"
echo "after_prune_down=$(s6-rc -a list | ${ours})"
s6-rc -da change; echo "da=$?"
echo "after_da=$(s6-rc -a list | wc -l)"
s6-rc -t soon -u change web; echo "bad_timeout=$?"
s6-rc; echo "no_subcommand=$?"
s6-rc diff; echo "diff=$?"
`,
    );
    assert.equal(code, 0, output);
    expect(output, 'down_list', 'cron ');
    expect(output, 'all_but_web', 'app cron ');
    expect(output, 'empty_selection', '0');
    // What depends on web goes down first; nothing is done.
    expect(output, 'dry', '0');
    expect(output, 'dry_order', 'app web ');
    expect(output, 'after_dry', 'app web ');
    expect(output, 'ua', '0');
    // -pu: exactly cron (and what it needs) up; -pd: everything but cron.
    expect(output, 'prune_up', '0');
    expect(output, 'after_prune_up', 'cron ');
    expect(output, 'prune_down', '0');
    expect(output, 'after_prune_down', 'app web ');
    expect(output, 'da', '0');
    expect(output, 'after_da', '0');
    expect(output, 'bad_timeout', '100');
    assert.match(output, /s6-rc: -t takes a whole number, not "soon"/);
    expect(output, 'no_subcommand', '100');
    expect(output, 'diff', '100');
    assert.match(output, /s6-rc: fatal: the diff subcommand is not supported by Steward/);
  });

  it('s6-rc -t running out exits 2 and leaves the service starting: it comes up afterwards, nothing is killed, and nothing more is started', async () => {
    const services = {
      ...rcd('slow', { type: 'longrun\n', 'notification-fd': '3\n', run: '#!/bin/sh\nsleep 1.5\necho >&3\nexec sleep 1000\n' }),
      ...rcd('after', { type: 'oneshot\n', up: 'true\n', 'dependencies.d/slow': '' }),
      ...rcd('user', { type: 'bundle\n' }),
    };
    const { code, output } = await container(
      services,
      `
s6-rc -t 300 -u change after; echo "timeout=$?"
s6-svwait -U -t 10000 /run/service/slow; echo "ready_later=$?"
sleep 0.5
echo "slow=$(s6-svstat -o up,wantedup,ready /run/service/slow)"
echo "active=$(s6-rc -a list | grep -x slow)"
echo "after_started=$(s6-rc -a list | grep -cx after)"
`,
    );
    // s6-rc starts nothing once it has exited: what depended on the slow start is not started behind the caller's back.
    expect(output, 'after_started', '0');
    assert.equal(code, 0, output);
    expect(output, 'timeout', '2');
    assert.match(output, /s6-rc: fatal: timed out/);
    expect(output, 'ready_later', '0');
    expect(output, 'slow', 'true true true');
    expect(output, 'active', 'slow');
  });

  it('s6-svok says whether Steward supervises a directory; s6-svscanctl refuses any scan directory but Steward\'s, without stopping anything', async () => {
    const { code, output } = await container(
      { 'services.d/web/run': '#!/bin/sh\nexec sleep 1000\n' },
      `
s6-svwait -u -t 10000 /run/service/web
s6-svok /run/service/web; echo "ok=$?"
s6-svok /run/service/nosuch; echo "missing=$?"
s6-svok /tmp; echo "unsupervised=$?"
s6-svok; echo "usage=$?"
s6-svscanctl -a /nonexistent; echo "scan_missing=$?"
s6-svscanctl -t /tmp; echo "halt_elsewhere=$?"
sleep 1
echo "still_running=yes"
s6-svscanctl -a /run/service; echo "scan_ours=$?"
`,
    );
    assert.equal(code, 0, output);
    expect(output, 'ok', '0');
    expect(output, 'missing', '1');
    expect(output, 'unsupervised', '1');
    expect(output, 'usage', '100');
    expect(output, 'scan_missing', '111');
    assert.match(output, /s6-svscanctl: fatal: unable to control \/nonexistent: No such file or directory/);
    expect(output, 'halt_elsewhere', '100');
    assert.match(output, /s6-svscanctl: fatal: unable to control \/tmp: supervisor not listening \(Steward's scan directory is \/run\/service\)/);
    expect(output, 'still_running', 'yes');
    expect(output, 'scan_ours', '0');
  });

  it('steward start, stop and restart on a oneshot run its up and down scripts through the graph', async () => {
    const steward = `${repoRoot}/bin/steward`;
    const { code, output } = await container(
      {
        ...rcd('init-mark', { type: 'oneshot\n', up: 'sh -c "echo up >> /run/marks"\n', down: 'sh -c "echo down >> /run/marks"\n' }),
        ...rcd('app', { type: 'longrun\n', run: '#!/bin/sh\nexec sleep 1000\n', 'dependencies.d/init-mark': '' }),
        ...rcd('user', { type: 'bundle\n', 'contents.d/app': '' }),
      },
      `
s6-svwait -u -t 10000 /run/service/app
${steward} stop init-mark; echo "stop=$?"
echo "app_after_stop=$(s6-svstat -o up /run/service/app)"
${steward} start init-mark; echo "start=$?"
${steward} restart init-mark; echo "restart=$?"
echo "marks=$(tr '\n' ' ' < /run/marks)"
${steward} start user; echo "bundle=$?"
echo "app_after_bundle=$(s6-svstat -o up /run/service/app)"
${steward} restart init-mark; echo "restart_again=$?"
echo "app_after_restart=$(s6-svstat -o up /run/service/app)"
${steward} signal HUP init-mark 2>&1; echo "signal=$?"
${steward} stop init-mark; echo "app_stopped=$(s6-svstat -o up /run/service/app)"
${steward} start app; echo "start_app=$?"
echo "app_with_dependency=$(s6-svstat -o up /run/service/app)"
echo "marks_end=$(tr '\n' ' ' < /run/marks)"
`,
    );
    assert.equal(code, 0, output);
    expect(output, 'stop', '0');
    // Stopping a oneshot stops what depends on it, as s6-rc -d change does.
    expect(output, 'app_after_stop', 'false');
    expect(output, 'start', '0');
    expect(output, 'restart', '0');
    expect(output, 'marks', 'up down up down up ');
    expect(output, 'bundle', '0');
    expect(output, 'app_after_bundle', 'true');
    // What went down with it (app depends on it) comes back with it.
    expect(output, 'restart_again', '0');
    expect(output, 'app_after_restart', 'true');
    assert.match(output, /steward signal: init-mark is an s6-rc oneshot or bundle, not a longrun: this applies to longruns only/);
    assert.notEqual(value(output, 'signal'), '0');
    // Starting the longrun by name runs what it depends on first, as s6-rc -u change does.
    expect(output, 'app_stopped', 'false');
    expect(output, 'start_app', '0');
    expect(output, 'app_with_dependency', 'true');
    expect(output, 'marks_end', 'up down up down up down up down up ');
  });

  it("steward start of a longrun steward stop took down records it up in the graph, as s6-rc -u change: the container's stop takes it down first, with its down-signal", async () => {
    const steward = `${repoRoot}/bin/steward`;
    const { code, output } = await container(
      {
        ...rcd('db', longrun({ run: '#!/bin/sh\ntrap "echo order: db TERM; exit 0" TERM\nwhile :; do sleep 0.05; done\n' })),
        ...rcd('web', longrun({ run: '#!/bin/sh\ntrap "echo order: web QUIT; exit 0" QUIT\ntrap "echo order: web TERM; exit 0" TERM\nwhile :; do sleep 0.05; done\n', 'down-signal': 'SIGQUIT\n', 'dependencies.d/db': '' })),
        ...rcd('user', { type: 'bundle\n', 'contents.d/web': '', 'contents.d/db': '' }),
      },
      `
s6-svwait -u -t 10000 /run/service/web
${steward} stop web; echo "stop=$?"
${steward} start web; echo "start=$?"
s6-svwait -u -t 10000 /run/service/web
sleep 0.2
`,
    );
    assert.equal(code, 0, output);
    expect(output, 'stop', '0');
    expect(output, 'start', '0');
    const stopping = output.slice(output.indexOf('stopping the container'));
    assert.deepEqual(stopping.match(/order: .*/g), ['order: web QUIT', 'order: db TERM'], output);
  });

  it("every longrun's directory is in place before the first oneshot runs, as s6-rc-init puts them, and a pipelined longrun's run is its run.user, which an edit changes", async () => {
    // s6-overlay's syslogd tarball and the Home Assistant add-ons that sed syslogd-log/run.user.
    const { code, output } = await container(
      {
        ...rcd('app', longrun({ run: '#!/bin/sh\necho "to the logger"\nexec sleep 1000\n', 'producer-for': 'app-log\n' })),
        ...rcd('app-log', longrun({ run: '#!/bin/sh\necho ORIGINAL > /run/app-log.marker\nexec cat > /run/app-log.out\n', 'consumer-for': 'app\n', 'pipeline-name': 'app-pipeline\n', 'dependencies.d/edit': '' })),
        ...rcd('edit', { type: 'oneshot\n', up: 'sh -c "s6-svok /run/service/app; echo svok=$? > /run/edit.out; sed -i s/ORIGINAL/EDITED/ /run/service/app-log/run.user; echo sed=$? >> /run/edit.out"\n', 'dependencies.d/base': '' }),
        ...rcd('user', { type: 'bundle\n', 'contents.d/app-pipeline': '' }),
      },
      `
cat /run/edit.out
wait_lines /run/app-log.out 1
echo "marker=$(cat /run/app-log.marker)"
echo "logged=$(cat /run/app-log.out)"
`,
    );
    assert.equal(code, 0, output);
    expect(output, 'svok', '0');
    expect(output, 'sed', '0');
    expect(output, 'marker', 'EDITED');
    expect(output, 'logged', 'to the logger');
  });

  it('s6-rc -u change from a cont-init script of a service that depends on base fails at once with 111, as s6-rc on the lock the boot holds, rather than hold the boot', { timeout: 60_000 }, async () => {
    const { code, output } = await container(
      {
        ...rcd('db', longrun({ 'dependencies.d/base': '' })),
        'cont-init.d/10-migrate': '#!/bin/sh\ns6-rc -u change db 2> /run/change.err; echo "in_init=$?" > /run/change.out\n',
      },
      `
cat /run/change.out
echo "said=$(cat /run/change.err)"
s6-rc -u change db; echo "after_boot=$?"
echo "db_up=$(s6-svstat -o up /run/service/db)"
`,
    );
    assert.equal(code, 0, output);
    expect(output, 'in_init', '111');
    assert.match(value(output, 'said'), /^s6-rc: fatal: unable to take locks: the boot is running the up of legacy-cont-init, which this change needs/);
    expect(output, 'after_boot', '0');
    expect(output, 'db_up', 'true');
  });

  it('steward start --no-wait of a longrun the graph has down answers at once, and a start from a cont-init script does not wait for the boot', async () => {
    const steward = `${repoRoot}/bin/steward`;
    const { code, output } = await container(
      {
        // Never ready: a start that waited for it would not answer.
        ...rcd('slow', longrun({ 'notification-fd': '3\n' })),
        ...rcd('db', longrun({ 'dependencies.d/base': '' })),
        'cont-init.d/10-start-db': `#!/bin/sh\n${steward} start db; echo "start_in_init=$?" > /run/init-start\n`,
      },
      `
cat /run/init-start
echo "db_up=$(s6-svstat -o up /run/service/db)"
${steward} start --no-wait slow; echo "no_wait=$?"
echo "slow_up=$(s6-svstat -o up /run/service/slow) ready=$(s6-svstat -o ready /run/service/slow)"
`,
    );
    assert.equal(code, 0, output);
    expect(output, 'start_in_init', '0');
    expect(output, 'db_up', 'true');
    expect(output, 'no_wait', '0');
    expect(output, 'slow_up', 'true ready=false');
  });

  it('steward start on a longrun brings up a longrun it depends on that steward stop took down', async () => {
    const steward = `${repoRoot}/bin/steward`;
    const { code, output } = await container(
      { ...rcd('db', longrun()), ...rcd('api', longrun({ 'dependencies.d/db': '' })), ...rcd('user', { type: 'bundle\n', 'contents.d/api': '' }) },
      `
s6-svwait -u -t 10000 /run/service/api
${steward} stop db api; echo "stop=$?"
${steward} start api; echo "start=$?"
echo "db_up=$(s6-svstat -o up /run/service/db)"
echo "bundle_status=$(${steward} status user | grep -c '^api ')"
`,
    );
    assert.equal(code, 0, output);
    expect(output, 'stop', '0');
    expect(output, 'start', '0');
    expect(output, 'db_up', 'true');
    // A bundle stands for the services it holds.
    expect(output, 'bundle_status', '1');
  });

  it('steward start on a longrun the graph has down fails within its timeout-up, as s6-rc -u change, rather than after --timeout', async () => {
    const steward = `${repoRoot}/bin/steward`;
    const { output } = await container(
      {
        ...rcd('never-ready', { type: 'longrun\n', 'notification-fd': '3\n', 'timeout-up': '800\n', run: '#!/bin/sh\nexec sleep 1000\n' }),
        ...rcd('user', { type: 'bundle\n', 'contents.d/never-ready': '' }),
      },
      `
${steward} start never-ready --timeout 60000 2> /run/start.err; echo "start=$?"
echo "said=$(cat /run/start.err)"
${steward} restart never-ready --timeout 300 2> /run/restart.err; echo "restart=$?"
echo "restart_said=$(cat /run/restart.err)"
`,
      { env: { S6_BEHAVIOUR_IF_STAGE2_FAILS: '0' } },
    );
    expect(output, 'start', '1');
    assert.match(value(output, 'said'), /steward start: unable to start never-ready: it was not ready \(a newline on its notification-fd\) after 800 ms \(timeout-up\)/);
    // A condition said in words, not by its internal name.
    // The graph has it down: the restart is a start through the graph, cut short by --timeout.
    assert.match(value(output, 'restart_said'), /^steward restart: not up after 300 ms: never-ready$/);
    assert.doesNotMatch(output, /restarted-ready/);
  });

  it('steward start --no-wait with a dependency down answers at once; a waiting start names what failed; restart of a longrun stop took down goes through the graph', async () => {
    const steward = `${repoRoot}/bin/steward`;
    const { output } = await container(
      {
        ...rcd('dep', { type: 'oneshot\n', up: 'true\n', down: 'true\n' }),
        ...rcd('stuck', { type: 'longrun\n', 'notification-fd': '3\n', 'timeout-up': '1500\n', run: '#!/bin/sh\nexec sleep 1000\n', 'dependencies.d/dep': '' }),
        ...rcd('db', { type: 'longrun\n', run: '#!/bin/sh\nexec sleep 1000\n' }),
        ...rcd('job', { type: 'longrun\n', run: '#!/bin/sh\nsleep 0.3\n', 'dependencies.d/dep': '' }),
        ...rcd('user', { type: 'bundle\n', 'contents.d/dep': '', 'contents.d/db': '' }),
      },
      `
${steward} stop dep
${steward} start --no-wait stuck; echo "nowait=$?"
s6-rc -u change dep
${steward} stop dep
${steward} start stuck 2> /run/start.err; echo "waited=$?"
echo "waited_said=$(cat /run/start.err)"
${steward} stop db; ${steward} restart db; echo "restart=$?"
echo "listed=$(s6-rc -a list | grep -c '^db$')"
echo "db_$(${steward} status --json db | tr -d ' ' | grep -o '"starts":[0-9]*' | tr -d '"' | tr : =)"
${steward} stop dep
${steward} once --no-wait job; echo "once=$?"
sleep 2.5
echo "job_$(${steward} status --json job | tr -d ' ' | grep -o '"starts":[0-9]*' | tr -d '"' | tr : =)"
`,
      { env: { S6_BEHAVIOUR_IF_STAGE2_FAILS: '0' } },
    );
    expect(output, 'nowait', '0');
    expect(output, 'waited', '1');
    assert.match(value(output, 'waited_said'), /^steward start: unable to start stuck: it was not ready \(a newline on its notification-fd\) after 1500 ms \(timeout-up\)$/);
    expect(output, 'restart', '0');
    expect(output, 'listed', '1');
    // Started once by the restart through the graph, not started and restarted.
    expect(output, 'db_starts', '2');
    // once with its dependency down: started after it, and not restarted when it exits.
    expect(output, 'once', '0');
    expect(output, 'job_starts', '1');
  });

  it('a start handed to the graph with --no-wait is carried out past --timeout; a stop of a dependency while it starts does not hold later starts for ever', async () => {
    const steward = `${repoRoot}/bin/steward`;
    const { output } = await container(
      {
        ...rcd('db', { type: 'longrun\n', 'notification-fd': '3\n', run: '#!/bin/sh\nsleep 1\necho >&3\nexec sleep 1000\n' }),
        ...rcd('app', { type: 'longrun\n', run: '#!/bin/sh\nexec sleep 1000\n', 'dependencies.d/db': '' }),
        ...rcd('user', { type: 'bundle\n', 'contents.d/app': '' }),
      },
      `
${steward} stop db
${steward} start --no-wait --timeout 300 app; echo "nowait=$?"
${steward} wait --up --timeout 10000 app; echo "carried_out=$?"
${steward} stop db
${steward} start --no-wait app
sleep 0.3
${steward} stop db; echo "stopped_mid_start=$?"
${steward} start --timeout 10000 app; echo "later_start=$?"
echo "listed=$(s6-rc -a list | grep -c '^app$')"
`,
    );
    expect(output, 'nowait', '0');
    expect(output, 'carried_out', '0');
    expect(output, 'stopped_mid_start', '0');
    expect(output, 'later_start', '0');
    expect(output, 'listed', '1');
  });

  it('a longrun still starting when S6_CMD_WAIT_FOR_SERVICES_MAXTIME runs out goes on starting, as s6-rc -t leaves it, and becomes ready', async () => {
    const services = {
      ...rcd('slow', { type: 'longrun\n', 'notification-fd': '3\n', run: '#!/bin/sh\nsleep 1.5\necho >&3\nexec sleep 1000\n' }),
      ...rcd('user', { type: 'bundle\n', 'contents.d/slow': '' }),
    };
    const { output } = await container(
      services,
      `
s6-svwait -U -t 10000 /run/service/slow; echo "ready=$?"
echo "restarts=$(steward status --json slow | tr -d ' ' | grep -o '"restarts":[0-9]*')"
`,
      { env: { S6_CMD_WAIT_FOR_SERVICES_MAXTIME: '300', S6_BEHAVIOUR_IF_STAGE2_FAILS: '0' } },
    );
    assert.match(output, /S6_CMD_WAIT_FOR_SERVICES_MAXTIME \(300 ms\)/);
    expect(output, 'ready', '0');
    expect(output, 'restarts', '"restarts":0');
  });

  it('steward stop on a longrun takes down what depends on it first, as s6-rc -d change (a preStop hook stopping the database)', async () => {
    const steward = `${repoRoot}/bin/steward`;
    const longrun = (name: string, extra: Record<string, string> = {}): Record<string, string> => ({
      type: 'longrun\n',
      run: `#!/bin/sh\ntrap 'echo ${name} >> /run/stopped; exit 0' TERM\nsleep 1000 & wait\n`,
      ...extra,
    });
    const { code, output } = await container(
      { ...rcd('db', longrun('db')), ...rcd('api', longrun('api', { 'dependencies.d/db': '' })), ...rcd('other', longrun('other')), ...rcd('user', { type: 'bundle\n', 'contents.d/api': '', 'contents.d/other': '' }) },
      `
s6-svwait -u -t 10000 /run/service/api /run/service/other
${steward} stop db; echo "stop=$?"
echo "order=$(tr '\\n' ' ' < /run/stopped)"
echo "api_up=$(s6-svstat -o up /run/service/api) other_up=$(s6-svstat -o up /run/service/other)"
${steward} start db; echo "start=$?"
echo "db_up=$(s6-svstat -o up /run/service/db)"
`,
    );
    assert.equal(code, 0, output);
    expect(output, 'stop', '0');
    expect(output, 'order', 'api db ');
    expect(output, 'api_up', 'false other_up=true');
    expect(output, 'start', '0');
    expect(output, 'db_up', 'true');
  });

  it("at the container's stop, a logger's producer started again outside the graph (steward stop, then s6-svc -u) gets its down-signal and is not waited for, however slow to stop", async () => {
    const steward = `${repoRoot}/bin/steward`;
    const run = container(
      {
        // Its second run, started by s6-svc -u, takes its time to stop: it ignores its down-signal.
        ...rcd('db', { type: 'longrun\n', run: '#!/bin/sh\n[ -e /run/db-ran ] && trap "" TERM\ntouch /run/db-ran\nwhile :; do echo tick; sleep 0.2; done\n', 'producer-for': 'db-log\n' }),
        ...rcd('db-log', { type: 'longrun\n', run: '#!/bin/sh\nexec cat > /run/db.log\n', 'consumer-for': 'db\n', 'pipeline-name': 'db-pipeline\n' }),
        ...rcd('app', longrun({ 'dependencies.d/db': '' })),
        ...rcd('user', { type: 'bundle\n', 'contents.d/db-pipeline': '', 'contents.d/app': '' }),
      },
      `
s6-svwait -u -t 10000 /run/service/db /run/service/db-log /run/service/app
${steward} stop db; echo "stop=$?"
# s6's own command on the directory: the process comes back, the graph still counts db as down.
s6-svc -u /run/service/db; s6-svwait -u -t 10000 /run/service/db; echo "up_again=$?"
`,
      { env: { S6_KILL_GRACETIME: '500' } },
    );
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<'hung'>((resolve) => {
      timer = setTimeout(() => resolve('hung'), 20_000);
    });
    const outcome = await Promise.race([run, limit]);
    clearTimeout(timer);
    if (outcome === 'hung') {
      const init = runs[runs.length - 1];
      const output = init?.output() ?? '';
      if (init !== undefined) destroy(init);
      assert.fail(`the container did not exit within 20 s of its command:\n${output}`);
    }
    assert.equal(outcome.code, 0, outcome.output);
    expect(outcome.output, 'stop', '0');
    expect(outcome.output, 'up_again', '0');
  });

  it("s6-rc -d change succeeds when the finish script of a service it stops halts the container meanwhile, as under s6-overlay", async () => {
    const { output } = await container(
      {
        // Takes a moment to stop, as nginx draining its connections: the stop's last TERM comes well
        // after the answer (with nothing to wait for, a loaded machine can still let it come first).
        ...rcd('web', longrun({ run: "#!/bin/sh\ntrap 'sleep 0.5; exit 0' TERM\nsleep 1000 & wait\n" })),
        // Frigate's certsync: killed by a signal, its finish script stops the container.
        ...rcd('sidecar', longrun({ 'dependencies.d/web': '', finish: '#!/bin/sh\n[ "$1" = 256 ] && /run/s6/basedir/bin/halt\nexit 0\n' })),
        ...rcd('user', { type: 'bundle\n', 'contents.d/sidecar': '' }),
      },
      `
# As an admin's docker exec: the container's stop does not cut the call short.
trap '' TERM
s6-svwait -u -t 10000 /run/service/web /run/service/sidecar
s6-rc -d change web; echo "change=$?"
sleep 10
`,
      { env: { S6_KILL_GRACETIME: '500' } },
    );
    expect(output, 'change', '0');
    assert.match(output, /stopping the container/, output);
  });

  it('a flag-essential longrun left for the last stage is not restarted when the TERM ends it, and its finish script runs and sets the exit code', async () => {
    const { code, output } = await container(
      {
        ...rcd('db', {
          type: 'longrun\n',
          'flag-essential': '',
          // Stops cleanly, a little later, as a database does.
          run: "#!/bin/sh\necho db run >> /run/marks\ntrap 'sleep 0.2; exit 0' TERM\nwhile :; do sleep 0.05; done\n",
          // Home Assistant's finish template: the container exits with what it writes.
          finish: '#!/bin/sh\nsleep 0.2\necho "db finish $1" >> /run/marks\necho 143 > /run/s6-linux-init-container-results/exitcode\n',
        }),
        ...rcd('user', { type: 'bundle\n', 'contents.d/db': '' }),
      },
      `s6-svwait -u -t 10000 /run/service/db; echo "marks_path=/run/marks"; exit 0`,
    );
    assert.equal(code, 143, output);
    assert.equal((output.match(/service db: info: started/g) ?? []).length, 1, output);
    assert.doesNotMatch(output, /unexpectedly/);
  });

  it("at the container's stop, what a flag-essential longrun depends on stays up with it, but cont-finish.d still runs", async () => {
    const { code, output } = await container(
      {
        ...rcd('prep', { type: 'oneshot\n', up: 'true\n', down: 'echo prep down ran\n', 'dependencies.d/base': '' }),
        ...rcd('db', { type: 'longrun\n', 'flag-essential': '', run: '#!/bin/sh\nexec sleep 1000\n', 'dependencies.d/prep': '', 'dependencies.d/base': '' }),
        ...rcd('user', { type: 'bundle\n', 'contents.d/db': '' }),
        'cont-finish.d/10-bye': '#!/bin/sh\necho cont-finish ran\n',
      },
      's6-svwait -u -t 10000 /run/service/db; exit 0',
    );
    assert.equal(code, 0, output);
    assert.match(output, /cont-finish ran/, output);
    assert.doesNotMatch(output, /prep down ran/, output);
    assert.match(output, /service db not stopped: it is marked as essential/, output);
  });

  it('a service that exits while the container stops is not started again', async () => {
    const { code, output } = await container(
      {
        // As pi-hole's FTL: it dies (exit 3) while what depends on it is being stopped.
        ...rcd('ftl', {
          type: 'longrun\n',
          run: '#!/bin/sh\nwhile [ ! -e /run/stopping ]; do sleep 0.05; done\nexit 3\n',
        }),
        ...rcd('web', {
          type: 'longrun\n',
          run: "#!/bin/sh\ntrap 'touch /run/stopping; sleep 0.5; exit 0' TERM\nwhile :; do sleep 0.05; done\n",
          'dependencies.d/ftl': '',
        }),
        ...rcd('user', { type: 'bundle\n', 'contents.d/web': '', 'contents.d/ftl': '' }),
      },
      // The CMD asks for the stop and stays until the last stage ends it.
      's6-svwait -u -t 10000 /run/service/web; kill -TERM 1; sleep 10',
    );
    assert.equal(code, 0, output);
    assert.equal((output.match(/service ftl: info: started/g) ?? []).length, 1, output);
    assert.doesNotMatch(output, /service ftl: warning: exited 3 unexpectedly/);
  });

  it('services a scan just added are stopped with their down-signal at a stop that follows at once, not left for the KILL', async () => {
    const { code, output } = await container(
      { 'services.d/web/run': '#!/bin/sh\nexec sleep 1000\n' },
      `
s6-svwait -u -t 10000 /run/service/web
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do d=/run/dyn/d$i; mkdir -p $d; printf '#!/bin/sh\\nexec sleep 100\\n' > $d/run; chmod +x $d/run; ln -s $d /run/service/d$i; done
kill -HUP 1; kill -TERM 1
sleep 10
`,
    );
    assert.equal(code, 0, output);
    assert.doesNotMatch(output, /sending all processes the KILL signal/);
  });

  it("linuxserver.io's 00-legacy link (ln -s /run/s6/legacy-services /run/s6/services) puts nothing into /run/service", async () => {
    const { code, output } = await container(
      {
        'services.d/web/run': '#!/bin/sh\nexec sleep 1000\n',
        ...rcd('init-legacy', { type: 'oneshot\n', up: 'ln -s /run/s6/legacy-services /run/s6/services\n' }),
        ...rcd('user', { type: 'bundle\n', 'contents.d/init-legacy': '' }),
      },
      `
s6-svwait -u -t 10000 /run/service/web
echo "link=$(readlink /run/s6/services)"
echo "scandir=$(ls -A /run/service | grep -v '^[.]' | sort | tr '\n' ' ')"
s6-svscanctl -a /run/service 2>&1; echo "scan=$?"
`,
    );
    assert.equal(code, 0, output);
    expect(output, 'link', '/run/s6/legacy-services');
    expect(output, 'scandir', 'web ');
    expect(output, 'scan', '0');
    assert.doesNotMatch(output, /scan: error/);
  });

  it('a service directory copied into the scan directory is supervised on s6-svscanctl -a or SIGHUP, stopped and forgotten when it leaves on -h, and read anew when it comes back', async () => {
    const { code, output } = await container(
      { 'services.d/web/run': '#!/bin/sh\nexec sleep 1000\n' },
      `
s6-svwait -u -t 10000 /run/service/web
mk() { mkdir -p /run/$1 && printf '#!/bin/sh\\necho $1 >> /run/$1.ran\\nexec sleep 1000\\n' > /run/$1/run && chmod +x /run/$1/run; }
mk dyn; cp -a /run/dyn /run/service/dyn
s6-svscanctl -a /run/service; echo "scan=$?"
s6-svwait -u -t 5000 /run/service/dyn; echo "dyn_up=$?"
echo "dyn_ran=$(cat /run/dyn.ran)"
mk viahup; ln -s /run/viahup /run/service/viahup
kill -HUP 1
s6-svwait -u -t 5000 /run/service/viahup; echo "hup_up=$?"
# A wait for it to come up again, pending when it is pruned: it ends then, as its supervisor is gone.
s6-svc -d /run/service/dyn; s6-svwait -d -t 5000 /run/service/dyn
( ${repoRoot}/bin/steward wait --up dyn --timeout 30000 > /run/waiter.out 2>&1; echo "$?" > /run/waiter.rc ) &
sleep 0.3
rm -rf /run/service/dyn
s6-svscanctl -h /run/service; echo "prune=$?"
wait_until '! ${repoRoot}/bin/steward status dyn >/dev/null 2>&1'
wait_until 'test -s /run/waiter.rc'
echo "waiter=$(cat /run/waiter.rc)"
echo "waiter_said=$(grep -c 'no longer supervised' /run/waiter.out)"
echo "dyn_listed=$(${repoRoot}/bin/steward status | grep -c '^dyn ')"
echo "web_after=$(s6-svstat -o up /run/service/web)"
# Back under its name, leading to another directory, the old one gone: that one runs, as a new s6-supervise would run it.
rm -rf /run/dyn; mkdir /run/other && printf '#!/bin/sh\\necho other > /run/other.ran\\nexec sleep 1000\\n' > /run/other/run && chmod +x /run/other/run; ln -s /run/other /run/service/dyn
kill -HUP 1
s6-svwait -u -t 5000 /run/service/dyn; echo "back_up=$?"
wait_until 'test -s /run/other.ran'
echo "back_ran=$(cat /run/other.ran)"
`,
    );
    assert.equal(code, 0, output);
    expect(output, 'scan', '0');
    expect(output, 'dyn_up', '0');
    expect(output, 'dyn_ran', 'dyn');
    expect(output, 'hup_up', '0');
    expect(output, 'prune', '0');
    expect(output, 'dyn_listed', '0');
    expect(output, 'waiter', '1');
    expect(output, 'waiter_said', '1');
    expect(output, 'web_after', 'true');
    expect(output, 'back_up', '0');
    expect(output, 'back_ran', 'other');
    assert.match(output, /scan: info: supervising dyn, found in \/run\/service/);
    assert.match(output, /scan: info: stopping dyn: its directory left \/run\/service/);
  });

  it('a service directory the boot put in the scan directory (cont-init.d, an s6-rc oneshot) is supervised once services.d starts, as services-up\'s s6-svscanctl -a does', async () => {
    const { code, output } = await container(
      {
        'services.d/web/run': '#!/bin/sh\nexec sleep 1000\n',
        // As NousResearch/hermes-agent's 02-reconcile-profiles: built beside, renamed into place.
        'cont-init.d/10-publish':
          '#!/bin/sh\nset -e\nt=/run/service/gateway.tmp\nmkdir -p $t/log\nprintf \'#!/bin/sh\\necho gateway running\\nexec sleep 1000\\n\' > $t/run\nprintf \'#!/bin/sh\\nexec cat > /run/gateway.log\\n\' > $t/log/run\nchmod 755 $t/run $t/log/run\nmv $t /run/service/gateway\n',
        ...rcd('publish-down', {
          type: 'oneshot\n',
          up: 'sh -c "mkdir -p /run/service/spare && printf \'#!/bin/sh\\nexec sleep 1000\\n\' > /run/service/spare/run && chmod 755 /run/service/spare/run && touch /run/service/spare/down"\n',
        }),
        ...rcd('user', { type: 'bundle\n', 'contents.d/publish-down': '' }),
      },
      `
s6-svwait -u -t 10000 /run/service/gateway; echo "gateway_up=$?"
wait_until 'grep -q . /run/gateway.log 2>/dev/null'
echo "gateway_log=$(cat /run/gateway.log)"
echo "spare=$(s6-svstat -o up,wantedup /run/service/spare)"
`,
    );
    assert.equal(code, 0, output);
    expect(output, 'gateway_up', '0');
    expect(output, 'gateway_log', 'gateway running');
    // Supervised, and left down by its down file.
    expect(output, 'spare', 'false false');
    assert.match(output, /scan: info: supervising gateway, found in \/run\/service/);
    assert.doesNotMatch(output, /scan: warning/);
  });

  it("s6-notifyoncheck's poller ends with its service, so a crash loop never piles pollers up; -d detaches it from the daemon", async () => {
    const { code, output } = await container(
      {
        'services.d/crashy/notification-fd': '3\n',
        // The check never succeeds and -n 0 polls forever: only the service's end can stop a poller.
        'services.d/crashy/run': '#!/bin/sh\necho run >> /run/crashy.runs\nexec s6-notifyoncheck -n 0 -w 50 -c false sh -c "sleep 0.2; exit 1"\n',
        'services.d/daemon/notification-fd': '3\n',
        'services.d/daemon/run': '#!/bin/sh\nexec s6-notifyoncheck -d -n 0 -w 50 -c false sleep 1000\n',
      },
      `
# Several runs of crashy, each with its poller, whatever the time a busy machine takes for them.
wait_lines /run/crashy.runs 3
say() { echo "$1=$2"; }
pollers() { for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline 2>/dev/null; echo; done | grep -c '^/bin/sh /command/s6-notifyoncheck'; }
# Once crashy is down, none of the pollers of its many runs may be left: only daemon's.
s6-svc -wD -T 5000 -d /run/service/crashy
i=0; while [ "$(pollers)" -gt 1 ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
say pollers "$(pollers)"
daemon=$(s6-svstat -o pid /run/service/daemon)
say daemon_children "$(cat /proc/$daemon/task/$daemon/children 2>/dev/null | wc -w)"
`,
    );
    assert.equal(code, 0, output);
    assert.match(output, /service crashy: info: started[\s\S]*service crashy: info: started[\s\S]*service crashy: info: started/, 'crashy restarted several times');
    // Not one per crash: at most daemon's own, which polls forever (-n 0).
    assert.ok(Number(value(output, 'pollers')) <= 1, output);
    expect(output, 'daemon_children', '0');
  });

  it("s6-notifyoncheck not exec'd, on a program that ends at once, polls on for the service, as skarnet's (ZoneMinder's mariadb run script)", async () => {
    const { code, output } = await container(
      {
        'services.d/mariadb/notification-fd': '3\n',
        'services.d/mariadb/run': '#!/bin/sh\ns6-notifyoncheck -n 200 -w 50 -c "test -e /run/db-up" echo "Waiting for Mariadb to start" | cat\ns6-svwait -U /run/service/mariadb\ntouch /run/went-on\nexec sleep 1000\n',
      },
      `
sleep 0.5
touch /run/db-up
s6-svwait -U -t 10000 /run/service/mariadb; echo "ready=$?"
# The run script's own wait for its readiness is over too.
i=0; while [ ! -e /run/went-on ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
echo "went_on=$([ -e /run/went-on ] && echo yes || echo no)"
`,
    );
    assert.equal(code, 0, output);
    expect(output, 'ready', '0');
    expect(output, 'went_on', 'yes');
  });

  it('S6_CMD_WAIT_FOR_SERVICES counts a run-once service that was ready and has ended as up, as s6-svwait -U does (ZoneMinder)', async () => {
    const { code, output } = await container(
      {
        'services.d/cfg/notification-fd': '3\n',
        'services.d/cfg/run': '#!/bin/sh\ns6-svc -O /run/service/cfg\nsleep 0.3\necho >&3\nexit 0\n',
        'services.d/app/notification-fd': '3\n',
        'services.d/app/run': '#!/bin/sh\ns6-svwait -U /run/service/cfg\nsleep 1\necho >&3\nexec sleep 1000\n',
      },
      'echo "cmd=ran"',
      { env: { S6_CMD_WAIT_FOR_SERVICES: '1', S6_BEHAVIOUR_IF_STAGE2_FAILS: '2' } },
    );
    assert.equal(code, 0, output);
    expect(output, 'cmd', 'ran');
    assert.doesNotMatch(output, /failed to start/, output);
  });

  it("s6-notifyoncheck -t limits each check to its milliseconds with BusyBox's timeout too, and shows the check's output", async () => {
    // BusyBox's timeout rounds to whole seconds and exits with the program's status.
    const fakeTimeout = `mkdir -p /run/fakebin; printf '#!/bin/sh\\nshift\\nexec "$@"\\n' > /run/fakebin/timeout; chmod +x /run/fakebin/timeout; PATH=/run/fakebin:$PATH`;
    const { code, output } = await container(
      {
        'services.d/slowcheck/notification-fd': '3\n',
        // Every check takes 600 ms against a limit of 200: three failures, never ready.
        'services.d/slowcheck/run': `#!/bin/sh\n${fakeTimeout}\nexec s6-notifyoncheck -t 200 -n 3 -w 50 -c "sleep 0.6" sleep 1000\n`,
        'services.d/quickcheck/notification-fd': '3\n',
        // Its check's output goes where the service's does, as with skarnet's s6-notifyoncheck.
        'services.d/quickcheck/run': `#!/bin/sh\n${fakeTimeout}\nexec s6-notifyoncheck -t 3000 -n 3 -w 50 -c "echo quickcheck-probing; sleep 0.1" sleep 1000\n`,
      },
      `
s6-svwait -U -t 10000 /run/service/quickcheck; echo "quick=$?"
s6-svwait -U -t 3000 /run/service/slowcheck; echo "slow=$?"
`,
    );
    assert.equal(code, 0, output);
    expect(output, 'quick', '0');
    expect(output, 'slow', '99');
    assert.match(output, /quickcheck-probing/);
    // A slow check is a failed attempt, unsaid, as with skarnet's: no time-out line at each.
    assert.doesNotMatch(output, /unable to wait for child process/);
  });

  for (const logging of ['0', '1']) it(`a logger that makes its stdout non-blocking (skarnet's s6-log) leaves every other service's output blocking, S6_LOGGING=${logging}`, { skip: spawnSync('sh', ['-c', 'command -v s6-log']).status !== 0 && "needs skarnet's s6-log" }, async () => {
    const { code, output } = await container(
      {
        'services.d/writer/run': '#!/bin/sh\nexec sleep 1000\n',
        'services.d/other/run': '#!/bin/sh\nexec sleep 1000\n',
        'services.d/other/log/run': '#!/bin/sh\nmkdir -p /run/other-log\nexec s6-log -b n3 s200000 /run/other-log\n',
      },
      `
s6-svwait -u -t 10000 /run/service/writer /run/service/other
i=0; while ! grep -q s6-log /proc/*/comm 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
sleep 0.3
flags() { awk '/^flags/{print $2}' /proc/$1/fdinfo/$2; }
nonblocking() { [ $(( 0$(flags $1 $2) & 04000 )) -ne 0 ] && echo yes || echo no; }
logger=$(for p in /proc/[0-9]*; do [ "$(cat $p/comm 2>/dev/null)" = s6-log ] && basename $p; done | head -n 1)
writer=$(s6-svstat -o pid /run/service/writer)
echo "logger_stdout_nonblocking=$(nonblocking $logger 1)"
echo "writer_stdout_nonblocking=$(nonblocking $writer 1)"
echo "writer_stderr_nonblocking=$(nonblocking $writer 2)"
echo "cmd_stdout_nonblocking=$(nonblocking $$ 1)"
`,
      // As under Docker or Kubernetes: the container's output is a pipe (a socket cannot be opened again).
      { fifoOutput: true, env: { S6_LOGGING: logging } },
    );
    assert.equal(code, 0, output);
    // s6-log did make its own stdout non-blocking: the test sees what it is meant to.
    expect(output, 'logger_stdout_nonblocking', 'yes');
    expect(output, 'writer_stdout_nonblocking', 'no');
    expect(output, 'writer_stderr_nonblocking', 'no');
    expect(output, 'cmd_stdout_nonblocking', 'no');
  });

  it("changes run one at a time, as under s6-rc's lock, and one whose client gave up holds no other back", async () => {
    const services = {
      ...rcd('a', { type: 'oneshot\n', up: 'foreground { sh -c "echo a-up >> /run/order" }\n', down: 'foreground { sleep 2 } foreground { sh -c "echo a-down >> /run/order" }\n' }),
      ...rcd('b', { type: 'oneshot\n', up: 'foreground { sh -c "echo b-up >> /run/order" }\n', down: 'foreground { sh -c "echo b-down >> /run/order" }\n', 'dependencies.d/a': '' }),
      ...rcd('svc', { type: 'longrun\n', run: '#!/bin/sh\nexec sleep 1000\n', 'dependencies.d/b': '' }),
      ...rcd('hang', { type: 'oneshot\n', up: 'sleep 3600\n' }),
      's6-overlay/s6-rc.d/user/contents.d/svc': '',
    };
    const { code, output } = await container(
      services,
      `
s6-svwait -u -t 10000 /run/service/svc
# A stop whose down takes two seconds, and a start arriving meanwhile (once b is down, a's down is under way): the start waits for it.
${repoRoot}/bin/steward stop a & wait_until 'grep -q b-down /run/order'; ${repoRoot}/bin/steward start svc; wait
echo "order=$(tr '\\n' ' ' < /run/order)"
echo "states=$(${repoRoot}/bin/steward status --json a b svc | grep -o '"state": "[a-z]*"' | tr -d '"' | tr '\\n' ' ')"
# A change that runs out of time while waiting its turn is not carried out, and the next one
# still waits for the change under way.
: > /run/order
${repoRoot}/bin/steward stop a & wait_until 'grep -q b-down /run/order'; s6-rc -t 200 -u change hang; echo "queued=$?"; ${repoRoot}/bin/steward start svc; wait
echo "order2=$(tr '\\n' ' ' < /run/order)"
echo "hang_state=$(${repoRoot}/bin/steward status --json hang | grep -o '"state": "[a-z]*"' | tr -d '"')"
# A change that runs out of time, its oneshot still running: the next one is not held back.
s6-rc -t 500 -u change hang; echo "hang=$?"
s6-rc -t 5000 -d change svc; echo "svc_down=$?"
echo "svc_after=$(s6-svstat -o up /run/service/svc)"
`,
    );
    assert.equal(code, 0, output);
    // a's up ran again only after its down was over, and what depends on it came up after it.
    expect(output, 'order', 'a-up b-up b-down a-down a-up b-up ');
    expect(output, 'states', 'state: up state: up state: up ');
    expect(output, 'queued', '2');
    expect(output, 'order2', 'b-down a-down a-up b-up ');
    expect(output, 'hang_state', 'state: down');
    expect(output, 'hang', '2');
    expect(output, 'svc_down', '0');
    expect(output, 'svc_after', 'false');
  });

  it('pgrep -f "s6-supervise NAME" finds each supervised service, as scripts written for s6-overlay test it', async () => {
    const { code, output } = await container(
      {
        'services.d/svc-nginx/run': '#!/bin/sh\nexec sleep 1000\n',
        'services.d/svc-nginx/log/run': '#!/bin/sh\nexec cat >/dev/null\n',
        's6-overlay/s6-rc.d/svc-php/type': 'longrun\n',
        's6-overlay/s6-rc.d/svc-php/run': '#!/bin/sh\nexec sleep 1000\n',
        's6-overlay/s6-rc.d/user/contents.d/svc-php': '',
      },
      `
# What pgrep -f finds, but this script itself (its command line names the services).
found() { for p in $(pgrep -f "s6-supervise $1( |$)"); do case "$(tr '\\0' ' ' < /proc/$p/cmdline 2>/dev/null)" in *"/run/s6/stand-in/s6-svscan -c read _ s6-svscan -d4 -- /run/service "*) echo yes; return;; esac; done; echo no; }
i=0; while [ "$(found svc-nginx)" = no ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
echo "nginx=$(found svc-nginx)"
echo "nginx_log=$(found svc-nginx/log)"
echo "php=$(found svc-php)"
echo "nosuch=$(found svc-nosuch)"
# Health checks that look for s6-overlay's PID 1 by its name.
echo "svscan=$(pgrep -x s6-svscan >/dev/null && echo yes || echo no)"
# And by pidof, which matches argv[0] (Debian's, from sysvinit-utils), as stop scripts use it.
if command -v pidof >/dev/null; then echo "pidof=$(pidof s6-svscan >/dev/null && echo yes || echo no)"; else echo "pidof=yes"; fi
# linuxserver swag's renewal hooks: stop nginx, renew, start it again if it is supervised.
s6-svc -wD -d /run/service/svc-nginx
if pgrep -f "s6-supervise svc-nginx" >/dev/null; then s6-svc -wu -u /run/service/svc-nginx; fi
echo "after_renewal=$(s6-svstat -o up /run/service/svc-nginx)"
# A service added to the scan directory at run time shows up too.
mkdir -p /run/extra && printf '#!/bin/sh\\nexec sleep 1000\\n' > /run/extra/run && chmod +x /run/extra/run && ln -s /run/extra /run/service/svc-extra
s6-svscanctl -a /run/service
i=0; while [ "$(found svc-extra)" = no ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
echo "extra=$(found svc-extra)"
# A pkill meant for a service matches the stand-in too (anchored here, as this script's own
# command line names the service): it is back, as s6-svscan starts a dead s6-supervise again.
pkill -f "^/run/s6/stand-in/s6-svscan -c read _" || true
sleep 0.2
i=0; while [ "$(found svc-nginx)" = no ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
echo "respawned=$(found svc-nginx)"
`,
    );
    assert.equal(code, 0, output);
    expect(output, 'nginx', 'yes');
    expect(output, 'nginx_log', 'yes');
    expect(output, 'php', 'yes');
    expect(output, 'nosuch', 'no');
    expect(output, 'svscan', 'yes');
    expect(output, 'pidof', 'yes');
    expect(output, 'after_renewal', 'true');
    expect(output, 'extra', 'yes');
    expect(output, 'respawned', 'yes');
    // The stand-in ends with the shutdown's first step: nothing is left for a last TERM.
    assert.doesNotMatch(output, /sending all processes the TERM signal/);
  });

  it("with BusyBox as /bin/sh, as in Alpine images, the stand-in runs, named s6-svscan, and names each service", { skip: busybox === undefined && 'needs busybox (Debian: busybox-static)' }, async () => {
    const { code, output } = await container(
      { 'services.d/svc-nginx/run': '#!/bin/sh\nexec sleep 1000\n' },
      `
echo "shell=$(/bin/sh --help 2>&1 | head -n 1 | cut -d ' ' -f 1)"
i=0; until pgrep -x s6-svscan >/dev/null || [ $i -ge 100 ]; do sleep 0.05; i=$((i+1)); done
sleep 1.5
pid=$(pgrep -x s6-svscan)
echo "stand_ins=$(echo $pid | wc -w)"
echo "names=$(tr '\\0' ' ' < /proc/$pid/cmdline | grep -c 's6-supervise svc-nginx *$')"
`,
      // BusyBox over /bin/sh in this mount namespace only: BusyBox picks its applet from the name it is run by.
      { launcher: ['sh', '-c', `mount --bind ${busybox ?? ''} /bin/sh && exec "$@"`, 'busybox-as-sh'] },
    );
    assert.equal(code, 0, output);
    expect(output, 'shell', 'BusyBox');
    // One, not one dying and started again each second.
    expect(output, 'stand_ins', '1');
    expect(output, 'names', '1');
  });

  it('an s6-rc longrun the boot does not start is in /run/service, down, and s6-svc -u starts it', async () => {
    const { code, output } = await container(
      {
        's6-overlay/s6-rc.d/main/type': 'longrun\n',
        's6-overlay/s6-rc.d/main/run': '#!/bin/sh\nexec sleep 1000\n',
        's6-overlay/s6-rc.d/extra/type': 'longrun\n',
        's6-overlay/s6-rc.d/extra/run': '#!/bin/sh\necho extra-started\nexec sleep 1000\n',
        's6-overlay/s6-rc.d/user/contents.d/main': '',
      },
      `
say() { echo "$1=$2"; }
say listed "$(ls /run/service | tr '\\n' ' ')"
say before "$(s6-svstat -o up /run/service/extra)"
s6-svc -u /run/service/extra; say svc $?
s6-svwait -u -t 5000 /run/service/extra; say wait $?
`,
    );
    assert.equal(code, 0, output);
    assert.match(value(output, 'listed'), /\bextra\b/);
    assert.match(value(output, 'listed'), /\bmain\b/);
    expect(output, 'before', 'false');
    expect(output, 'svc', '0');
    expect(output, 'wait', '0');
    assert.match(output, /^extra-started$/m);
    assert.doesNotMatch(output, /cannot execute/, output);
  });

  it('s6-svscanctl -t stops the container, as v2-era finish scripts do', async () => {
    const services = { 'services.d/web/run': '#!/bin/sh\nexec sleep 1000\n' };
    const { code, output } = await container(
      services,
      `
s6-svwait -u -t 10000 /run/service/web
s6-svscanctl -an /run/service; echo "no_op_letters=$?"
echo 9 > /run/s6-linux-init-container-results/exitcode
s6-svscanctl -t /run/service
# The container stops now: this shell is sent TERM with everything else.
sleep 30
echo "still-running-after-svscanctl"
`,
    );
    expect(output, 'no_op_letters', '0');
    assert.doesNotMatch(output, /still-running-after-svscanctl/);
    assert.match(output, /halt requested through the control socket/);
    assert.equal(code, 9, output);
  });

  it("v2's /var/run/s6/services works with Steward's commands in an image without s6-overlay's files (no link there)", async () => {
    const services = { 'services.d/web/run': '#!/bin/sh\nexec sleep 1000\n' };
    const { code, output } = await container(
      services,
      `
s6-svwait -u -t 10000 /var/run/s6/services/web; echo "wait_up=$?"
[ -e /var/run/s6/services ]; echo "link_made=$?"
s6-svc -d /var/run/s6/services/web; echo "svc=$?"
s6-svwait -d -t 10000 /var/run/s6/services/web; echo "wait_down=$?"
s6-svok /var/run/s6/services/web; echo "svok=$?"
echo 7 > /run/s6-linux-init-container-results/exitcode
s6-svscanctl -t /var/run/s6/services
sleep 30
echo "still-running-after-svscanctl"
`,
    );
    expect(output, 'wait_up', '0');
    expect(output, 'link_made', '1');
    expect(output, 'svc', '0');
    expect(output, 'wait_down', '0');
    expect(output, 'svok', '0');
    assert.doesNotMatch(output, /still-running-after-svscanctl/);
    assert.equal(code, 7, output);
  });

  it('s6-svdt lists the deaths of a service, s6-svdt-clear forgets them, and s6-permafailon in its finish script stops the restarts', async () => {
    const services = {
      'services.d/crash/run': '#!/bin/sh\necho started >> /run/crash.starts\nexit 3\n',
      // Three deaths with exit code 3 within a minute: permanent failure, no more restarts.
      'services.d/crash/finish': '#!/bin/sh\nexec s6-permafailon 60 3 1-5,SIGSEGV true\n',
    };
    const { output } = await container(
      services,
      `
wait_lines /run/crash.starts 3
sleep 1
echo "starts=$(wc -l < /run/crash.starts)"
echo "tally=$(s6-svdt /run/service/crash | cut -d' ' -f2- | tr '\n' ',')"
echo "last=$(s6-svdt -n 1 /run/service/crash | wc -l)"
echo "stamp=$(s6-svdt /run/service/crash | head -n 1 | cut -c1-9)"
s6-svdt-clear /run/service/crash; echo "clear=$?"
echo "after_clear=$(s6-svdt /run/service/crash | wc -l)"
s6-svdt /run/service/nothing-here; echo "missing=$?"
mkdir -p /run/plain; s6-svdt /run/plain; echo "unsupervised=$?"
s6-svdt-clear /run/plain; echo "unsupervised_clear=$?"
`,
    );
    expect(output, 'starts', '3');
    expect(output, 'tally', 'exitcode 3,exitcode 3,exitcode 3,');
    expect(output, 'last', '1');
    // A TAI64N label: 2^62 + seconds.
    expect(output, 'stamp', '@40000000');
    expect(output, 'clear', '0');
    expect(output, 'after_clear', '0');
    expect(output, 'missing', '111');
    // A directory with no supervisor: skarnet's finds no death tally there, a system failure.
    expect(output, 'unsupervised', '111');
    expect(output, 'unsupervised_clear', '111');
    assert.match(output, /s6-permafailon: info: permanent failure: 3 deaths/);
  });

  it('s6-svc -wu -u of a service that failed for good waits for the new start, and a -wU that ends in a new permanent failure exits 1, as s6-svlisten1', async () => {
    const services = {
      // Fails for good the first time, runs the second.
      'services.d/second/run': '#!/bin/sh\nif [ -e /run/second.ran ]; then exec sleep 1000; fi\ntouch /run/second.ran\nexit 3\n',
      'services.d/second/finish': '#!/bin/sh\n[ "$1" = 3 ] && exit 125\nexit 0\n',
      // Fails for good every time, never ready.
      'services.d/never/notification-fd': '3\n',
      'services.d/never/run': '#!/bin/sh\nexit 3\n',
      'services.d/never/finish': '#!/bin/sh\nexit 125\n',
    };
    const { output } = await container(
      services,
      `
i=0; until [ -e /run/second.ran ] && [ "$(s6-svstat -o wantedup /run/service/second)" = false ] && [ "$(s6-svstat -o wantedup /run/service/never)" = false ]; do i=$((i+1)); [ $i -gt 200 ] && break; sleep 0.05; done
s6-svc -wu -T 5000 -u /run/service/second; echo "second=$?"
echo "second_up=$(s6-svstat -o up /run/service/second)"
s6-svc -wU -T 5000 -u /run/service/never; echo "never=$?"
`,
    );
    expect(output, 'second', '0');
    expect(output, 'second_up', 'true');
    expect(output, 'never', '1');
  });

  it("a longrun that s6-svc -O leaves running still counts as up for its dependents, and s6-rc -u change of one of them does not undo the -O", async () => {
    const services = {
      ...rcd('daemon', { type: 'longrun\n', run: '#!/bin/sh\n# As Frigate does: no restart for this one.\ns6-svc -O .\nexec sleep 1000\n' }),
      ...rcd('web', { type: 'longrun\n', run: '#!/bin/sh\nexec sleep 1000\n', 'dependencies.d/daemon': '' }),
      ...rcd('user', { type: 'bundle\n', 'contents.d/daemon': '', 'contents.d/web': '' }),
    };
    const { output } = await container(
      services,
      `
s6-svwait -u -t 10000 /run/service/web
sleep 0.5
echo "web_status=$(steward status web | tail -n 1 | tr -s ' ')"
s6-rc -u change web; echo "change=$?"
echo "daemon=$(s6-svstat /run/service/daemon | sed 's/[0-9]* seconds/N seconds/')"
kill "$(s6-svstat -p /run/service/daemon)"
s6-svwait -d -t 5000 /run/service/daemon; echo "died=$?"
sleep 0.5
echo "daemon_after=$(s6-svstat -u /run/service/daemon)"
`,
    );
    assert.doesNotMatch(value(output, 'web_status'), /daemon/, 'web shown as waiting for the daemon, which runs');
    expect(output, 'change', '0');
    assert.match(value(output, 'daemon'), /^up \(pid \d+( pgid \d+)?\) N seconds, want down$/);
    expect(output, 'died', '0');
    expect(output, 'daemon_after', 'false');
  });

  it("s6's account, lock, limit and pause commands work from /command: s6-envuidgid, s6-applyuidgid, s6-setlock, s6-softlimit, s6-pause", async () => {
    const { output } = await container(
      {},
      `
echo "env=$(s6-envuidgid nobody sh -c 'echo $UID:$GID:[$GIDLIST]')"
s6-envuidgid no-such-user-here true; echo "unknown=$?"
echo "applied=$(s6-envuidgid nobody s6-applyuidgid -U -z sh -c 'echo $(id -u):$(id -g):\${UID-unset}')"
s6-setlock /run/lock sh -c 's6-setlock -n /run/lock true; echo "busy=$?"; s6-setlock -t 100 /run/lock true; echo "timed=$?"'
s6-setlock -n /run/lock true; echo "free=$?"
chmod 0644 /run/lock
echo "shared_as_nobody=$(s6-setuidgid nobody s6-setlock -r -n /run/lock echo taken)"
echo "files=$(s6-softlimit -o 77 sh -c 'ulimit -n')"
s6-pause -t & pause=$!
# Once it is sleep, its TERM is ignored: before, a TERM would end the shell that sets that up.
wait_until '[ "$(cat /proc/$pause/comm 2>/dev/null)" = sleep ]'
kill -TERM $pause; sleep 0.5
echo "pause_after_term=$(kill -0 $pause 2>/dev/null && echo alive || echo gone)"
kill -HUP $pause; wait_until '! kill -0 $pause 2>/dev/null'
echo "pause_after_hup=$(kill -0 $pause 2>/dev/null && echo alive || echo gone)"
`,
    );
    expect(output, 'env', '65534:65534:[]');
    expect(output, 'unknown', '1');
    expect(output, 'applied', '65534:65534:unset');
    expect(output, 'busy', '1');
    expect(output, 'timed', '1');
    expect(output, 'free', '0');
    // A shared lock needs only read access, as with s6's.
    expect(output, 'shared_as_nobody', 'taken');
    expect(output, 'files', '77');
    expect(output, 'pause_after_term', 'alive');
    expect(output, 'pause_after_hup', 'gone');
  });

  it('halt in a finish script while the container stops says nothing more: the stop it asks for is under way', async () => {
    const services = {
      'services.d/app/run': '#!/bin/sh\nexec sleep 1000\n',
      // As Frigate's finish scripts: halt at every exit, docker stop included.
      'services.d/app/finish': '#!/bin/sh\n/run/s6/basedir/bin/halt\necho "halt=$?" >> /run/halt.log\n',
    };
    const { code, output } = await container(services, 's6-svwait -u -t 10000 /run/service/app\necho started');
    assert.equal(code, 0, output);
    assert.doesNotMatch(output, /already stopping/);
  });

  it("the container's NODE_OPTIONS reaches the application's Node, not Steward's own (PID 1, steward, execlineb, s6-svc)", async () => {
    const dir = tempDir();
    const log = join(dir, 'preloads');
    const preload = join(dir, 'preload.js');
    writeFileSync(preload, `require('fs').appendFileSync(${JSON.stringify(log)}, process.argv.slice(1).join(' ').replace(/\\n/g, ' ') + '\\n');\n`);
    const services = { 'services.d/web/run': '#!/bin/sh\nexec sleep 1000\n' };
    const { code, output } = await container(
      services,
      `
s6-svwait -u -t 10000 /run/service/web; echo "svwait=$?"
steward status web >/dev/null; echo "status=$?"
# As services and scripts get the container's environment: with-contenv.
echo "through_execline=$(with-contenv execlineb -Pc 'importas -D none OPTIONS NODE_OPTIONS echo $OPTIONS')"
echo "in_cmd=$(with-contenv sh -c 'echo $NODE_OPTIONS')"
with-contenv node -e 0 app-process
echo "preloads=$(grep -v "^$" ${log} | grep -vc '^app-process$')"
echo "app=$(grep -c '^app-process$' ${log})"
`,
      { env: { NODE_OPTIONS: `--require ${preload}` } },
    );
    assert.equal(code, 0, output);
    expect(output, 'svwait', '0');
    expect(output, 'status', '0');
    expect(output, 'through_execline', `--require ${preload}`);
    expect(output, 'in_cmd', `--require ${preload}`);
    // The application's node ran the preload; of Steward's, only PID 1 before it starts itself
    // again without NODE_OPTIONS (Node runs it before any of Steward's code).
    expect(output, 'app', '1');
    expect(output, 'preloads', '1');
  });

  it('a NODE_OPTIONS that would stop Steward\'s own Node (--no-addons, --permission) is named with what to do, not a stack trace', async () => {
    // (--permission is Node 22's; Node 20 itself refuses it in NODE_OPTIONS.)
    for (const nodeOptions of ['--no-addons', '--max-old-space-size=200 --no-addons']) {
      const etc = scriptTree({});
      trees.push(etc);
      const init = startInit({ env: { STEWARD_ETC: etc, STEWARD_RUN: tempDir(), NODE_OPTIONS: nodeOptions }, args: ['true'] });
      runs.push(init);
      const { code } = await init.exited;
      assert.equal(code, 111, init.output());
      assert.match(init.output(), /^steward-init: fatal: NODE_OPTIONS has --no-addons, which Node applies to Steward's own Node too.*in its run script/m);
      assert.doesNotMatch(init.output(), /\n\s+at /, 'a stack trace');
    }
  });

  it('a docker stop that comes while PID 1 loads, with NODE_OPTIONS set (so before it starts itself again), stops the container', async () => {
    const dir = tempDir();
    const preload = join(dir, 'stopped-at-once.js');
    // A listener of its own makes Node catch the TERM now, before any of Steward's code runs:
    // it waits in Node's queue, as one that comes while the bundle loads does.
    writeFileSync(preload, "process.on('SIGTERM', () => {});\nprocess.kill(process.pid, 'SIGTERM');\n");
    const etc = scriptTree({});
    trees.push(etc);
    const init = startInit({
      env: { STEWARD_ETC: etc, STEWARD_RUN: tempDir(), NODE_OPTIONS: `--require ${preload}` },
      args: ['sh', '-c', 'echo "handed_over=${STEWARD_HELD_SIGNALS-none}"; exec sleep 60'],
    });
    runs.push(init);
    await init.exited;
    const output = init.output();
    assert.match(output, /stopping the container: received SIGTERM/, output);
    assert.doesNotMatch(output, /the command exited/, output);
    // What the first start handed over is not left in the environment of what Steward runs.
    assert.doesNotMatch(output, /handed_over=(?!none)/, output);
  });

  it('an early SIGUSR1 that opened Node\'s debugger in the first start (NODE_OPTIONS set) still stops the container, from the second', async () => {
    const dir = tempDir();
    const preload = join(dir, 'debugger-opened.js');
    // What Node's own handler does with a SIGUSR1 that comes before any of Steward's code.
    writeFileSync(preload, "require('node:inspector').open(0, '127.0.0.1');\n");
    const etc = scriptTree({});
    trees.push(etc);
    const init = startInit({ env: { STEWARD_ETC: etc, STEWARD_RUN: tempDir(), NODE_OPTIONS: `--require ${preload}` }, args: ['sleep', '60'] });
    runs.push(init);
    await init.exited;
    assert.match(init.output(), /stopping the container: received SIGUSR1/, init.output());
  });

  it("the application's --inspect in NODE_OPTIONS (a compose dev set-up's) is no early SIGUSR1: the container runs, and the CMD gets it", async () => {
    const { code, output } = await container(
      { 'services.d/web/run': '#!/bin/sh\nexec sleep 1000\n' },
      `s6-svwait -u -t 10000 /run/service/web; echo "svwait=$?"
echo "cmd_options=$(with-contenv sh -c 'echo $NODE_OPTIONS')"
exit 3`,
      { env: { NODE_OPTIONS: '--max-old-space-size=200 --inspect=127.0.0.1:0' } },
    );
    assert.equal(code, 3, output);
    expect(output, 'svwait', '0');
    expect(output, 'cmd_options', '--max-old-space-size=200 --inspect=127.0.0.1:0');
    assert.doesNotMatch(output, /SIGUSR1/);
  });

  it("PID 1 keeps the container's variables whose names no shell takes (spring.profiles.active), NODE_OPTIONS set or not", async () => {
    for (const nodeOptions of [undefined, '--no-warnings']) {
      const etc = scriptTree({});
      trees.push(etc);
      const runDir = tempDir();
      const init = startInit({
        env: { STEWARD_ETC: etc, STEWARD_RUN: runDir, 'spring.profiles.active': 'prod', ...(nodeOptions === undefined ? {} : { NODE_OPTIONS: nodeOptions }) },
        args: ['cat', `${runDir}/s6/container_environment/spring.profiles.active`],
      });
      runs.push(init);
      const { code } = await init.exited;
      assert.equal(code, 0, init.output());
      assert.match(init.output(), /^prod$/m, init.output());
    }
  });
});
