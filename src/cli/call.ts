import { sendRequest, socketPath } from '../control/client.js';
import { StewardError } from '../errors.js';
import { exitWithoutTeardown } from '../sys/ffi/process-image.js';
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
 * with a SIGTERM to every process left, this one too if it is still waiting for the answer or
 * exiting (docker exec ... halt, a Kubernetes preStop hook). That TERM is the outcome asked
 * for: it ends the client with 0, and the client leaves without Node's teardown, during which
 * the TERM would kill it (143). Returns how to leave once done.
 */
export function outliveTheShutdown(): (code: number) => number {
  let exitNow: ((code: number) => never) | undefined;
  try {
    exitNow = exitWithoutTeardown();
  } catch {
    // No koffi on this platform: Node's own exit, whose teardown leaves a short window.
  }
  process.once('SIGTERM', () => (exitNow ?? process.exit)(0));
  return exitNow ?? ((code) => code);
}
