import { sendRequest, socketPath } from '../../control/client.js';
import type { ControlErrorBody } from '../../control/protocol.js';
import { StewardError } from '../../errors.js';
import { writeErr } from '../output.js';

/** s6's exit codes: 100 usage, 102 not supervised, 111 system failure. */
export const S6_EXIT = { usage: 100, notSupervised: 102, system: 111 } as const;

export type S6Call = { ok: true; result: unknown } | { ok: false; error: ControlErrorBody | StewardError };

/** Sends a request; reports failures as "PROG: fatal: ..." the way skarnet tools do. */
export async function callForS6(prog: string, request: Record<string, unknown>): Promise<S6Call> {
  try {
    const response = await sendRequest(socketPath(), request);
    return response.ok ? { ok: true, result: response.result } : { ok: false, error: response.error };
  } catch (error) {
    if (error instanceof StewardError) return { ok: false, error };
    throw error;
  }
}

export function fatal(prog: string, message: string): void {
  writeErr(`${prog}: fatal: ${message}\n`);
}

export function exitForError(prog: string, error: ControlErrorBody | StewardError): number {
  const message = error instanceof StewardError ? error.describe() : `${error.message}${error.hint === undefined ? '' : `. ${error.hint}`}`;
  fatal(prog, message);
  switch (error.code) {
    case 'ERR_UNKNOWN_SERVICE':
    case 'ERR_CONTROL_UNAVAILABLE':
      return S6_EXIT.notSupervised;
    case 'ERR_BAD_REQUEST':
    case 'ERR_BAD_SIGNAL':
      return S6_EXIT.usage;
    default:
      return S6_EXIT.system;
  }
}
