import { success, type Response } from '../protocol.js';
import type { CommandContext } from './context.js';

/**
 * The dependency tree with each service's state, and its first start: when, and how
 * long it took from the container's start to being up (ready, with readiness).
 */
export function handleGraph(context: CommandContext): Response {
  const { target } = context;
  const nodes = [...target.supervisors.values()].map((supervisor) => {
    const status = supervisor.status;
    const boot = supervisor.firstStart;
    return {
      name: supervisor.name,
      kind: 'longrun' as const,
      state: status.state,
      dependencies: target.dependenciesOf(supervisor.name),
      logger: supervisor.definition.loggerName,
      startedAt: boot.spawnedAt === null ? null : Math.round(boot.spawnedAt),
      startedAfterMs: boot.spawnedAt === null ? null : Math.max(0, Math.round(boot.spawnedAt - target.startedAt)),
      upAfterMs: boot.readyAt === null ? null : Math.max(0, Math.round(boot.readyAt - target.startedAt)),
      tookMs: boot.readyAt === null || boot.spawnedAt === null ? null : Math.max(0, Math.round(boot.readyAt - boot.spawnedAt)),
    };
  });
  return success({ startedAt: Math.round(target.startedAt), nodes });
}
