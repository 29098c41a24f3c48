import { statusRecord, type StatusRecord } from './status.js';
import type { ControlTarget } from './target.js';

/**
 * Whether the container is ready, as /readyz and `steward ready` answer it: the boot is over,
 * no start failed, and every service that should be up is up (ready, with readiness).
 */
export interface NotReadyReason {
  readonly name: string;
  readonly state: string;
  readonly reason: string;
}

/** How long a service that died on its own must stay up again before it counts as ready. */
const SETTLE_AFTER_CRASH_MS = 2000;

function describeExit(exit: { readonly code: number | null; readonly signal: string | null }): string {
  return exit.signal === null ? `exited ${exit.code ?? 0}` : `was killed by ${exit.signal}`;
}

/** Why the container is not ready: one reason per service that should be up and is not. */
export function notReady(target: ControlTarget, time: number): NotReadyReason[] {
  if (target.isStopping()) return [{ name: '*', state: 'stopping', reason: 'the container is stopping' }];
  const reasons: NotReadyReason[] = [];
  // A failed start keeps what depends on it down (s6-overlay's own stages too: a failed
  // cont-init.d leaves services.d unread): not ready, whatever runs.
  const listed = new Set<string>();
  for (const failure of target.startFailures?.() ?? []) {
    listed.add(failure.name);
    reasons.push({ name: failure.name, state: failure.state, reason: failure.state === 'failed' ? `failed to start: ${failure.reason}` : `not started: ${failure.reason}` });
  }
  if (target.booted?.() === false) reasons.push({ name: '*', state: 'booting', reason: 'the boot is not finished (cont-init, oneshots or services still starting)' });
  for (const supervisor of target.supervisors.values()) {
    const record: StatusRecord = statusRecord(target, supervisor, time);
    if (listed.has(record.name)) continue;
    if (record.state === 'failed') {
      reasons.push({ name: record.name, state: record.state, reason: 'failed for good (its finish script exited 125)' });
      continue;
    }
    if (!record.wantUp) continue;
    if (record.pid !== null && record.ready) {
      // Back after dying on its own: ready once it has stayed up a while, so that a crash loop
      // does not answer ready between two deaths (a probe would keep sending it traffic).
      const { lastExit, runStartedAt } = supervisor.status;
      const upForMs = runStartedAt === null ? 0 : time - runStartedAt;
      if (lastExit === null || lastExit.requested || upForMs >= SETTLE_AFTER_CRASH_MS) continue;
      reasons.push({ name: record.name, state: record.state, reason: `restarted ${Math.round(upForMs)} ms ago after it ${describeExit(lastExit)}; ready once it has run ${SETTLE_AFTER_CRASH_MS / 1000} s` });
      continue;
    }
    const reason =
      record.pid === null
        ? record.spawnError !== null
          ? record.copyFailed === true
            ? `its copy into the runtime directory failed (${record.spawnError})`
            : `its run script cannot be executed (${record.spawnError})`
          : `not running (${record.state}${record.lastExit === null ? '' : `, last ${record.lastExit.description}`})`
        : 'running, not ready yet';
    reasons.push({ name: record.name, state: record.state, reason });
  }
  return reasons;
}
