// End to end: the classic nginx + php-fpm container (examples/nginx-php-fpm), run
// without Docker by the example's run-local.sh, with the built bin/steward-init as
// PID 1 of a new PID namespace. Needs root, nginx and php-fpm; skipped otherwise.
//
// 1. phpinfo() is served over loopback: nginx -> Unix socket -> php-fpm.
// 2. php-fpm's master is SIGKILLed; a new master takes over and the page works again.
// 3. SIGTERM to PID 1 stops nginx and php-fpm with SIGTERM, runs cont-finish.d and
//    exits 0.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const exampleDir = join(repoRoot, 'examples', 'nginx-php-fpm');
const runLocal = join(exampleDir, 'run-local.sh');

/** Every wait in this file is bounded by this (ms); nothing sleeps a fixed time. */
const DEADLINE_MS = 30_000;
const POLL_MS = 100;

function skipReason() {
  if (process.platform !== 'linux') return 'needs Linux namespaces';
  if (process.getuid?.() !== 0) return 'needs root: the example runs in new PID and mount namespaces';
  if (!existsSync('/usr/sbin/nginx')) return 'nginx is not installed (apt-get install nginx)';
  if (!readdirSync('/usr/sbin').some((name) => /^php-fpm[0-9.]*$/.test(name))) {
    return 'php-fpm is not installed (apt-get install php-fpm)';
  }
  const probe = spawnSync('unshare', ['--pid', '--fork', '--mount', 'true'], { stdio: 'ignore', timeout: 10_000 });
  if (probe.error !== undefined || probe.status !== 0) {
    return `cannot create PID and mount namespaces here (unshare: ${probe.error?.message ?? `exit ${probe.status}`})`;
  }
  return null;
}

/** Thrown from a waitFor check to stop waiting at once. */
class Fatal extends Error {}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** `promise`, or a rejection after `ms`; the timer never outlives the race. */
function withTimeout(promise, ms, message) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Polls `check` until it returns something other than undefined/false, or throws after the deadline. */
async function waitFor(what, check, timeoutMs = DEADLINE_MS) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      if (error instanceof Fatal) throw error;
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${last.message})` : ''}`);
    }
    await sleep(POLL_MS);
  }
}

function freeLoopbackPort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** One GET on a fresh connection: { status, body }. */
function httpGet(url) {
  return new Promise((resolve, reject) => {
    const request = get(url, { agent: false, timeout: 5_000 }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode, body }));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error('request timed out')));
    request.on('error', reject);
  });
}

async function servesPhpInfo(url) {
  const { status, body } = await httpGet(url);
  if (status !== 200) throw new Error(`HTTP ${status}`);
  if (!body.includes('PHP Version')) throw new Error('HTTP 200 without "PHP Version" in the page');
  return true;
}

function readProc(path) {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

function pidNamespace(pid) {
  try {
    return readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return null;
  }
}

/** Processes of one PID namespace, seen from ours: [{ pid, ppid, start, cmdline }]. */
function processesIn(namespace) {
  const found = [];
  for (const name of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(name) || pidNamespace(name) !== namespace) continue;
    const cmdline = readProc(`/proc/${name}/cmdline`);
    const stat = readProc(`/proc/${name}/stat`);
    if (cmdline === null || stat === null) continue; // exited meanwhile
    const fields = statFields(stat);
    found.push({
      pid: Number(name),
      ppid: Number(fields[1]),
      start: fields[19],
      cmdline: cmdline.replace(/\0+$/, '').split('\0').join(' '),
    });
  }
  return found;
}

/** The fields of /proc/<pid>/stat after the command name ([0] is the state, [1] the ppid, [19] the start time). */
function statFields(stat) {
  // The command name may contain spaces and parentheses: the fields start after the last ')'.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** Whether this very process (same pid and start time) still exists. */
function stillRuns({ pid, start }) {
  const stat = readProc(`/proc/${pid}/stat`);
  return stat !== null && statFields(stat)[19] === start;
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('nginx + php-fpm example under steward-init as PID 1', { timeout: 180_000 }, async (t) => {
  const reason = skipReason();
  if (reason !== null) {
    t.skip(reason);
    return;
  }
  assert.ok(
    existsSync(join(repoRoot, 'dist', 'steward-init.cjs')),
    'dist/steward-init.cjs is missing: run `npm run build` first',
  );

  const port = await freeLoopbackPort();
  const url = `http://127.0.0.1:${port}/index.php`;
  // The container's stdout and stderr: one file opened for appending, as a pipe
  // would not be (Node's 'pipe' stdio is a socket, and nginx cannot open
  // /dev/stdout on a socket for its access log; Docker gives a pipe or a terminal).
  const logDir = mkdtempSync(join(tmpdir(), 'steward-nginx-php-fpm-'));
  const logPath = join(logDir, 'output.log');
  const logFd = openSync(logPath, 'a');
  const output = () => readFileSync(logPath, 'utf8');

  // run-local.sh execs unshare, so `child` is the unshare process, and its only
  // child is PID 1 of the new namespace. setpriv --pdeathsig: should this process
  // die without cleaning up, unshare gets SIGKILL, and its --kill-child then kills
  // PID 1 and so the whole namespace.
  const [command, args] = existsSync('/usr/bin/setpriv')
    ? ['/usr/bin/setpriv', ['--pdeathsig', 'KILL', '/bin/sh', runLocal]]
    : ['/bin/sh', [runLocal]];
  const child = spawn(command, args, {
    env: {
      PATH: `${dirname(process.execPath)}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
      NGINX_LISTEN: `127.0.0.1:${port}`,
    },
    stdio: ['ignore', logFd, logFd],
  });
  closeSync(logFd);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let exit = null;
  void exited.then((status) => (exit = status));

  let pid1 = null;
  let failed = false;
  t.after(async () => {
    // Killing PID 1 kills every process of its namespace; unshare then exits
    // (and its --kill-child would kill PID 1 if unshare died first).
    if (pid1 !== null && isAlive(pid1) && exit === null) process.kill(pid1, 'SIGKILL');
    if (exit === null && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await withTimeout(exited, 10_000, 'unshare did not exit after SIGKILL').catch(() => undefined);
    if (failed) {
      t.diagnostic('output of run-local.sh and steward-init:');
      for (const line of output().trimEnd().split('\n')) t.diagnostic(`  ${line}`);
    }
    rmSync(logDir, { recursive: true, force: true });
  });

  const notExited = () => {
    if (exit !== null) throw new Fatal(`run-local.sh exited early (${JSON.stringify(exit)})`);
  };

  // Each step runs only if the ones before it passed.
  const step = (name, fn) =>
    t.test(name, { skip: failed ? 'an earlier step failed' : false }, async () => {
      try {
        await fn();
      } catch (error) {
        failed = true;
        throw error;
      }
    });

  // PID 1 is steward-init once run-local.sh has set up the root and exec'd it.
  failed = true; // until it is found
  pid1 = await waitFor('steward-init to run as PID 1 of the namespace', () => {
    notExited();
    const children = readProc(`/proc/${child.pid}/task/${child.pid}/children`);
    const pid = Number(children?.trim().split(/\s+/)[0]);
    if (!(pid > 0)) return undefined;
    // Its command line until it has started, then its own name (which leaves out the CMD).
    const started = readProc(`/proc/${pid}/comm`)?.trim() === 'steward';
    return started || readProc(`/proc/${pid}/cmdline`)?.includes('steward-init') ? pid : undefined;
  });
  const namespace = pidNamespace(pid1);
  assert.ok(namespace !== null, 'the pid namespace of PID 1');
  assert.notEqual(namespace, pidNamespace(process.pid), 'steward-init runs in its own pid namespace');
  failed = false;

  await step('serves phpinfo() through nginx and php-fpm', async () => {
    await waitFor(`${url} to serve phpinfo()`, () => {
      notExited();
      return servesPhpInfo(url);
    });
    assert.match(output(), /10-prepare: nginx will listen on 127\.0\.0\.1:\d+/);
  });

  await step('php-fpm master killed with SIGKILL: a new one takes over', async () => {
    const masters = () => processesIn(namespace).filter((p) => p.cmdline.startsWith('php-fpm: master process'));
    const [before, ...others] = masters();
    assert.ok(before !== undefined, 'a php-fpm master runs in the namespace');
    assert.equal(others.length, 0, 'only one php-fpm master');

    process.kill(before.pid, 'SIGKILL');

    const after = await waitFor('a new php-fpm master', () => {
      notExited();
      const [master, ...rest] = masters();
      return master !== undefined && master.pid !== before.pid && rest.length === 0 ? master : undefined;
    });
    await waitFor(`${url} to serve phpinfo() again`, () => {
      notExited();
      return servesPhpInfo(url);
    });
    // The finish script saw the SIGKILL and cleared the old master's orphaned workers,
    // so every pool worker left belongs to the new master.
    assert.match(output(), /php-fpm finish: killed by signal 9/);
    await waitFor('only the new master\'s pool workers', () => {
      const workers = processesIn(namespace).filter((p) => p.cmdline.startsWith('php-fpm: pool'));
      return workers.length > 0 && workers.every((w) => w.ppid === after.pid);
    });
    assert.doesNotMatch(output(), /Another FPM instance seems to already listen/);
  });

  await step('SIGTERM to PID 1 stops nginx and php-fpm and exits 0', async () => {
    notExited();
    const mark = output().length;
    const running = processesIn(namespace);
    assert.ok(running.some((p) => p.cmdline.startsWith('nginx: master process')), 'nginx runs');
    assert.ok(running.some((p) => p.cmdline.startsWith('php-fpm: master process')), 'php-fpm runs');
    process.kill(pid1, 'SIGTERM');
    const status = await withTimeout(exited, DEADLINE_MS, `no exit within ${DEADLINE_MS} ms of SIGTERM`);
    assert.deepEqual(status, { code: 0, signal: null }, 'exit status of the namespace');

    const shutdown = output().slice(mark);
    // Each daemon says it got SIGTERM, and its finish script saw a clean exit.
    assert.match(shutdown, /signal 15 \(SIGTERM\) received/, 'nginx got SIGTERM');
    assert.match(shutdown, /NOTICE: Terminating \.\.\./, 'php-fpm got SIGTERM');
    assert.match(shutdown, /nginx finish: exited with code 0/);
    assert.match(shutdown, /php-fpm finish: exited with code 0/);
    assert.match(shutdown, /10-goodbye: nginx and php-fpm are down/, 'cont-finish.d ran');
    const left = running.filter(stillRuns);
    assert.deepEqual(left, [], 'no process of the namespace is left');
  });
});
