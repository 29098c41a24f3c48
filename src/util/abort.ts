/**
 * A signal that aborts when `parent` does (with its reason) or when `timeoutMs` passes
 * (with `reason`; 0 means no time limit). `dispose` removes the timer and the listener,
 * so a limit that was not reached leaves nothing behind.
 */
export function abortAfter(parent: AbortSignal, timeoutMs: number, reason: string): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const timer = timeoutMs > 0 ? setTimeout(() => controller.abort(reason), timeoutMs) : undefined;
  // A limit that outlives its work must not keep the process alive.
  timer?.unref();
  const onAbort = (): void => controller.abort(parent.reason);
  if (parent.aborted) onAbort();
  else parent.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    dispose: () => {
      clearTimeout(timer);
      parent.removeEventListener('abort', onAbort);
    },
  };
}
