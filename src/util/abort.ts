import { setLongTimeout } from './long-timeout.js';

/**
 * A signal that aborts when `parent` does (with its reason) or when `timeoutMs` passes
 * (with `reason`; 0 means no time limit). `dispose` removes the timer and the listener,
 * so a limit that was not reached leaves nothing behind.
 */
export function abortAfter(parent: AbortSignal, timeoutMs: number, reason: string): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  // A limit that outlives its work must not keep the process alive.
  const cancelTimer = timeoutMs > 0 ? setLongTimeout(() => controller.abort(reason), timeoutMs, { unref: true }) : undefined;
  const onAbort = (): void => controller.abort(parent.reason);
  if (parent.aborted) onAbort();
  else parent.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    dispose: () => {
      cancelTimer?.();
      parent.removeEventListener('abort', onAbort);
    },
  };
}
