import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';

import { dispatch } from '../../src/control/dispatch.js';
import { parseHttpAddress } from '../../src/control/http.js';
import { notReady } from '../../src/control/readiness.js';
import type { ControlErrorBody, RcTransition, Response } from '../../src/control/protocol.js';
import { statusRecord, type StatusRecord } from '../../src/control/status.js';
import { statusTable } from '../../src/cli/format.js';
import type { RcOperations } from '../../src/control/target.js';
import { settle } from '../helpers/fake-port.js';
import { fakeTarget, type FakeServiceSpec, type FakeTarget } from '../helpers/fake-target.js';

let current: FakeTarget | undefined;
afterEach(() => current?.cleanup());

function setup(specs: readonly FakeServiceSpec[]): FakeTarget {
  current = fakeTarget(specs);
  return current;
}

function result<T>(response: Response): T {
  assert.ok(response.ok, `expected success, got ${JSON.stringify(response)}`);
  return response.result as T;
}

function error(response: Response): ControlErrorBody {
  assert.ok(!response.ok, `expected an error, got ${JSON.stringify(response)}`);
  return response.error;
}

/** Starts dispatching and reports whether the response has arrived yet. */
function pending(message: unknown, fake: FakeTarget, abortSignal?: AbortSignal): { response: Promise<Response>; done(): boolean } {
  let settled = false;
  const response = dispatch(message, fake.context(abortSignal)).finally(() => {
    settled = true;
  });
  return { response, done: () => settled };
}

async function statusOf(fake: FakeTarget, name: string): Promise<StatusRecord> {
  const { services } = result<{ services: StatusRecord[] }>(await dispatch({ cmd: 'status', names: [name] }, fake.context()));
  assert.equal(services.length, 1);
  return services[0]!;
}

describe('dispatch: envelope', () => {
  it('answers ping with the protocol version', async () => {
    const fake = setup([]);
    assert.deepEqual(await dispatch({ v: 1, cmd: 'ping' }, fake.context()), { ok: true, result: { pong: true, protocol: 1 } });
    // With a scan directory, ping names it, for s6-svscanctl to check its argument against.
    Object.assign(fake.target, { scanDir: '/run/service' });
    assert.deepEqual(await dispatch({ cmd: 'ping' }, fake.context()), { ok: true, result: { pong: true, protocol: 1, scanDir: '/run/service' } });
  });

  it('turns an invalid message into ERR_BAD_REQUEST instead of throwing', async () => {
    const fake = setup([]);
    assert.equal(error(await dispatch('status', fake.context())).code, 'ERR_BAD_REQUEST');
    assert.equal(error(await dispatch({ cmd: 'control', names: ['web'], actions: [] }, fake.context())).code, 'ERR_BAD_REQUEST');
  });

  it('turns a failing handler into ERR_INTERNAL naming the command, and does not throw', async () => {
    const fake = setup([{ name: 'web' }]);
    const broken = { ...fake.target, dependenciesOf: (): readonly string[] => assert.fail('the dependency graph is broken') };
    const response = await dispatch({ cmd: 'status' }, { target: broken, now: () => 0, abortSignal: new AbortController().signal });
    const body = error(response);
    assert.equal(body.code, 'ERR_INTERNAL');
    assert.match(body.message, /the status request failed: the dependency graph is broken/);
  });
});

describe('dispatch: status', () => {
  it('lists every service when none is named, with the uptime of Steward', async () => {
    const fake = setup([{ name: 'web' }, { name: 'db' }]);
    fake.clock.advance(4_000);
    const status = result<{ uptimeMs: number; stopping: boolean; services: StatusRecord[] }>(await dispatch({ cmd: 'status' }, fake.context()));
    assert.equal(status.uptimeMs, 4_000);
    assert.equal(status.stopping, false);
    assert.deepEqual(
      status.services.map((service) => service.name),
      ['web', 'db'],
    );
  });

  it('describes a running service: pid, uptime, restarts, readiness, last exit', async () => {
    const fake = setup([{ name: 'web' }]);
    const web = fake.supervisor('web');
    web.up();
    const firstPid = fake.pid('web');
    fake.clock.advance(1_500);
    // More than the 1 s throttle after the first start: restarted at once.
    fake.port.exit(firstPid, { signal: 'SIGKILL' });
    fake.clock.advance(2_500);
    const record = await statusOf(fake, 'web');
    assert.equal(record.state, 'up');
    assert.equal(record.kind, 'longrun');
    assert.notEqual(record.pid, firstPid);
    assert.equal(record.pid, fake.pid('web'));
    assert.equal(record.uptimeMs, 2_500);
    assert.equal(record.starts, 2);
    assert.equal(record.restarts, 1);
    assert.equal(record.ready, true);
    assert.equal(record.hasReadiness, false);
    assert.equal(record.wantUp, true);
    assert.equal(record.normallyUp, true);
    assert.deepEqual(record.lastExit, { code: null, signal: 'SIGKILL', description: 'killed by SIGKILL', at: fake.target.startedAt + 1_500 });
    assert.equal(record.dir, web.definition.liveDir);
  });

  it('describes a service that is down: no pid, no uptime, exit code of the last run', async () => {
    const fake = setup([{ name: 'job' }]);
    fake.supervisor('job').once();
    fake.port.exit(fake.pid('job'), { code: 3 });
    const record = await statusOf(fake, 'job');
    assert.equal(record.state, 'down');
    assert.equal(record.pid, null);
    assert.equal(record.uptimeMs, null);
    assert.equal(record.wantUp, false);
    assert.equal(record.lastExit?.description, 'exited 3');
  });

  it('shows a service with readiness as not ready until it notifies, and what it still waits for', async () => {
    const fake = setup([{ name: 'db', notificationFd: 3 }, { name: 'app', dependencies: ['db'] }, { name: 'cron', down: true }]);
    fake.supervisor('db').up();
    let app = await statusOf(fake, 'app');
    assert.deepEqual(app.waitingFor, ['db']);
    let db = await statusOf(fake, 'db');
    assert.equal(db.state, 'starting');
    assert.equal(db.ready, false);
    assert.equal(db.hasReadiness, true);
    assert.equal(db.readySince, null);
    fake.clock.advance(700);
    fake.port.ready(fake.pid('db'));
    db = await statusOf(fake, 'db');
    assert.equal(db.state, 'ready');
    assert.equal(db.readySince, fake.target.startedAt + 700);
    app = await statusOf(fake, 'app');
    assert.deepEqual(app.waitingFor, []);
    assert.equal((await statusOf(fake, 'cron')).normallyUp, false);
  });

  it('finds a service by its live directory or its /run/service link', async () => {
    const fake = setup([{ name: 'web' }, { name: 'db' }]);
    const byDir = result<{ services: StatusRecord[] }>(await dispatch({ cmd: 'status', dirs: [join(fake.root, 'service', 'db')] }, fake.context()));
    assert.deepEqual(
      byDir.services.map((service) => service.name),
      ['db'],
    );
    // A directory that does not exist (yet) where service directories are is matched by its last
    // component, as /run/service/NAME before the boot links it.
    Object.assign(fake.target, { scanDir: join(fake.root, 'service') });
    rmSync(join(fake.root, 'service', 'web'), { force: true });
    const byName = result<{ services: StatusRecord[] }>(await dispatch({ cmd: 'status', dirs: [join(fake.root, 'service', 'web')] }, fake.context()));
    assert.deepEqual(
      byName.services.map((service) => service.name),
      ['web'],
    );
  });

  it('takes a directory that merely has a service\'s name elsewhere (/var/log/nginx, /etc/services.d/nginx) for none', async () => {
    const fake = setup([{ name: 'nginx' }]);
    Object.assign(fake.target, { scanDir: join(fake.root, 'service') });
    const before = await statusOf(fake, 'nginx');
    const elsewhere = join(fake.root, 'var', 'log', 'nginx');
    mkdirSync(elsewhere, { recursive: true });
    for (const dir of [elsewhere, '/nowhere/service/nginx', join(fake.root, 'etc', 'services.d', 'nginx')]) {
      const body = error(await dispatch({ cmd: 'control', dirs: [dir], actions: ['down'] }, fake.context()));
      assert.equal(body.code, 'ERR_UNKNOWN_SERVICE', dir);
    }
    assert.deepEqual(await statusOf(fake, 'nginx'), before, 'nginx was left as it was');
  });

  it('lists a service named twice (by name and by directory) once', async () => {
    const fake = setup([{ name: 'web' }]);
    const status = result<{ services: StatusRecord[] }>(await dispatch({ cmd: 'status', names: ['web'], dirs: [join(fake.root, 'live', 'web')] }, fake.context()));
    assert.equal(status.services.length, 1);
  });

  it('answers an unknown name with ERR_UNKNOWN_SERVICE, the names, and the nearest known one', async () => {
    const fake = setup([{ name: 'nginx' }, { name: 'php-fpm' }]);
    const body = error(await dispatch({ cmd: 'status', names: ['ngnix', 'nginx'] }, fake.context()));
    assert.equal(body.code, 'ERR_UNKNOWN_SERVICE');
    assert.equal(body.message, 'unknown service: ngnix');
    assert.deepEqual(body.names, ['ngnix']);
    assert.equal(body.hint, 'did you mean nginx? (known services: nginx, php-fpm)');
    // A name with a line break or a blank is quoted: the message stays one line.
    const odd = error(await dispatch({ cmd: 'status', names: ['web\nx', 'my web'] }, fake.context()));
    assert.equal(odd.message, 'unknown services: "web\\nx", "my web"');
  });

  it('says during the boot that services.d is not read yet, and how to wait for one of its services', async () => {
    const fake = setup([]);
    Object.assign(fake.target, { booted: () => false });
    const body = error(await dispatch({ cmd: 'status', names: ['web'] }, fake.context()));
    assert.equal(body.code, 'ERR_UNKNOWN_SERVICE');
    assert.match(body.hint ?? '', /there are no services; the boot is not over, and services\.d is read once cont-init\.d is done: a steward wait NAME from outside \(docker exec\) waits for one of its services, one from a cont-init\.d script cannot/);
  });

  it('lists the known services, without a guess, when no name is close', async () => {
    const fake = setup([{ name: 'nginx' }]);
    const body = error(await dispatch({ cmd: 'status', dirs: ['/run/service/postgres'] }, fake.context()));
    assert.equal(body.hint, 'known services: nginx');
  });
});

describe('dispatch: control', () => {
  it('up waits for readiness, then answers with the status', async () => {
    const fake = setup([{ name: 'db', notificationFd: 3 }]);
    const call = pending({ cmd: 'control', names: ['db'], actions: ['up'], wait: 'ready' }, fake);
    await settle();
    assert.equal(call.done(), false, 'answered before the service was ready');
    assert.equal(fake.supervisor('db').state, 'starting');
    fake.port.ready(fake.pid('db'));
    const { services } = result<{ services: StatusRecord[] }>(await call.response);
    assert.equal(services[0]?.state, 'ready');
  });

  it("a start's wait ends when a stop from elsewhere takes the service down meanwhile, saying so, rather than at its timeout", async () => {
    const fake = setup([{ name: 'db', notificationFd: 3 }]);
    const call = pending({ cmd: 'control', names: ['db'], actions: ['up'], wait: 'ready', timeoutMs: 5000 }, fake);
    await settle();
    assert.equal(call.done(), false);
    fake.supervisor('db').down();
    fake.port.exit(fake.pid('db'), { signal: 'SIGTERM' });
    const failed = error(await call.response);
    assert.equal(failed.code, 'ERR_PERMANENT_FAILURE');
    assert.match(failed.message, /will not come up: db \(stopped meanwhile\)/);
  });

  it('without a wait, answers at once', async () => {
    const fake = setup([{ name: 'db', notificationFd: 3 }]);
    const { services } = result<{ services: StatusRecord[] }>(await dispatch({ cmd: 'control', names: ['db'], actions: ['up'] }, fake.context()));
    assert.equal(services[0]?.state, 'starting');
  });

  it('down sends the down signal and SIGCONT, waits until the finish script is done, and the service stays down', async () => {
    const fake = setup([{ name: 'web', finish: true }]);
    fake.supervisor('web').up();
    const pid = fake.pid('web');
    const call = pending({ cmd: 'control', names: ['web'], actions: ['down'], wait: 'finished' }, fake);
    await settle();
    assert.deepEqual(fake.port.signalsTo(pid), ['SIGTERM', 'SIGCONT']);
    fake.port.exit(pid, { signal: 'SIGTERM' });
    await settle();
    assert.equal(call.done(), false, 'answered while the finish script ran');
    fake.port.exit(fake.port.last.pid, { code: 0 });
    const { services } = result<{ services: StatusRecord[] }>(await call.response);
    assert.equal(services[0]?.state, 'down');
    fake.clock.advance(60_000);
    assert.equal(fake.port.spawnsOf(fake.supervisor('web').definition.runPath).length, 1, 'a stopped service was started again');
  });

  it('restart stops a running service and waits until it runs again', async () => {
    const fake = setup([{ name: 'web' }]);
    fake.supervisor('web').up();
    const pid = fake.pid('web');
    fake.clock.advance(5_000);
    const call = pending({ cmd: 'control', names: ['web'], actions: ['restart'], wait: 'restarted' }, fake);
    await settle();
    fake.port.exit(pid, { signal: 'SIGTERM' });
    const { services } = result<{ services: StatusRecord[] }>(await call.response);
    assert.notEqual(services[0]?.pid, pid);
    assert.equal(services[0]?.restarts, 1);
  });

  it('restart leaves a stopped service alone; restart-or-start starts it', async () => {
    const fake = setup([{ name: 'web' }]);
    const { services } = result<{ services: StatusRecord[] }>(await dispatch({ cmd: 'control', names: ['web'], actions: ['restart'] }, fake.context()));
    assert.equal(services[0]?.state, 'down');
    const started = result<{ services: StatusRecord[] }>(await dispatch({ cmd: 'control', names: ['web'], actions: ['restart-or-start'], wait: 'restarted' }, fake.context()));
    assert.equal(started.services[0]?.state, 'up');
  });

  it('during the boot, refuses to stop a service the boot has yet to start, but stops one that runs', async () => {
    const fake = setup([{ name: 'web' }, { name: 'later' }, { name: 'cron', down: true }]);
    Object.assign(fake.target, { booted: () => false });
    fake.supervisor('web').up();
    const refused = error(await dispatch({ cmd: 'control', names: ['later'], actions: ['down'] }, fake.context()));
    assert.equal(refused.code, 'ERR_BOOTING');
    assert.match(refused.message, /would start later again: not stopped/);
    // Running (a service taking itself down, s6-svc -d .), or never to be started by the boot: fine.
    result(await dispatch({ cmd: 'control', names: ['web', 'cron'], actions: ['down'] }, fake.context()));
    assert.equal(fake.supervisor('web').status.wantUp, false);
    Object.assign(fake.target, { booted: () => true });
    result(await dispatch({ cmd: 'control', names: ['later'], actions: ['down'] }, fake.context()));
  });

  it('ends a wait at once when the run script cannot be executed, saying so; a down file that cannot be written is no bug', async () => {
    const fake = setup([{ name: 'web' }]);
    fake.port.failNextSpawn('ENOENT');
    const failed = error(await dispatch({ cmd: 'control', names: ['web'], actions: ['up'], wait: 'up', timeoutMs: 0 }, fake.context()));
    assert.equal(failed.code, 'ERR_PERMANENT_FAILURE');
    assert.match(failed.message, /will not come up: web \(its run script cannot be executed: ENOENT\)/);
    rmSync(fake.supervisor('web').definition.liveDir, { recursive: true, force: true });
    const downFile = error(await dispatch({ cmd: 'control', names: ['web'], actions: ['down-file'] }, fake.context()));
    assert.equal(downFile.code, 'ERR_NOT_RUNNING');
    assert.match(downFile.message, /down-file for web: .*ENOENT/);
  });

  it('once runs a service without restarting it when it exits', async () => {
    const fake = setup([{ name: 'job' }]);
    result(await dispatch({ cmd: 'control', names: ['job'], actions: ['once'], wait: 'up' }, fake.context()));
    fake.port.exit(fake.pid('job'), { code: 0 });
    fake.clock.advance(10_000);
    assert.equal(fake.port.processes.length, 1);
    assert.equal(fake.supervisor('job').state, 'down');
  });

  it('a wait for "up" counts a job that came up and exited before the answer was made', async () => {
    const fake = setup([{ name: 'job' }]);
    const call = pending({ cmd: 'control', names: ['job'], actions: ['once'], wait: 'up' }, fake);
    // The exit arrives in the same turn as the start, before the wait's promise settles.
    fake.port.exit(fake.pid('job'), { code: 0 });
    const { services } = result<{ services: StatusRecord[] }>(await call.response);
    assert.equal(services[0]?.state, 'down');
    assert.equal(services[0]?.starts, 1);
  });

  it('no-restart leaves the process running but does not restart it', async () => {
    const fake = setup([{ name: 'web' }]);
    fake.supervisor('web').up();
    const pid = fake.pid('web');
    result(await dispatch({ cmd: 'control', names: ['web'], actions: ['no-restart'] }, fake.context()));
    assert.deepEqual(fake.port.signalsTo(pid), []);
    assert.equal(fake.supervisor('web').status.wantUp, false);
    fake.port.exit(pid, { code: 1 });
    fake.clock.advance(10_000);
    assert.equal(fake.port.processes.length, 1);
  });

  it('applies actions in order: down-file then down stops it and marks it normally down; no-down-file undoes the mark', async () => {
    const fake = setup([{ name: 'web' }]);
    fake.supervisor('web').up();
    const downFile = join(fake.supervisor('web').definition.liveDir, 'down');
    const call = pending({ cmd: 'control', names: ['web'], actions: ['down-file', 'down'], wait: 'down' }, fake);
    await settle();
    assert.ok(existsSync(downFile));
    fake.port.exit(fake.port.last.pid, { signal: 'SIGTERM' });
    const { services } = result<{ services: StatusRecord[] }>(await call.response);
    assert.equal(services[0]?.normallyUp, false);
    result(await dispatch({ cmd: 'control', names: ['web'], actions: ['no-down-file'] }, fake.context()));
    assert.ok(!existsSync(downFile));
  });

  it('delivers signal actions to the run process, in order with the other actions', async () => {
    const fake = setup([{ name: 'web' }]);
    fake.supervisor('web').up();
    const pid = fake.pid('web');
    result(await dispatch({ cmd: 'control', names: ['web'], actions: ['signal:HUP', 'signal:USR1', 'down'] }, fake.context()));
    assert.deepEqual(fake.port.signalsTo(pid), ['SIGHUP', 'SIGUSR1', 'SIGTERM', 'SIGCONT']);
  });

  it('refuses a signal action that names no signal, before doing anything', async () => {
    const fake = setup([{ name: 'web' }]);
    const body = error(await dispatch({ cmd: 'control', names: ['web'], actions: ['up', 'signal:NOPE'] }, fake.context()));
    assert.equal(body.code, 'ERR_BAD_SIGNAL');
    assert.match(body.message, /"signal:NOPE" does not name a signal/);
    assert.equal(fake.supervisor('web').state, 'down', 'the up before the bad signal was applied');
  });

  it('ends a wait that runs out with ERR_TIMEOUT and the services that did not get there', async () => {
    const fake = setup([{ name: 'db', notificationFd: 3 }, { name: 'web' }]);
    const body = error(await dispatch({ cmd: 'control', names: ['web', 'db'], actions: ['up'], wait: 'ready', timeoutMs: 30 }, fake.context()));
    assert.equal(body.code, 'ERR_TIMEOUT');
    assert.equal(body.message, 'not ready after 30 ms: db');
    assert.deepEqual(body.names, ['db']);
  });

  it('ends a wait for readiness with ERR_PERMANENT_FAILURE when the finish script exits 125', async () => {
    const fake = setup([{ name: 'db', notificationFd: 3, finish: true }]);
    const call = pending({ cmd: 'control', names: ['db'], actions: ['up'], wait: 'ready' }, fake);
    await settle();
    fake.port.exit(fake.pid('db'), { code: 1 });
    fake.port.exit(fake.port.last.pid, { code: 125 });
    const body = error(await call.response);
    assert.equal(body.code, 'ERR_PERMANENT_FAILURE');
    assert.deepEqual(body.names, ['db']);
  });

  it('ends a wait when the client goes away', async () => {
    const fake = setup([{ name: 'db', notificationFd: 3 }]);
    const clientGone = new AbortController();
    const call = pending({ cmd: 'control', names: ['db'], actions: ['up'], wait: 'ready' }, fake, clientGone.signal);
    await settle();
    assert.equal(call.done(), false);
    clientGone.abort();
    await call.response;
    assert.equal(call.done(), true);
  });

  it('refuses to start anything while the container stops, but still stops services', async () => {
    const fake = setup([{ name: 'web' }]);
    fake.supervisor('web').up();
    fake.setStopping(true);
    for (const action of ['up', 'once', 'restart', 'restart-or-start']) {
      assert.equal(error(await dispatch({ cmd: 'control', names: ['web'], actions: [action] }, fake.context())).code, 'ERR_SHUTTING_DOWN', action);
    }
    result(await dispatch({ cmd: 'control', names: ['web'], actions: ['down'] }, fake.context()));
    assert.equal(fake.supervisor('web').state, 'stopping');
  });

  it('refuses unknown services before acting on the known ones', async () => {
    const fake = setup([{ name: 'web' }]);
    assert.equal(error(await dispatch({ cmd: 'control', names: ['web', 'wbe2'], actions: ['up'] }, fake.context())).code, 'ERR_UNKNOWN_SERVICE');
    assert.equal(fake.supervisor('web').state, 'down');
  });
});

describe('dispatch: signal', () => {
  it('sends a signal given by name or number to running services, and lists those that are not running', async () => {
    const fake = setup([{ name: 'web' }, { name: 'idle' }]);
    fake.supervisor('web').up();
    const sent = result<{ signal: string; sent: string[]; notRunning: string[] }>(await dispatch({ cmd: 'signal', names: ['web', 'idle'], signal: 'hup' }, fake.context()));
    assert.deepEqual(sent, { signal: 'SIGHUP', sent: ['web'], notRunning: ['idle'] });
    result(await dispatch({ cmd: 'signal', names: ['web'], signal: '10' }, fake.context()));
    assert.deepEqual(fake.port.signalsTo(fake.pid('web')), ['SIGHUP', 'SIGUSR1']);
  });

  it('answers ERR_NOT_RUNNING when no named service runs', async () => {
    const fake = setup([{ name: 'idle' }]);
    const body = error(await dispatch({ cmd: 'signal', names: ['idle'], signal: 'TERM' }, fake.context()));
    assert.equal(body.code, 'ERR_NOT_RUNNING');
    assert.deepEqual(body.names, ['idle']);
  });

  it('answers ERR_BAD_SIGNAL with a hint for something that is not a signal', async () => {
    const fake = setup([{ name: 'web' }]);
    fake.supervisor('web').up();
    for (const signal of ['HUPP', '0', '999', '']) {
      const body = error(await dispatch({ cmd: 'signal', names: ['web'], signal }, fake.context()));
      assert.equal(body.code, 'ERR_BAD_SIGNAL', signal);
      assert.match(body.hint ?? '', /HUP, TERM, USR1/);
    }
    assert.deepEqual(fake.port.signalsTo(fake.pid('web')), []);
  });
});

describe('dispatch: wait', () => {
  it('answers at once when the condition already holds', async () => {
    const fake = setup([{ name: 'web' }, { name: 'idle' }]);
    fake.supervisor('web').up();
    assert.deepEqual(result(await dispatch({ cmd: 'wait', names: ['web'], condition: 'up' }, fake.context())), { reached: ['web'], failed: [], pending: [] });
    assert.deepEqual(result(await dispatch({ cmd: 'wait', names: ['idle'], condition: 'down' }, fake.context())), { reached: ['idle'], failed: [], pending: [] });
  });

  it('waits for every service, or for one of them with any', async () => {
    const fake = setup([{ name: 'a', notificationFd: 3 }, { name: 'b', notificationFd: 3 }]);
    fake.supervisor('a').up();
    fake.supervisor('b').up();
    const all = pending({ cmd: 'wait', names: ['a', 'b'], condition: 'ready' }, fake);
    const any = pending({ cmd: 'wait', names: ['a', 'b'], condition: 'ready', any: true }, fake);
    await settle();
    fake.port.ready(fake.pid('b'));
    assert.deepEqual(result(await any.response), { reached: ['b'], failed: [], pending: ['a'] });
    await settle();
    assert.equal(all.done(), false);
    fake.port.ready(fake.pid('a'));
    assert.deepEqual(result(await all.response), { reached: ['a', 'b'], failed: [], pending: [] });
  });

  it('waits for a restart that happens after the request, not one before it', async () => {
    const fake = setup([{ name: 'web' }]);
    fake.supervisor('web').up();
    const call = pending({ cmd: 'wait', names: ['web'], condition: 'restarted' }, fake);
    await settle();
    assert.equal(call.done(), false, 'a service that is merely up counted as restarted');
    fake.port.exit(fake.pid('web'), { code: 1 });
    fake.clock.advance(1_000);
    assert.deepEqual(result(await call.response), { reached: ['web'], failed: [], pending: [] });
  });

  it('times out with ERR_TIMEOUT naming the services still pending', async () => {
    const fake = setup([{ name: 'web' }, { name: 'idle' }]);
    fake.supervisor('web').up();
    const body = error(await dispatch({ cmd: 'wait', names: ['web', 'idle'], condition: 'up', timeoutMs: 20 }, fake.context()));
    assert.equal(body.code, 'ERR_TIMEOUT');
    assert.equal(body.message, 'not up after 20 ms: idle');
    assert.deepEqual(body.names, ['idle']);
  });

  it('reports a service that failed for good as ERR_PERMANENT_FAILURE, not as a timeout', async () => {
    const fake = setup([{ name: 'db', finish: true }]);
    fake.supervisor('db').up();
    fake.port.exit(fake.pid('db'), { code: 1 });
    fake.port.exit(fake.port.last.pid, { code: 125 });
    assert.equal(fake.supervisor('db').state, 'failed');
    const body = error(await dispatch({ cmd: 'wait', names: ['db'], condition: 'up', timeoutMs: 5_000 }, fake.context()));
    assert.equal(body.code, 'ERR_PERMANENT_FAILURE');
    assert.deepEqual(body.names, ['db']);
    // Down is a state a failed service is in: that wait succeeds.
    result(await dispatch({ cmd: 'wait', names: ['db'], condition: 'down' }, fake.context()));
  });

  it('with any, a service that fails for good ends the wait as a permanent failure (as s6-svwait -o), not a timeout', async () => {
    const fake = setup([{ name: 'db', notificationFd: 3, finish: true }, { name: 'cache', notificationFd: 3 }]);
    fake.supervisor('db').up();
    fake.supervisor('cache').up();
    const call = pending({ cmd: 'wait', names: ['db', 'cache'], condition: 'ready', any: true, timeoutMs: 60_000 }, fake);
    await settle();
    fake.port.exit(fake.pid('db'), { code: 1 });
    fake.port.exit(fake.port.last.pid, { code: 125 });
    const body = error(await call.response);
    assert.equal(body.code, 'ERR_PERMANENT_FAILURE');
    assert.deepEqual(body.names, ['db']);
  });
});

describe('dispatch: rc', () => {
  /** A service graph that answers as told and records what it was asked. */
  function withGraph(fake: FakeTarget, outcome: { failed: string[]; timedOut: boolean; transitions?: RcTransition[] }): { calls: string[] } {
    const calls: string[] = [];
    const rc: RcOperations = {
      unknown: (names) => names.filter((name) => !['user', 'web', 'db'].includes(name)),
      change(direction, names, timeoutMs) {
        calls.push(`change ${direction} ${names.join(',')} ${timeoutMs}`);
        return Promise.resolve({ transitions: [], ...outcome });
      },
      list: (names, active) => (active ? ['web'] : names.length === 0 ? ['db', 'web'] : ['web']),
      listAll: (names, direction) => (direction === 'up' ? [...names, 'db'] : [...names, 'app']),
    };
    Object.assign(fake.target, { rc });
    return { calls };
  }

  it('says the graph is not loaded when there is none yet', async () => {
    const fake = setup([]);
    const body = error(await dispatch({ cmd: 'rc', op: 'list' }, fake.context()));
    assert.equal(body.code, 'ERR_NOT_RUNNING');
  });

  it('lists services, active ones, and the closure in either direction', async () => {
    const fake = setup([{ name: 'web' }]);
    withGraph(fake, { failed: [], timedOut: false });
    assert.deepEqual(result(await dispatch({ cmd: 'rc', op: 'list' }, fake.context())), { names: ['db', 'web'] });
    assert.deepEqual(result(await dispatch({ cmd: 'rc', op: 'list', active: true }, fake.context())), { names: ['web'] });
    assert.deepEqual(result(await dispatch({ cmd: 'rc', op: 'listall', names: ['web'] }, fake.context())), { names: ['web', 'db'] });
    assert.deepEqual(result(await dispatch({ cmd: 'rc', op: 'listall', direction: 'down', names: ['web'] }, fake.context())), { names: ['web', 'app'] });
  });

  it('changes states, and tells a timeout from a failure, with the transitions made either way', async () => {
    const fake = setup([{ name: 'web' }]);
    const stopped: RcTransition[] = [
      { name: 'web', event: 'stopping' },
      { name: 'web', event: 'stopped' },
    ];
    const { calls } = withGraph(fake, { failed: [], timedOut: false, transitions: stopped });
    assert.deepEqual(result(await dispatch({ cmd: 'rc', op: 'change', direction: 'down', names: ['user'], timeoutMs: 10 }, fake.context())), { changed: ['user'], transitions: stopped });
    assert.deepEqual(calls, ['change down user 10']);
    withGraph(fake, { failed: ['db'], timedOut: true });
    assert.equal(error(await dispatch({ cmd: 'rc', op: 'change', names: ['db'], timeoutMs: 10 }, fake.context())).code, 'ERR_TIMEOUT');
    const unable: RcTransition[] = [
      { name: 'db', event: 'starting' },
      { name: 'db', event: 'failed', reason: 'command exited 1' },
    ];
    withGraph(fake, { failed: ['db'], timedOut: false, transitions: unable });
    const failed = error(await dispatch({ cmd: 'rc', op: 'change', names: ['db'] }, fake.context()));
    assert.equal(failed.code, 'ERR_PERMANENT_FAILURE');
    assert.deepEqual(failed.names, ['db']);
    assert.deepEqual(failed.transitions, unable);
  });

  it("passes s6-rc's -a, -p and -d list on, answers a dry run with the plan without changing anything, and refuses -p -u during the boot", async () => {
    const fake = setup([{ name: 'web' }]);
    const calls: string[] = [];
    const step = { name: 'web', kind: 'longrun' as const, direction: 'up' as const, wave: 0, dir: '/run/service/web', readiness: false, timeoutMs: 0 };
    const rc: RcOperations = {
      unknown: () => [],
      change(direction, names, _timeoutMs, _abortSignal, options) {
        calls.push(`change ${direction} [${names.join(',')}] active=${String(options?.active)} prune=${String(options?.prune)}`);
        return Promise.resolve({ failed: [], timedOut: false, transitions: [] });
      },
      plan(direction, names, options) {
        calls.push(`plan ${direction} [${names.join(',')}] active=${String(options.active)} prune=${String(options.prune)}`);
        return [step];
      },
      list: (names, active, direction) => [`list active=${String(active)} ${direction ?? 'none'}`],
      listAll: (names, direction, active) => [`listall active=${String(active)} ${direction}`],
    };
    Object.assign(fake.target, { rc });
    assert.deepEqual(result(await dispatch({ cmd: 'rc', op: 'list', direction: 'down', active: true }, fake.context())), { names: ['list active=true down'] });
    assert.deepEqual(result(await dispatch({ cmd: 'rc', op: 'listall', direction: 'up', active: true }, fake.context())), { names: ['listall active=true up'] });
    assert.deepEqual(result(await dispatch({ cmd: 'rc', op: 'change', direction: 'down', active: true }, fake.context())), { changed: [], transitions: [] });
    assert.deepEqual(result(await dispatch({ cmd: 'rc', op: 'change', direction: 'up', names: ['web'], prune: true, dryRun: true }, fake.context())), { changed: [], plan: [step] });
    assert.deepEqual(calls, ['change down [] active=true prune=false', 'plan up [web] active=false prune=true']);
    // Pruning brings services down too: not while the boot brings them up.
    Object.assign(fake.target, { booted: () => false });
    assert.equal(error(await dispatch({ cmd: 'rc', op: 'change', direction: 'up', names: ['web'], prune: true }, fake.context())).code, 'ERR_BOOTING');
  });

  it('suggests a oneshot of the graph for a name close to it, and says a oneshot is no longrun where only longruns do', async () => {
    const fake = setup([{ name: 'web' }]);
    withGraph(fake, { failed: [], timedOut: false });
    const typo = error(await dispatch({ cmd: 'signal', names: ['dbb'], signal: 'HUP' }, fake.context()));
    assert.equal(typo.code, 'ERR_UNKNOWN_SERVICE');
    assert.match(typo.hint ?? '', /did you mean db\?/);
    const oneshot = error(await dispatch({ cmd: 'signal', names: ['db'], signal: 'HUP' }, fake.context()));
    assert.equal(oneshot.code, 'ERR_BAD_REQUEST');
    assert.match(oneshot.message, /db is an s6-rc oneshot or bundle, not a longrun/);
  });

  it('says a services.d service is not known to s6-rc by name, rather than suggesting itself', async () => {
    const fake = setup([{ name: 'legacy-a' }]);
    withGraph(fake, { failed: [], timedOut: false });
    const body = error(await dispatch({ cmd: 'rc', op: 'change', direction: 'up', names: ['legacy-a'] }, fake.context()));
    assert.equal(body.code, 'ERR_UNKNOWN_SERVICE');
    assert.match(body.message, /legacy-a is a services.d service, which s6-rc does not know by name/);
  });

  it('refuses s6-rc -d change during the boot, as the lock the boot holds would', async () => {
    const fake = setup([{ name: 'web' }]);
    const { calls } = withGraph(fake, { failed: [], timedOut: false });
    Object.assign(fake.target, { booted: () => false });
    assert.equal(error(await dispatch({ cmd: 'rc', op: 'change', direction: 'down', names: ['user'] }, fake.context())).code, 'ERR_BOOTING');
    assert.equal(error(await dispatch({ cmd: 'control', names: ['user'], actions: ['down'], wait: 'finished' }, fake.context())).code, 'ERR_BOOTING');
    result(await dispatch({ cmd: 'rc', op: 'change', direction: 'up', names: ['user'] }, fake.context()));
    assert.deepEqual(calls, ['change up user 0']);
  });

  it('refuses unknown names and, while stopping, bringing anything up', async () => {
    const fake = setup([{ name: 'web' }]);
    const { calls } = withGraph(fake, { failed: [], timedOut: false });
    assert.equal(error(await dispatch({ cmd: 'rc', op: 'change', names: ['wbe'] }, fake.context())).code, 'ERR_UNKNOWN_SERVICE');
    fake.setStopping(true);
    assert.equal(error(await dispatch({ cmd: 'rc', op: 'change', names: ['web'] }, fake.context())).code, 'ERR_SHUTTING_DOWN');
    result(await dispatch({ cmd: 'rc', op: 'change', direction: 'down', names: ['web'] }, fake.context()));
    assert.deepEqual(calls, ['change down web 0']);
  });
  it('control on an s6-rc oneshot or bundle is a transition through the graph: start, stop, restart', async () => {
    const fake = setup([{ name: 'web' }]);
    const { calls } = withGraph(fake, { failed: [], timedOut: false });
    assert.deepEqual(result(await dispatch({ cmd: 'control', names: ['user'], actions: ['up'], wait: 'ready', timeoutMs: 50 }, fake.context())), { changed: ['user'] });
    assert.deepEqual(result(await dispatch({ cmd: 'control', names: ['user'], actions: ['restart-or-start'], wait: 'restarted' }, fake.context())), { changed: ['user'] });
    assert.deepEqual(result(await dispatch({ cmd: 'control', names: ['user'], actions: ['down'], wait: 'finished' }, fake.context())), { changed: ['user'] });
    // The restart brings back what was up before (web), which went down with user.
    assert.deepEqual(calls, ['change up user 50', 'change down user 0', 'change up user,web 0', 'change down user 0']);
    // A longrun named beside a graph name is refused, not half done.
    const mixed = error(await dispatch({ cmd: 'control', names: ['web', 'user'], actions: ['up'] }, fake.context()));
    assert.equal(mixed.code, 'ERR_BAD_REQUEST');
    assert.match(mixed.message, /separate calls: user is in the graph/);
    // Signals and the down file are the longruns'.
    const signal = error(await dispatch({ cmd: 'control', names: ['user'], actions: ['signal:HUP'] }, fake.context()));
    assert.match(signal.message, /user is an s6-rc oneshot or bundle: only start, stop, restart and once apply, not signal:HUP/);
    assert.equal(calls.length, 4);
  });

  it('a failed or timed out transition of a oneshot answers as s6-rc change does', async () => {
    const fake = setup([]);
    withGraph(fake, { failed: ['db'], timedOut: false });
    const failed = error(await dispatch({ cmd: 'control', names: ['db'], actions: ['up'], wait: 'up' }, fake.context()));
    assert.equal(failed.code, 'ERR_PERMANENT_FAILURE');
    assert.deepEqual(failed.names, ['db']);
    withGraph(fake, { failed: ['db'], timedOut: true });
    assert.equal(error(await dispatch({ cmd: 'control', names: ['db'], actions: ['up'], wait: 'up', timeoutMs: 5 }, fake.context())).code, 'ERR_TIMEOUT');
  });
});

describe('dispatch: graph and halt', () => {
  it('graph lists each service with its dependencies, logger and first-start timings', async () => {
    const fake = setup([{ name: 'db', notificationFd: 3 }, { name: 'app', dependencies: ['db'], logger: 'app/log' }, { name: 'cron', down: true }]);
    fake.clock.advance(200);
    fake.supervisor('db').up();
    fake.clock.advance(300);
    fake.port.ready(fake.pid('db'));
    fake.supervisor('app').up();
    const graph = result<{ startedAt: number; nodes: Record<string, unknown>[] }>(await dispatch({ cmd: 'graph' }, fake.context()));
    assert.equal(graph.startedAt, fake.target.startedAt);
    assert.deepEqual(graph.nodes, [
      { name: 'db', kind: 'longrun', state: 'ready', dependencies: [], logger: null, startedAt: fake.target.startedAt + 200, startedAfterMs: 200, upAfterMs: 500, tookMs: 300 },
      { name: 'app', kind: 'longrun', state: 'up', dependencies: ['db'], logger: 'app/log', startedAt: fake.target.startedAt + 500, startedAfterMs: 500, upAfterMs: 500, tookMs: 0 },
      { name: 'cron', kind: 'longrun', state: 'down', dependencies: [], logger: null, startedAt: null, startedAfterMs: null, upAfterMs: null, tookMs: null },
    ]);
  });

  it('halt asks the target to stop the container with the exit code, once', async () => {
    const fake = setup([]);
    assert.deepEqual(result(await dispatch({ cmd: 'halt', action: 'poweroff', exitCode: 3 }, fake.context())), { action: 'poweroff', exitCode: 3 });
    // Asked again while the stop is under way: done, as halt and s6-svscanctl -t take it (a finish script's halt must not fail).
    assert.deepEqual(result(await dispatch({ cmd: 'halt' }, fake.context())), { action: 'halt', exitCode: null, alreadyStopping: true });
    assert.deepEqual(fake.halts, [{ action: 'poweroff', exitCode: 3 }]);
    // While stopping, an exit code still counts (the target writes it): that is no failure.
    assert.deepEqual(result(await dispatch({ cmd: 'halt', exitCode: 9 }, fake.context())), { action: 'halt', exitCode: 9, alreadyStopping: true });
  });
});

describe('STEWARD_HTTP addresses', () => {
  it('reads PORT, :PORT, HOST:PORT and [IPv6]:PORT, a bare port on 127.0.0.1', () => {
    assert.deepEqual(parseHttpAddress('8080'), { host: '127.0.0.1', port: 8080 });
    assert.deepEqual(parseHttpAddress('18081'), { host: '127.0.0.1', port: 18081 });
    // Every address, both families where the host has IPv6 (Go's and Prometheus's :PORT).
    assert.deepEqual(parseHttpAddress(':9090'), { host: '::', port: 9090, fallbackHost: '0.0.0.0' });
    assert.deepEqual(parseHttpAddress('0.0.0.0:8080'), { host: '0.0.0.0', port: 8080 });
    assert.deepEqual(parseHttpAddress('[::1]:8080'), { host: '::1', port: 8080 });
  });

  it('refuses what is not an address, naming the setting', () => {
    for (const bad of ['', 'http', '70000', 'host:', '1:2:3']) assert.throws(() => parseHttpAddress(bad), /STEWARD_HTTP="[^"]*" is not an address/, bad);
  });
});

describe('readiness reasons', () => {
  it('names a service whose run script cannot be executed, with the error, until it runs', async () => {
    const fake = setup([{ name: 'web' }, { name: 'broken' }]);
    fake.supervisor('web').up();
    fake.port.failNextSpawn('ENOEXEC');
    fake.supervisor('broken').up();
    await settle();
    assert.deepEqual(notReady(fake.target, fake.clock.now()), [{ name: 'broken', state: 'backoff', reason: 'its run script cannot be executed (ENOEXEC)' }]);
    fake.supervisor('broken').up();
    await settle();
    assert.deepEqual(notReady(fake.target, fake.clock.now()), []);
  });
});

describe('a service whose copy into the runtime directory failed', () => {
  it('is said as such by readiness, a wait and the status table, not as a run script that cannot be executed', async () => {
    const fake = setup([{ name: 'web' }]);
    fake.supervisor('web').setInstallStep(() => {
      throw Object.assign(new Error('cannot copy: ENOSPC'), { code: 'ENOSPC' });
    });
    const failed = error(await dispatch({ cmd: 'control', names: ['web'], actions: ['up'], wait: 'up', timeoutMs: 0 }, fake.context()));
    assert.match(failed.message, /will not come up: web \(its copy into the runtime directory failed: ENOSPC\)/);
    assert.deepEqual(notReady(fake.target, fake.clock.now()), [{ name: 'web', state: 'backoff', reason: 'its copy into the runtime directory failed (ENOSPC)' }]);
    const record = statusRecord(fake.target, fake.supervisor('web'), fake.clock.now());
    assert.equal(record.copyFailed, true);
    assert.match(statusTable([record]), /cannot copy: ENOSPC/);
  });
});

describe('dispatch: scan', () => {
  it('hands the scan to the container, and refuses it with no scan directory or while stopping', async () => {
    const fake = setup([{ name: 'web' }]);
    assert.equal(error(await dispatch({ cmd: 'scan' }, fake.context())).code, 'ERR_NOT_RUNNING');
    const asked: boolean[] = [];
    Object.assign(fake.target, {
      scan: (prune: boolean) => {
        asked.push(prune);
        return { added: ['dyn'], pruned: [], problems: [] };
      },
    });
    assert.deepEqual(result(await dispatch({ cmd: 'scan', prune: true }, fake.context())), { added: ['dyn'], pruned: [], problems: [] });
    fake.setStopping(true);
    assert.equal(error(await dispatch({ cmd: 'scan' }, fake.context())).code, 'ERR_SHUTTING_DOWN');
    assert.deepEqual(asked, [true]);
  });
});
