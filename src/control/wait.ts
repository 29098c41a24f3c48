import { setMaxListeners } from 'node:events';
import { cannotStart, failedForGood, type ServiceStatus, type ServiceSupervisor } from '../supervise/supervisor.js';
import { raceWithLimits } from '../util/race.js';
import type { WaitCondition } from './protocol.js';

/** Where a service was when a wait began: "restarted" means a start after this. */
export interface Baseline {
  readonly starts: number;
}

export function baselineOf(supervisor: ServiceSupervisor): Baseline {
  return { starts: supervisor.status.starts };
}

/** Whether `status` meets the condition, in s6-svwait's terms. */
export function meets(condition: WaitCondition, status: ServiceStatus, baseline: Baseline): boolean {
  // Up as s6-svwait reads it: a run process is there, also while it is being stopped (s6-svstat
  // says "up, want down"; an s6-svc -u then keeps it, and it is still up).
  const running = status.pid !== null;
  switch (condition) {
    case 'up':
      return running;
    case 'ready':
      return running && status.ready;
    case 'down':
      return status.pid === null;
    case 'finished':
      return status.state === 'down' || status.state === 'failed' || status.state === 'backoff';
    case 'restarted':
      return running && status.starts > baseline.starts;
    case 'restarted-ready':
      return running && status.ready && status.starts > baseline.starts;
  }
}

/**
 * A service that failed for good will never come up, and one whose run script could not be
 * executed will not before someone fixes it (it is retried every 10 seconds): a wait for it is over.
 */
function hopelessStatus(condition: WaitCondition, status: ServiceStatus): boolean {
  // Pruned from the scan directory and dropped: nothing of it comes any more (s6-svwait: its supervisor died).
  if (status.forgotten === true) return true;
  if (condition === 'down' || condition === 'finished') return false;
  // While a new attempt is under way (steward start after a fix, s6-svc -wu -u of a service
  // that failed for good), its outcome is waited for, not the last one's.
  return failedForGood(status) || cannotStart(status);
}

/** Down, not starting, and wanted down (a stop from elsewhere took it down), for a condition that needs it up. */
function stoppedElsewhere(condition: WaitCondition, status: ServiceStatus): boolean {
  if (condition === 'down' || condition === 'finished') return false;
  return status.state === 'down' && !status.wantUp && !status.spawning;
}

/** A condition in words, for a message: "not restarted and ready after 5000 ms". */
export function conditionWords(condition: WaitCondition): string {
  switch (condition) {
    case 'finished':
      return 'down with its finish script done';
    case 'restarted-ready':
      return 'restarted and ready';
    default:
      return condition;
  }
}

/** Why the services a wait gave up on will not get there, for the message. */
export function whyHopeless(supervisors: readonly ServiceSupervisor[], names: readonly string[]): string {
  return names
    .map((name) => {
      const status = supervisors.find((supervisor) => supervisor.name === name)?.status;
      const spawnError = status?.spawnError ?? null;
      if (status?.forgotten === true) return `${name} (its entry left the scan directory: it is no longer supervised)`;
      if (status?.state === 'down') return `${name} (stopped meanwhile)`;
      if (spawnError === null) return `${name} (failed for good: its finish exited 125)`;
      return status?.copyFailed === true ? `${name} (its copy into the runtime directory failed: ${spawnError})` : `${name} (its run script cannot be executed: ${spawnError})`;
    })
    .join(', ');
}

export interface WaitOutcome {
  readonly reached: readonly string[];
  readonly failed: readonly string[];
  readonly pending: readonly string[];
}

/**
 * Waits until every service (or, with `any`, one of them) meets the condition, one has
 * failed for good, the timeout passes (0 = none) or `abortSignal` aborts.
 */
export async function waitForCondition(
  supervisors: readonly ServiceSupervisor[],
  condition: WaitCondition,
  options: {
    any: boolean;
    timeoutMs: number;
    abortSignal: AbortSignal;
    baselines?: ReadonlyMap<string, Baseline>;
    /** A start's own wait: one taken down meanwhile from elsewhere (a stop's cascade) will not get there. */
    stoppedIsHopeless?: boolean;
  },
): Promise<WaitOutcome> {
  const hopeless = (wanted: WaitCondition, status: ServiceStatus): boolean => hopelessStatus(wanted, status) || (options.stoppedIsHopeless === true && stoppedElsewhere(wanted, status));
  const baselineFor = (supervisor: ServiceSupervisor): Baseline => options.baselines?.get(supervisor.name) ?? baselineOf(supervisor);
  const baselines = new Map(supervisors.map((supervisor) => [supervisor.name, baselineFor(supervisor)]));
  const settled = (supervisor: ServiceSupervisor, status: ServiceStatus): boolean =>
    meets(condition, status, baselines.get(supervisor.name) ?? { starts: 0 }) || hopeless(condition, status);
  const giveUp = new AbortController();
  // One listener per service is expected here, not a leak.
  setMaxListeners(0, giveUp.signal);
  // What a service met when it met it counts: a job that came up and already exited
  // has still been up, and checking its status again after the wait would say otherwise.
  const metWhileWaiting = new Set<string>();
  const waits = supervisors.map((supervisor) =>
    supervisor.waitFor((status) => {
      if (meets(condition, status, baselines.get(supervisor.name) ?? { starts: 0 })) metWhileWaiting.add(supervisor.name);
      return settled(supervisor, status);
    }, giveUp.signal),
  );
  const work = options.any ? Promise.race(waits) : Promise.all(waits);
  await raceWithLimits(work, options.abortSignal, options.timeoutMs);
  giveUp.abort();
  const outcome: { reached: string[]; failed: string[]; pending: string[] } = { reached: [], failed: [], pending: [] };
  for (const supervisor of supervisors) {
    const status = supervisor.status;
    if (metWhileWaiting.has(supervisor.name) || meets(condition, status, baselines.get(supervisor.name) ?? { starts: 0 })) outcome.reached.push(supervisor.name);
    else if (hopeless(condition, status)) outcome.failed.push(supervisor.name);
    else outcome.pending.push(supervisor.name);
  }
  return outcome;
}
