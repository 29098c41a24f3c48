import { inspectScript, type Script } from '../config/legacy.js';
import { describeTermination } from '../supervise/exit.js';
import { signalNumber } from '../sys/signals.js';
import type { InitContext } from './context.js';
import { runScript } from './run-script.js';
import { whyNotExecutable } from './spawn-failure.js';

/** A script that exited nonzero where the stage stops at the first failure, and its exit status. */
export interface FirstFailure {
  readonly path: string;
  readonly status: number;
}

/**
 * Runs cont-init.d or cont-finish.d scripts one at a time, in order, reporting each start and
 * exit: every one even after a failure, or, with `stopAtFirstFailure` (s6-overlay v2's cont-init
 * when a failure stops the container), none after the first that exits nonzero. Returns how
 * many failed, and that first one.
 */
export async function runScriptsStage(
  context: InitContext,
  stage: 'cont-init' | 'cont-finish',
  scripts: readonly Script[],
  options: { timeLimitMs: number; abortSignal?: AbortSignal; env?: NodeJS.ProcessEnv; stopAtFirstFailure?: boolean },
): Promise<{ failures: number; stoppedAt?: FirstFailure; failedAfterItsOwnHalt?: FirstFailure }> {
  let failedAfterItsOwnHalt: FirstFailure | undefined;
  let failures = 0;
  for (const script of scripts) {
    if (isAborted(options.abortSignal)) {
      context.reporter.info(stage, `skipping ${script.path}: ${String(options.abortSignal?.reason)}`);
      continue;
    }
    // Looked at on its turn, as s6-overlay's runner tries it then: fix-attrs.d, or a script
    // before it (chmod +x over a tree), may have made it executable since the boot.
    const problems = inspectScript(script);
    context.reporter.diagnostics(stage, problems);
    if (problems.some((problem) => problem.severity === 'error')) {
      context.reporter.error(stage, `not running ${script.path}: it cannot be executed (see above)`);
      failures++;
      continue;
    }
    context.reporter.info(stage, `running ${script.path}`);
    const result = await runScript(script.path, context.port, context.clock, {
      env: options.env ?? context.childEnv,
      cwd: context.layout.scriptsDir,
      timeLimitMs: options.timeLimitMs,
      shellFallback: true,
      output: context.output,
      ...(options.abortSignal === undefined
        ? {}
        : { abortSignal: options.abortSignal, abortKillMs: context.settings.killGraceTimeMs, stopAskedFromItsSession: (session: number) => context.shutdown.askedFromSession(session) }),
    });
    if (result.kind === 'spawn-error') {
      context.reporter.error(stage, `cannot execute ${script.path}: ${whyNotExecutable(script.path, result.error, `${stage} script`)}`);
      failures++;
      continue;
    }
    const { termination } = result;
    const status = termination.signal === null ? (termination.code ?? 0) : 128 + signalNumber(termination.signal);
    // One that ran halt itself and then ended: its exit status is its own, and counts.
    const ownStop = result.endedAfterItsOwnStop;
    if (isAborted(options.abortSignal) && !ownStop) {
      // Stopped by the container's stop: expected, not a failure of the script.
      const say = context.shutdown.reason === undefined ? context.reporter.warn.bind(context.reporter) : context.reporter.info.bind(context.reporter);
      say(stage, `${script.path} was stopped (${String(options.abortSignal?.reason)}) and ${describeTermination(termination)}`);
      failures++;
      continue;
    }
    if (result.timedOut) context.reporter.warn(stage, `${script.path} ran longer than ${options.timeLimitMs} ms and was killed`);
    const line = `${script.path} ${termination.signal === null ? `exited ${status}` : describeTermination(termination)}${ownStop ? ' after asking for the stop' : ''}`;
    if (status === 0) context.reporter.info(stage, line);
    else context.reporter.warn(stage, line);
    if (status === 0) continue;
    failures++;
    if (ownStop) failedAfterItsOwnHalt ??= { path: script.path, status };
    else if (options.stopAtFirstFailure === true) return { failures, stoppedAt: { path: script.path, status } };
  }
  return failedAfterItsOwnHalt === undefined ? { failures } : { failures, failedAfterItsOwnHalt };
}

// A function, so the compiler does not assume the flag cannot change across an await.
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}
