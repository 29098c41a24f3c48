import type { EngineEvents } from '../graph/engine.js';
import type { Engine } from '../graph/engine.js';
import type { RcAtomic } from '../model/rc.js';
import type { InitContext } from './context.js';

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
  return {
    starting: (atomic) => info(atomic, ': starting'),
    started: (atomic) => info(atomic, ' successfully started'),
    failed: (atomic, reason) => reporter.warn('s6-rc', `unable to start service ${atomic.name}: ${reason}`),
    blocked: (atomic, because) => reporter.warn('s6-rc', `service ${atomic.name} not started: ${because}`),
    stopping: (atomic) => info(atomic, ': stopping'),
    stopped: (atomic, result) => {
      if (result.ok) info(atomic, ' successfully stopped');
      else reporter.warn('s6-rc', `service ${atomic.name} did not stop cleanly: ${result.reason}`);
    },
  };
}

/** At S6_VERBOSITY 3 and up: when each service started, and how long it took to be up or ready. */
export function reportBoot(context: InitContext, engine: Engine): void {
  if (context.reporter.verbosity < 3) return;
  const origin = context.clock.now() - process.uptime() * 1000;
  const rows = [...engine.graph.atomics.keys()]
    .map((name) => ({ name, ...engine.timing(name) }))
    .filter((row) => row.startedAt !== null)
    .sort((a, b) => (a.startedAt ?? 0) - (b.startedAt ?? 0));
  context.reporter.debug('s6-rc', 'boot summary (ms after Steward started: start, up; took)');
  for (const row of rows) {
    const start = Math.round((row.startedAt ?? 0) - origin);
    const up = row.upAt === null ? 'not up' : String(Math.round(row.upAt - origin));
    const took = row.upAt === null ? '-' : `${Math.round(row.upAt - (row.startedAt ?? 0))} ms`;
    context.reporter.debug('s6-rc', `  ${row.name.padEnd(28)} ${String(start).padStart(6)} ${up.padStart(6)}  ${took}`);
  }
}
