import { setLongTimeout } from './long-timeout.js';

/**
 * Waits for `work`, but no longer than `timeoutMs` (0 = no limit) or until `abortSignal`
 * aborts. Resolves with true when the work finished first. Timers and listeners are
 * removed either way, so a wait that loses the race leaves nothing behind.
 */
export async function raceWithLimits(work: Promise<unknown>, abortSignal: AbortSignal, timeoutMs: number): Promise<boolean> {
  if (abortSignal.aborted) {
    // Not waited for, but never left unhandled: a rejection nobody handles ends PID 1.
    work.catch(() => undefined);
    return false;
  }
  let cancelTimer: (() => void) | undefined;
  let onAbort: (() => void) | undefined;
  const limit = new Promise<false>((resolve) => {
    if (timeoutMs > 0) cancelTimer = setLongTimeout(() => resolve(false), timeoutMs);
    onAbort = () => resolve(false);
    abortSignal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work.then(() => true as const), limit]);
  } finally {
    cancelTimer?.();
    if (onAbort !== undefined) abortSignal.removeEventListener('abort', onAbort);
  }
}
