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
      kind: 'longrun',
      state: status.state,
      dependencies: target.dependenciesOf(supervisor.name),
      logger: supervisor.definition.loggerName,
      startedAt: boot.spawnedAt === null ? null : Math.round(boot.spawnedAt),
      startedAfterMs: boot.spawnedAt === null ? null : Math.max(0, Math.round(boot.spawnedAt - target.startedAt)),
      upAfterMs: boot.readyAt === null ? null : Math.max(0, Math.round(boot.readyAt - target.startedAt)),
      tookMs: boot.readyAt === null || boot.spawnedAt === null ? null : Math.max(0, Math.round(boot.readyAt - boot.spawnedAt)),
    };
  });
  const relative = (at: number | null): number | null => (at === null ? null : Math.max(0, Math.round(at - target.startedAt)));
  const oneshots = (target.oneshots?.() ?? []).map((oneshot) => ({
    name: oneshot.name,
    kind: 'oneshot' as const,
    state: oneshot.state,
    dependencies: target.dependenciesOf(oneshot.name),
    logger: null,
    startedAt: oneshot.startedAt === null ? null : Math.round(oneshot.startedAt),
    startedAfterMs: relative(oneshot.startedAt),
    upAfterMs: relative(oneshot.upAt),
    tookMs: oneshot.upAt === null || oneshot.startedAt === null ? null : Math.max(0, Math.round(oneshot.upAt - oneshot.startedAt)),
  }));
  return success({ startedAt: Math.round(target.startedAt), nodes: [...oneshots, ...nodes] });
}
