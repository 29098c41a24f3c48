import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import type { StatusRecord } from '../../src/control/status.js';
import { destroy, isRoot, lastValue, repoRoot, scriptTree, startInit, type InitRun } from '../helpers/pid1.js';

const skip = !isRoot && 'needs root for a PID namespace';
const runs: InitRun[] = [];
after(() => runs.forEach(destroy));

const stewardBin = join(repoRoot, 'bin', 'steward');
const NOBODY = 65534;

interface Cli {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs bin/steward against the init whose runtime directory is `runDir`. */
function steward(runDir: string, args: readonly string[], options: { uid?: number; gid?: number; env?: NodeJS.ProcessEnv } = {}): Promise<Cli> {
  const { env, ...ids } = options;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [stewardBin, ...args],
      { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', STEWARD_RUN: runDir, ...env }, timeout: 30_000, ...ids },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

interface Container {
  readonly run: InitRun;
  readonly etc: string;
  readonly runDir: string;
  cli(...args: string[]): Promise<Cli>;
  status(name: string): Promise<StatusRecord>;
  /** Polls `steward status --json` until `predicate` holds (bounded). */
  statusUntil(name: string, predicate: (record: StatusRecord) => boolean, what: string): Promise<StatusRecord>;
}

const SERVICES = {
  // Traps HUP and USR1 so a test can see them arrive.
  'services.d/web/run': `#!/bin/sh
trap 'echo HUP >> "$MARK/web.signals"' HUP
trap 'echo USR1 >> "$MARK/web.signals"' USR1
while :; do sleep 0.05; done
`,
  // Ready once it has told the notification fd.
  'services.d/db/notification-fd': '3\n',
  'services.d/db/run': '#!/bin/sh\necho >&3\nexec sleep 1000\n',
  // Killed by SIGKILL, again and again.
  'services.d/crasher/run': '#!/bin/sh\nkill -KILL $$\n',
  // Normally down; ready only once the test creates $MARK/gated-go.
  'services.d/gated/down': '',
  'services.d/gated/notification-fd': '3\n',
  'services.d/gated/run': '#!/bin/sh\nwhile [ ! -e "$MARK/gated-go" ]; do sleep 0.05; done\necho >&3\nexec sleep 1000\n',
  // Normally down; runs once and exits.
  'services.d/job/down': '',
  'services.d/job/run': '#!/bin/sh\necho ran >> "$MARK/job.runs"\nexit 0\n',
  // Has a logger.
  'services.d/talker/run': '#!/bin/sh\nexec sleep 1000\n',
  'services.d/talker/log/run': '#!/bin/sh\nexec cat > /dev/null\n',
};

async function boot(
  env: NodeJS.ProcessEnv = {},
  files: Record<string, string> = SERVICES,
  started = /service web: info: started/,
  prepare: (etc: string) => void = () => undefined,
): Promise<Container> {
  const etc = scriptTree(files);
  prepare(etc);
  const runDir = join(etc, 'run');
  const run = startInit({ env: { STEWARD_ETC: etc, STEWARD_RUN: runDir, S6_KEEP_ENV: '1', MARK: etc, STEWARD_RESTART_THROTTLE: '200', ...env } });
  runs.push(run);
  await run.waitForOutput(started);
  const cli = (...args: string[]): Promise<Cli> => steward(runDir, args);
  const status = async (name: string): Promise<StatusRecord> => {
    const result = await cli('status', '--json', name);
    assert.equal(result.code, 0, result.stderr);
    const { services } = JSON.parse(result.stdout) as { services: StatusRecord[] };
    assert.equal(services.length, 1);
    return services[0]!;
  };
  return {
    run,
    etc,
    runDir,
    cli,
    status,
    async statusUntil(name, predicate, what) {
      let record = await status(name);
      for (let attempt = 0; !predicate(record); attempt++) {
        if (attempt > 150) assert.fail(`${name} never ${what}; last status: ${JSON.stringify(record)}\n${run.output()}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
        record = await status(name);
      }
      return record;
    },
  };
}

async function stop(container: Container): Promise<void> {
  container.run.kill('SIGTERM');
  await container.run.exited;
}

/** Splits a table row on the two-space column gaps. */
function columns(line: string): string[] {
  return line.split(/ {2,}/);
}

describe('steward status', { skip }, () => {
  it('shows a services.d service whose run script cannot be executed, with why; start tries it again once fixed', async () => {
    const body = 'echo fixed > "$MARK/broken.ran"\nexec sleep 1000\n';
    const container = await boot({}, {
      'services.d/web/run': '#!/bin/sh\nexec sleep 1000\n',
      // No shebang line: s6-supervise would keep failing to spawn it, and so does Steward, visibly.
      'services.d/broken/run': `#!/bin/sh\n${body}`,
      'services.d/broken/finish': '#!/bin/sh\nexit 0\n',
    }, /service web: info: started/, (etc) => writeFileSync(join(etc, 'services.d/broken/run'), body));
    // Said once the services' first starts have gone out, in the boot.
    await container.run.waitForOutput(/the run script of service broken has no shebang line/);
    const record = await container.statusUntil('broken', (status) => status.spawnError !== null, 'failed to spawn');
    assert.deepEqual([record.state, record.pid, record.spawnError], ['backoff', null, 'ENOEXEC']);
    // The errno with what it means and the fix, and how to try again.
    assert.match(container.run.output(), /service broken: error: cannot execute \S+\/run: the run script has no shebang line, so the kernel cannot execute it \(ENOEXEC\)\. Make its first line #!\/bin\/sh.*; retrying in 10 seconds \(or at once on steward start broken\) \(it runs the copy in \S+: fix that one to bring it up before the next boot\)/);
    const { stdout } = await container.cli('status', 'broken');
    assert.match(stdout, /^broken +longrun +backoff +- +- +0 +cannot execute: ENOEXEC /m, stdout);
    assert.equal((await container.status('web')).state, 'up');
    writeFileSync(join(record.dir, 'run'), `#!/bin/sh\n${body}`);
    const started = await container.cli('start', 'broken');
    assert.equal(started.code, 0, started.stderr);
    assert.equal((await container.status('broken')).spawnError, null);
    await container.statusUntil('broken', () => existsSync(join(container.etc, 'broken.ran')), 'ran');
    await stop(container);
    assert.equal(readFileSync(join(container.etc, 'broken.ran'), 'utf8'), 'fixed\n');
  });

  it('a notification-fd beyond the limit of open files is a spawn error that says so, not a service waiting forever', async () => {
    const container = await boot({}, {
      'services.d/web/run': '#!/bin/sh\nexec sleep 1000\n',
      'services.d/far/run': '#!/bin/sh\nexec sleep 1000\n',
      'services.d/far/notification-fd': '4000000\n',
    });
    const record = await container.statusUntil('far', (status) => status.spawnError !== null, 'failed to spawn');
    assert.deepEqual([record.state, record.pid, record.spawnError], ['backoff', null, 'EBADF']);
    await container.run.waitForOutput(/service far: error: cannot execute \S+: its notification-fd 4000000 is beyond the limit of open files/);
    await stop(container);
  });

  it('shows every service in a table: name, kind, state, pid, uptime, restarts, last exit, ready, waiting for', async () => {
    const container = await boot();
    await container.statusUntil('crasher', (record) => record.restarts >= 2, 'restarted twice');
    await container.statusUntil('db', (record) => record.ready, 'became ready');
    const { code, stdout } = await container.cli('status');
    assert.equal(code, 0);
    const lines = stdout.trimEnd().split('\n');
    assert.deepEqual(columns(lines[0]!), ['NAME', 'KIND', 'STATE', 'PID', 'UPTIME', 'RESTARTS', 'LAST EXIT', 'READY', 'WAITING FOR']);
    const rows = new Map(lines.slice(1).map((line) => [columns(line)[0], columns(line)]));
    assert.deepEqual([...rows.keys()].sort(), ['crasher', 'db', 'gated', 'job', 'talker', 'talker/log', 'web']);
    const web = rows.get('web')!;
    assert.equal(web[1], 'longrun');
    assert.equal(web[2], 'up');
    assert.match(web[3]!, /^\d+$/);
    assert.match(web[4]!, /^\d+s$/);
    assert.deepEqual(web.slice(5), ['0', '-', 'yes', '-']);
    assert.deepEqual([rows.get('db')![2], rows.get('db')![7]], ['ready', 'yes']);
    assert.deepEqual([rows.get('gated')![2], rows.get('gated')![3], rows.get('gated')![4], rows.get('gated')![7]], ['down', '-', '-', 'no']);
    const crasher = rows.get('crasher')!;
    assert.ok(Number(crasher[5]) >= 2, crasher.join('|'));
    assert.equal(crasher[6], 'killed by SIGKILL');
    await stop(container);
  });

  it('--json gives the same records for scripts, and names limit the output', async () => {
    const container = await boot();
    const { code, stdout } = await container.cli('status', '--json', 'web', 'db');
    assert.equal(code, 0);
    const result = JSON.parse(stdout) as { uptimeMs: number; stopping: boolean; services: StatusRecord[] };
    assert.equal(result.stopping, false);
    assert.ok(result.uptimeMs >= 0);
    assert.deepEqual(
      result.services.map((service) => service.name),
      ['web', 'db'],
    );
    const web = result.services[0]!;
    assert.equal(web.state, 'up');
    assert.equal(web.kind, 'longrun');
    assert.equal(typeof web.pid, 'number');
    assert.equal(web.dir, join(container.runDir, 's6', 'legacy-services', 'web'));
    await stop(container);
  });

  it('an unknown name exits 3 and suggests the nearest known name', async () => {
    const container = await boot();
    for (const command of [['status', 'webb'], ['start', 'crashr'], ['signal', 'HUP', 'talkr']]) {
      const { code, stderr } = await container.cli(...command);
      assert.equal(code, 3, `${command.join(' ')}: ${stderr}`);
      assert.match(stderr, /unknown service: (webb|crashr|talkr)\. did you mean (web|crasher|talker)\?/);
    }
    await stop(container);
  });
});

describe('steward status and graph with dependencies', { skip }, () => {
  it('status shows what a service still waits for, and graph places it under its dependency', async () => {
    const container = await boot(
      {},
      {
        // s6-rc.d: app depends on db, which is ready only once the test creates $MARK/db-go.
        's6-overlay/s6-rc.d/db/type': 'longrun\n',
        's6-overlay/s6-rc.d/db/notification-fd': '3\n',
        's6-overlay/s6-rc.d/db/run': '#!/bin/sh\nwhile [ ! -e "$MARK/db-go" ]; do sleep 0.05; done\necho >&3\nexec sleep 1000\n',
        's6-overlay/s6-rc.d/app/type': 'longrun\n',
        's6-overlay/s6-rc.d/app/run': '#!/bin/sh\nexec sleep 1000\n',
        's6-overlay/s6-rc.d/app/dependencies.d/db': '',
        's6-overlay/s6-rc.d/user/type': 'bundle\n',
        's6-overlay/s6-rc.d/user/contents.d/db': '',
        's6-overlay/s6-rc.d/user/contents.d/app': '',
      },
      /service db: info: started/,
    );
    const waiting = await container.cli('status', 'app', 'db');
    assert.equal(waiting.code, 0, waiting.stderr);
    const rows = new Map(waiting.stdout.trimEnd().split('\n').slice(1).map((line) => [columns(line)[0], columns(line)]));
    assert.deepEqual([rows.get('app')?.[2], rows.get('app')?.[8]], ['down', 'db']);
    assert.deepEqual([rows.get('db')?.[2], rows.get('db')?.[8]], ['starting', '-']);
    const graph = await container.cli('graph');
    assert.match(graph.stdout, /^db +starting +- +\d+ ms +- +-$/m);
    assert.match(graph.stdout, /^ {2}└ app +down +db +- +- +-$/m);

    writeFileSync(join(container.etc, 'db-go'), '');
    const app = await container.statusUntil('app', (record) => record.state === 'up', 'started after db was ready');
    assert.deepEqual(app.waitingFor, []);
    await stop(container);
  });
});

describe('steward start, stop, restart, once, signal, wait', { skip }, () => {
  it('stop waits until the service is down, and it stays down until start', async () => {
    const container = await boot();
    const before = await container.status('web');
    const stopped = await container.cli('stop', 'web');
    assert.equal(stopped.code, 0, stopped.stderr);
    const down = await container.status('web');
    assert.deepEqual([down.state, down.pid, down.wantUp], ['down', null, false]);
    // Several restart throttles later it is still down.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const later = await container.status('web');
    assert.deepEqual([later.state, later.starts], ['down', before.starts]);
    const started = await container.cli('start', 'web');
    assert.equal(started.code, 0, started.stderr);
    const up = await container.status('web');
    assert.equal(up.state, 'up');
    assert.notEqual(up.pid, before.pid);
    assert.equal(up.starts, before.starts + 1);
    await stop(container);
  });

  it('restart runs a service again with a new pid, and starts one that was stopped', async () => {
    const container = await boot();
    const before = await container.status('web');
    assert.equal((await container.cli('restart', 'web')).code, 0);
    const after = await container.status('web');
    assert.equal(after.state, 'up');
    assert.notEqual(after.pid, before.pid);
    assert.equal(after.restarts, before.restarts + 1);
    assert.equal((await container.cli('stop', 'web')).code, 0);
    assert.equal((await container.cli('restart', 'web')).code, 0);
    assert.equal((await container.status('web')).state, 'up');
    await stop(container);
  });

  it('start waits for readiness: --timeout ends the wait with exit 4, --no-wait returns at once', async () => {
    const container = await boot();
    const timedOut = await container.cli('start', 'gated', '--timeout', '300');
    assert.equal(timedOut.code, 4, timedOut.stderr);
    assert.match(timedOut.stderr, /steward start: not ready after 300 ms: gated/);
    assert.equal((await container.status('gated')).state, 'starting');
    assert.equal((await container.cli('stop', 'gated')).code, 0);

    const noWait = await container.cli('start', '--no-wait', 'gated');
    assert.equal(noWait.code, 0, noWait.stderr);
    assert.equal((await container.status('gated')).state, 'starting');
    const waited = await container.cli('wait', '--ready', 'gated', '--timeout', '200');
    assert.equal(waited.code, 4);
    assert.match(waited.stderr, /steward wait: not ready after 200 ms: gated/);

    writeFileSync(join(container.etc, 'gated-go'), '');
    const ready = await container.cli('wait', '--ready', 'gated', '--timeout', '10000');
    assert.equal(ready.code, 0, ready.stderr);
    assert.equal((await container.status('gated')).state, 'ready');
    await stop(container);
  });

  it('wait --up, --down: exit 0 once reached; a usage error without exactly one condition', async () => {
    const container = await boot();
    assert.equal((await container.cli('wait', '--up', 'web', 'db')).code, 0);
    assert.equal((await container.cli('stop', '--no-wait', 'web')).code, 0);
    const down = await container.cli('wait', '--down', 'web', '--timeout', '10000');
    assert.equal(down.code, 0, down.stderr);
    assert.equal((await container.status('web')).pid, null);
    const neither = await container.cli('wait', 'web');
    assert.equal(neither.code, 2);
    assert.match(neither.stderr, /give exactly one of --up, --ready, --down/);
    const both = await container.cli('wait', '--up', '--down', 'web');
    assert.equal(both.code, 2);
    await stop(container);
  });

  it('once runs a service a single time: it is not restarted when it exits', async () => {
    const container = await boot();
    const once = await container.cli('once', 'job');
    assert.equal(once.code, 0, once.stderr);
    const done = await container.statusUntil('job', (record) => record.lastExit !== null && record.pid === null, 'exited');
    assert.equal(done.lastExit?.description, 'exited 0');
    // Several restart throttles later it has still run once.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const later = await container.status('job');
    assert.deepEqual([later.state, later.starts, later.wantUp], ['down', 1, false]);
    assert.equal(readFileSync(join(container.etc, 'job.runs'), 'utf8'), 'ran\n');
    await stop(container);
  });

  it('the status table shows a running service that will not be restarted as "up, want down"', async () => {
    const container = await boot();
    const once = await container.cli('once', 'web');
    assert.equal(once.code, 0, once.stderr);
    const table = await container.cli('status', 'web');
    assert.match(table.stdout, /^web +longrun +up, want down /m, table.stdout);
    await stop(container);
  });

  it('signal delivers a signal to the service, or to its process group with --group', async () => {
    const container = await boot();
    const signals = join(container.etc, 'web.signals');
    const hup = await container.cli('signal', 'HUP', 'web');
    assert.equal(hup.code, 0, hup.stderr);
    const usr1 = await container.cli('signal', '--group', 'SIGUSR1', 'web');
    assert.equal(usr1.code, 0, usr1.stderr);
    for (let attempt = 0; attempt < 100 && !(existsSync(signals) && readFileSync(signals, 'utf8') === 'HUP\nUSR1\n'); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(readFileSync(signals, 'utf8'), 'HUP\nUSR1\n');
    await stop(container);
  });

  it('signal: a bad signal is a usage error (2), a service that is not running an error (1)', async () => {
    const container = await boot();
    const bad = await container.cli('signal', 'NOPE', 'web');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /"NOPE" is not a signal\. Use a name such as HUP/);
    const notRunning = await container.cli('signal', 'HUP', 'gated');
    assert.equal(notRunning.code, 1);
    assert.match(notRunning.stderr, /not running: gated/);
    // With several names, one not running is said too, and fails the command.
    const mixed = await container.cli('signal', 'HUP', 'web', 'gated');
    assert.equal(mixed.code, 1);
    assert.match(mixed.stderr, /not running, so not signalled: gated/);
    await stop(container);
  });
});

describe('steward wait during boot', { skip }, () => {
  it('waits for a services.d service named before cont-init.d is done, rather than calling it unknown', async () => {
    const etc = scriptTree({
      'cont-init.d/10-hold': `#!/bin/sh\nwhile [ ! -e "${'$'}MARK/go" ]; do sleep 0.05; done\n`,
      'services.d/web/run': '#!/bin/sh\nexec sleep 1000\n',
    });
    const runDir = join(etc, 'run');
    const run = startInit({ env: { STEWARD_ETC: etc, STEWARD_RUN: runDir, S6_KEEP_ENV: '1', MARK: etc } });
    runs.push(run);
    await run.waitForOutput(/running .*10-hold/);
    const waiting = steward(runDir, ['wait', '--up', 'web', '--timeout', '20000']);
    await new Promise((resolve) => setTimeout(resolve, 300));
    writeFileSync(join(etc, 'go'), '');
    const result = await waiting;
    assert.equal(result.code, 0, result.stderr);
    // A name that never comes is still unknown once the boot is over.
    const unknown = await steward(runDir, ['wait', '--up', 'nosuch', '--timeout', '20000']);
    assert.equal(unknown.code, 3, unknown.stderr);
    run.kill('SIGTERM');
    await run.exited;
  });
});

describe('a wait from a cont-init.d script', { skip }, () => {
  it('for a services.d service ends at once, as the service starts after the script (s6-overlay has no directory for it yet): no boot waits for itself', async () => {
    const etc = scriptTree({
      'cont-init.d/10-waits': `#!/bin/sh\nsteward wait --up web --timeout 30000 2> /dev/null; echo "steward_wait=$?"\ns6-svwait -u -t 30000 /run/service/web 2> /dev/null; echo "svwait=$?"\n`,
      'services.d/web/run': '#!/bin/sh\nexec sleep 1000\n',
    });
    const run = startInit({ privateRun: true, env: { STEWARD_ETC: etc }, args: ['sh', '-c', 's6-svwait -u -t 10000 /run/service/web; echo "cmd_wait=$?"'] });
    runs.push(run);
    const { code } = await run.exited;
    assert.equal(code, 0, run.output());
    assert.equal(lastValue(run.output(), 'steward_wait'), '3', run.output());
    assert.equal(lastValue(run.output(), 'svwait'), '111', run.output());
    // Once services.d is read, a wait of Steward's own processes works as before.
    assert.equal(lastValue(run.output(), 'cmd_wait'), '0', run.output());
  });
});

describe('a wait from a docker exec', { skip }, () => {
  it('put in the background (an orphan the init adopts) still waits for a services.d service during the boot', async () => {
    const etc = scriptTree({
      'cont-init.d/10-hold': `#!/bin/sh\nwhile [ ! -e "${'$'}MARK/go" ]; do sleep 0.05; done\n`,
      'services.d/web/run': '#!/bin/sh\nexec sleep 1000\n',
    });
    const runDir = join(etc, 'run');
    const result = join(etc, 'result');
    const run = startInit({ env: { STEWARD_ETC: etc, STEWARD_RUN: runDir, S6_KEEP_ENV: '1', MARK: etc } });
    runs.push(run);
    await run.waitForOutput(/running .*10-hold/);
    // As docker exec enters: into the namespaces, from a parent outside them.
    const entered = spawnSync('nsenter', ['-t', String(run.initPid()), '-p', '-m', '--', 'sh', '-c', `(STEWARD_RUN='${runDir}' '${stewardBin}' wait --up web --timeout 20000 2> /dev/null; echo "rc=$?" > '${result}') & exit 0`], { stdio: 'ignore' });
    // Not waiting for the background's output: it holds none of the pipes.
    assert.equal(entered.status, 0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    writeFileSync(join(etc, 'go'), '');
    let text = '';
    for (let tries = 0; tries < 200 && !text.includes('rc='); tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      text = existsSync(result) ? readFileSync(result, 'utf8') : '';
    }
    assert.equal(text.trim(), 'rc=0', run.output());
    run.kill('SIGTERM');
    await run.exited;
  });
});

describe('steward graph', { skip }, () => {
  it('shows each service with its state, what it follows, and boot timings; --json for scripts', async () => {
    const container = await boot();
    // Services start side by side: web being up says nothing of talker yet.
    await container.run.waitForOutput(/service talker: info: started/);
    const { code, stdout } = await container.cli('graph');
    assert.equal(code, 0);
    const lines = stdout.trimEnd().split('\n');
    assert.deepEqual(columns(lines[0]!), ['SERVICE', 'STATE', 'AFTER', 'STARTED AT', 'UP AT', 'TOOK']);
    const rows = new Map(lines.slice(1).map((line) => [columns(line.trim())[0], columns(line.trim())]));
    assert.deepEqual(rows.get('talker')?.slice(1, 3), ['up', 'logs to talker/log']);
    assert.match(rows.get('web')?.[3] ?? '', /^\d+ ms$/);
    assert.deepEqual(rows.get('gated')?.slice(1), ['down', '-', '-', '-', '-']);
    const json = await container.cli('graph', '--json');
    const graph = JSON.parse(json.stdout) as { nodes: { name: string; state: string }[] };
    assert.deepEqual(graph.nodes.map((node) => node.name).sort(), ['crasher', 'db', 'gated', 'job', 'talker', 'talker/log', 'web']);
    await stop(container);
  });
});

describe('steward halt, poweroff, reboot', { skip }, () => {
  for (const [command, args, expected] of [
    ['halt', ['--exit-code', '7'], 7],
    ['reboot', ['--exit-code', '3'], 3],
    ['poweroff', [], 0],
  ] as const) {
    it(`${command} ${args.join(' ')} stops the container, which exits ${expected}`, async () => {
      const container = await boot();
      const result = await container.cli(command, ...args);
      assert.equal(result.code, 0, result.stderr);
      const { code } = await container.run.exited;
      assert.equal(code, expected, container.run.output());
      assert.match(container.run.output(), new RegExp(`${command} requested through the control socket`));
    });
  }

  it('steward halt ended by the SIGTERM of the stop it asked for exits 0 (docker exec in an idle container)', async () => {
    const socketDir = mkdtempSync(join(tmpdir(), 'steward-socket-'));
    const path = join(socketDir, 'control.sock');
    // A socket that takes the request and never answers: the stop is under way.
    let connection: () => void = () => undefined;
    const connected = new Promise<void>((resolve) => (connection = resolve));
    const server = createServer(() => connection());
    server.listen(path);
    try {
      const child = spawn(process.execPath, [stewardBin, 'halt'], { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', STEWARD_SOCKET: path }, stdio: 'ignore' });
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      await connected;
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    } finally {
      server.close();
      rmSync(socketDir, { recursive: true, force: true });
    }
  });

  it('refuses an exit code that is not 0 to 255 before asking anything', async () => {
    const result = await steward(mkdtempSync(join(tmpdir(), 'steward-run-')), ['halt', '--exit-code', '256']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--exit-code takes a number from 0 to 255/);
    // A bare number is not taken for the exit code (nor ignored): the container keeps running.
    const bare = await steward(mkdtempSync(join(tmpdir(), 'steward-run-')), ['halt', '3']);
    assert.equal(bare.code, 2);
    assert.match(bare.stderr, /steward halt: unexpected "3"\. The exit code is given as steward halt --exit-code N/);
  });
});

describe('control socket access', { skip }, () => {
  it('another user may read the status (as s6 lets anyone read supervise/status), and gets "permission denied" and exit 6 for control', async () => {
    const container = await boot();
    const status = await steward(container.runDir, ['status', 'web'], { uid: NOBODY, gid: NOBODY });
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /^web +longrun +up /m);
    const result = await steward(container.runDir, ['stop', 'web'], { uid: NOBODY, gid: NOBODY });
    assert.equal(result.code, 6, result.stderr);
    assert.match(result.stderr, /permission denied on the control socket/);
    assert.match(result.stderr, /STEWARD_CONTROL_GROUP/);
    assert.equal(result.stdout, '');
    const still = await steward(container.runDir, ['status', 'web'], { uid: NOBODY, gid: NOBODY });
    assert.match(still.stdout, /^web +longrun +up /m);
    await stop(container);
  });

  it('STEWARD_CONTROL_GROUP lets members of that group use it', async () => {
    const container = await boot({ STEWARD_CONTROL_GROUP: 'nogroup' });
    const result = await steward(container.runDir, ['status', 'web'], { uid: NOBODY, gid: NOBODY });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^web +longrun +up /m);
    await stop(container);
  });

  it('STEWARD_SOCKET puts the socket elsewhere, for the server and the CLI alike', async () => {
    const socketDir = mkdtempSync(join(tmpdir(), 'steward-socket-'));
    const socket = join(socketDir, 'ctl', 'steward.sock');
    try {
      const container = await boot({ STEWARD_SOCKET: socket });
      assert.ok(!existsSync(join(container.runDir, 'steward', 'control.sock')), 'the socket is also at the default place');
      const moved = await steward(container.runDir, ['status', 'web'], { env: { STEWARD_SOCKET: socket } });
      assert.equal(moved.code, 0, moved.stderr);
      assert.match(moved.stdout, /^web +longrun +up /m);
      const usual = await container.cli('status');
      assert.equal(usual.code, 5);
      await stop(container);
    } finally {
      rmSync(socketDir, { recursive: true, force: true });
    }
  });

  it('services get STEWARD_SOCKET too, without S6_KEEP_ENV, so the commands in their scripts find the socket', async () => {
    const socketDir = mkdtempSync(join(tmpdir(), 'steward-socket-'));
    const socket = join(socketDir, 'ctl', 'steward.sock');
    const out = join(socketDir, 'asker.out');
    try {
      const container = await boot({ STEWARD_SOCKET: socket, S6_KEEP_ENV: '0' }, {
        'services.d/web/run': '#!/bin/sh\nexec sleep 1000\n',
        'services.d/asker/run': `#!/bin/sh\n"${repoRoot}/bin/steward" status --json web > "${out}.tmp" 2>&1; echo "exit=$?" >> "${out}.tmp"; mv "${out}.tmp" "${out}"\nexec sleep 1000\n`,
      });
      for (let attempt = 0; !existsSync(out); attempt++) {
        if (attempt > 150) assert.fail(`the service never asked:\n${container.run.output()}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.match(readFileSync(out, 'utf8'), /"name": "web"[\s\S]*exit=0/);
      await stop(container);
    } finally {
      rmSync(socketDir, { recursive: true, force: true });
    }
  });

  it('an unknown STEWARD_CONTROL_GROUP is reported, and the socket stays private', async () => {
    const container = await boot({ STEWARD_CONTROL_GROUP: 'no-such-group-here' });
    assert.match(container.run.output(), /STEWARD_CONTROL_GROUP=no-such-group-here is not a group here; the control socket stays private/);
    const result = await steward(container.runDir, ['restart', 'web'], { uid: NOBODY, gid: NOBODY });
    assert.equal(result.code, 6, result.stderr);
    await stop(container);
  });
});

describe('without a running Steward', () => {
  it('exits 5 and says Steward is not running here', async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'steward-run-'));
    try {
      const result = await steward(runDir, ['status']);
      assert.equal(result.code, 5);
      assert.match(result.stderr, /Steward is not running here: no control socket at .*steward\/control\.sock/);
    } finally {
      rmSync(runDir, { recursive: true, force: true });
    }
  });

  it("s6-rc exits 111, as skarnet's does without a live state", () => {
    const runDir = mkdtempSync(join(tmpdir(), 'steward-run-'));
    try {
      const tool = (...args: string[]): SpawnSyncReturns<string> =>
        spawnSync(process.execPath, [join(repoRoot, 'bin', 's6-tool'), ...args], { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', STEWARD_RUN: runDir }, encoding: 'utf8', timeout: 30_000 });
      const rc = tool('s6-rc', '-a', 'list');
      assert.equal(rc.status, 111, rc.stderr);
      assert.match(rc.stderr, /s6-rc: fatal: Steward is not running here/);
    } finally {
      rmSync(runDir, { recursive: true, force: true });
    }
  });

  it('an unknown command exits 2 and suggests the nearest one', async () => {
    const result = await steward('/nonexistent', ['stauts']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /unknown command "stauts"; did you mean status\? Run steward --help for the list/);
    const far = await steward('/nonexistent', ['bogus']);
    assert.equal(far.code, 2);
    assert.match(far.stderr, /^steward: unknown command "bogus"\. Run steward --help for the list$/m);
  });

  it('--help keeps the summaries in one column: a long usage has its summary on the next line', async () => {
    const result = await steward('/nonexistent', ['--help']);
    assert.equal(result.code, 0);
    const lines = result.stdout.split('\n');
    const start = lines.findIndex((line) => line.startsWith('  start NAME...'));
    assert.equal(lines[start], '  start NAME... [--no-wait] [--timeout MS]');
    assert.match(lines[start + 1] ?? '', /^ {37}start services and keep them up$/);
    assert.match(result.stdout, /^ {2}status \[NAME\.\.\.\] \[--json\] +show every service/m);
  });
});
