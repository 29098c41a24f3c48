/** Time as the supervisor sees it, so tests can drive it with a fake clock. */
export interface Clock {
  now(): number;
  /** Calls `callback` after `ms`; the returned function cancels it. */
  schedule(ms: number, callback: () => void): () => void;
}

export const realClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  schedule(ms, callback) {
    const timer = setTimeout(callback, ms);
    return () => clearTimeout(timer);
  },
};
