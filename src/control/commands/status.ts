import { success, type Request, type Response } from '../protocol.js';
import { resolveTargets } from '../resolve.js';
import { statusRecord } from '../status.js';
import type { CommandContext } from './context.js';

/** Every service, or the named ones, as status records. */
export function handleStatus(request: Extract<Request, { cmd: 'status' }>, context: CommandContext): Response {
  const all = request.names.length + request.dirs.length === 0;
  const supervisors = all ? [...context.target.supervisors.values()] : resolveTargets(context.target, request);
  if (!Array.isArray(supervisors)) return { ok: false, error: supervisors };
  const now = context.now();
  return success({
    uptimeMs: Math.max(0, Math.round(now - context.target.startedAt)),
    stopping: context.target.isStopping(),
    services: supervisors.map((supervisor) => statusRecord(context.target, supervisor, now)),
  });
}
