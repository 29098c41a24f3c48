import { success, type Request, type Response } from '../protocol.js';
import { resolveTargets } from '../resolve.js';
import type { CommandContext } from './context.js';

/**
 * The recorded deaths of services' run processes, oldest first (s6-svdt, s6-permafailon);
 * with `clear`, the tallies are emptied (s6-svdt-clear) and come back empty.
 */
export function handleDeaths(request: Extract<Request, { cmd: 'deaths' }>, context: CommandContext): Response {
  const supervisors = resolveTargets(context.target, request);
  if (!Array.isArray(supervisors)) return { ok: false, error: supervisors };
  if (request.clear) for (const supervisor of supervisors) supervisor.clearDeaths();
  return success({
    services: supervisors.map((supervisor) => ({ name: supervisor.name, deaths: supervisor.deaths.entries.map((death) => ({ ...death, at: Math.round(death.at) })) })),
  });
}
