/** The longest delay setTimeout keeps (2^31 - 1 ms, about 24.8 days); Node fires a longer one after 1 ms. */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * setTimeout for any delay, in steps of the longest one a Node timer keeps. The limits
 * images set are read as s6 reads them, up to 2^32 - 1 ms: 4294967295, written to mean
 * "practically never", must not turn into "at once". Returns the function that cancels it.
 */
export function setLongTimeout(callback: () => void, ms: number, options: { unref?: boolean } = {}): () => void {
  let timer: NodeJS.Timeout | undefined;
  const step = (left: number): void => {
    timer = setTimeout(() => (left > MAX_TIMER_MS ? step(left - MAX_TIMER_MS) : callback()), Math.min(left, MAX_TIMER_MS));
    if (options.unref === true) timer.unref();
  };
  step(ms);
  return () => clearTimeout(timer);
}
