import { errorMessage } from '../errors.js';
import type { Reporter } from '../log/reporter.js';
import type { ShutdownRequest } from './shutdown-request.js';

/** Exit code when Steward itself fails, as s6 uses 111 for system call failures. */
export const INTERNAL_ERROR_EXIT = 111;

/**
 * A bug in Steward must not leave the container hanging, nor kill it without its
 * services being stopped: log the error and run the normal shutdown. If the error
 * happens during that shutdown, `emergencyExit` ends things at once.
 */
export function installLastResort(reporter: Reporter, request: ShutdownRequest, emergencyExit: () => void): () => void {
  const onError = lastResortHandler(reporter, request, emergencyExit);
  process.on('uncaughtException', onError);
  process.on('unhandledRejection', onError);
  return () => {
    process.off('uncaughtException', onError);
    process.off('unhandledRejection', onError);
  };
}

export function lastResortHandler(reporter: Reporter, request: ShutdownRequest, emergencyExit: () => void): (error: unknown) => void {
  return (error) => {
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
    try {
      reporter.error('steward', `internal error, stopping the container: ${text}`);
    } catch {
      // Where the lines go failed too (a full catch-all log): stopping cleanly matters more.
    }
    if (!request.request({ kind: 'internal-error', message: errorMessage(error) })) emergencyExit();
  };
}
