import { sendRequest, socketPath } from '../control/client.js';
import { StewardError } from '../errors.js';
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
