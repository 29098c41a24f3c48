import { failure, success, type Request, type Response } from '../protocol.js';
import type { CommandContext } from './context.js';

/** s6-svscanctl -a, -h, -n: supervise the service directories that appeared, stop those that left. */
export function handleScan(request: Extract<Request, { cmd: 'scan' }>, context: CommandContext): Response {
  if (context.target.scan === undefined) return failure('ERR_NOT_RUNNING', 'there is no scan directory to scan yet');
  if (context.target.isStopping()) return failure('ERR_SHUTTING_DOWN', 'the container is stopping; services are not started any more');
  return success(context.target.scan(request.prune));
}
