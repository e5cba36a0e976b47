/** Risk and performance metrics over an equity series (pure). */
export interface EquityPoint {
  ts: number; // epoch ms
  equity: number;
  positionsUsd?: number;
}

export function maxDrawdown(equity: readonly number[]): number {
  let peak = -Infinity;
  let worst = 0;
  for (const e of equity) {
    if (e > peak) peak = e;
    if (peak > 0) worst = Math.max(worst, (peak - e) / peak);
  }
  return worst;
}

export function currentDrawdown(equity: readonly number[]): number {
  if (!equity.length) return 0;
  const peak = Math.max(...equity);
  return peak > 0 ? (peak - equity[equity.length - 1]!) / peak : 0;
}

export function simpleReturns(equity: readonly number[]): number[] {
  const r: number[] = [];
  for (let i = 1; i < equity.length; i++) if (equity[i - 1]! > 0) r.push(equity[i]! / equity[i - 1]! - 1);
  return r;
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / (xs.length || 1);
const std = (xs: readonly number[]) => {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
};

/** Annualised from per-period returns; periodsPerYear = 8760 for hourly, 365 for daily. */
export const annualisedVolatility = (returns: readonly number[], periodsPerYear: number): number => std(returns) * Math.sqrt(periodsPerYear);

export function sharpe(returns: readonly number[], periodsPerYear: number): number {
  const s = std(returns);
  return s > 0 ? (mean(returns) / s) * Math.sqrt(periodsPerYear) : 0;
}

export function sortino(returns: readonly number[], periodsPerYear: number): number {
  const downside = Math.sqrt(returns.reduce((a, r) => a + Math.min(r, 0) ** 2, 0) / (returns.length || 1));
  return downside > 0 ? (mean(returns) / downside) * Math.sqrt(periodsPerYear) : 0;
}

export function cagr(startEquity: number, endEquity: number, years: number): number {
  if (startEquity <= 0 || years <= 0) return 0;
  return (endEquity / startEquity) ** (1 / years) - 1;
}

/** Median spacing of the series, as periods per year (hourly snapshots → 8760). */
export function periodsPerYear(points: readonly { ts: number }[]): number {
  if (points.length < 2) return 8760;
  const gaps = points.slice(1).map((p, i) => p.ts - points[i]!.ts).sort((a, b) => a - b);
  const median = gaps[Math.floor(gaps.length / 2)]!;
  return median > 0 ? (365 * 86_400_000) / median : 8760;
}

export interface RiskReport {
  points: number;
  equityUsd: number | null;
  maxDrawdown: number;
  currentDrawdown: number;
  volatilityAnnual: number;
  exposure: number | null; // positions / equity at the last point
  averageExposure: number | null;
}

export function riskReport(points: readonly EquityPoint[]): RiskReport {
  const eq = points.map((p) => p.equity);
  const last = points[points.length - 1];
  const exposures = points.filter((p) => p.positionsUsd !== undefined && p.equity > 0).map((p) => p.positionsUsd! / p.equity);
  return {
    points: points.length,
    equityUsd: last?.equity ?? null,
    maxDrawdown: maxDrawdown(eq),
    currentDrawdown: currentDrawdown(eq),
    volatilityAnnual: annualisedVolatility(simpleReturns(eq), periodsPerYear(points)),
    exposure: last && last.positionsUsd !== undefined && last.equity > 0 ? last.positionsUsd / last.equity : null,
    averageExposure: exposures.length ? mean(exposures) : null,
  };
}
