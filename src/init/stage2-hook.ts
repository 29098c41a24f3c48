import type { InitContext } from './context.js';
import { writeExitCode } from './runtime-dir.js';
import { runScript } from './run-script.js';
import { whyNotExecutable } from './spawn-failure.js';
import { signalNumber } from '../sys/signals.js';

/**
 * S6_STAGE2_HOOK: a command run before the service definitions are read, so it can add
 * or change them (images that install mods at boot do). Split on white space, not run
 * by a shell, as s6-overlay does. Returns false when the boot must stop.
 */
export async function runStage2Hook(context: InitContext): Promise<boolean> {
  const hook = (process.env['S6_STAGE2_HOOK'] ?? '').trim();
  if (hook === '') return true;
  const [file, ...args] = hook.split(/\s+/);
  if (file === undefined) return true;
  const { reporter, settings } = context;
  reporter.info('steward', `running the stage 2 hook: ${hook}`);
  const result = await runScript(file, context.port, context.clock, { env: context.childEnv, cwd: '/', timeLimitMs: 0, abortSignal: context.shutdown.signal, abortKillMs: settings.killGraceTimeMs, args, output: context.output });
  let status: number;
  let what: string;
  if (result.kind === 'spawn-error') {
    status = result.error.code === 'ENOENT' ? 127 : 126;
    what = `could not be run: ${whyNotExecutable(file, result.error, 'hook')}`;
  } else {
    const { termination } = result;
    status = termination.signal === null ? (termination.code ?? 0) : 128 + signalNumber(termination.signal);
    what = termination.signal === null ? `exited ${status}` : `was killed by ${termination.signal}`;
  }
  if (status === 0) return true;
  if (context.shutdown.reason !== undefined) {
    // Stopped by the container's own stop: not a failure of the hook.
    reporter.info('steward', `the stage 2 hook ${hook} was stopped (the container is stopping) and ${what}`);
    return false;
  }
  if (settings.behaviourIfStage2Fails >= 2) {
    reporter.error('steward', `the stage 2 hook ${hook} ${what}; stopping the container (S6_BEHAVIOUR_IF_STAGE2_FAILS=${settings.behaviourIfStage2Fails})`);
    if (context.shutdown.reason === undefined) writeExitCode(context.layout, status);
    context.shutdown.request({ kind: 'boot-failure', status, message: `the stage 2 hook ${what}` });
    return false;
  }
  reporter.warn('steward', `the stage 2 hook ${hook} ${what}; carrying on`);
  return true;
}
