import { success, type Request, type Response } from '../protocol.js';
import type { CommandContext } from './context.js';

/** Stops the container, as s6-overlay's halt, poweroff and reboot commands. */
export function handleHalt(request: Extract<Request, { cmd: 'halt' }>, context: CommandContext): Response {
  if (context.target.halt(request.action, request.exitCode, undefined, request.requester)) return success({ action: request.action, exitCode: request.exitCode });
  // Already stopping: what was asked for is under way, as halt, s6-svscanctl -t and s6-overlay's
  // halt take it (a finish script's halt must not fail). An exit code given now is still the
  // container's (halt wrote it).
  return success({ action: request.action, exitCode: request.exitCode, alreadyStopping: true });
}
