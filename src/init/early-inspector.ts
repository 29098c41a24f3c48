import { errorMessage } from '../errors.js';
import type { Reporter } from '../log/reporter.js';
import type { ShutdownRequest } from './shutdown-request.js';

/**
 * A SIGUSR1 that reaches Node before the entry point's first statement meets Node's own
 * handler, which opens its debugger on 127.0.0.1:9229: anything that can reach that port in
 * the container's network (every container of a Kubernetes pod) could run code as PID 1. Node
 * 20 has no switch to turn that handler off, and looking costs a few milliseconds (loading
 * node:inspector), so it is done once the boot is over, off the start-up path: a debugger
 * found open is closed, and the SIGUSR1 is taken for what it means to an init, a graceful
 * shutdown.
 */
export async function closeEarlyInspector(
  reporter: Reporter,
  shutdown: ShutdownRequest,
  stopsOnSigusr1: boolean,
  ownOptions: readonly string[],
  recheckMs: readonly number[] = RECHECK_MS,
): Promise<void> {
  // Opened on purpose (`node --inspect .../steward-init`): left open, no signal to take.
  if (debuggerOpenedByOptions(ownOptions)) return;
  try {
    const inspector = await import('node:inspector');
    if (inspector.url() === undefined) return;
    inspector.close();
    if (stopsOnSigusr1) {
      reporter.warn('steward', "a SIGUSR1 came before Steward could take signals, and Node opened its debugger for it; closed it, and stopping the container as SIGUSR1 asks");
      shutdown.request({ kind: 'signal', signal: 'SIGUSR1' });
    } else {
      reporter.warn('steward', "a SIGUSR1 came before Steward could take signals, and Node opened its debugger for it; closed it, and ignoring the SIGUSR1, as s6-overlay v2 does: this image is made for it");
    }
    // Node may open it once more a few milliseconds after (the start the signal asked for,
    // still under way): looked at again, and closed again, for as long as that can happen.
    for (const delayMs of recheckMs) {
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      if (inspector.url() !== undefined) inspector.close();
    }
  } catch (error) {
    reporter.error('steward', `cannot check for Node's debugger: ${errorMessage(error)}`);
  }
}

/**
 * Whether Node options open the debugger themselves (`--inspect`, `--inspect-brk`,
 * `--inspect-wait`, with or without an address; not `--inspect-port` alone): a debugger found
 * open was then asked for, and is no sign of an early SIGUSR1. `options` are the command
 * line's, then NODE_OPTIONS's words as this Node read them (quotes around one taken off).
 */
export function debuggerOpenedByOptions(options: readonly string[]): boolean {
  return options.some((option) => /^(--inspect|--inspect-brk|--inspect-wait)(=.*)?$/.test(option.replace(/^(["'])(.*)\1$/, '$2')));
}

/** NODE_OPTIONS's words (Node splits it at spaces, keeping a quoted word whole). */
export function nodeOptionWords(value: string): string[] {
  return value.match(/"[^"]*"|'[^']*'|[^\s]+/g) ?? [];
}

/** When to look again after closing it: soon, then less often, about five seconds in all. */
const RECHECK_MS = [5, 20, 100, 500, 1000, 3500];
