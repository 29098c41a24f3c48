/** The longest delay setTimeout keeps (2^31 - 1 ms); a longer one fires at once. */
export const MAX_TIMER_MS = 2_147_483_647;

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
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const limit = new Promise<false>((resolve) => {
    // Past what a timer can hold (about 24.8 days), Node would fire it at once: no limit then.
    if (timeoutMs > 0 && timeoutMs <= MAX_TIMER_MS) timer = setTimeout(() => resolve(false), timeoutMs);
    onAbort = () => resolve(false);
    abortSignal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work.then(() => true as const), limit]);
  } finally {
    clearTimeout(timer);
    if (onAbort !== undefined) abortSignal.removeEventListener('abort', onAbort);
  }
}
