import type { LegacyTree } from '../config/legacy.js';
import { errorMessage } from '../errors.js';
import { describeTermination, shellStatus } from '../supervise/exit.js';
import { signalNumber } from '../sys/signals.js';
import type { InitContext } from './context.js';
import { applyFixAttrs } from './fix-attrs.js';
import { installLiveService, writeExitCode } from './runtime-dir.js';
import { runScriptsStage } from './scripts-stage.js';
import type { ServiceSet } from './service-set.js';
import { stageFailed } from './stage-failure.js';

/**
 * Stage 2, in s6-overlay's order: fix-attrs.d, cont-init.d, services.d, then the CMD.
 * A shutdown request stops it between (and inside) steps.
 */
export async function boot(context: InitContext, tree: LegacyTree, services: ServiceSet, command: readonly string[]): Promise<number | undefined> {
  // Resolves with the CMD's pid once it runs, or undefined when there is none.
  const { reporter, shutdown } = context;
  // S6_CMD_WAIT_FOR_SERVICES_MAXTIME bounds the whole bring-up, cont-init included, as s6-rc -t does.
  const maxTimeMs = context.settings.cmdWaitForServicesMaxTimeMs;
  const bootDeadline = maxTimeMs > 0 ? context.clock.now() + maxTimeMs : Number.POSITIVE_INFINITY;
  if (tree.diagnostics.some((diagnostic) => diagnostic.severity === 'error')) {
    stageFailed(context, 'steward', 'the service tree has errors (listed above); what can run will run');
  }
  if (shutdown.signal.aborted) return undefined;

  if (tree.fixAttrsFiles.length > 0 && !applyFixAttrs(tree.fixAttrsFiles, context.settings.fixAttrsHidden, reporter)) {
    stageFailed(context, 'fix-attrs', 'some fix-attrs.d lines could not be applied');
  }
  if (shutdown.signal.aborted) return undefined;

  const initSignal = withDeadline(shutdown.signal, bootDeadline - context.clock.now(), maxTimeMs);
  const failures = await runScriptsStage(context, 'cont-init', tree.contInit, { timeLimitMs: 0, abortSignal: initSignal });
  if (shutdown.signal.aborted) return undefined;
  if (initSignal.aborted) stageFailed(context, 'cont-init', `the boot took longer than S6_CMD_WAIT_FOR_SERVICES_MAXTIME (${maxTimeMs} ms)`, 2);
  else if (failures > 0) stageFailed(context, 'cont-init', 'some scripts exited nonzero');
  if (shutdown.signal.aborted) return undefined;

  startServices(context, tree, services);
  if (context.settings.cmdWaitForServices && services.supervisors.size > 0) {
    const remainingMs = Number.isFinite(bootDeadline) ? Math.max(1, bootDeadline - context.clock.now()) : 0;
    const notUp = await services.waitUntilUp(shutdown.signal, remainingMs);
    if (shutdown.signal.aborted) return undefined;
    if (notUp.length > 0) {
      stageFailed(context, 'services-up', `some legacy longruns were not up within S6_CMD_WAIT_FOR_SERVICES_MAXTIME (${maxTimeMs} ms): ${notUp.join(', ')}`);
    }
  }
  if (shutdown.signal.aborted) return undefined;

  if (command.length === 0) {
    reporter.debug('steward', 'no command: running until stopped');
    return undefined;
  }
  return runCommand(context, [...context.settings.cmdArg0, ...command]);
}

/** Each service starts as soon as its directory is in place, not after all of them are. */
function startServices(context: InitContext, tree: LegacyTree, services: ServiceSet): void {
  for (const definition of tree.services) {
    if (definition.producerName !== null) continue; // a logger lives inside its producer's copy
    try {
      installLiveService(context.layout, definition.name, definition.sourceDir, definition.liveDir);
    } catch (error) {
      context.reporter.error('services-up', `cannot copy ${definition.sourceDir} to ${definition.liveDir}: ${errorMessage(error)}`);
    }
    const readiness = definition.notificationFd === null ? ' (no readiness notification)' : '';
    context.reporter.info('services-up', `starting legacy longrun ${definition.name}${readiness}`);
    services.start(definition.name);
  }
}

/** Runs the container's command; its end ends the container with its status. */
function runCommand(context: InitContext, argv: readonly string[]): number | undefined {
  const [file, ...args] = argv;
  if (file === undefined) return undefined;
  const shown = argv.join(' ');
  context.reporter.info('steward', `running the command: ${shown.length > 200 ? `${shown.slice(0, 200)}...` : shown}`);
  const pid = context.port.spawn(
    {
      file,
      args,
      cwd: context.workdir,
      env: context.childEnv,
      stdin: 'inherit',
      stdout: 'inherit',
      stderr: 'inherit',
      // Same process group as Steward: it stays in the terminal's foreground group, so an
      // interactive command gets the keyboard and Ctrl-C.
      newSession: false,
    },
    {
      onExit: (termination) => {
        const status = shellStatus(termination, signalNumber);
        const description = describeTermination(termination);
        if (context.shutdown.reason !== undefined) {
          context.reporter.info('steward', `the command ${description}`);
          return;
        }
        context.reporter.info('steward', `the command ${description}; stopping the container with exit code ${status}`);
        writeExitCode(context.layout, status);
        context.shutdown.request({ kind: 'cmd-exit', status, description });
      },
      onSpawnError: (error) => {
        // 127 and 126, as a shell reports a command it cannot find or cannot execute.
        const status = error.code === 'ENOENT' ? 127 : 126;
        const why = error.code === 'ENOENT' ? `not found (PATH is ${context.childEnv['PATH'] ?? ''})` : errorMessage(error);
        context.reporter.error('steward', `cannot run the command ${file}: ${why}`);
        writeExitCode(context.layout, status);
        context.shutdown.request({ kind: 'cmd-exit', status, description: `could not be started (${error.code ?? 'error'})` });
      },
    },
  );
  return pid;
}

/** `signal`, also aborted after `remainingMs` when a boot time limit is set. */
function withDeadline(signal: AbortSignal, remainingMs: number, limitMs: number): AbortSignal {
  if (!Number.isFinite(remainingMs)) return signal;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(`S6_CMD_WAIT_FOR_SERVICES_MAXTIME (${limitMs} ms) reached`), Math.max(1, remainingMs));
  // Firing after the stage is over is harmless; it must not keep the process alive either.
  timer.unref();
  if (signal.aborted) controller.abort(signal.reason);
  signal.addEventListener('abort', () => controller.abort(signal.reason), { once: true });
  return controller.signal;
}
