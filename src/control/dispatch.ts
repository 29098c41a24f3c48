import { errorMessage } from '../errors.js';
import { handleControl } from './commands/control.js';
import { handleDeaths } from './commands/deaths.js';
import type { CommandContext } from './commands/context.js';
import { handleGraph } from './commands/graph.js';
import { handleHalt } from './commands/halt.js';
import { handleRc } from './commands/rc.js';
import { handleScan } from './commands/scan.js';
import { handleSignal } from './commands/signal.js';
import { handleStatus } from './commands/status.js';
import { handleWait } from './commands/wait.js';
import { notReady } from './readiness.js';
import { failure, parseRequest, PROTOCOL_VERSION, success, type Response } from './protocol.js';

/**
 * Turns one decoded message into one response. Used by the socket server and by
 * tests directly; it never throws: a failing handler becomes an ERR_INTERNAL response.
 */
export async function dispatch(message: unknown, context: CommandContext): Promise<Response> {
  const request = parseRequest(message);
  if ('code' in request) return { ok: false, error: request };
  try {
    switch (request.cmd) {
      case 'ping':
        // The scan directory lets s6-svscanctl tell Steward's from another one.
        return success({ pong: true, protocol: PROTOCOL_VERSION, ...(context.target.scanDir === undefined ? {} : { scanDir: context.target.scanDir }) });
      case 'status':
        return handleStatus(request, context);
      case 'control':
        return await handleControl(request, context);
      case 'signal':
        return handleSignal(request, context);
      case 'wait':
        return await handleWait(request, context);
      case 'graph':
        return handleGraph(context);
      case 'ready': {
        const reasons = notReady(context.target, context.now());
        return success({ ready: reasons.length === 0, reasons });
      }
      case 'halt':
        return handleHalt(request, context);
      case 'rc':
        return await handleRc(request, context);
      case 'scan':
        return handleScan(request, context);
      case 'deaths':
        return handleDeaths(request, context);
    }
  } catch (error) {
    return failure('ERR_INTERNAL', `the ${request.cmd} request failed: ${errorMessage(error)}`);
  }
}
