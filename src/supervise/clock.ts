import { setLongTimeout } from '../util/long-timeout.js';

/** Time as the supervisor sees it, so tests can drive it with a fake clock. */
export interface Clock {
  now(): number;
  /** Calls `callback` after `ms`; the returned function cancels it. */
  schedule(ms: number, callback: () => void): () => void;
}

// Epoch ms that never go back: the wall clock read once, then the monotonic clock. (Not
// `performance`, whose module PID 1 would load at start-up for this alone.)
const wallAtStart = Date.now();
const monotonicAtStart = process.hrtime.bigint();

export const realClock: Clock = {
  now: () => wallAtStart + Number(process.hrtime.bigint() - monotonicAtStart) / 1e6,
  schedule: (ms, callback) => setLongTimeout(callback, ms),
};
