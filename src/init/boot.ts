import { setMaxListeners } from 'node:events';
import { basename } from 'node:path';

import { skarnetInstallHint } from '../config/executable.js';
import { countLegacyServices, type LegacyTree } from '../config/legacy.js';
import { errorMessage } from '../errors.js';
import { closure } from '../graph/compile.js';
import { Engine } from '../graph/engine.js';
import type { RcLongrun } from '../model/rc.js';
import { describeTermination, shellStatus } from '../supervise/exit.js';
import { isTerminal } from '../sys/ffi/descriptors.js';
import { executableFile, findExecutable } from '../sys/which.js';
import { signalNumber } from '../sys/signals.js';
import { VERSION } from '../version.js';
import { compileServices } from './compile-services.js';
import type { InitContext } from './context.js';
import { engineReports, reportBoot } from './engine-reports.js';
import { rcRunner } from './rc-runner.js';
import { sayRunScriptLooks } from './run-script-looks.js';
import { RUNTIME_DIR_UNUSABLE_EXIT, writeExitCode } from './runtime-dir.js';
import type { ServiceSet } from './service-set.js';
import { commandRetryDelay, resourceShortage, whyNotExecutable } from './spawn-failure.js';
import { stageFailed } from './stage-failure.js';
import { abortAfter } from '../util/abort.js';
import { legacyStages } from './stages.js';
import { runStage2Hook } from './stage2-hook.js';

export interface BootHooks {
  /** The graph is compiled: the shutdown takes it down again. */
  readonly built: (stage2: Stage2) => void;
  /** The CMD has exited (or could not start). */
  readonly commandExited: () => void;
  /**
   * services.d has been started: the scan of /run/service that s6-overlay's services-up
   * (v2's stage 2) ends with, which supervises what the boot put there besides.
   */
  readonly scanServiceDir: () => void;
}

/** What boot built, which the shutdown takes down again. */
export interface Stage2 {
  readonly tree: LegacyTree;
  readonly engine: Engine;
}

/**
 * Stage 2, as s6-overlay's rc.init: the stage-2 hook, then the service definitions are
 * read (after the hook, which may change them) and brought up as one graph, `top`:
 * fix-attrs.d, cont-init.d, the s6-rc.d services and services.d, in dependency order.
 * Then the CMD. A shutdown request stops it between (and inside) steps. Resolves with
 * the CMD's pid once it runs, or undefined when there is none.
 */
export async function boot(context: InitContext, services: ServiceSet, command: readonly string[], hooks: BootHooks): Promise<number | undefined> {
  const { reporter, shutdown } = context;
  if (!(await runStage2Hook(context))) return undefined;
  if (shutdown.signal.aborted) return undefined;
  // S6_CMD_WAIT_FOR_SERVICES_MAXTIME bounds the whole bring-up, cont-init included, as s6-rc -t
  // does; from after the hook, which s6-overlay's rc.init runs before it reads the limit.
  const maxTimeMs = context.settingsNow().cmdWaitForServicesMaxTimeMs;
  const bootLimit = abortAfter(shutdown.signal, maxTimeMs, `S6_CMD_WAIT_FOR_SERVICES_MAXTIME (${maxTimeMs} ms) reached`);
  const bootSignal = bootLimit.signal;
  // Every transition listens to it.
  setMaxListeners(0, bootSignal);

  // services.d is read when its stage runs, after cont-init.d (see legacyStages).
  const compiled = compileServices(context.settings, process.env, { legacyServices: false, runScripts: 'later' });
  reporter.info('steward', `Steward ${VERSION} (pid ${process.pid}): ${compiled.summary}`);
  reporter.diagnostics('steward', compiled.diagnostics);
  if (compiled.stagesLeftOut.length > 0) {
    reporter.info('steward', `the image's copy of s6-overlay's sources leaves out ${compiled.stagesLeftOut.join(', ')}: not run, as under s6-overlay`);
  }
  if (compiled.graphErrors) {
    // Nothing starts: the whole list now, the run scripts' problems with the rest.
    reporter.diagnostics('steward', compiled.runScriptLooks.flatMap((look) => look()));
    reporter.error('steward', 'the s6-rc service definitions have errors (listed above), so nothing can start in a reliable order; stopping the container. Run steward check to list them');
    if (shutdown.reason === undefined) writeExitCode(context.layout, 1);
    shutdown.request({ kind: 'boot-failure', status: 1, message: 'the service definitions have errors' });
    return undefined;
  }
  if (context.runNotExecutable !== undefined && (compiled.longruns.length > 0 || countLegacyServices(context.settings) > 0)) {
    // Every service would fail to start and be retried for ever, the container looking up: as
    // under s6-overlay, which cannot run at all there, it stops, for a restart policy to see.
    reporter.error('steward', `stopping the container: its services cannot run (${context.runNotExecutable})`);
    if (shutdown.reason === undefined) writeExitCode(context.layout, RUNTIME_DIR_UNUSABLE_EXIT);
    shutdown.request({ kind: 'boot-failure', status: RUNTIME_DIR_UNUSABLE_EXIT, message: 'the runtime directory is on a noexec mount' });
    return undefined;
  }
  if (compiled.legacyErrors) stageFailed(context, 'steward', 'the legacy service tree has errors (listed above); what can run will run');
  services.load(compiled.longruns);
  const runner = rcRunner(context, services, legacyStages(context, compiled.tree, services, hooks.scanServiceDir));
  const engine = new Engine(compiled.graph, runner, engineReports(context), () => context.clock.now());
  hooks.built({ tree: compiled.tree, engine });
  // Every longrun is in place, down, before anything starts, as s6-rc-init puts them: oneshots
  // look at them before they start (s6-svok, s6-svc -O, an add-on's sed on a logger's run.user),
  // and s6-svc -u and s6-rc -u find those the boot does not start.
  runner.installDown([...compiled.graph.atomics.values()].filter((atomic): atomic is RcLongrun => atomic.kind === 'longrun'));
  if (shutdown.signal.aborted) return undefined;

  // The s6-rc longruns' run scripts are looked at once their first starts have gone out and settled.
  const startedAtBoot = closure(compiled.graph, ['top']);
  const rcLongruns = [...compiled.graph.atomics.values()].filter((atomic) => atomic.kind === 'longrun' && startedAtBoot.has(atomic.name));
  const looksSaid = sayRunScriptLooks(
    context,
    services,
    'steward',
    rcLongruns.map((longrun) => longrun.name),
    compiled.runScriptLooks,
  );
  // Not waited for (the CMD does not wait for them): the container's last lines do.
  context.lateReports.add(looksSaid);
  const outcome = await engine.bringUp(['top'], bootSignal);
  bootLimit.dispose();
  if (shutdown.signal.aborted) return undefined;
  reportBoot(context, engine, services);
  const problems = [...outcome.failed, ...outcome.blocked, ...outcome.abandoned];
  if (problems.length > 0) {
    const timedOut = outcome.abandoned.length > 0 || bootSignal.aborted;
    // In s6-overlay's rc.init words, which logs are searched for, with what failed.
    const message = `s6-rc failed to properly bring all the services up! ${timedOut
      ? `the boot took longer than S6_CMD_WAIT_FOR_SERVICES_MAXTIME (${maxTimeMs} ms); not up: ${problems.join(', ')}`
      : [
          ...(outcome.failed.length === 0 ? [] : [`some services failed to start: ${outcome.failed.join(', ')}`]),
          ...(outcome.blocked.length === 0 ? [] : [`not started because of that: ${listed(outcome.blocked)}`]),
        ].join('; ')}`;
    stageFailed(context, 'rc.init', message, timedOut ? 2 : 1);
  }
  if (shutdown.signal.aborted) return undefined;

  // v3's rc.init puts S6_CMD_ARG0 before a CMD only; v2's stage 1 put it before the arguments
  // whatever they were, so S6_CMD_ARG0 alone was the CMD (mikenye's tool images: no CMD, the
  // program in S6_CMD_ARG0, the container ending with it).
  const argv = command.length === 0 && !context.overlayV2 ? [] : [...context.settingsNow().cmdArg0, ...command];
  if (argv.length === 0) {
    reporter.debug('steward', 'no command: running until stopped');
    return undefined;
  }
  return runCommand(context, argv, hooks.commandExited);
}

/** Names, the first ten of them when there are more. */
function listed(names: readonly string[]): string {
  return names.length <= 10 ? names.join(', ') : `${names.slice(0, 10).join(', ')} and ${names.length - 10} more`;
}

/** Runs the container's command; its end ends the container with its status. Resolves with its pid once it runs. */
function runCommand(context: InitContext, argv: readonly string[], exited: () => void): Promise<number | undefined> {
  const [file, ...args] = argv;
  if (file === undefined) return Promise.resolve(undefined);
  const shown = argv.join(' ');
  context.reporter.info('steward', `running the command: ${shown.length > 200 ? `${shown.slice(0, 200)}...` : shown}`);
  return new Promise((resolve) => spawnCommand(context, file, args, exited, resolve));
}

function spawnCommand(context: InitContext, file: string, args: readonly string[], exited: () => void, spawned: (pid: number | undefined) => void, tries = 1): void {
  context.port.spawn(
    {
      file,
      args,
      cwd: context.workdir,
      env: context.childEnv,
      // process.stdin is never touched: Node would make a piped stdin non-blocking for the CMD too.
      stdin: 'inherit',
      // S6_CMD_USE_TERMINAL: with a catch-all log, an interactive CMD still talks to the terminal.
      stdout: context.settings.cmdUseTerminal && isTerminal(0) ? 'inherit' : context.output.stdout,
      stderr: context.settings.cmdUseTerminal && isTerminal(0) ? 'inherit' : context.output.stderr,
      // With a terminal, the same process group as Steward: it stays in the terminal's
      // foreground group, so an interactive command gets the keyboard and Ctrl-C. Without one,
      // a session of its own, as every service has: an init that signals Steward's whole
      // group (dumb-init, tini -g) must not kill the CMD before the services stop; it is
      // stopped in the last stage, as the README says.
      newSession: !isTerminal(0),
    },
    {
      onSpawned: spawned,
      onExit: (termination) => {
        exited();
        const status = shellStatus(termination, signalNumber);
        const description = describeTermination(termination);
        if (context.shutdown.reason !== undefined) {
          // An internal error keeps its own exit code (111): the container did not end as it should.
          if (context.shutdown.inLastStage || context.shutdown.reason.kind === 'internal-error') {
            context.reporter.info('steward', `the command ${description}`);
          } else {
            context.reporter.info('steward', `the command ${description}; exit code ${status}`);
            writeExitCode(context.layout, status);
          }
          return;
        }
        context.reporter.info('steward', `the command ${description}; stopping the container with exit code ${status}`);
        writeExitCode(context.layout, status);
        context.shutdown.request({ kind: 'cmd-exit', status, description });
      },
      onSpawnError: (error) => {
        // Services are tried again when the system lacks the resources; the CMD is, for a while.
        const shortage = resourceShortage(error);
        const delayMs = context.shutdown.reason === undefined ? commandRetryDelay(error, tries) : undefined;
        if (shortage !== undefined && delayMs !== undefined) {
          context.reporter.warn('steward', `cannot start the command ${file} yet: ${shortage}; trying again in ${delayMs} ms`);
          setTimeout(() => {
            if (context.shutdown.reason === undefined) {
              spawnCommand(context, file, args, exited, spawned, tries + 1);
              return;
            }
            spawned(undefined);
            exited();
          }, delayMs);
          return;
        }
        const found = file === '/bin/sh' ? undefined : findExecutable(file, context.childEnv['PATH']);
        const path = found !== undefined && 'path' in found ? found.path : undefined;
        if (error.code === 'ENOEXEC' && path !== undefined) {
          // No shebang line: run with /bin/sh, as a shell (and s6-overlay's rc.init) would run it.
          context.reporter.warn('steward', `the command ${file} has no shebang line: running it with /bin/sh, as a shell would. Make its first line #!/bin/sh (or the interpreter it needs)`);
          spawnCommand(context, '/bin/sh', [path, ...args], exited, spawned);
          return;
        }
        spawned(undefined);
        exited();
        // 127 and 126, as a shell reports a command it cannot find or cannot execute; a file that
        // is there but cannot run (its #! interpreter missing, CRLF line endings, no x bit) is 126,
        // and the same checks as a run script's say why.
        const missing = error.code === 'ENOENT' && (path === undefined || executableFile(path) === 'none');
        const status = missing ? 127 : 126;
        // A skarnet program in front of the real command (s6-setsid apache2-foreground, as s6-overlay's issues advise): what to install.
        const hint = missing ? skarnetInstallHint(basename(file)) : undefined;
        const why = missing ? `not found (PATH is ${context.childEnv['PATH'] ?? ''})${hint === undefined ? '' : `. ${hint}`}` : path === undefined ? errorMessage(error) : whyNotExecutable(path, error, 'command');
        context.reporter.error('steward', `cannot run the command ${file}: ${why}`);
        writeExitCode(context.layout, status);
        context.shutdown.request({ kind: 'cmd-exit', status, description: `could not be started (${error.code ?? 'error'})` });
      },
    },
  );
}
