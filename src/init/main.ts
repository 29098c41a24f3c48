import { readSettings } from '../config/settings.js';
import { errorMessage } from '../errors.js';
import { Reporter } from '../log/reporter.js';
import { realClock } from '../supervise/clock.js';
import { becomeChildSubreaper } from '../sys/ffi/children.js';
import { isTerminal } from '../sys/ffi/descriptors.js';
import { hasControllingTerminal, INIT_PROCESS_TITLE, pid1DroppingTerm } from '../sys/proc.js';
import { canPosixSpawn } from '../sys/ffi/spawn.js';
import { posixProcessPort } from '../sys/posix-port.js';
import { Reaper } from '../sys/reaper.js';
import { sendSignal } from '../sys/signals.js';
import { takeHeldSignals } from '../sys/held-signals.js';
import { createNodeProcessPort, type StdioTarget } from '../sys/spawn.js';
import { childStdio, guardStandardStreams, stderrFlushed, writeStderr } from '../sys/stdio.js';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { haltCommand } from './halt-command.js';
import { shieldFromOom } from './oom-shield.js';
import { imageLacks } from './image-requirements.js';
import { ensureExecutableRun, prepareWritableRun, startCatchAll } from './output.js';
import { boot, type Stage2 } from './boot.js';
import { raceWithLimits } from '../util/race.js';
import type { InitContext } from './context.js';
import { environmentFormatFor, fixPath, processEnvironment, writeContainerEnvironment } from './environment.js';
import { liveSettings } from './live-settings.js';
import { freezeEnvStage3 } from './env-stage3.js';
import { noteRunOwner, prepareRuntimeDir, RUNTIME_DIR_UNUSABLE_EXIT, runtimeLayout, writeExitCode } from './runtime-dir.js';
import { startAgainWithoutNodeOptions } from './node-options-restart.js';
import { LateReports } from './late-reports.js';
import { linkCommandsAtBoot } from './shims.js';
import { ensureVarRunLink } from './var-run.js';
import { isOverlayV2Etc } from './overlay-v2.js';
import { superviseV2BaseServices } from './v2-base-services.js';
import { linkV2UserDirs } from './v2-etc-links.js';
import { prepareV2Scripts } from './v2-permissions.js';
import { closeEarlyInspector, nodeOptionWords } from './early-inspector.js';
import { SuperviseNames } from './supervise-names.js';
import { ServiceSet } from './service-set.js';
import { ServiceScanner } from './scan.js';
import { startS6SuperviseDirs } from './s6-supervise.js';
import { controlTarget, startControlPlane, startProbeEndpoint, stewardAlreadyServing } from './control-plane.js';
import { shutdown } from './shutdown.js';
import { describeReason, ShutdownRequest } from './shutdown-request.js';
import { INTERNAL_ERROR_EXIT, installLastResort } from './last-resort.js';
import { killDescendants } from '../sys/kill-tree.js';
import { reportRefusedSignals } from './refused-signals.js';
import { socketPath } from '../control/client.js';

/**
 * How long a shutdown waits for an interrupted boot to return, beyond S6_KILL_GRACETIME: a
 * script the boot was running (cont-init, a oneshot, the hook) got SIGTERM, and SIGKILL that
 * long after, so the boot is over by then. cont-finish.d must not run beside a cont-init
 * script, as s6-rc waits for the transition under way. The margin only bounds a wait on the
 * kernel.
 */
const BOOT_SETTLE_MARGIN_MS = 2000;

/**
 * When the control socket is answered at the latest: once the boot's starts have gone out and
 * settled (see StartsSettling: loading Node's net module takes the CPU from the new processes),
 * or this long after it was bound, if a long run of starts (hundreds of services) is still going.
 */
const CONTROL_ANSWERED_AT_LATEST_MS = 250;
/** How long after the boot what follows it waits, at most, for the boot's starts to settle (see StartsSettling). */
const AFTER_BOOT_SETTLED_AT_LATEST_MS = 250;
/** How long the stop waits, at most, for what the boot still had to say (see LateReports). */
const LATE_REPORTS_MS = 2000;
/** When to look for a debugger an early SIGUSR1 opened, at the latest (see closeEarlyInspector). */
const EARLY_INSPECTOR_CHECK_MS = 1000;
/** How long the last stage waits, at most, for the clients answered during the stop to read their answers. */
const ANSWER_READING_MS = 1000;

/**
 * The container entrypoint. Every argument is the container's command, as with
 * s6-overlay's /init. The only place that calls process.exit.
 */
async function main(command: readonly string[]): Promise<number> {
  // Node's command line holds the CMD's words (node /init nginx ...), where s6-overlay's PID 1 is
  // s6-svscan: a run script's `pkill -f nginx:` or `pkill node` meant for a service would stop
  // the container. A name of its own, in /proc/PID/cmdline and comm alike (within the 11 bytes
  // of the shortest command line, node /init); process.argv keeps the CMD.
  process.title = INIT_PROCESS_TITLE;
  // As s6-overlay's stage 1 (s6-linux-init) sets it for the whole tree, whatever the runtime gave.
  process.umask(0o022);
  const workdir = process.cwd();
  const { settings, diagnostics: settingProblems } = readSettings(process.env);
  const reporter = new Reporter(settings.verbosity);
  const isPid1 = process.pid === 1;
  const shutdownRequest = new ShutdownRequest();
  // Output that cannot be written (a closed pipe) must not become a crash of PID 1.
  guardStandardStreams();
  reportRefusedSignals(reporter);
  // SIGHUP rescans the scan directory, as it makes s6-svscan do, once there is one to scan.
  let onHangup = (): void => reporter.debug('steward', 'SIGHUP before the boot: nothing to scan yet');
  // An image made for s6-overlay v2: its scripts expect v2's scan directory, stage-3
  // environment and the arguments of the s6 that v2 ships, and its signals are v2's.
  const overlayV2 = isOverlayV2Etc(settings.imageEtcDir);
  installSignalHandlers(reporter, shutdownRequest, settings.cmdReceiveSignals, overlayV2, () => (commandRunning ? commandPid : undefined), () => onHangup());
  installLastResort(reporter, shutdownRequest, () => {
    // The failure is in the shutdown itself: kill what is left and leave.
    killWhatIsLeft();
    process.exit(INTERNAL_ERROR_EXIT);
  });

  if (!isPid1) {
    // PID 1 is alone in its namespace; anywhere else, another Steward may serve this /run already.
    const socket = socketPath(process.env, settings.runDir);
    if (await stewardAlreadyServing(socket)) {
      reporter.error(
        'steward',
        `another Steward runs this container already (its control socket ${socket} answers): a second one would run cont-init again, start every service twice and take /run over. To run a command in the container, run it directly (docker exec CONTAINER COMMAND); as the image's CMD, give the program, not /init`,
      );
      return RUNTIME_DIR_UNUSABLE_EXIT;
    }
    const subreaper = becomeChildSubreaper();
    reporter.info(
      'steward',
      subreaper
        ? `running as pid ${process.pid}, not 1: acting as a child subreaper, so orphans are still reaped here`
        : `running as pid ${process.pid}, not 1, and cannot become a subreaper: orphans go to the real init`,
    );
    // s6-overlay refuses to run here; Steward runs, but a stop would never reach it.
    const parent = pid1DroppingTerm();
    if (parent !== undefined) {
      reporter.warn(
        'steward',
        `PID 1 (${parent}) started Steward without exec and has no handler for SIGTERM (a shell-form ENTRYPOINT, or a wrapper script that runs /init without exec): the kernel drops docker stop's SIGTERM there, so the container is killed when the stop times out, with no graceful stop. Use the exec form, ENTRYPOINT ["/init"], or exec /init in the wrapper`,
      );
    }
  }
  reporter.diagnostics('steward', settingProblems);
  const reaper = new Reaper();
  reaper.start();
  const port = shieldFromOom(canPosixSpawn() ? posixProcessPort(reaper) : createNodeProcessPort(await import('node:child_process')), settings, reporter);

  // As s6-overlay's preinit, before anything uses it: many scripts reach /run through /var/run.
  // With the real /run only (behind docker run --init or tini too), as /command is linked.
  if (settings.runDir === '/run') ensureVarRunLink(reporter);
  const layout = runtimeLayout(settings.runDir);
  const path = fixPath(process.env['PATH']);
  const containerEnv = { ...process.env, PATH: path };
  let runNotExecutable: string | undefined;
  try {
    await prepareWritableRun(settings, reporter);
    prepareRuntimeDir(layout, process.pid, workdir, haltCommand(existsSync('/bin/sh')), overlayV2);
    if (settings.runDir === '/run') noteRunOwner(layout, reporter, overlayV2);
    runNotExecutable = await ensureExecutableRun(settings, reporter);
    if (!settings.keepEnv) {
      for (const name of writeContainerEnvironment(layout.containerEnvironment, containerEnv, environmentFormatFor())) {
        reporter.warn('steward', `the variable ${name.slice(0, 40)}... (a name of ${Buffer.byteLength(name)} bytes) is not in ${layout.containerEnvironment}: no file name may be longer than 255 bytes, so with-contenv cannot give it; shorten its name, or set S6_KEEP_ENV=1 to pass the environment on as it is`);
      }
    }
  } catch (error) {
    reporter.error('steward', errorMessage(error));
    return RUNTIME_DIR_UNUSABLE_EXIT;
  }
  // Before the scripts are read, as v2's stage 2 did before fix-attrs.d (on a read-only root, in a copy in /run).
  const legacySettings = overlayV2 ? prepareV2Scripts(settings, layout.s6Dir, reporter) : settings;
  linkV2UserDirs(legacySettings.legacyEtcDir ?? legacySettings.etcDir, layout.s6Dir, reporter);
  const catchAll = startCatchAll(settings, reporter, process.env);
  // /command/with-contenv and friends, unless the image has its own (read-only roots: steward install).
  // Only with the real /run: a STEWARD_RUN elsewhere means a test or development run on a host.
  if (settings.runDir === '/run') {
    linkCommandsAtBoot('/command', reporter);
  }
  process.chdir('/');

  const childEnv = processEnvironment(settings.keepEnv, containerEnv, path);
  // Shims find the envdir through this when the runtime directory is not /run.
  if (settings.runDir !== '/run') childEnv['STEWARD_RUN'] = settings.runDir;
  // And the control socket, when it is elsewhere: s6-svc, steward and the shims in run scripts use it.
  const socket = process.env['STEWARD_SOCKET'];
  if (socket !== undefined && socket !== '') childEnv['STEWARD_SOCKET'] = socket;
  // Every service and script shares it; frozen, it is converted for posix_spawn only once.
  Object.freeze(childEnv);
  const context: InitContext = {
    settings: legacySettings,
    settingsNow: liveSettings(legacySettings, containerEnv, settings.keepEnv ? null : layout.containerEnvironment, (diagnostics) => reporter.diagnostics('steward', diagnostics)),
    reporter,
    layout,
    port,
    clock: realClock,
    reaper,
    shutdown: shutdownRequest,
    childEnv,
    isPid1,
    overlayV2,
    workdir,
    output: catchAll === undefined ? childStdio() : catchAllStdio(catchAll.writeFd),
    ...(runNotExecutable === undefined ? {} : { runNotExecutable }),
    lateReports: new LateReports(),
    ...(catchAll === undefined ? {} : { drainOutput: () => catchAll.drain() }),
  };

  const services = new ServiceSet(port, realClock, childEnv, reporter, context.output, overlayV2 ? 's6-2.10' : 'current');

  const startedAt = realClock.now() - process.uptime() * 1000;
  let stage2: Stage2 | undefined;
  // Until the boot returns, the probes say not ready (cont-init, oneshots, services starting).
  let bootDone = false;
  // Resolved once the boot returned, however: waits named before their service was read wait for it.
  let markBootOver = (): void => undefined;
  const bootOver = new Promise<void>((resolve) => {
    markBootOver = resolve;
  });
  const scanner = new ServiceScanner(context, services);
  let saidNothingNew = false;
  onHangup = () => {
    if (shutdownRequest.reason !== undefined) return;
    const outcome = scanner.scan(true);
    for (const problem of outcome.problems) reporter.warn('scan', problem);
    if (outcome.added.length === 0 && outcome.pruned.length === 0) {
      // Said once: a script sending SIGHUP in a loop must not fill the log (s6-svscan says nothing).
      if (saidNothingNew) reporter.debug('steward', `SIGHUP: scanned ${layout.serviceDir}, nothing new`);
      else reporter.info('steward', `SIGHUP: scanned ${layout.serviceDir}, nothing new (said once; later scans that find nothing are debug lines)`);
      saidNothingNew = true;
    }
  };
  const target = controlTarget(context, services, startedAt, () => stage2?.engine, { done: () => bootDone, over: bootOver }, scanner);
  const superviseDirs = startS6SuperviseDirs(context, target, services, settings.s6Supervise, overlayV2);
  // Not awaited: the socket is bound at once (in a 0700 directory), before any service
  // starts, since run scripts may call s6-svwait or steward at their first line; the rest
  // finishes while the boot goes on.
  const controlStarted = startControlPlane(context, target, process.env, () => services.settling.whenSettled(CONTROL_ANSWERED_AT_LATEST_MS));
  const probesStarted = startProbeEndpoint(context, target, process.env);
  if (overlayV2) superviseV2BaseServices(settings.etcDir, layout.serviceDir, scanner, reporter);

  let commandPid: number | undefined;
  let commandRunning = true;
  const hooks = {
    built: (built: Stage2): void => {
      stage2 = built;
    },
    commandExited: (): void => {
      commandRunning = false;
    },
    scanServiceDir: (): void => {
      for (const problem of scanner.scan(false).problems) reporter.warn('scan', problem);
    },
  };
  // What follows the boot and serves none of its services (the checks below, the s6-supervise
  // stand-in) waits for the boot's starts to settle too, as the looks at run scripts do.
  const bootSettled = bootOver.then(() => services.settling.whenSettled(AFTER_BOOT_SETTLED_AT_LATEST_MS));
  const booted = boot(context, services, command, hooks).then(
    (pid) => {
      bootDone = true;
      markBootOver();
      // Off the start-up path: what Steward's own commands need of the image.
      bootSettled
        .then(() => {
          for (const lack of imageLacks(childEnv['PATH'])) reporter.warn('steward', `${lack.what}. ${lack.hint}`);
        })
        .catch(() => undefined);
      commandPid = pid;
      if (pid !== undefined && settings.cmdReceiveSignals) writeFileSync(join(layout.s6Dir, 'cmdpid'), `${pid}\n`);
    },
    (error: unknown) => {
      markBootOver();
      reporter.error('steward', `boot failed: ${errorMessage(error)}`);
      shutdownRequest.request({ kind: 'internal-error', message: errorMessage(error) });
    },
  );

  // The s6-supervise stand-in (a process to start), off the start-up path.
  const superviseNames = new SuperviseNames(context);
  superviseNames.follow(services, bootSettled);

  // Off the start-up path: a SIGUSR1 that came before the entry point ran may have opened Node's debugger.
  // Once the boot is over (loading node:inspector takes a few milliseconds), or a second in at the latest when it takes longer.
  Promise.race([bootSettled, new Promise((resolve) => setTimeout(resolve, EARLY_INSPECTOR_CHECK_MS).unref())])
    .then(() => closeEarlyInspector(reporter, shutdownRequest, !overlayV2, [...process.execArgv, ...nodeOptionWords(nodeOptionsOfThisNode)]))
    .catch(() => undefined);

  // Nothing else may be pending (services asleep, no control socket): waiting for children and
  // signals is this process's work, and Node must not leave an event loop it thinks is empty.
  const stayAlive = setInterval(() => undefined, 1 << 30);
  const reason = await shutdownRequest.requested;
  // Said at once, before the interrupted boot reports what it left unstarted.
  reporter.info('steward', `stopping the container: ${describeReason(reason)}`);
  if (reason.kind === 'internal-error') writeExitCode(layout, INTERNAL_ERROR_EXIT);
  freezeEnvStage3(layout.s6Dir);
  // From now on a service that exits is not started again: it is about to be stopped anyway, and
  // a restart would run it only to kill it, and run its finish script twice (the second time
  // with a SIGTERM that could overwrite the exit code the first one wrote).
  services.noMoreRestarts();
  superviseNames.close();
  // Boot notices the request at once (every wait in it listens); let it get out of the way. A
  // boot script that ran halt itself has a grace before its TERM, and another before its KILL.
  const graces = reason.kind === 'halt' && reason.fromSession !== undefined ? 2 : 1;
  await raceWithLimits(booted, new AbortController().signal, graces * settings.killGraceTimeMs + BOOT_SETTLE_MARGIN_MS);
  // What the boot still had to say (the looks at run scripts, at once now that the stop is asked).
  await raceWithLimits(context.lateReports.settled(), new AbortController().signal, LATE_REPORTS_MS);
  // Services a scan added belong to no stage: they get their down-signal (and finish) here,
  // as s6-overlay's shutdown prunes the scan directory, rather than only the last stage's TERM.
  if (scanner.added.length > 0) await services.stopForGood(scanner.added, context.settingsNow().servicesGraceTimeMs, true);
  const code = await shutdown(context, stage2, services, async () => (await controlStarted)?.answeredClientsGone(ANSWER_READING_MS));
  superviseDirs?.close();
  clearInterval(stayAlive);
  await (await controlStarted)?.close();
  (await probesStarted)?.close();
  catchAll?.close();
  return code;
}

/** stdout and stderr of every child on the catch-all pipe, each child with an open file of its own (see FreshPipe). */
function catchAllStdio(writeFd: number): { stdout: StdioTarget; stderr: StdioTarget } {
  const fresh = { freshFrom: writeFd, fallback: writeFd };
  return { stdout: fresh, stderr: fresh };
}

/**
 * PID 1 gets no default signal actions, so every signal that matters is handled here.
 * See the signals table in the README.
 */
function installSignalHandlers(reporter: Reporter, request: ShutdownRequest, toCommand: boolean, overlayV2: boolean, runningCommand: () => number | undefined, onHangup: () => void): void {
  const stop = (signal: NodeJS.Signals): void => {
    // S6_CMD_RECEIVE_SIGNALS: while the CMD runs, these are its; the container stops when it exits.
    const pid = toCommand ? runningCommand() : undefined;
    if (pid !== undefined) {
      sendSignal(pid, signal);
      return;
    }
    const kind = signal === 'SIGUSR2' ? ({ kind: 'halt' } as const) : ({ kind: 'signal', signal } as const);
    if (request.request(kind) || saidStopping.has(signal)) return;
    // Once for each signal: a storm of them during the stop must not fill the log.
    saidStopping.add(signal);
    reporter.info('steward', `received ${signal}: already stopping`);
  };
  const saidStopping = new Set<NodeJS.Signals>();
  const handlers = new Map<NodeJS.Signals, () => void>();
  handlers.set('SIGTERM', () => stop('SIGTERM'));
  for (const signal of ['SIGUSR1', 'SIGUSR2', 'SIGPWR'] as const) {
    handlers.set(signal, () => {
      // s6-overlay v3's poweroff and halt. v2's PID 1 is s6-svscan, which catches neither
      // (without -s): an image made for v2 never stopped on them.
      if (overlayV2) reporter.info('steward', `ignoring ${signal}, as s6-overlay v2 does: this image is made for it`);
      else stop(signal);
    });
  }
  handlers.set('SIGINT', () => {
    // S6_CMD_RECEIVE_SIGNALS: the CMD's, terminal or not, as s6-overlay's CMDSIG forwards it.
    if (toCommand && runningCommand() !== undefined) {
      stop('SIGINT');
      return;
    }
    // With a terminal, Ctrl-C reaches the CMD directly (same foreground group): let it decide.
    if (isTerminal(0) && runningCommand() !== undefined) {
      reporter.debug('steward', 'SIGINT from the terminal is left to the command');
      return;
    }
    stop('SIGINT');
  });
  // s6-svscan's rescan, S6_CMD_RECEIVE_SIGNALS or not: s6-overlay diverts only TERM, QUIT, INT,
  // USR1, USR2, PWR and WINCH to the CMD.
  handlers.set('SIGHUP', onHangup);
  // Forwarded to a running CMD (apache2-foreground's graceful stop is WINCH, php-fpm's QUIT).
  // Without one, they can only be a stop: STOPSIGNAL is SIGQUIT in the official php-fpm images
  // and SIGWINCH in the php-apache ones, which s6-overlay ignores until docker's KILL. But a
  // WINCH also comes from a terminal being resized: with a controlling terminal it is taken
  // for that, neither a stop nor the CMD's (one in Steward's group got it from the terminal
  // already; one in a session of its own, s6-setsid apache2-foreground, must not take a resize
  // for a graceful stop), unless S6_CMD_RECEIVE_SIGNALS makes every WINCH the CMD's.
  for (const signal of ['SIGQUIT', 'SIGWINCH'] as const) {
    handlers.set(signal, () => {
      const pid = runningCommand();
      if (signal === 'SIGWINCH' && !(toCommand && pid !== undefined) && hasControllingTerminal()) {
        reporter.debug('steward', 'ignoring SIGWINCH: a terminal was resized');
        return;
      }
      if (pid !== undefined) {
        sendSignal(pid, signal);
        return;
      }
      stop(signal);
    });
  }
  for (const [signal, handler] of handlers) process.on(signal, handler);
  // What came while the bundle loaded (a `docker stop` right after the start) is handled now.
  for (const signal of takeHeldSignals()) {
    reporter.debug('steward', `${signal} came during start-up`);
    handlers.get(signal)?.();
  }
}

/** How long the exit waits, at most, for Steward's last lines to get through a full log pipe. */
const OUTPUT_FLUSH_MS = 2000;

/**
 * Before an exit that skipped the stop's last stage (a failure in the stop itself): as PID 1,
 * every process of the namespace; as a subreaper, its own descendants, which would otherwise
 * be left to the init above Steward, still running, once the container is said to have ended.
 */
function killWhatIsLeft(): void {
  if (process.pid === 1) sendSignal(-1, 'SIGKILL');
  else killDescendants((message) => writeStderr(`steward: error: ${message}\n`));
}

/** Runs the init, and exits with its code. */
function run(): void {
  main(process.argv.slice(2))
    .catch((error: unknown) => {
      writeStderr(`steward: error: ${errorMessage(error)}\n`);
      killWhatIsLeft();
      return INTERNAL_ERROR_EXIT;
    })
    .then(async (code) => {
      await stderrFlushed(OUTPUT_FLUSH_MS);
      process.exit(code);
    })
    .catch(() => process.exit(INTERNAL_ERROR_EXIT));
}

// With no start again to make first, the init runs at once, in this turn of the event loop.
const restarting = startAgainWithoutNodeOptions((message) => writeStderr(`steward: warning: ${message}\n`));
// What NODE_OPTIONS this Node itself runs with: none after the start again (process.env has it
// back, for what Steward runs), the container's when that start failed.
const nodeOptionsOfThisNode = restarting === undefined ? '' : (process.env['NODE_OPTIONS'] ?? '');
if (restarting === undefined) run();
else void restarting.then(run);
