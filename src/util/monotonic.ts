/**
 * Milliseconds from an arbitrary start that never go back. process.hrtime rather than
 * `performance.now()`: the first use of `performance` loads Node's perf_hooks, about 1.7 ms
 * that PID 1 would pay on the way to its first service.
 */
export function monotonicMs(): number {
  const [seconds, nanoseconds] = process.hrtime();
  return seconds * 1000 + nanoseconds / 1e6;
}
