import { sendRequest, socketPath } from '../control/client.js';
import { StewardError } from '../errors.js';
import { ignoreTerminationUntilExit } from '../sys/ffi/process-image.js';
import { exitCodeFor } from './exit-codes.js';
import { writeErr } from './output.js';

export type CallResult = { ok: true; result: unknown } | { ok: false; exitCode: number };

/**
 * Sends a request to the running Steward. Failures are printed here, once, in the
 * same form for every command, and turned into the documented exit code.
 */
export async function callSteward(command: string, request: Record<string, unknown>): Promise<CallResult> {
  let response;
  try {
    response = await sendRequest(socketPath(), request);
  } catch (error) {
    if (!(error instanceof StewardError)) throw error;
    writeErr(`steward ${command}: ${error.describe()}\n`);
    return { ok: false, exitCode: exitCodeFor(error.code) };
  }
  if (response.ok) return { ok: true, result: response.result };
  const { code, message, hint } = response.error;
  writeErr(`steward ${command}: ${message}${hint === undefined ? '' : `. ${hint}`}\n`);
  return { ok: false, exitCode: exitCodeFor(code) };
}

/**
 * For a client that asks for the shutdown (steward halt, s6-svscanctl -t): the shutdown ends
 * with a SIGTERM to every process left, this one too if it has not quite exited (docker exec
 * ... halt, a Kubernetes preStop hook), and dying of the outcome asked for would report a
 * failure (exit 143). Returns how to leave once done: at once, TERM ignored till then.
 */
export function outliveTheShutdown(): (code: number) => number {
  let leave: ((code: number) => never) | null = null;
  try {
    leave = ignoreTerminationUntilExit();
  } catch {
    // No koffi on this platform: the listener below, which covers all but Node's exit itself.
  }
  if (leave !== null) return leave;
  process.once('SIGTERM', () => process.exit(0));
  return (code) => code;
}
