import { existsSync } from 'node:fs';
import { join } from 'node:path';

import type { ServiceState } from '../supervise/state.js';
import type { ServiceSupervisor } from '../supervise/supervisor.js';
import type { ControlTarget } from './target.js';

/** One service as `steward status --json` and the HTTP /status endpoint show it. */
export interface StatusRecord {
  readonly name: string;
  readonly kind: 'longrun';
  readonly state: ServiceState;
  readonly pid: number | null;
  /** Epoch ms of the last state change. */
  readonly since: number;
  /** Ms since the current run started, when running. */
  readonly uptimeMs: number | null;
  readonly starts: number;
  readonly restarts: number;
  readonly ready: boolean;
  readonly readySince: number | null;
  readonly wantUp: boolean;
  /** No `down` file in its directory. */
  readonly normallyUp: boolean;
  readonly hasReadiness: boolean;
  readonly lastExit: { readonly code: number | null; readonly signal: string | null; readonly description: string; readonly at: number } | null;
  readonly waitingFor: readonly string[];
  readonly dir: string;
  /** Why the run script could not be executed at the last start (an errno code such as EACCES); null once it was. */
  readonly spawnError: string | null;
  /** spawnError came from copying the service into /run, not from its run script (absent from older Stewards). */
  readonly copyFailed?: boolean;
  /** Stopped by SIGSTOP (s6-svc -p, steward signal STOP) and not continued since. */
  readonly paused: boolean;
}

export function statusRecord(target: ControlTarget, supervisor: ServiceSupervisor, now: number): StatusRecord {
  const status = supervisor.status;
  const running = status.pid !== null;
  const lastExit = status.lastExit;
  return {
    name: status.name,
    kind: 'longrun',
    state: status.state,
    pid: status.pid,
    since: Math.round(status.since),
    uptimeMs: running && status.runStartedAt !== null ? Math.max(0, Math.round(now - status.runStartedAt)) : null,
    starts: status.starts,
    restarts: Math.max(0, status.starts - 1),
    ready: status.ready,
    readySince: status.readySince === null ? null : Math.round(status.readySince),
    wantUp: status.wantUp,
    normallyUp: !existsSync(join(supervisor.definition.liveDir, 'down')),
    hasReadiness: supervisor.definition.notificationFd !== null,
    lastExit:
      lastExit === null
        ? null
        : {
            code: lastExit.code,
            signal: lastExit.signal,
            description: lastExit.signal === null ? `exited ${lastExit.code ?? 0}` : `killed by ${lastExit.signal}`,
            at: Math.round(lastExit.at),
          },
    waitingFor: target.dependenciesOf(status.name).filter((name) => !(target.dependencyUp?.(name) ?? target.supervisors.get(name)?.status.ready === true)),
    dir: supervisor.definition.liveDir,
    spawnError: status.spawnError,
    copyFailed: status.copyFailed,
    paused: status.paused,
  };
}
