import { basename } from 'node:path';

import type { Diagnostic } from '../diagnostic.js';
import { eachLegacyService, listScripts, type LegacyTree, type Script } from '../config/legacy.js';
import type { ScriptLook } from '../config/executable.js';
import type { TransitionResult } from '../graph/engine.js';
import type { LongrunDefinition } from '../model/service.js';
import type { InitContext } from './context.js';
import { envStage3Variables } from './env-stage3.js';
import { applyFixAttrs } from './fix-attrs.js';
import type { BuiltinStages } from './rc-runner.js';
import { copyFailure, installLiveService } from './runtime-dir.js';
import { removeIfPresent } from '../util/remove.js';
import { runScriptsStage } from './scripts-stage.js';
import type { ServiceSet } from './service-set.js';
import { counted } from '../util/counted.js';
import { nameClash } from './compile-services.js';
import { failedAfterItsOwnHalt, stageFailed } from './stage-failure.js';
import { depStartOrder, depWaitMs } from './dep-order.js';
import { asV2RanThem } from './v2-etc-links.js';
import { sayRunScriptLooks } from './run-script-looks.js';
import { cannotStart, SPAWN_RETRY_MS } from '../supervise/supervisor.js';

const OK: TransitionResult = { ok: true };

/**
 * S6_BEHAVIOUR_IF_STAGE2_FAILS for one stage: 0 carries on, 1 carries on with a
 * warning, 2 and above makes the stage fail, which blocks what depends on it and stops
 * the container once the bring-up is over.
 */
function judged(context: InitContext, stage: string, message: string): TransitionResult {
  const policy = context.settingsNow().behaviourIfStage2Fails;
  if (policy >= 1) context.reporter.warn(stage, message);
  return policy >= 2 ? { ok: false, reason: message } : OK;
}

/**
 * The scripts of cont-init.d or cont-finish.d as the directory holds them when the stage runs,
 * as s6-overlay's runners list it then (a script a cont-init.d script or a service put in
 * cont-finish.d runs at the stop), by the path s6-overlay runs them from: v2's
 * /var/run/s6/etc in an image made for v2. A directory that cannot be listed is said, and
 * counts as a failed script.
 */
function scriptsNow(context: InitContext, stage: 'cont-init' | 'cont-finish'): { scripts: readonly Script[]; unlisted: boolean } {
  const listing: Diagnostic[] = [];
  const scripts = listScripts(context.settings, stage === 'cont-init' ? 'contInit' : 'contFinish', listing);
  context.reporter.diagnostics(stage, listing);
  const unlisted = listing.some((diagnostic) => diagnostic.severity === 'error');
  return { scripts: context.overlayV2 ? asV2RanThem(scripts, `${stage}.d`, context.settings.runDir, context.layout.s6Dir) : scripts, unlisted };
}

/** A services.d service, not a logger (loggers have producers): ServiceSet.start brings the logger up with it. */
function isMainService(definition: LongrunDefinition): boolean {
  return definition.producers.length === 0;
}

function names(definitions: readonly LongrunDefinition[]): string[] {
  return definitions.map((definition) => definition.name);
}

/**
 * A services.d service whose name a service from elsewhere (s6-rc.d) already has: that one is
 * kept. This stage's own services, found again when it is brought up again, are not a clash.
 */
function clashingService(definitions: readonly LongrunDefinition[], services: ServiceSet): { name: string; sourceDir: string; otherSource: string } | undefined {
  for (const definition of definitions.filter(isMainService)) {
    const existing = services.supervisors.get(definition.name)?.definition;
    if (existing !== undefined && existing.sourceDir !== definition.sourceDir) return { name: definition.name, sourceDir: definition.sourceDir, otherSource: existing.sourceDir };
  }
  return undefined;
}

/**
 * Copies a services.d service to its live directory and starts it (and its logger). A copy that
 * fails (/run full) is made again, whole, at each try of a start until one succeeds, rather than
 * the service being run from what part of it was copied.
 */
function startLegacy(context: InitContext, services: ServiceSet, definition: LongrunDefinition): void {
  const { name } = definition;
  const install = (): void => {
    installLiveService(context.layout, name, definition.sourceDir, definition.liveDir);
    services.installed(name);
    if (definition.loggerName !== null) services.installed(definition.loggerName);
  };
  try {
    install();
  } catch (error) {
    const both = [name, definition.loggerName].flatMap((each) => services.supervisors.get(each ?? '') ?? []);
    let copied = false;
    const again = (): void => {
      if (copied) return;
      try {
        removeIfPresent(definition.liveDir);
        install();
      } catch (failure) {
        throw copyFailure(context.layout, definition.sourceDir, definition.liveDir, failure);
      }
      copied = true;
      // The other one's failed start waits no longer for its retry (the one copying is starting).
      for (const supervisor of both) supervisor.retryFailedStart();
    };
    // Whichever of the two starts first copies them both; its failure is said then. Neither
    // starts now (down files): said here, or nothing would tell of it before a steward start.
    for (const supervisor of both) supervisor.setInstallStep(again);
    if (both.every((supervisor) => supervisor.definition.startsDown)) {
      context.reporter.error('services-up', `${copyFailure(context.layout, definition.sourceDir, definition.liveDir, error).message}; it is copied again when it is started (steward start ${name})`);
    }
  }
  const readiness = definition.notificationFd === null ? ' (no readiness notification)' : '';
  context.reporter.info('services-up', `copying legacy longrun ${name}${readiness}`);
  services.start(name);
}

/** Why services cannot be started, in one phrase: their run scripts, their copies into /run, or both. */
function whyUnstartable(names: readonly string[], services: ServiceSet): string {
  const copies = names.filter((name) => services.supervisors.get(name)?.status.copyFailed === true).length;
  const one = names.length === 1;
  if (copies === 0) return one ? 'its run script cannot be executed' : 'their run scripts cannot be executed';
  if (copies === names.length) return one ? 'its copy into the runtime directory failed' : 'their copies into the runtime directory failed';
  return 'they cannot be started';
}

/** fix-attrs.d, cont-init.d, services.d and cont-finish.d, as s6-overlay's stage oneshots run them. */
export function legacyStages(context: InitContext, tree: LegacyTree, services: ServiceSet, scanServiceDir: () => void): BuiltinStages {
  let legacy: LongrunDefinition[] = [];
  // Those started after others by their .dep files, in that order: stopped first, in reverse.
  let startedAfter: string[] = [];
  return {
    async fixAttrs() {
      if (tree.fixAttrsFiles.length === 0) return OK;
      const stop = context.shutdown.signal;
      const applied = await applyFixAttrs(tree.fixAttrsFiles, context.settings.fixAttrsHidden, context.reporter, stop);
      // A turn of the event loop before cont-init.d starts: a signal that came during the
      // walk's last slice is heard first, and no script is started only to be stopped.
      await new Promise((resolve) => setImmediate(resolve));
      if (applied === 'stopped' || stop.aborted) return { ok: false, reason: String(stop.reason) };
      return applied ? OK : judged(context, 'fix-attrs', 'some fix-attrs.d lines could not be applied');
    },
    async contInit(abortSignal) {
      // s6-overlay v2 stops cont-init.d at the first script that fails, when a failure stops
      // the container, and the container ends with that script's exit code (jlesage's base
      // images report a bad setting that way); v3 runs them all and ends with 1.
      const v2Stop = context.overlayV2 && context.settingsNow().behaviourIfStage2Fails >= 2;
      const { scripts, unlisted } = scriptsNow(context, 'cont-init');
      const ran = await runScriptsStage(context, 'cont-init', scripts, { timeLimitMs: 0, abortSignal, stopAtFirstFailure: v2Stop });
      const { stoppedAt, failedAfterItsOwnHalt: ownHalt } = ran;
      const failures = ran.failures + (unlisted ? 1 : 0);
      if (abortSignal.aborted) {
        if (ownHalt !== undefined) failedAfterItsOwnHalt(context, 'cont-init', 'some scripts exited nonzero', v2Stop ? ownHalt.status : 1);
        return { ok: false, reason: String(abortSignal.reason) };
      }
      if (stoppedAt !== undefined) {
        // Its exit is said above with the others': this says what follows from it.
        const message = `the rest of cont-init.d is not run after ${basename(stoppedAt.path)}, and the container ends with its exit code, ${stoppedAt.status}, as under s6-overlay v2`;
        stageFailed(context, 'cont-init', message, stoppedAt.status);
        return { ok: false, reason: `${basename(stoppedAt.path)} exited ${stoppedAt.status}` };
      }
      return failures === 0 ? OK : judged(context, 'cont-init', 'some scripts exited nonzero');
    },
    async contFinish() {
      await runScriptsStage(context, 'cont-finish', scriptsNow(context, 'cont-finish').scripts, { timeLimitMs: context.settingsNow().killFinishMaxTimeMs, env: finishEnvironment(context) });
      return OK;
    },
    async legacyServicesUp(abortSignal) {
      // services.d as it is now, after cont-init.d, as s6-overlay copies it then: a
      // cont-init script may add a service, remove one or give it a down file. Each
      // service starts as soon as it is read. Services already supervised (the stage
      // brought up again) are kept.
      legacy = [];
      startedAfter = [];
      const after = new Map<string, readonly string[]>();
      let errors = false;
      // Looked at once the services are started (see eachLegacyService and sayRunScriptLooks).
      const runScriptLooks: ScriptLook[] = [];
      for (const entry of eachLegacyService(context.settings, { runScripts: 'later' })) {
        // Only a stop ends it midway: a boot time limit that runs out meanwhile cuts the wait below,
        // not the starts, as when they were all made in one go.
        if (context.shutdown.signal.aborted) break;
        const clash = clashingService(entry.definitions, services);
        const diagnostics = clash === undefined ? entry.diagnostics : [...entry.diagnostics, nameClash(clash.name, clash.sourceDir, clash.otherSource)];
        context.reporter.diagnostics('services-up', diagnostics);
        errors ||= diagnostics.some((diagnostic) => diagnostic.severity === 'error');
        if (clash !== undefined) continue;
        runScriptLooks.push(entry.runScriptProblems);
        services.load(entry.definitions.filter((definition) => !services.supervisors.has(definition.name)));
        legacy.push(...entry.definitions);
        const main = entry.definitions.find(isMainService);
        if (main !== undefined && entry.startsAfter.length > 0) {
          after.set(main.name, entry.startsAfter);
          continue;
        }
        for (const definition of entry.definitions.filter(isMainService)) startLegacy(context, services, definition);
        await services.startTurns.next();
      }
      // Said once the starts have settled (it never rejects): neither the rest of the stage nor
      // the CMD waits for them; the container's last lines do (see LateReports). The stage's
      // summary of broken entries comes with them when only they find one.
      const startedNow = legacy.filter((definition) => isMainService(definition) && !after.has(definition.name));
      const runScriptErrors = sayRunScriptLooks(context, services, 'services-up', names(startedNow), runScriptLooks);
      const summary = 'some services.d entries have errors (listed above); what can run runs';
      context.lateReports.add(
        runScriptErrors.then((found) => {
          if (found && !errors) context.reporter.warn('services-up', summary);
        }),
      );
      if (after.size > 0 && !context.shutdown.signal.aborted) startedAfter = await startInDepOrder(context, services, legacy, after, abortSignal);
      // Stopped between two turns: the rest of services.d is not started (what the looks found
      // about those that were is said first: they are quick once the stop is asked for).
      if (context.shutdown.signal.aborted) {
        await runScriptErrors;
        return { ok: false, reason: String(context.shutdown.signal.reason) };
      }
      // As s6-overlay's services-up ends with s6-svscanctl -a: a service directory that a
      // cont-init.d script, an s6-rc oneshot or the stage-2 hook put in the scan directory is
      // supervised now, and started unless it has a down file (not waited for, as there).
      scanServiceDir();
      // Reported above, and no failed boot whatever S6_BEHAVIOUR_IF_STAGE2_FAILS says: s6-overlay's
      // services.d stage never looks at run scripts (s6-supervise retries one it cannot run), and an
      // image that sets it (pihole) must not lose everything to an added service's lost x bit.
      if (errors) context.reporter.warn('services-up', summary);
      if (!context.settingsNow().cmdWaitForServices || legacy.length === 0) {
        await services.waitUntilSpawned(names(startedNow), abortSignal);
        if (abortSignal.aborted) return { ok: false, reason: String(abortSignal.reason) };
        return legacyServicesStarted(context);
      }
      const waitedFor = await services.waitUntilUp(names(legacy), abortSignal, 0);
      // A run script that cannot be executed is a broken entry, reported above and no failed boot
      // either: the CMD does not wait for it. (s6-overlay's s6-svwait -u would wait for it while
      // s6-supervise tries it again: until S6_CMD_WAIT_FOR_SERVICES_MAXTIME, forever by default,
      // with the CMD never started, or a stopped container when that time runs out.)
      const unstartable = waitedFor.filter((name) => {
        const status = services.supervisors.get(name)?.status;
        return status !== undefined && cannotStart(status);
      });
      if (unstartable.length > 0) {
        context.reporter.warn(
          'services-up',
          `not waiting for ${unstartable.join(', ')} (S6_CMD_WAIT_FOR_SERVICES=1): ${whyUnstartable(unstartable, services)} (see above); each start is tried again every ${SPAWN_RETRY_MS / 1000} s, from the copy under ${context.layout.s6Dir}`,
        );
      }
      const notUp = waitedFor.filter((name) => !unstartable.includes(name));
      if (notUp.length === 0) return legacyServicesStarted(context);
      if (abortSignal.aborted) return { ok: false, reason: `${String(abortSignal.reason)} while waiting for ${notUp.join(', ')}` };
      return judged(context, 'services-up', `some legacy longruns failed to start: ${notUp.join(', ')}`);
    },
    async legacyServicesDown() {
      if (legacy.length === 0) return OK;
      context.reporter.info('services-down', `stopping ${counted(legacy.filter(isMainService).length, 'legacy longrun')}`);
      const graceTimeMs = context.settingsNow().servicesGraceTimeMs;
      const final = context.shutdown.reason !== undefined;
      // What started after others stops first, one at a time in the reverse order (with its
      // logger), then the rest together, all within the one grace time.
      const deadline = context.clock.now() + graceTimeMs;
      // 0 is no limit, for stopForGood as for the setting.
      const left = (): number => (graceTimeMs === 0 ? 0 : Math.max(1, deadline - context.clock.now()));
      const stillUp: string[] = [];
      for (const name of [...startedAfter].reverse()) {
        const withLogger = legacy.filter((definition) => definition.name === name || definition.producers.includes(name));
        stillUp.push(...(await services.stopForGood(names(withLogger), left(), final)));
      }
      const stoppedFirst = new Set(startedAfter);
      const rest = legacy.filter((definition) => !stoppedFirst.has(definition.name) && !definition.producers.some((producer) => stoppedFirst.has(producer)));
      stillUp.push(...(await services.stopForGood(names(rest), left(), final)));
      if (stillUp.length === 0) return OK;
      const message = `still running after ${graceTimeMs} ms (S6_SERVICES_GRACETIME): ${services.describeStillUp(stillUp)}`;
      context.reporter.warn('services-down', message);
      return { ok: false, reason: message };
    },
  };
}

/**
 * Starts the services.d services that have `.dep` files (see dep-order.ts), each once the
 * services it names are up (ready, for one with readiness), each wait bounded by
 * S6_WAIT_FOR_SERVICE_MAXTIME; returns them in the order they were started.
 */
async function startInDepOrder(context: InitContext, services: ServiceSet, legacy: readonly LongrunDefinition[], after: ReadonlyMap<string, readonly string[]>, abortSignal: AbortSignal): Promise<string[]> {
  const known = new Set([...legacy.filter(isMainService).map((definition) => definition.name), ...services.supervisors.keys()]);
  const { order, waitsFor, unknown, circular } = depStartOrder(after, known);
  for (const [service, name] of unknown) context.reporter.warn('services-up', `${service} has ${name}.dep, but there is no service ${name}: not waited for`);
  if (circular.length > 0) context.reporter.warn('services-up', `the .dep files of ${circular.join(', ')} name each other in a circle: started last, in name order`);
  const waitMs = depWaitMs(process.env);
  const started: string[] = [];
  for (const name of order) {
    const definition = legacy.find((candidate) => candidate.name === name);
    if (definition === undefined || context.shutdown.signal.aborted) break;
    // What it names that has started (or never will: one in a circle with it is not waited for).
    const waitFor = (waitsFor.get(name) ?? []).filter((dependency) => !after.has(dependency) || started.includes(dependency));
    if (waitFor.length > 0) {
      const notUp = await services.waitUntilUp(waitFor, abortSignal, waitMs);
      if (context.shutdown.signal.aborted) break;
      if (notUp.length > 0) context.reporter.warn('services-up', `${notUp.join(', ')} not up after ${waitMs} ms (S6_WAIT_FOR_SERVICE_MAXTIME): starting ${name} anyway`);
    }
    startLegacy(context, services, definition);
    started.push(name);
  }
  return started;
}

/** cont-finish.d's environment, with the variables of s6-overlay v2's stage-3 environment (S6_STAGE2_EXITED), which every image has. */
function finishEnvironment(context: InitContext): NodeJS.ProcessEnv {
  const stage3 = Object.entries(envStage3Variables(context.layout.s6Dir));
  if (stage3.length === 0) return context.childEnv;
  const env = { ...context.childEnv };
  for (const [name, value] of stage3) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

/**
 * s6-overlay v3 prints this when services.d has been started, and tools and users wait for
 * it as the sign that the boot is done; it is the one internal stage whose line is kept. v2
 * printed its own (test harnesses and users' guides of v2 images wait for that one).
 */
function legacyServicesStarted(context: InitContext): TransitionResult {
  context.reporter.info('s6-rc', 'service legacy-services successfully started');
  if (context.overlayV2) context.reporter.verbatim('[services.d] done.');
  return OK;
}
