import type { LongrunDefinition } from '../../src/model/service.js';

/** A longrun with s6's defaults, in its live directory under /run; tests override what they check. */
export function longrunDefinition(name: string, overrides: Partial<LongrunDefinition> = {}): LongrunDefinition {
  const liveDir = `/run/s6/legacy-services/${name}`;
  return {
    kind: 'longrun',
    name,
    sourceDir: `/etc/services.d/${name}`,
    liveDir,
    runPath: `${liveDir}/run`,
    finishPath: null,
    notificationFd: null,
    timeoutKillMs: 0,
    timeoutFinishMs: 5000,
    maxDeathTally: 100,
    downSignal: 'SIGTERM',
    startsDown: false,
    minRestartIntervalMs: 1000,
    loggerName: null,
    producers: [],
    ...overrides,
  };
}
