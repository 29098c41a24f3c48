import { descendantsOrNone, killDescendants } from '../sys/kill-tree.js';
import { sendSignal } from '../sys/signals.js';
import type { InitContext } from './context.js';
import { enteredProcessesEnded, enteredProcessesLeft } from './entered-processes.js';
import { scriptStage2Exit } from './env-stage3.js';
import { readExitCode, writeHaltCode } from './runtime-dir.js';
import { raceWithLimits } from '../util/race.js';
import type { Stage2 } from './boot.js';
import { syncDisks } from './sync.js';
import type { ServiceSet } from './service-set.js';
import type { ServiceSupervisor } from '../supervise/supervisor.js';

/** After SIGKILL nothing can resist; this only bounds a wait on the kernel. */
const AFTER_KILL_WAIT_MS = 2000;

/**
 * Stops the container, in s6-overlay's order, and returns the exit code:
 *   1. the service graph comes down in reverse dependency order: services.d and s6-rc
 *      longruns get their down-signal (within S6_SERVICES_GRACETIME and timeout-down),
 *      oneshots run their down scripts, and cont-finish.d runs (each script within
 *      S6_KILL_FINISH_MAXTIME) once the services that depend on base are down;
 *   2. every remaining process gets SIGTERM, then SIGKILL after S6_KILL_GRACETIME, those that
 *      entered the container from outside (docker exec) included.
 * Each wait ends as soon as there is nothing left to wait for.
 */
export async function shutdown(context: InitContext, stage2: Stage2 | undefined, services: ServiceSet, beforeLastStage?: () => Promise<void>): Promise<number> {
  const { reporter } = context;
  await stage2?.engine.bringDown();
  // What is still supervised now (flag-essential longruns, a service the graph could not stop)
  // dies in the last stage, as under s6-overlay, whose supervisors are gone by then: it must
  // not be restarted when it exits (again: a boot cut short may have started one since the
  // stop began). Its finish script still runs if the SIGTERM ends it, not after the SIGKILL.
  services.noMoreRestarts();
  // Where s6-linux-init-shutdownd writes it, before the last TERM: a CMD's handler may read it.
  writeHaltCode(context.layout, context.shutdown.haltCode());
  context.shutdown.enterLastStage();
  // An answer given during the stop (an s6-rc change the stop overtook) is read before the
  // last TERM, which the client then holds while it finishes (see the control client): as
  // under s6-overlay, whose stop waits for that change, the change exits with its own code.
  await beforeLastStage?.();
  await terminateEverything(context, services);
  // Nothing writes to the catch-all pipe any more: what it holds comes before the last lines.
  context.drainOutput?.();
  if (context.settings.syncDisks) await syncDisks(context);
  // An image made for s6-overlay v2 sets it as v2 reads it, in its stage-3 environment.
  const v2Exit = scriptStage2Exit(context.layout.s6Dir);
  if (v2Exit !== undefined) {
    if (v2Exit.problem === undefined) reporter.info('steward', `exiting with code ${v2Exit.code} (from ${v2Exit.from})`);
    else reporter.error('steward', v2Exit.problem);
    return v2Exit.code;
  }
  const result = readExitCode(context.layout);
  if ('problem' in result) {
    reporter.error('steward', `${result.problem}; exiting with 1. Write a number from 0 to 255 there`);
    return 1;
  }
  reporter.info('steward', `exiting with code ${result.code}`);
  return result.code;
}

function finishing(services: ServiceSet): ServiceSupervisor[] {
  return [...services.supervisors.values()].filter((supervisor) => supervisor.status.state === 'finishing');
}

/**
 * SIGTERM to every process left, SIGKILL after the grace time, done as soon as none is left.
 * A supervised service that dies of the TERM has its finish script started right after, from
 * another thread: "no children" can last a moment only. Those scripts are waited for within
 * the same grace time, rather than killed as soon as they appear.
 */
async function terminateEverything(context: InitContext, services: ServiceSet): Promise<void> {
  const { reporter, reaper, settings, clock } = context;
  reaper.reap();
  // As PID 1, the processes entered from outside (docker exec) are the container's too: they
  // get the TERM and their grace time, and a stop with nothing else left still waits for them.
  const entered = (): boolean => context.isPid1 && enteredProcessesLeft();
  if (!reaper.hasChildren() && finishing(services).length === 0 && !entered()) return;
  reporter.info('steward', 'sending all processes the TERM signal');
  signalEverything(context, 'SIGTERM');
  signalEverything(context, 'SIGCONT');
  const never = new AbortController().signal;
  const deadline = clock.now() + settings.killGraceTimeMs;
  const left = (): number => Math.max(1, deadline - clock.now());
  // Until nothing is left, within the grace time. Each round waits for Steward's own children
  // (and the finish scripts their deaths start), then for the entered processes, once Steward's
  // are gone and /proc is short (listing it beside hundreds of dying services would delay their
  // collection). What an entered process started and left when it ended (a docker exec'd
  // shell's backup) is Steward's child by then: the next round waits for it.
  for (;;) {
    await raceWithLimits(reaper.whenNoChildren(), never, left());
    for (let busy = finishing(services); busy.length > 0 && clock.now() < deadline; busy = finishing(services)) {
      await raceWithLimits(Promise.all(busy.map((supervisor) => supervisor.waitFor((status) => status.state !== 'finishing'))), never, left());
      await raceWithLimits(reaper.whenNoChildren(), never, left());
    }
    if (context.isPid1) await enteredProcessesEnded(clock, deadline);
    reaper.reap();
    if (!reaper.hasChildren() && !entered()) return;
    if (clock.now() >= deadline) break;
  }
  reporter.info('steward', 'sending all processes the KILL signal');
  // As under s6-overlay, whose supervisors this kill ends too: a service it kills runs no
  // finish script, so one that reports deaths by signal cannot turn a stop into exit 137.
  services.skipFinishScripts();
  if (context.isPid1) signalEverything(context, 'SIGKILL');
  else killDescendants(cannotList(context));
  await raceWithLimits(reaper.whenNoChildren(), never, AFTER_KILL_WAIT_MS);
  if (!context.isPid1) reportSurvivors(context);
}

/** Processes that outlive Steward go to the init above it: said, rather than left unnoticed. */
function reportSurvivors(context: InitContext): void {
  const left = descendantsOrNone('SIGKILL', cannotList(context));
  if (left.length === 0) return;
  context.reporter.warn('steward', `${left.length} processes outlived the KILL signal and are left to the init above Steward: ${left.slice(0, 20).join(' ')}`);
}

function signalEverything(context: InitContext, signal: NodeJS.Signals): void {
  if (context.isPid1) {
    // As PID 1, -1 reaches every process in the namespace but ourselves.
    sendSignal(-1, signal);
    return;
  }
  // As a subreaper, only our own descendants: -1 would hit the whole host.
  for (const pid of descendantsOrNone(signal, cannotList(context))) sendSignal(pid, signal);
}

/** Where the stop says it could not list the processes left. */
function cannotList(context: InitContext): (message: string) => void {
  return (message) => context.reporter.error('steward', message);
}
