import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { LongrunDefinition } from '../../src/model/service.js';
import type { ServiceState } from '../../src/supervise/state.js';
import { assertTransition, isRunning } from '../../src/supervise/state.js';
import { PERMANENT_FAILURE_EXIT, type ScriptArguments, SPAWN_RETRY_MS, ServiceSupervisor, type SupervisorEvent } from '../../src/supervise/supervisor.js';
import { longrunDefinition } from '../helpers/definitions.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { FakeProcessPort, settle } from '../helpers/fake-port.js';

const LIVE = '/run/s6/legacy-services/web';
const RUN = `${LIVE}/run`;
const FINISH = `${LIVE}/finish`;

function definition(overrides: Partial<LongrunDefinition> = {}): LongrunDefinition {
  return longrunDefinition('web', { liveDir: LIVE, runPath: RUN, ...overrides });
}

function harness(overrides: Partial<LongrunDefinition> = {}, scriptArguments?: ScriptArguments) {
  const clock = new FakeClock();
  const port = new FakeProcessPort();
  const env = { PATH: '/command:/usr/bin:/bin' };
  const io = { stdin: 'ignore' as const, stdout: 'inherit' as const, stderr: 7, env, ...(scriptArguments === undefined ? {} : { scriptArguments }) };
  const supervisor = new ServiceSupervisor(definition(overrides), port, clock, io);
  const events: SupervisorEvent[] = [];
  supervisor.subscribe((event) => events.push(event));
  const states = (): string[] => events.flatMap((event) => (event.type === 'state' ? [`${event.from}->${event.to}`] : []));
  return { clock, port, supervisor, events, states, env };
}

describe('ServiceSupervisor: starting', () => {
  it('up() spawns ./run with the service name as its argument, in the live directory, in a new session', () => {
    const { port, supervisor, env } = harness();
    supervisor.up();
    assert.equal(port.processes.length, 1);
    const { spec } = port.last;
    // As s6-supervise runs it: $0 is ./run, and ps shows no path with the service's name in it.
    assert.equal(spec.file, './run');
    assert.deepEqual(spec.args, ['web']);
    assert.equal(spec.cwd, LIVE);
    assert.equal(spec.newSession, true);
    assert.equal(spec.env, env);
    assert.equal(spec.stdin, 'ignore');
    assert.equal(spec.stdout, 'inherit');
    assert.equal(spec.stderr, 7);
    assert.equal(spec.notificationFd, undefined);
    assert.equal(supervisor.state, 'up');
    assert.equal(supervisor.status.pid, port.last.pid);
    assert.equal(supervisor.status.starts, 1);
    assert.equal(supervisor.status.wantUp, true);
  });

  it('without a notification fd the service is up, and counts as ready, as soon as it is spawned', () => {
    const { clock, supervisor, events } = harness();
    clock.advance(70);
    supervisor.up();
    assert.equal(supervisor.state, 'up');
    assert.equal(supervisor.status.ready, true);
    assert.equal(supervisor.status.readySince, clock.now(), 'ready, but not since when');
    assert.deepEqual(
      events.map((event) => event.type),
      ['state', 'spawned'],
    );
  });

  it('with a notification fd the service is starting until it reports ready', () => {
    const { clock, port, supervisor } = harness({ notificationFd: 3 });
    supervisor.up();
    assert.equal(port.last.spec.notificationFd, 3);
    assert.equal(supervisor.state, 'starting');
    assert.equal(supervisor.status.ready, false);
    assert.equal(supervisor.status.readySince, null);
    clock.advance(250);
    port.ready(port.last.pid);
    assert.equal(supervisor.state, 'ready');
    assert.equal(supervisor.status.ready, true);
    assert.equal(supervisor.status.readySince, 250);
  });

  it('reports the ready time already in the event announcing the ready state', () => {
    const { clock, port, supervisor } = harness({ notificationFd: 3 });
    const seen: (number | null)[] = [];
    supervisor.subscribe((event, source) => {
      if (event.type === 'state' && event.to === 'ready') seen.push(source.status.readySince);
    });
    supervisor.up();
    clock.advance(40);
    port.ready(port.last.pid);
    assert.deepEqual(seen, [40]);
  });

  it('ignores a readiness report when the service is not starting', () => {
    const { port, supervisor } = harness({ notificationFd: 3 });
    supervisor.up();
    const pid = port.last.pid;
    port.ready(pid);
    port.ready(pid);
    assert.equal(supervisor.state, 'ready');
    supervisor.down();
    port.ready(pid);
    assert.equal(supervisor.state, 'stopping');
  });

  it('up() on a running service does not spawn a second process', () => {
    const { port, supervisor } = harness();
    supervisor.up();
    supervisor.up();
    assert.equal(port.processes.length, 1);
  });
});

describe('ServiceSupervisor: restarts', () => {
  it('restarts a crashed run, but not before the restart interval since the previous spawn', () => {
    const { clock, port, supervisor, events } = harness();
    supervisor.up();
    clock.advance(200);
    port.exit(port.last.pid, { code: 1 });
    assert.equal(supervisor.state, 'backoff');
    assert.ok(events.some((event) => event.type === 'throttled' && event.delayMs === 800));
    clock.advance(799); // 999 ms after the first spawn
    assert.equal(port.processes.length, 1);
    assert.equal(supervisor.state, 'backoff');
    clock.advance(1); // 1000 ms
    assert.equal(port.processes.length, 2);
    assert.equal(supervisor.state, 'up');
    assert.equal(supervisor.status.starts, 2);
  });

  it('restart() (s6-svc -r) signals the run but leaves whether it is wanted up alone: a run started with once() stays down after', () => {
    const { clock, port, supervisor } = harness();
    supervisor.once();
    clock.advance(5000);
    assert.equal(supervisor.restart(), true);
    assert.deepEqual(port.signalsTo(port.last.pid), ['SIGTERM', 'SIGCONT']);
    port.exit(port.last.pid, { signal: 'SIGTERM' });
    clock.advance(5000);
    assert.equal(port.processes.length, 1);
    assert.equal(supervisor.status.wantUp, false);
  });

  it('restart() of a run still alive after down() (it handles its down-signal) signals it again, as s6-svc -r, wanted up again or not', () => {
    const { clock, port, supervisor } = harness({ downSignal: 'SIGHUP' });
    supervisor.up();
    clock.advance(5000);
    const pid = port.last.pid;
    supervisor.down();
    assert.equal(supervisor.restart(), true);
    supervisor.up();
    assert.equal(supervisor.restart(), true);
    assert.deepEqual(port.signalsTo(pid).filter((signal) => signal === 'SIGHUP'), ['SIGHUP', 'SIGHUP', 'SIGHUP']);
    port.exit(pid, { code: 0 });
    clock.advance(5000);
    assert.equal(port.processes.length, 2, 'wanted up, it starts again');
  });

  it('SIGSTOP marks the run paused until SIGCONT, a down-signal (followed by SIGCONT) or a new run', () => {
    const { clock, port, supervisor } = harness();
    supervisor.up();
    assert.equal(supervisor.status.paused, false);
    assert.equal(supervisor.signal('SIGSTOP'), true);
    assert.equal(supervisor.status.paused, true);
    assert.equal(supervisor.signal('SIGCONT'), true);
    assert.equal(supervisor.status.paused, false);
    supervisor.signal('SIGSTOP');
    clock.advance(5000);
    assert.equal(supervisor.restart(), true);
    assert.equal(supervisor.status.paused, false);
    // s6-svc -r: the down-signal alone; a paused run stays paused, the signal pending.
    supervisor.signal('SIGSTOP');
    const paused = port.last.pid;
    const before = port.signalsTo(paused).length;
    assert.equal(supervisor.restart({ resume: false }), true);
    assert.deepEqual(port.signalsTo(paused).slice(before), ['SIGTERM']);
    assert.equal(supervisor.status.paused, true);
    port.exit(port.last.pid, { signal: 'SIGKILL' });
    assert.equal(supervisor.status.paused, false, 'a run that is gone is not paused');
    clock.advance(5000);
    assert.equal(port.processes.length, 2);
    assert.equal(supervisor.status.paused, false);
  });

  it('restarts at once a run that lived longer than the restart interval, passing through backoff', () => {
    const { clock, port, supervisor, events, states } = harness();
    supervisor.up();
    clock.advance(5000);
    port.exit(port.last.pid, { code: 0 });
    assert.equal(port.processes.length, 2);
    assert.equal(supervisor.state, 'up');
    assert.deepEqual(states(), ['down->up', 'up->backoff', 'backoff->up']);
    assert.ok(!events.some((event) => event.type === 'throttled'));
  });

  it('restarts at once when the restart interval is 0', () => {
    const { port, supervisor } = harness({ minRestartIntervalMs: 0 });
    supervisor.up();
    port.exit(port.last.pid, { code: 1 });
    port.exit(port.last.pid, { signal: 'SIGSEGV' });
    assert.equal(port.processes.length, 3);
    assert.equal(supervisor.state, 'up');
  });

  it('records how the last run ended', () => {
    const { clock, port, supervisor, events } = harness();
    supervisor.up();
    clock.advance(1500);
    port.exit(port.last.pid, { signal: 'SIGSEGV' });
    assert.deepEqual(supervisor.status.lastExit, { code: null, signal: 'SIGSEGV', durationMs: 1500, at: 1500, requested: false });
    assert.ok(events.some((event) => event.type === 'exited' && event.description === 'killed by SIGSEGV'));
  });

  it('once() starts the service without restarting it when it exits', () => {
    const { clock, port, supervisor, states } = harness();
    supervisor.once();
    assert.equal(supervisor.state, 'up');
    port.exit(port.last.pid, { code: 3 });
    clock.advance(10_000);
    assert.equal(port.processes.length, 1);
    assert.equal(supervisor.state, 'down');
    assert.equal(supervisor.status.wantUp, false);
    assert.deepEqual(states(), ['down->up', 'up->down']);
  });
});

describe('ServiceSupervisor: finish script', () => {
  it('runs finish with the exit code, 0, the name and the process group of the run', () => {
    const { port, supervisor, states } = harness({ finishPath: FINISH });
    supervisor.up();
    const run = port.last;
    port.exit(run.pid, { code: 3 });
    assert.equal(supervisor.state, 'finishing');
    const finish = port.last;
    assert.equal(finish.spec.file, './finish');
    assert.deepEqual(finish.spec.args, ['3', '0', 'web', String(run.pid)]);
    assert.equal(finish.spec.cwd, LIVE);
    assert.equal(finish.spec.newSession, true);
    port.exit(finish.pid, { code: 0 });
    assert.deepEqual(states(), ['down->up', 'up->finishing', 'finishing->backoff']);
  });

  it("gives run no argument and finish only the exit code and signal for an image made for s6-overlay v2's s6", () => {
    const { port, supervisor } = harness({ finishPath: FINISH }, 's6-2.10');
    supervisor.up();
    const run = port.last;
    assert.deepEqual(run.spec.args, []);
    port.exit(run.pid, { signal: 'SIGTERM' });
    assert.equal(port.last.spec.file, './finish');
    assert.deepEqual(port.last.spec.args, ['256', '15']);
  });

  it('runs a script outside the live directory by its path', () => {
    const { port, supervisor } = harness({ runPath: '/elsewhere/run' });
    supervisor.up();
    assert.equal(port.last.spec.file, '/elsewhere/run');
  });

  it('passes 256 and the signal number to finish when the run was killed by a signal', () => {
    const { port, supervisor } = harness({ finishPath: FINISH });
    supervisor.up();
    const run = port.last;
    port.exit(run.pid, { signal: 'SIGKILL' });
    assert.deepEqual(port.last.spec.args, ['256', '9', 'web', String(run.pid)]);
  });

  it('does not restart the service when finish exits 125, and marks it failed', () => {
    assert.equal(PERMANENT_FAILURE_EXIT, 125);
    const { clock, port, supervisor, events } = harness({ finishPath: FINISH });
    supervisor.up();
    port.exit(port.last.pid, { code: 1 });
    port.exit(port.last.pid, { code: 125 });
    assert.equal(supervisor.state, 'failed');
    assert.equal(supervisor.status.wantUp, false);
    assert.ok(events.some((event) => event.type === 'permanent-failure'));
    clock.advance(60_000);
    assert.equal(port.spawnsOf(RUN).length, 1);
  });

  it('starts a failed service again on up(), and takes it down on down()', () => {
    const { clock, port, supervisor } = harness({ finishPath: FINISH });
    supervisor.up();
    port.exit(port.last.pid, { code: 1 });
    port.exit(port.last.pid, { code: 125 });
    clock.advance(2000);
    supervisor.up();
    assert.equal(supervisor.state, 'up');
    assert.equal(port.spawnsOf(RUN).length, 2);
    port.exit(port.last.pid, { code: 1 });
    port.exit(port.last.pid, { code: 125 });
    supervisor.down();
    assert.equal(supervisor.state, 'down');
  });

  it('treats a finish killed by a signal as an ordinary end, and restarts', () => {
    const { clock, port, supervisor } = harness({ finishPath: FINISH });
    supervisor.up();
    port.exit(port.last.pid, { code: 125 }); // the run's own 125 means nothing special
    port.exit(port.last.pid, { signal: 'SIGTERM' });
    assert.equal(supervisor.state, 'backoff');
    clock.advance(1000);
    assert.equal(port.spawnsOf(RUN).length, 2);
  });

  it('kills a finish script that outlives timeout-finish with SIGKILL, then restarts', () => {
    const { clock, port, supervisor, events } = harness({ finishPath: FINISH, timeoutFinishMs: 2000 });
    supervisor.up();
    port.exit(port.last.pid, { code: 1 });
    const finish = port.last;
    clock.advance(1999);
    assert.deepEqual(port.signalsTo(finish.pid), []);
    clock.advance(1);
    assert.deepEqual(port.signalsTo(finish.pid), ['SIGKILL']);
    assert.ok(events.some((event) => event.type === 'finish-timeout' && event.timeoutMs === 2000));
    port.exit(finish.pid, { signal: 'SIGKILL' });
    assert.equal(supervisor.state, 'up');
    assert.equal(port.spawnsOf(RUN).length, 2);
  });

  it('does not kill a finish script that ends in time', () => {
    const { clock, port, supervisor } = harness({ finishPath: FINISH, timeoutFinishMs: 2000 });
    supervisor.up();
    port.exit(port.last.pid, { code: 1 });
    const finish = port.last;
    clock.advance(500);
    port.exit(finish.pid, { code: 0 });
    clock.advance(10_000);
    assert.deepEqual(port.signalsTo(finish.pid), []);
  });

  it('lets a finish script run forever when timeout-finish is 0', () => {
    const { clock, port, supervisor } = harness({ finishPath: FINISH, timeoutFinishMs: 0 });
    supervisor.up();
    port.exit(port.last.pid, { code: 1 });
    clock.advance(3_600_000);
    assert.deepEqual(port.signals, []);
    assert.equal(supervisor.state, 'finishing');
  });

  it('still restarts the service when its finish script cannot be executed', async () => {
    const { clock, port, supervisor, events } = harness({ finishPath: FINISH });
    supervisor.up();
    port.failNextSpawn('EACCES');
    port.exit(port.last.pid, { code: 1 });
    assert.equal(supervisor.state, 'finishing');
    await settle();
    assert.ok(events.some((event) => event.type === 'spawn-error' && event.path === FINISH && event.error.code === 'EACCES'));
    assert.equal(supervisor.state, 'backoff');
    clock.advance(1000);
    assert.equal(supervisor.state, 'up');
    assert.equal(port.spawnsOf(RUN).length, 2);
  });
});

describe('ServiceSupervisor: stopping', () => {
  it('down() sends the down-signal then SIGCONT, and the service goes stopping then down without a restart', () => {
    const { clock, port, supervisor, states } = harness({ downSignal: 'SIGQUIT' });
    supervisor.up();
    const pid = port.last.pid;
    supervisor.down();
    assert.deepEqual(port.signalsTo(pid), ['SIGQUIT', 'SIGCONT']);
    assert.equal(supervisor.state, 'stopping');
    assert.equal(supervisor.status.wantUp, false);
    port.exit(pid, { signal: 'SIGQUIT' });
    clock.advance(60_000);
    assert.equal(port.processes.length, 1);
    assert.equal(supervisor.state, 'down');
    assert.equal(supervisor.status.pid, null);
    assert.equal(supervisor.status.lastExit?.requested, true);
    assert.deepEqual(states(), ['down->up', 'up->stopping', 'stopping->down']);
  });

  it('runs finish after a requested stop, then goes down', () => {
    const { port, supervisor, states } = harness({ finishPath: FINISH });
    supervisor.up();
    const run = port.last;
    supervisor.down();
    port.exit(run.pid, { signal: 'SIGTERM' });
    assert.deepEqual(port.last.spec.args, ['256', '15', 'web', String(run.pid)]);
    port.exit(port.last.pid, { code: 0 });
    assert.equal(supervisor.state, 'down');
    assert.deepEqual(states(), ['down->up', 'up->stopping', 'stopping->finishing', 'finishing->down']);
  });

  it('sends SIGKILL timeout-kill ms after the down-signal when the run is still there', () => {
    const { clock, port, supervisor } = harness({ timeoutKillMs: 3000 });
    supervisor.up();
    const pid = port.last.pid;
    supervisor.down();
    clock.advance(2999);
    assert.deepEqual(port.signalsTo(pid), ['SIGTERM', 'SIGCONT']);
    clock.advance(1);
    assert.deepEqual(port.signalsTo(pid), ['SIGTERM', 'SIGCONT', 'SIGKILL']);
    port.exit(pid, { signal: 'SIGKILL' });
    assert.equal(supervisor.state, 'down');
  });

  it('does not send SIGKILL when the run exits before timeout-kill', () => {
    const { clock, port, supervisor } = harness({ timeoutKillMs: 3000 });
    supervisor.up();
    const pid = port.last.pid;
    supervisor.down();
    clock.advance(1000);
    port.exit(pid, { code: 0 });
    clock.advance(10_000);
    assert.deepEqual(port.signalsTo(pid), ['SIGTERM', 'SIGCONT']);
    assert.equal(clock.pendingTimers, 0);
  });

  it('never sends SIGKILL when timeout-kill is 0', () => {
    const { clock, port, supervisor } = harness({ timeoutKillMs: 0 });
    supervisor.up();
    supervisor.down();
    clock.advance(3_600_000);
    assert.ok(!port.signals.some((sent) => sent.signal === 'SIGKILL'));
    assert.equal(supervisor.state, 'stopping');
  });

  it('down() during backoff cancels the pending restart', () => {
    const { clock, port, supervisor } = harness();
    supervisor.up();
    port.exit(port.last.pid, { code: 1 });
    assert.equal(supervisor.state, 'backoff');
    supervisor.down();
    assert.equal(supervisor.state, 'down');
    assert.equal(clock.pendingTimers, 0);
    clock.advance(60_000);
    assert.equal(port.processes.length, 1);
    assert.deepEqual(port.signals, []);
  });

  it('down() while finish runs lets it end, then stays down', () => {
    const { clock, port, supervisor } = harness({ finishPath: FINISH });
    supervisor.up();
    port.exit(port.last.pid, { code: 1 });
    const finish = port.last;
    supervisor.down();
    assert.deepEqual(port.signals, []);
    assert.equal(supervisor.state, 'finishing');
    port.exit(finish.pid, { code: 0 });
    clock.advance(60_000);
    assert.equal(supervisor.state, 'down');
    assert.equal(port.spawnsOf(RUN).length, 1);
  });

  it('down({ signal: false }) sends nothing but does not restart the run when it leaves', () => {
    const { port, supervisor, states } = harness();
    supervisor.up();
    const pid = port.last.pid;
    supervisor.down({ signal: false });
    assert.deepEqual(port.signals, []);
    assert.equal(supervisor.state, 'up');
    port.exit(pid, { code: 0 });
    assert.equal(supervisor.state, 'down');
    assert.equal(supervisor.status.lastExit?.requested, false);
    assert.deepEqual(states(), ['down->up', 'up->down']);
  });

  it('a run that ends soon after a signal sent on request (s6-svc -t) ended as asked; one that ends long after, or after a pause, did not', () => {
    const { clock, port, supervisor } = harness();
    supervisor.up();
    let pid = port.last.pid;
    clock.advance(1000);
    assert.equal(supervisor.signal('SIGTERM'), true);
    clock.advance(200);
    port.exit(pid, { code: 0 });
    assert.equal(supervisor.status.lastExit?.requested, true);
    assert.equal(supervisor.status.wantUp, true);

    clock.advance(1000);
    pid = port.last.pid;
    supervisor.signal('SIGHUP');
    clock.advance(60_000);
    port.exit(pid, { signal: 'SIGSEGV' });
    assert.equal(supervisor.status.lastExit?.requested, false);

    clock.advance(1000);
    pid = port.last.pid;
    supervisor.signal('SIGSTOP');
    supervisor.signal('SIGCONT');
    port.exit(pid, { code: 1 });
    assert.equal(supervisor.status.lastExit?.requested, false);

    // apache's graceful stop (s6-svc -s SIGWINCH): its exit was asked for.
    clock.advance(1000);
    pid = port.last.pid;
    supervisor.signal('SIGWINCH');
    clock.advance(3000);
    port.exit(pid, { code: 0 });
    assert.equal(supervisor.status.lastExit?.requested, true);

    // To the process group too (s6-svc -K, steward signal --group).
    clock.advance(1000);
    pid = port.last.pid;
    assert.equal(supervisor.signalGroup('SIGKILL'), true);
    port.exit(pid, { signal: 'SIGKILL' });
    assert.equal(supervisor.status.lastExit?.requested, true);

    // The mark belongs to one run: the next run's crash is its own.
    clock.advance(1000);
    pid = port.last.pid;
    supervisor.signal('SIGTERM');
    port.exit(pid, { code: 0 });
    clock.advance(1000);
    port.exit(port.last.pid, { code: 2 });
    assert.equal(supervisor.status.lastExit?.requested, false);
  });

  it('after a reload signal (s6-svc -h, -1, -2), a run killed by it ended as asked; one that exits afterwards died on its own', () => {
    const { clock, port, supervisor } = harness();
    supervisor.up();
    let pid = port.last.pid;
    // A daemon that does not catch SIGHUP dies of it: the administrator's doing.
    clock.advance(1000);
    supervisor.signal('SIGHUP');
    port.exit(pid, { signal: 'SIGHUP' });
    assert.equal(supervisor.status.lastExit?.requested, true);

    // One that reloads, and exits 1 a second later (a bad configuration), crashed.
    clock.advance(1000);
    pid = port.last.pid;
    supervisor.signal('SIGHUP');
    clock.advance(1000);
    port.exit(pid, { code: 1 });
    assert.equal(supervisor.status.lastExit?.requested, false);

    // Killed by something else after reopening its logs: not asked for either.
    clock.advance(1000);
    pid = port.last.pid;
    supervisor.signal('SIGUSR1');
    clock.advance(500);
    port.exit(pid, { signal: 'SIGKILL' });
    assert.equal(supervisor.status.lastExit?.requested, false);

    // A wrapper that forwards it (tini, a shell's trap and wait) exits 128 + its number.
    clock.advance(1000);
    pid = port.last.pid;
    supervisor.signal('SIGHUP');
    port.exit(pid, { code: 129 });
    assert.equal(supervisor.status.lastExit?.requested, true);

    // A stop signal sent before the reload still counts: its exit was asked for.
    clock.advance(1000);
    pid = port.last.pid;
    supervisor.signal('SIGTERM');
    supervisor.signal('SIGUSR2');
    port.exit(pid, { code: 0 });
    assert.equal(supervisor.status.lastExit?.requested, true);
  });

  it('down() on a service that is down does nothing', () => {
    const { port, supervisor, events } = harness();
    supervisor.down();
    assert.equal(supervisor.state, 'down');
    assert.deepEqual(port.signals, []);
    assert.deepEqual(events, []);
  });

  it('up() on a service that is stopping keeps it: it restarts when the old run exits', () => {
    const { clock, port, supervisor } = harness();
    supervisor.up();
    clock.advance(5000);
    supervisor.down();
    supervisor.up();
    port.exit(port.last.pid, { signal: 'SIGTERM' });
    assert.equal(port.processes.length, 2);
    assert.equal(supervisor.state, 'up');
  });

  it('signal() forwards a signal to the run only while it runs', () => {
    const { port, supervisor } = harness();
    assert.equal(supervisor.signal('SIGHUP'), false);
    supervisor.up();
    assert.equal(supervisor.signal('SIGHUP'), true);
    assert.deepEqual(port.signalsTo(port.last.pid), ['SIGHUP']);
  });
});

describe('ServiceSupervisor: spawn errors', () => {
  it('goes to backoff when the run cannot be executed and retries after 10 s, as s6-supervise does', async () => {
    assert.equal(SPAWN_RETRY_MS, 10_000);
    const { clock, port, supervisor, events } = harness();
    port.failNextSpawn('ENOENT');
    supervisor.up();
    await settle();
    assert.equal(supervisor.state, 'backoff');
    assert.equal(supervisor.status.pid, null);
    assert.equal(supervisor.status.starts, 0);
    const error = events.find((event) => event.type === 'spawn-error');
    assert.ok(error?.type === 'spawn-error');
    assert.equal(error.path, RUN);
    assert.equal(error.error.code, 'ENOENT');
    clock.advance(9_999);
    assert.equal(port.attempts.length, 1);
    clock.advance(1);
    assert.equal(port.attempts.length, 2);
    assert.equal(supervisor.state, 'up');
    assert.equal(supervisor.status.starts, 1);
  });

  it('runs an install step before each start until it succeeds, a failure told and retried as a spawn error', async () => {
    const { clock, port, supervisor, events } = harness();
    let tries = 0;
    supervisor.setInstallStep(() => {
      tries++;
      if (tries < 3) throw Object.assign(new Error('cannot copy: ENOSPC'), { code: 'ENOSPC' });
    });
    supervisor.up();
    await settle();
    assert.equal(port.attempts.length, 0, 'no run without its live directory');
    assert.equal(supervisor.state, 'backoff');
    assert.equal(supervisor.status.spawnError, 'ENOSPC');
    const error = events.find((event) => event.type === 'spawn-error');
    assert.ok(error?.type === 'spawn-error');
    assert.equal(error.installing, true);
    assert.equal(error.path, LIVE);
    // Asked for again (steward start), it is tried at once rather than at the next retry.
    supervisor.up();
    await settle();
    assert.equal(tries, 2);
    assert.equal(port.attempts.length, 0);
    clock.advance(SPAWN_RETRY_MS);
    await settle();
    assert.equal(tries, 3);
    assert.equal(supervisor.state, 'up');
    // Once it has succeeded it is not run again: a restart runs what was copied.
    port.exit(port.last.pid, { code: 1 });
    clock.advance(1_000);
    await settle();
    assert.equal(tries, 3);
    assert.equal(port.attempts.length, 2);
  });

  it('retryFailedStart tries a failed start now rather than at its retry, only while it is wanted up', async () => {
    const { clock, port, supervisor } = harness();
    port.failNextSpawn('EACCES');
    supervisor.up();
    await settle();
    assert.equal(supervisor.state, 'backoff');
    supervisor.retryFailedStart();
    assert.equal(port.attempts.length, 2);
    assert.equal(supervisor.state, 'up');
    // Not wanted up, or not waiting for a retry: nothing.
    supervisor.down();
    port.exit(port.last.pid, { signal: 'SIGTERM' });
    clock.advance(1000);
    supervisor.retryFailedStart();
    assert.equal(port.attempts.length, 2);
    assert.equal(supervisor.state, 'down');
  });

  it('handles a spawn error reported synchronously the same way', () => {
    const { clock, port, supervisor } = harness();
    port.failNextSpawn('EACCES', { synchronous: true });
    supervisor.up();
    assert.equal(supervisor.state, 'backoff');
    assert.equal(clock.nextTimerIn, 10_000);
    clock.advance(10_000);
    assert.equal(supervisor.state, 'up');
  });

  it('keeps retrying every 10 s while the run still cannot be executed', async () => {
    const { clock, port, supervisor } = harness();
    port.failNextSpawn('EACCES');
    port.failNextSpawn('EACCES');
    supervisor.up();
    await settle();
    clock.advance(10_000);
    await settle();
    assert.equal(supervisor.state, 'backoff');
    assert.equal(port.attempts.length, 2);
    clock.advance(10_000);
    assert.equal(port.attempts.length, 3);
    assert.equal(supervisor.state, 'up');
  });

  it('does not retry after a spawn error when the service was taken down meanwhile', async () => {
    const { clock, port, supervisor } = harness();
    port.failNextSpawn('ENOENT');
    supervisor.up();
    supervisor.down();
    await settle();
    clock.advance(120_000);
    assert.equal(supervisor.state, 'down');
    assert.equal(port.attempts.length, 1);
  });

  it('keeps why the run could not be executed in its status until a start succeeds; up() tries again at once', async () => {
    const { clock, port, supervisor } = harness();
    port.failNextSpawn('EACCES');
    supervisor.up();
    await settle();
    assert.equal(supervisor.status.spawnError, 'EACCES');
    // Asked again (the script was fixed, say): tried now, not 60 s later, and only once.
    supervisor.up();
    await settle();
    assert.equal(port.attempts.length, 2);
    assert.equal(supervisor.state, 'up');
    assert.equal(supervisor.status.spawnError, null);
    clock.advance(60_000);
    assert.equal(port.attempts.length, 2, 'the retry timer was left running');
  });

  it('down() after a spawn error cancels the retry', async () => {
    const { clock, port, supervisor } = harness();
    port.failNextSpawn('ENOENT');
    supervisor.up();
    await settle();
    supervisor.down();
    assert.equal(supervisor.state, 'down');
    clock.advance(120_000);
    assert.equal(port.attempts.length, 1);
  });
});

describe('ServiceSupervisor: waitFor', () => {
  it('resolves at once when the condition already holds', async () => {
    const { supervisor } = harness();
    await supervisor.waitFor((status) => status.state === 'down');
  });

  it('resolves only once the service reaches the awaited state', async () => {
    const { port, supervisor } = harness({ notificationFd: 4 });
    let resolved = false;
    const ready = supervisor.waitFor((status) => status.ready).then(() => {
      resolved = true;
    });
    supervisor.up();
    await settle();
    assert.equal(resolved, false);
    assert.equal(supervisor.state, 'starting');
    port.ready(port.last.pid);
    await ready;
    assert.equal(resolved, true);
  });

  it('resolves when a stopping service is down', async () => {
    const { port, supervisor } = harness();
    supervisor.up();
    supervisor.down();
    let resolved = false;
    const down = supervisor.waitFor((status) => status.state === 'down').then(() => {
      resolved = true;
    });
    await settle();
    assert.equal(resolved, false);
    port.exit(port.last.pid, { signal: 'SIGTERM' });
    await down;
    assert.equal(resolved, true);
  });

  it('stops listening once resolved', async () => {
    const { port, supervisor } = harness();
    let checks = 0;
    const up = supervisor.waitFor((status) => {
      checks++;
      return status.state === 'up';
    });
    supervisor.up();
    await up;
    const after = checks;
    supervisor.down();
    port.exit(port.last.pid, { code: 0 });
    assert.equal(checks, after);
  });
});

describe('service states', () => {
  const legal: [ServiceState, ServiceState][] = [
    ['down', 'up'],
    ['down', 'starting'],
    ['starting', 'ready'],
    ['up', 'stopping'],
    ['stopping', 'finishing'],
    ['finishing', 'failed'],
    ['backoff', 'up'],
    ['failed', 'down'],
  ];
  for (const [from, to] of legal) {
    it(`allows ${from} -> ${to}`, () => {
      assert.doesNotThrow(() => assertTransition('web', from, to));
    });
  }

  const illegal: [ServiceState, ServiceState][] = [
    ['down', 'ready'],
    ['down', 'stopping'],
    ['down', 'finishing'],
    ['up', 'ready'],
    ['up', 'starting'],
    ['stopping', 'up'],
    ['finishing', 'ready'],
    ['failed', 'ready'],
  ];
  for (const [from, to] of illegal) {
    it(`refuses ${from} -> ${to} with a RangeError naming the service`, () => {
      assert.throws(
        () => assertTransition('web', from, to),
        (error: unknown) => error instanceof RangeError && error.message === `Service web cannot go from ${from} to ${to}`,
      );
    });
  }

  it('counts only starting, up, ready and stopping as running', () => {
    const all: ServiceState[] = ['down', 'starting', 'up', 'ready', 'stopping', 'finishing', 'backoff', 'failed'];
    assert.deepEqual(
      all.filter((state) => isRunning(state)),
      ['starting', 'up', 'ready', 'stopping'],
    );
  });
});

describe('ServiceSupervisor: a start whose pid comes later (posix_spawn on another thread)', () => {
  it('is up only once the pid is known, and says it is starting meanwhile', () => {
    const { port, supervisor, events } = harness();
    port.deferSpawns = true;
    supervisor.up();
    assert.equal(supervisor.state, 'down');
    assert.equal(supervisor.status.spawning, true);
    assert.equal(supervisor.status.ready, false);
    port.completeSpawns();
    assert.equal(supervisor.state, 'up');
    assert.equal(supervisor.status.spawning, false);
    assert.equal(supervisor.status.pid, port.last.pid);
    // Wanted up at once, while still down: told before the start is.
    assert.deepEqual(events.map((event) => event.type), ['wanted', 'state', 'spawned']);
  });

  it('a stop asked for meanwhile reaches the process as soon as its pid is known', () => {
    const { port, supervisor, states } = harness({ downSignal: 'SIGHUP' });
    port.deferSpawns = true;
    supervisor.up();
    supervisor.down();
    assert.deepEqual(port.signals, []);
    port.completeSpawns();
    assert.deepEqual(port.signalsTo(port.last.pid), ['SIGHUP', 'SIGCONT']);
    assert.equal(supervisor.state, 'stopping');
    port.exit(port.last.pid, { signal: 'SIGHUP' });
    assert.equal(supervisor.state, 'down');
    assert.deepEqual(states(), ['down->up', 'up->stopping', 'stopping->down']);
    assert.equal(port.processes.length, 1);
  });

  it('up() while a start is under way starts nothing more, and cancels a stop asked for before it', () => {
    const { port, supervisor } = harness();
    port.deferSpawns = true;
    supervisor.up();
    supervisor.down();
    supervisor.up();
    assert.equal(port.processes.length, 1);
    port.completeSpawns();
    assert.equal(supervisor.state, 'up');
    assert.deepEqual(port.signals, []);
  });

  it("no-restart (s6-svc -O) meanwhile does not stop it, it only won't be restarted", () => {
    const { port, supervisor } = harness();
    port.deferSpawns = true;
    supervisor.up();
    supervisor.down({ signal: false });
    port.completeSpawns();
    assert.equal(supervisor.state, 'up');
    assert.deepEqual(port.signals, []);
    port.exit(port.last.pid, { code: 0 });
    assert.equal(supervisor.state, 'down');
    assert.equal(port.processes.length, 1);
  });

  it('a restart due at once is asked for before the listeners hear of the death, who hear the same events in the same order', () => {
    const { clock, port, supervisor, events } = harness({ minRestartIntervalMs: 0 });
    port.deferSpawns = true;
    supervisor.up();
    port.completeSpawns();
    const attemptsWhenTold: number[] = [];
    supervisor.subscribe((event) => {
      if (event.type === 'exited') attemptsWhenTold.push(port.attempts.length);
    });
    events.length = 0;
    clock.advance(50);
    port.exit(port.last.pid, { signal: 'SIGKILL' });
    // The listeners' work (status files, log lines) no longer delays the new run.
    assert.deepEqual(attemptsWhenTold, [2]);
    assert.deepEqual(
      events.map((event) => (event.type === 'state' ? `${event.from}->${event.to}` : event.type)),
      ['exited', 'up->backoff'],
    );
    port.completeSpawns();
    assert.deepEqual(
      events.map((event) => (event.type === 'state' ? `${event.from}->${event.to}` : event.type)),
      ['exited', 'up->backoff', 'backoff->up', 'spawned'],
    );
  });

  it('events a listener causes while held ones are told come after them, in order', () => {
    const { port, supervisor, events } = harness({ minRestartIntervalMs: 0 });
    port.deferSpawns = true;
    supervisor.up();
    port.completeSpawns();
    let stopped = false;
    supervisor.subscribe((event) => {
      // A listener that stops the service on hearing of its death (as an operator's script might).
      if (event.type === 'exited' && !stopped) {
        stopped = true;
        supervisor.down();
      }
    });
    events.length = 0;
    port.exit(port.last.pid, { code: 1 });
    const told = events.map((event) => (event.type === 'state' ? `${event.from}->${event.to}` : event.type));
    assert.deepEqual(told, ['exited', 'up->backoff', 'backoff->down']);
    // The start already asked for is stopped as soon as its pid is known.
    port.completeSpawns();
    assert.deepEqual(port.signalsTo(port.last.pid), ['SIGTERM', 'SIGCONT']);
    assert.equal(supervisor.status.wantUp, false);
  });

  it('a start that fails after a stop was asked for leaves the service down, with no retry', async () => {
    const { clock, port, supervisor } = harness();
    port.failNextSpawn('ENOENT');
    supervisor.up();
    supervisor.down();
    await settle();
    assert.equal(supervisor.state, 'down');
    assert.equal(supervisor.status.spawning, false);
    clock.advance(SPAWN_RETRY_MS + 1000);
    assert.equal(port.attempts.length, 1);
  });
});


describe('ServiceSupervisor: control input heard before an exit is acted on, and wishes told', () => {
  it('a hook that stops the service when the run has ended (a letter in supervise/control) prevents the restart', () => {
    const { port, supervisor, events } = harness({ minRestartIntervalMs: 0 });
    supervisor.up();
    let heard = 0;
    supervisor.beforeDeciding(() => {
      heard++;
      supervisor.down();
    });
    port.exit(port.last.pid, { code: 1 });
    assert.equal(heard, 1);
    assert.equal(port.processes.length, 1);
    assert.equal(supervisor.state, 'down');
    assert.equal(supervisor.status.wantUp, false);
    // No down-signal to a pid already collected.
    assert.deepEqual(port.signals, []);
    assert.ok(events.some((event) => event.type === 'exited'));
  });

  it('so does one that runs when the finish script has ended, before the listeners hear of it', () => {
    const { port, supervisor } = harness({ minRestartIntervalMs: 0, finishPath: FINISH });
    supervisor.up();
    const wantedWhenTold: boolean[] = [];
    supervisor.subscribe((event, source) => {
      if (event.type === 'finish-exited') wantedWhenTold.push(source.status.wantUp);
    });
    port.exit(port.last.pid, { code: 1 });
    const unhook = supervisor.beforeDeciding(() => supervisor.down({ signal: false }));
    port.exit(port.last.pid, { code: 0 });
    unhook();
    assert.deepEqual(wantedWhenTold, [false]);
    assert.equal(port.spawnsOf(RUN).length, 1);
    assert.equal(supervisor.state, 'down');
  });

  it("once() while the finish script runs wants it down (-u then -O: it is down, so not even started)", () => {
    const { clock, port, supervisor, events } = harness({ minRestartIntervalMs: 0, finishPath: FINISH });
    supervisor.up();
    port.exit(port.last.pid, { code: 2 });
    assert.equal(supervisor.state, 'finishing');
    events.length = 0;
    supervisor.once();
    assert.equal(supervisor.status.wantUp, false);
    assert.deepEqual(events.map((event) => event.type), ['wanted']);
    port.exit(port.last.pid, { code: 0 });
    clock.advance(5000);
    assert.equal(port.spawnsOf(RUN).length, 1);
    assert.equal(supervisor.state, 'down');
  });

  it("changes of what is wanted with no change of state are told as 'wanted' (-O, -p, -c), and only those", () => {
    const { port, supervisor, events } = harness();
    supervisor.up();
    events.length = 0;
    supervisor.down({ signal: false });
    assert.equal(supervisor.status.wantUp, false);
    supervisor.signal('SIGSTOP');
    assert.equal(supervisor.status.paused, true);
    supervisor.signal('SIGCONT');
    supervisor.signal('SIGHUP');
    supervisor.down({ signal: false });
    assert.deepEqual(events.map((event) => event.type), ['wanted', 'wanted', 'wanted']);
    // A change of state tells it already.
    events.length = 0;
    supervisor.down();
    assert.deepEqual(events.map((event) => (event.type === 'state' ? event.to : event.type)), ['stopping']);
    assert.deepEqual(port.signalsTo(port.last.pid).slice(-2), ['SIGTERM', 'SIGCONT']);
  });
});

describe('ServiceSupervisor: death tally', () => {
  it('records each death, oldest first, before the finish script runs, keeping max-death-tally of them', () => {
    const { port, supervisor, clock, events } = harness({ finishPath: FINISH, maxDeathTally: 2 });
    const tallies: number[] = [];
    supervisor.subscribe((event) => {
      if (event.type === 'exited') tallies.push(supervisor.deaths.entries.length);
    });
    supervisor.up();
    clock.advance(100);
    port.exit(port.last.pid, { code: 3 });
    // What s6-permafailon in the finish script reads has this death already.
    assert.equal(tallies[0], 1);
    assert.deepEqual(supervisor.deaths.entries, [{ at: clock.now(), code: 3, signal: null }]);
    port.exit(port.last.pid); // the finish script
    clock.advance(2000);
    port.exit(port.last.pid, { signal: 'SIGSEGV' });
    port.exit(port.last.pid);
    clock.advance(2000);
    port.exit(port.last.pid, { code: 1 });
    assert.deepEqual(
      supervisor.deaths.entries.map((death) => death.signal ?? death.code),
      ['SIGSEGV', 1],
    );
    supervisor.clearDeaths();
    assert.deepEqual(supervisor.deaths.entries, []);
    assert.equal(events.at(-1)?.type, 'deaths-cleared');
  });

  it('keeps none with a max-death-tally of 0', () => {
    const { port, supervisor } = harness({ maxDeathTally: 0 });
    supervisor.up();
    port.exit(port.last.pid, { code: 1 });
    assert.deepEqual(supervisor.deaths.entries, []);
  });
});
