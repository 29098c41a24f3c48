import { success, type Request, type Response } from '../protocol.js';
import { resolveTargets } from '../resolve.js';
import { statusRecord } from '../status.js';
import type { CommandContext } from './context.js';

/**
 * Every service, or the named ones, as status records; the s6-rc oneshots too, apart
 * (`oneshots`: their state in the graph), so that a failed init step can be seen.
 */
export function handleStatus(request: Extract<Request, { cmd: 'status' }>, context: CommandContext): Response {
  const all = request.names.length + request.dirs.length === 0;
  const oneshots = context.target.oneshots?.() ?? [];
  const oneshotNames = new Set(oneshots.map((oneshot) => oneshot.name));
  const names = withBundlesExpanded(request.names, context, oneshotNames);
  const longrunNames = names.filter((name) => !oneshotNames.has(name));
  const onlyOneshots = !all && longrunNames.length + request.dirs.length === 0;
  const supervisors = all ? [...context.target.supervisors.values()] : onlyOneshots ? [] : resolveTargets(context.target, { ...request, names: longrunNames });
  if (!Array.isArray(supervisors)) return { ok: false, error: supervisors };
  const now = context.now();
  return success({
    uptimeMs: Math.max(0, Math.round(now - context.target.startedAt)),
    stopping: context.target.isStopping(),
    services: supervisors.map((supervisor) => statusRecord(context.target, supervisor, now)),
    oneshots: all ? oneshots : oneshots.filter((oneshot) => names.includes(oneshot.name)),
  });
}

/** A bundle (s6-rc's, or a pipeline's name) stands for the services it holds, as s6-rc list shows them. */
function withBundlesExpanded(names: readonly string[], context: CommandContext, oneshotNames: ReadonlySet<string>): string[] {
  const { rc, supervisors } = context.target;
  if (rc === undefined) return [...names];
  const expanded = names.flatMap((name) => {
    if (supervisors.has(name) || oneshotNames.has(name) || rc.unknown([name]).length > 0) return [name];
    return rc.list([name], false).filter((member) => supervisors.has(member) || oneshotNames.has(member));
  });
  return [...new Set(expanded)];
}
