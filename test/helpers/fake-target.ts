import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { CommandContext } from '../../src/control/commands/context.js';
import type { HaltAction } from '../../src/control/protocol.js';
import type { ControlTarget } from '../../src/control/target.js';
import type { LongrunDefinition } from '../../src/model/service.js';
import { ServiceSupervisor } from '../../src/supervise/supervisor.js';
import { FakeClock } from './fake-clock.js';
import { FakeProcessPort } from './fake-port.js';

/**
 * Above Linux's largest pid_max (2^22), so a group signal the control plane sends with
 * process.kill(-pid) can never reach a real process group.
 */
export const FAKE_FIRST_PID = 5_000_000;

export interface FakeServiceSpec {
  readonly name: string;
  /** With a notification fd the service is "starting" until the test calls port.ready(pid). */
  readonly notificationFd?: number;
  readonly finish?: boolean;
  /** A `down` file in its live directory (normally down). */
  readonly down?: boolean;
  readonly dependencies?: readonly string[];
  readonly logger?: string;
}

export interface FakeTarget {
  readonly target: ControlTarget;
  readonly clock: FakeClock;
  readonly port: FakeProcessPort;
  /** Holds live/NAME (each service's live directory) and service/NAME (links to them). */
  readonly root: string;
  /** Every halt the control plane asked for, in order. */
  readonly halts: { action: HaltAction; exitCode: number | null }[];
  supervisor(name: string): ServiceSupervisor;
  /** The pid of a service's current run process; throws when it is not running. */
  pid(name: string): number;
  setStopping(stopping: boolean): void;
  context(abortSignal?: AbortSignal): CommandContext;
  cleanup(): void;
}

/**
 * A ControlTarget over real ServiceSupervisor objects whose processes are fakes: the
 * test decides when they become ready or exit, and when time passes. Live directories
 * are real (temporary) directories, so down files and directory lookups work.
 */
export function fakeTarget(specs: readonly FakeServiceSpec[], options: { startedAt?: number } = {}): FakeTarget {
  const root = mkdtempSync(join(tmpdir(), 'steward-control-'));
  const clock = new FakeClock(options.startedAt ?? 1_700_000_000_000);
  const port = new FakeProcessPort(FAKE_FIRST_PID);
  const supervisors = new Map<string, ServiceSupervisor>();
  const dependencies = new Map<string, readonly string[]>();
  mkdirSync(join(root, 'service'));
  for (const spec of specs) {
    const liveDir = join(root, 'live', spec.name);
    mkdirSync(liveDir, { recursive: true });
    if (spec.down === true) writeFileSync(join(liveDir, 'down'), '');
    if (!spec.name.includes('/')) symlinkSync(liveDir, join(root, 'service', spec.name));
    const definition: LongrunDefinition = {
      kind: 'longrun',
      name: spec.name,
      sourceDir: join('/etc/services.d', spec.name),
      liveDir,
      runPath: join(liveDir, 'run'),
      finishPath: spec.finish === true ? join(liveDir, 'finish') : null,
      notificationFd: spec.notificationFd ?? null,
      timeoutKillMs: 0,
      timeoutFinishMs: 5000,
      maxDeathTally: 100,
      downSignal: 'SIGTERM',
      startsDown: spec.down === true,
      minRestartIntervalMs: 1000,
      loggerName: spec.logger ?? null,
      producers: [],
    };
    supervisors.set(spec.name, new ServiceSupervisor(definition, port, clock, { stdin: 'ignore', stdout: 'inherit', stderr: 'inherit', env: {} }));
    dependencies.set(spec.name, spec.dependencies ?? []);
  }
  let stopping = false;
  const halts: { action: HaltAction; exitCode: number | null }[] = [];
  const target: ControlTarget = {
    supervisors,
    startedAt: clock.now(),
    isStopping: () => stopping,
    halt(action, exitCode) {
      if (stopping) return false;
      stopping = true;
      halts.push({ action, exitCode });
      return true;
    },
    dependenciesOf: (name) => dependencies.get(name) ?? [],
  };
  const supervisor = (name: string): ServiceSupervisor => {
    const found = supervisors.get(name);
    if (found === undefined) throw new Error(`no fake service ${name}`);
    return found;
  };
  return {
    target,
    clock,
    port,
    root,
    halts,
    supervisor,
    pid(name) {
      const pid = supervisor(name).status.pid;
      if (pid === null) throw new Error(`fake service ${name} is not running`);
      return pid;
    },
    setStopping(value) {
      stopping = value;
    },
    context(abortSignal = new AbortController().signal) {
      return { target, now: () => clock.now(), abortSignal };
    },
    cleanup() {
      rmSync(root, { recursive: true, force: true });
    },
  };
}
