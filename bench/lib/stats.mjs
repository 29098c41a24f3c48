// Small statistics helpers for the benchmark samples.

/** Percentile by linear interpolation between closest ranks (numpy's default). */
export function percentile(samples, p) {
  if (samples.length === 0) return null;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}

export const median = (samples) => percentile(samples, 50);

/** Summary kept in the JSON output next to the raw samples. */
export function summarize(samples) {
  return {
    n: samples.length,
    median: median(samples),
    p90: percentile(samples, 90),
    min: samples.length ? Math.min(...samples) : null,
    max: samples.length ? Math.max(...samples) : null,
    samples: samples.map((s) => Math.round(s * 1000) / 1000),
  };
}
