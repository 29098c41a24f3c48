import { failure, success, type Request, type Response } from '../protocol.js';
import type { CommandContext } from './context.js';

/** Stops the container, as s6-overlay's halt, poweroff and reboot commands. */
export function handleHalt(request: Extract<Request, { cmd: 'halt' }>, context: CommandContext): Response {
  if (context.target.halt(request.action, request.exitCode, undefined, request.requester)) return success({ action: request.action, exitCode: request.exitCode });
  // Already stopping: an exit code given now is still the container's (halt wrote it).
  if (request.exitCode !== null) return success({ action: request.action, exitCode: request.exitCode, alreadyStopping: true });
  return failure('ERR_SHUTTING_DOWN', 'the container is already stopping');
}
