/** Nearest-rank percentile of `xs` (0 < q ≤ 1); NaN for none. */
export function percentile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

export const fmtMs = (x: number): string => (Number.isFinite(x) ? String(Math.round(x * 10) / 10) : 'n/a');

/** `{a: 1, b: 2}` → `a=1 b=2`, largest first. */
export const tally = (o: Record<string, number>): string =>
  Object.entries(o)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([k, v]) => `${k}=${v}`)
    .join(' ') || '-';

export function count<T>(xs: readonly T[], key: (x: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[key(x)] = (out[key(x)] ?? 0) + 1;
  return out;
}
