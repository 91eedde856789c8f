/** Small statistics helpers. */

/** Nearest-rank percentile (p in 0..100) of unsorted values. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

export function ratio(value: number, reference: number): number {
  return reference === 0 || !Number.isFinite(reference) ? NaN : value / reference;
}

export function round(n: number, digits = 3): number {
  if (!Number.isFinite(n)) return n;
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

export const MB = 1e6;
export const MiB = 2 ** 20;
export const GiB = 2 ** 30;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
