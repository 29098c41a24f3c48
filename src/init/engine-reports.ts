import type { EngineEvents } from '../graph/engine.js';
import type { Engine } from '../graph/engine.js';
import type { RcAtomic } from '../model/rc.js';
import type { InitContext } from './context.js';
import type { ServiceSet } from './service-set.js';

/** Steward's own stages speak for themselves (cont-init: ...); their graph lines are debug only. */
function isBuiltIn(atomic: RcAtomic): boolean {
  return atomic.kind === 'oneshot' && atomic.up.kind === 'builtin';
}

/** s6-rc's progress lines, at the default verbosity, for the image's services. */
export function engineReports(context: InitContext): EngineEvents {
  const { reporter } = context;
  const info = (atomic: RcAtomic, message: string): void => {
    if (isBuiltIn(atomic)) reporter.debug('s6-rc', `service ${atomic.name}${message}`);
    else reporter.info('s6-rc', `service ${atomic.name}${message}`);
  };
  // Once the container is stopping (a signal during boot), what did not start is the stop's
  // doing, not a failure: said at info level, after the line that says why it stops. Unless
  // the boot's own failure stops it (S6_BEHAVIOUR_IF_STAGE2_FAILS=2): that is the failure.
  const problem = (message: string): void => {
    const reason = context.shutdown.reason;
    if (reason === undefined || reason.kind === 'boot-failure') reporter.warn('s6-rc', message);
    else reporter.info('s6-rc', message);
  };
  return {
    starting: (atomic) => info(atomic, ': starting'),
    // legacy-services says it itself, at info level (see stages.ts), for tools that wait for it.
    started: (atomic) => (atomic.name === 'legacy-services' && isBuiltIn(atomic) ? undefined : info(atomic, ' successfully started')),
    failed: (atomic, reason) => problem(`unable to start ${shownName(atomic, 'up')}: ${reason}`),
    // Information, not a warning each: s6-rc names only the transition that failed, and one failed
    // oneshot early in a tree (linuxserver's init-migrations) has dozens of services behind it.
    blocked: (atomic, because) => reporter.info('s6-rc', `${shownName(atomic, 'up')} not started: ${because}`),
    stopping: (atomic) => info(atomic, ': stopping'),
    stopped: (atomic, result) => {
      if (result.ok) info(atomic, ' successfully stopped');
      else reporter.warn('s6-rc', `${shownName(atomic, 'down')} did not stop cleanly: ${result.reason}`);
    },
    kept: (atomic, because) => problem(`${shownName(atomic, 'down')} not stopped: ${because}`),
  };
}

/** Steward's stages by the directories they run, in the lines a person reads. */
/** Steward's stages by what they run going up, and going down where that differs (legacy-cont-init's down is cont-finish.d). */
const STAGE_NAMES: Readonly<Record<string, { readonly up: string; readonly down: string }>> = {
  'fix-attrs': { up: 'fix-attrs.d', down: 'fix-attrs.d' },
  'legacy-cont-init': { up: 'cont-init.d', down: 'cont-finish.d' },
  'legacy-services': { up: 'services.d', down: 'services.d' },
};

function shownName(atomic: RcAtomic, direction: 'up' | 'down'): string {
  if (!isBuiltIn(atomic)) return `service ${atomic.name}`;
  return `${STAGE_NAMES[atomic.name]?.[direction] ?? atomic.name} (stage ${atomic.name})`;
}

/** How long the summary waits for services.d services (started after the graph) to be up. */
const SUMMARY_WAIT_MS = 5000;

/**
 * At S6_VERBOSITY 3 and up: when each service started, and how long it took to be up or
 * ready; the graph's services, then those of services.d once they are up (or after a few
 * seconds), without holding the boot.
 */
export function reportBoot(context: InitContext, engine: Engine, services: ServiceSet): void {
  if (context.reporter.verbosity < 3) return;
  const origin = context.clock.now() - process.uptime() * 1000;
  const graphRows = [...engine.graph.atomics.keys()].map((name) => ({ name, ...engine.timing(name) }));
  const legacy = [...services.supervisors.values()].filter((supervisor) => !engine.graph.atomics.has(supervisor.name));
  const print = (): void => {
    const legacyRows = legacy.map((supervisor) => ({ name: supervisor.name, startedAt: supervisor.firstStart.spawnedAt, upAt: supervisor.firstStart.readyAt }));
    const rows = [...graphRows, ...legacyRows].filter((row) => row.startedAt !== null).sort((a, b) => (a.startedAt ?? 0) - (b.startedAt ?? 0));
    context.reporter.debug('s6-rc', 'boot summary (ms after Steward started: start, up; took)');
    for (const row of rows) {
      const start = Math.round((row.startedAt ?? 0) - origin);
      const up = row.upAt === null ? 'not up' : String(Math.round(row.upAt - origin));
      const took = row.upAt === null ? '-' : `${Math.round(row.upAt - (row.startedAt ?? 0))} ms`;
      context.reporter.debug('s6-rc', `  ${row.name.padEnd(28)} ${String(start).padStart(6)} ${up.padStart(6)}  ${took}`);
    }
  };
  if (legacy.length === 0) {
    print();
    return;
  }
  void services.waitUntilUp(
    legacy.map((supervisor) => supervisor.name),
    context.shutdown.signal,
    SUMMARY_WAIT_MS,
  ).then(print, print);
}
