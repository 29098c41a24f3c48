import type { InitContext } from './context.js';
import { writeExitCode } from './runtime-dir.js';

/**
 * A boot script that ran halt itself, then exited nonzero (NPM's prepare: `halt; exit 1`). Under
 * s6-overlay the stop waits for the boot's transition, so the failure still counts: from
 * S6_BEHAVIOUR_IF_STAGE2_FAILS=1 a warning, and from 2 the container's exit code, which rc.init
 * writes to the exit code file after the halt (finish scripts may write theirs after it).
 * `saidAnyway`: the warning is said whatever the policy, as s6-rc says a failed oneshot's.
 */
export function failedAfterItsOwnHalt(context: InitContext, stage: string, message: string, status = 1, saidAnyway = false): void {
  const policy = context.settingsNow().behaviourIfStage2Fails;
  if (saidAnyway || policy >= 1) context.reporter.warn(stage, message);
  if (policy < 2) return;
  context.reporter.error(stage, `the container will exit with ${status} (S6_BEHAVIOUR_IF_STAGE2_FAILS=${policy})`);
  writeExitCode(context.layout, status);
}

/**
 * S6_BEHAVIOUR_IF_STAGE2_FAILS: 0 carries on, 1 carries on with a warning,
 * 2 and above stop the container with `status` as its exit code.
 */
export function stageFailed(context: InitContext, stage: string, message: string, status = 1): void {
  const policy = context.settingsNow().behaviourIfStage2Fails;
  if (policy >= 1) context.reporter.warn(stage, message);
  if (policy < 2) return;
  context.reporter.error(stage, 'stopping the container (S6_BEHAVIOUR_IF_STAGE2_FAILS=' + policy + ')');
  if (context.shutdown.reason === undefined) writeExitCode(context.layout, status);
  // The warning above says what failed: the stop's line names the stage only.
  context.shutdown.request({ kind: 'boot-failure', status, message: `${stage} failed (see above)` });
}
