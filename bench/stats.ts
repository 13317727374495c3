/** Median and spread of repeated measurements. */
export interface Summary {
  median: number;
  min: number;
  max: number;
  /** (max − min) / median, as a fraction. */
  spread: number;
  runs: number;
}

/** Summarises at least one measurement. */
export function summarise(values: number[]): Summary {
  if (values.length === 0) throw new RangeError('no measurements');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  const min = sorted[0] as number;
  const max = sorted[sorted.length - 1] as number;
  return { median, min, max, spread: median === 0 ? 0 : (max - min) / median, runs: values.length };
}

/**
 * Operations per CPU-second of `fn` (this thread's user + system time), over about `ms`
 * milliseconds of CPU: a per-core rate that does not drop when other processes take the CPU,
 * comparable with figures per relay CPU-second.
 */
export function opsPerCpuSecond(fn: () => void, ms: number): number {
  let n = 0;
  const c0 = process.cpuUsage();
  let used = 0;
  while (used < ms * 1000) {
    for (let i = 0; i < 16; i++) fn();
    n += 16;
    const c = process.cpuUsage(c0);
    used = c.user + c.system;
  }
  return (n * 1e6) / used;
}

/** The p-th percentile (0–100) of the values, nearest-rank on the sorted values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new RangeError('no values');
  if (!(p >= 0 && p <= 100)) throw new RangeError('p must be within 0–100');
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

/** value / reference, or NaN when the reference is not positive. */
export function ratio(value: number, reference: number): number {
  return reference > 0 ? value / reference : Number.NaN;
}
