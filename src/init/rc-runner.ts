import { chmodSync, copyFileSync, existsSync, lstatSync, renameSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { SIGNAL_PERMISSION_HINT, trySignal } from '../sys/signals.js';
import { join } from 'node:path';

import { isDirectory } from '../config/scan.js';
import { errorMessage } from '../errors.js';
import type { TransitionResult, TransitionRunner } from '../graph/engine.js';
import type { OneshotAction, RcAtomic, RcLongrun } from '../model/rc.js';
import { cannotStart, failedForGood, runsOn, type ServiceStatus } from '../supervise/supervisor.js';
import { abortAfter } from '../util/abort.js';
import { raceWithLimits } from '../util/race.js';
import { removeIfPresent } from '../util/remove.js';
import type { InitContext } from './context.js';
import { runProgram, type ProgramResult } from './execline-run.js';
import { copyFailure, copyTree } from './runtime-dir.js';
import { withNodeOptionsAside } from '../util/node-options.js';
import { packageRoot } from '../util/package-root.js';
import type { ServiceSet } from './service-set.js';
import { failedAfterItsOwnHalt } from './stage-failure.js';

/** Steward's own stages, which s6-overlay runs as the oneshots fix-attrs, legacy-cont-init and legacy-services. */
export interface BuiltinStages {
  fixAttrs(): Promise<TransitionResult>;
  contInit(abortSignal: AbortSignal): Promise<TransitionResult>;
  contFinish(): Promise<TransitionResult>;
  legacyServicesUp(abortSignal: AbortSignal): Promise<TransitionResult>;
  legacyServicesDown(): Promise<TransitionResult>;
}

const OK: TransitionResult = { ok: true };

export interface RcRunner extends TransitionRunner {
  /**
   * Puts longruns in their live directory and links them under /run/service, down, as
   * s6-rc-init does for every longrun of the database: scripts then find them there, and
   * s6-svc -u or s6-rc -u starts them. For the longruns the boot does not start.
   */
  installDown(atomics: readonly RcLongrun[]): void;
}

/** How each kind of atomic service goes up and down. */
export function rcRunner(context: InitContext, services: ServiceSet, stages: BuiltinStages): RcRunner {
  // Each longrun is copied to its live directory once per boot, as s6-rc-init copies them:
  // later ups find it there, with what its supervise/ directory holds.
  const installed = new Set<string>();
  const install = (atomic: RcLongrun): void => {
    if (installed.has(atomic.name)) return;
    try {
      installLongrun(context, atomic);
    } catch (error) {
      throw copyFailure(context.layout, atomic.longrun.sourceDir, atomic.longrun.liveDir, error);
    }
    services.installed(atomic.name);
    installed.add(atomic.name);
  };
  return {
    installDown(atomics) {
      for (const atomic of atomics) {
        try {
          install(atomic);
        } catch (error) {
          context.reporter.warn('s6-rc', errorMessage(error));
        }
      }
    },
    // A longrun's start reads and copies its directory here: each takes its turn (see TurnQueue).
    async turn(atomic) {
      if (atomic.kind !== 'longrun') return true;
      await services.startTurns.next();
      return !context.shutdown.signal.aborted;
    },
    async up(atomic, abortSignal) {
      if (atomic.kind === 'longrun') return longrunUp(services, atomic, abortSignal, install);
      return runAction(context, atomic, atomic.up, 'up', abortSignal, stages);
    },
    stillUp(atomic) {
      if (atomic.kind !== 'longrun') return true;
      const status = services.supervisors.get(atomic.name)?.status;
      return status !== undefined && (status.wantUp || runsOn(status));
    },
    async down(atomic) {
      if (atomic.kind === 'longrun') return longrunDown(context, services, atomic);
      return runAction(context, atomic, atomic.down, 'down', new AbortController().signal, stages);
    },
  };
}

async function runAction(
  context: InitContext,
  atomic: RcAtomic,
  action: OneshotAction,
  direction: 'up' | 'down',
  abortSignal: AbortSignal,
  stages: BuiltinStages,
): Promise<TransitionResult> {
  if (action.kind === 'noop') return OK;
  if (action.kind === 'builtin') {
    switch (action.stage) {
      case 'fix-attrs':
        return direction === 'up' ? stages.fixAttrs() : OK;
      case 'legacy-cont-init':
        return direction === 'up' ? stages.contInit(abortSignal) : stages.contFinish();
      case 'legacy-services':
        return direction === 'up' ? stages.legacyServicesUp(abortSignal) : stages.legacyServicesDown();
    }
  }
  const timeoutMs = direction === 'up' ? atomic.timeoutUpMs : atomic.timeoutDownMs;
  // Name what it waited for: the script, or the command line of the up or down file.
  const command = action.kind === 'script' ? action.path : action.kind === 'execline-script' ? action.file : action.program.kind === 'exec' ? action.program.argv.join(' ') : action.file;
  const shown = command.length > 120 ? `${command.slice(0, 120)}...` : command;
  const timeoutReason = `its ${direction} command ${shown} did not finish within ${timeoutMs} ms (timeout-${direction})`;
  const limit = abortAfter(abortSignal, timeoutMs, timeoutReason);
  // The services' environment as it is: s6-rc's oneshot runner adds nothing to it.
  const env = context.childEnv;
  let result: ProgramResult;
  try {
    const program =
      action.kind === 'script'
        ? { kind: 'exec' as const, argv: action.argv }
        : action.kind === 'execline-script'
          ? { kind: 'exec' as const, argv: [process.execPath, join(packageRoot(), 'bin', 's6-tool'), 'execlineb', '-P', action.file] }
          : action.program;
    // Steward's execlineb is Steward's Node: without the application's NODE_OPTIONS, which it gives back to the script.
    result = await runProgram(program, context.port, context.clock, { env: action.kind === 'execline-script' ? withNodeOptionsAside(env) : env, cwd: context.layout.scriptsDir, abortSignal: limit.signal, abortKillMs: context.settings.killGraceTimeMs, stopAskedFromItsSession: (session) => context.shutdown.askedFromSession(session), output: context.output, warn: (line) => context.reporter.warn('s6-rc', `service ${atomic.name}: ${line}`) });
  } finally {
    limit.dispose();
  }
  if (result.status === 0) return OK;
  if (result.endedAfterItsOwnStop === true) {
    // s6-rc reports the failure (whatever S6_BEHAVIOUR_IF_STAGE2_FAILS says, as for any failed
    // oneshot) and exits 1, which rc.init makes the container's exit code.
    failedAfterItsOwnHalt(context, 's6-rc', `unable to start service ${atomic.name}: command ${result.description} after asking for the stop`, 1, true);
    return { ok: false, reason: `command ${result.description}` };
  }
  if (limit.signal.aborted) return { ok: false, reason: String(limit.signal.reason) };
  return { ok: false, reason: `command ${result.description}` };
}

/** Copies the definition to its live directory (run and finish made executable, as s6-rc-compile does). */
function installLongrun(context: InitContext, atomic: RcLongrun): void {
  const { longrun } = atomic;
  removeIfPresent(longrun.liveDir);
  // Root's, as s6-rc-compile writes the directory, run and finish anew; only data/ and env/
  // keep the image's owners, which it copies with hiercopy. A run script the service's user
  // could rewrite would be run by root at its next start.
  copyTree(longrun.sourceDir, longrun.liveDir, 'own');
  for (const kept of ['data', 'env']) {
    const source = join(longrun.sourceDir, kept);
    if (!isDirectory(source)) continue;
    removeIfPresent(join(longrun.liveDir, kept));
    copyTree(source, join(longrun.liveDir, kept));
  }
  // s6-rc-compile copies what run and finish lead to, not links: a relative link would lead
  // nowhere from the live directory, and the chmod below would reach the image's own file.
  // A finish it cannot read (a link to nothing) it leaves out.
  copyWhatLinksLeadTo(join(longrun.sourceDir, 'run'), longrun.runPath);
  if (longrun.finishPath !== null) copyWhatLinksLeadTo(join(longrun.sourceDir, 'finish'), longrun.finishPath);
  else removeIfPresent(join(longrun.liveDir, 'finish'));
  // s6-rc-compile ignores a source's `down` file and does not copy it (docker-baseimage-selkies'
  // svc-de ships one): whether an s6-rc longrun is up is s6-rc's to say, and s6-svstat must not
  // call a running one "normally down".
  removeIfPresent(join(longrun.liveDir, 'down'));
  if (atomic.producerFor !== null || atomic.consumerFor.length > 0) keepRunAsRunUser(longrun.liveDir);
  chmodSync(longrun.runPath, 0o755);
  if (longrun.finishPath !== null) chmodSync(longrun.finishPath, 0o755);
  const link = join(context.layout.serviceDir, atomic.name);
  removeIfPresent(link);
  symlinkSync(longrun.liveDir, link);
}

/** A copied link replaced with a copy of the file it leads to, from where the source is. */
function copyWhatLinksLeadTo(source: string, copy: string): void {
  let link: boolean;
  try {
    link = lstatSync(copy).isSymbolicLink();
  } catch {
    return; // not there: said where the service is started
  }
  if (!link) return;
  unlinkSync(copy);
  copyFileSync(source, copy);
}

/**
 * s6-rc-compile turns a pipelined longrun's `run` into `run.user`, under a `run` of its own that
 * sets up the pipe and runs it; images edit `run.user` in place (Home Assistant add-ons sed
 * s6-overlay's syslogd-log/run.user from a oneshot). Steward sets the pipe up itself: its `run`
 * only runs `run.user`, so that an edit there is what runs. Without /bin/sh, a copy is there to
 * read, and `run` stays the service's own.
 */
function keepRunAsRunUser(liveDir: string): void {
  const run = join(liveDir, 'run');
  const runUser = join(liveDir, 'run.user');
  if (!existsSync('/bin/sh')) {
    copyFileSync(run, runUser);
    return;
  }
  renameSync(run, runUser);
  chmodSync(runUser, 0o755);
  writeFileSync(run, '#!/bin/sh\n# As s6-rc-compile has it: the service\'s own run script is run.user.\nexec ./run.user "$@"\n', { mode: 0o755 });
}

async function longrunUp(services: ServiceSet, atomic: RcLongrun, abortSignal: AbortSignal, install: (atomic: RcLongrun) => void): Promise<TransitionResult> {
  const supervisor = services.supervisors.get(atomic.name);
  if (supervisor === undefined) return { ok: false, reason: 'it has no supervisor (internal error)' };
  try {
    install(atomic);
  } catch (error) {
    return { ok: false, reason: errorMessage(error) };
  }
  const waitReady = atomic.longrun.notificationFd !== null;
  supervisor.up();
  // From a permanent failure, the state says 'failed' until the new start is heard of. Taken
  // down meanwhile from outside the graph (steward stop, s6-svc -d of it while it started), it
  // will not get there: the transition fails then, rather than wait for ever and hold every
  // later change of it behind it.
  const reached = (status: ServiceStatus): boolean =>
    failedForGood(status) || cannotStart(status) || stoppedMeanwhile(status) || (waitReady ? status.state === 'ready' : status.pid !== null);
  const giveUp = new AbortController();
  const arrived = await raceWithLimits(supervisor.waitFor(reached, giveUp.signal), abortSignal, atomic.timeoutUpMs);
  // A wait that arrived has let go of the supervisor already; aborting costs an exception object.
  if (!arrived) giveUp.abort();
  if (arrived && cannotStart(supervisor.status)) {
    // Left to its supervisor's retries (a fix in place is picked up), but what depends on it
    // is not started and the stage-2 policy applies, rather than the boot waiting forever.
    return { ok: false, reason: `its run script ${atomic.longrun.runPath} cannot be executed (${supervisor.status.spawnError ?? 'error'}, see above)` };
  }
  // Left as it is, failed: its status says so rather than down.
  if (failedForGood(supervisor.status)) return { ok: false, reason: 'its finish script exited 125 (permanent failure)' };
  if (arrived && stoppedMeanwhile(supervisor.status)) return { ok: false, reason: 'it was stopped while it started' };
  if (arrived) return OK;
  if (abortSignal.aborted) {
    // S6_CMD_WAIT_FOR_SERVICES_MAXTIME (or the stop) ends the wait, not the start, as s6-rc -t
    // leaves the transitions under way: a slow first start (a migration, a paused container)
    // becomes ready afterwards instead of being killed. A stop takes it down with the rest.
    return { ok: false, reason: String(abortSignal.reason) };
  }
  // As s6-rc: a longrun that did not come up within its timeout-up is taken down again.
  supervisor.down();
  const what = waitReady ? 'ready (a newline on its notification-fd)' : 'up';
  return { ok: false, reason: `it was not ${what} after ${atomic.timeoutUpMs} ms (timeout-up)` };
}

/** No run, none starting, and not wanted up: taken down (or never to be restarted) meanwhile. */
function stoppedMeanwhile(status: ServiceStatus): boolean {
  return status.pid === null && !status.spawning && !status.wantUp && status.state !== 'finishing';
}

async function longrunDown(context: InitContext, services: ServiceSet, atomic: RcLongrun): Promise<TransitionResult> {
  // As s6-rc's `s6-svc -dwD`: within timeout-down when there is one, else as long as it takes
  // (a graceful drain on its down-signal may need more than a few seconds; S6_SERVICES_GRACETIME
  // is services.d's alone). Its supervisor escalates to SIGKILL after its timeout-kill.
  // A signal the kernel would refuse fails the stop at once, rather than wait for one that
  // cannot come: a change says why, and the shutdown goes on to its last stage.
  const pid = services.supervisors.get(atomic.name)?.status.pid ?? null;
  if (pid !== null && trySignal(pid, 0) === 'refused') {
    return { ok: false, reason: `not permitted to signal it (pid ${pid}): the kernel refused (EPERM). ${SIGNAL_PERMISSION_HINT}` };
  }
  const stillUp = await services.stopForGood([atomic.name], atomic.timeoutDownMs, context.shutdown.reason !== undefined);
  if (stillUp.length === 0) return OK;
  const what = services.describeStillUp(stillUp) === atomic.name ? 'still running' : 'its finish script still running';
  return { ok: false, reason: `${what} after ${atomic.timeoutDownMs} ms (timeout-down)` };
}
