import type { MarketSpec } from '../exchange/types.ts';
import { basketVolAnnual, basketVolOfReturns } from '../hedge/inputs.ts';
import type { Candle } from '../market/candle.ts';
import { alignCloses, correlationGroups, correlationMatrix, correlationMatrixOfReturns } from '../risk/correlation.ts';
import type { RiskSettings } from '../risk/settings.ts';
import { closeLogReturns } from '../strategy/indicators.ts';
import type { Signal } from '../strategy/signal.ts';
import type { MarketView } from './types.ts';

const tail = <T>(xs: readonly T[], n: number): readonly T[] => (xs.length <= n ? xs : xs.slice(xs.length - n));

/**
 * The market at decision time `now` from each pair's closed candles (ascending, up to now): newest
 * bar, correlated groups over the account's window, and the universe's realised volatility. Live and
 * backtest build it with this one function.
 */
export function marketView(
  history: Readonly<Record<string, readonly Candle[]>>,
  signals: Readonly<Record<string, Signal | null>>,
  markets: Readonly<Record<string, MarketSpec>>,
  now: number,
  risk: Pick<RiskSettings, 'correlationWindow' | 'correlationThreshold' | 'defaultSlippage'>,
  volWindow = 168,
): MarketView {
  const bars: Record<string, Candle> = {};
  const series: Record<string, readonly Candle[]> = {};
  const window = Math.max(risk.correlationWindow, volWindow) + 1;
  let interval = 3600;
  let first = true;
  for (const pair of Object.keys(history)) {
    const candles = history[pair]!;
    const last = candles[candles.length - 1];
    if (!last || !markets[pair]) continue;
    bars[pair] = last;
    series[pair] = candles;
    if (first) interval = last.interval;
    first = false;
  }
  let groupOf: Record<string, number>;
  let vol: number;
  const { n, positive } = tails(series, window);
  if (n > 0) {
    // Same bars in every tail: log returns straight from the candles, each computed once per backtest.
    const returns: Record<string, Float64Array> = {};
    const weights: Record<string, number> = {};
    for (const p of Object.keys(series)) {
      const s = series[p]!;
      returns[p] = closeLogReturns(s, s.length - n + 1, s.length);
      if (!markets[p]!.stablecoin) weights[p] = 1;
    }
    const corrWindow = risk.correlationWindow;
    if (Number.isInteger(corrWindow) && corrWindow >= 2) {
      if (!positive) checkPositiveCloses(series, Math.min(corrWindow, n - 1)); // the bad close may lie before the correlation's window
      // Only the risk engine reads the groups, and only for an order: most bars send none. The views
      // of `returns` are this bar's numbers for good (the cache only ever appends), so a later read
      // computes what an eager one would have.
      groupOf = new Proxy({}, new GroupsOnUse(returns, corrWindow, risk.correlationThreshold));
    } else ({ groupOf } = correlationGroups(correlationMatrixOfReturns(returns, corrWindow), risk.correlationThreshold)); // throws: a bad window
    vol = basketVolOfReturns(returns, weights, volWindow, interval);
  } else {
    const aligned = alignedTails(series, window);
    const corrCloses = Object.fromEntries(Object.entries(aligned).map(([p, c]) => [p, tail(c, risk.correlationWindow + 1)]));
    ({ groupOf } = correlationGroups(correlationMatrix(corrCloses, risk.correlationWindow), risk.correlationThreshold));
    vol = basketVolAnnual(aligned, Object.fromEntries(Object.keys(aligned).filter((p) => !markets[p]!.stablecoin).map((p) => [p, 1])), volWindow, interval);
  }
  const slippage: Record<string, number> = {};
  for (const p of Object.keys(bars)) slippage[p] = risk.defaultSlippage;
  return {
    now,
    bars,
    signals,
    markets,
    groupOf,
    slippage,
    volAnnual: Number.isFinite(vol) ? vol : 0,
  };
}

/**
 * The Proxy handler of the view's correlation groups, computed from the bar's returns on their first
 * use (a read, a key listing, a spread), once. A Proxy rather than a getter on the view: an object
 * literal with an accessor is built on V8's slow path, at every bar.
 */
class GroupsOnUse implements ProxyHandler<Record<string, number>> {
  private returns: Record<string, Float64Array> | null;
  constructor(
    returns: Record<string, Float64Array>,
    private readonly window: number,
    private readonly threshold: number,
  ) {
    this.returns = returns;
  }
  private fill(t: Record<string, number>): Record<string, number> {
    if (this.returns) {
      const { groupOf } = correlationGroups(correlationMatrixOfReturns(this.returns, this.window), this.threshold);
      this.returns = null;
      Object.assign(t, groupOf);
    }
    return t;
  }
  get(t: Record<string, number>, k: string | symbol): unknown {
    return Reflect.get(this.fill(t), k);
  }
  has(t: Record<string, number>, k: string | symbol): boolean {
    return Reflect.has(this.fill(t), k);
  }
  ownKeys(t: Record<string, number>): (string | symbol)[] {
    return Reflect.ownKeys(this.fill(t));
  }
  getOwnPropertyDescriptor(t: Record<string, number>, k: string | symbol): PropertyDescriptor | undefined {
    return Reflect.getOwnPropertyDescriptor(this.fill(t), k);
  }
  set(t: Record<string, number>, k: string | symbol, v: unknown): boolean {
    return Reflect.set(this.fill(t), k, v);
  }
  defineProperty(t: Record<string, number>, k: string | symbol, d: PropertyDescriptor): boolean {
    return Reflect.defineProperty(this.fill(t), k, d);
  }
  deleteProperty(t: Record<string, number>, k: string | symbol): boolean {
    return Reflect.deleteProperty(this.fill(t), k);
  }
}

/**
 * `alignCloses` of each series' newest `window` candles. When every tail has the very same strictly
 * ascending open times (the usual case) the result is simply each tail's closes, built here without
 * slicing candles or the general walk — a backtest asks for this at every bar.
 */
export function alignedTails(series: Readonly<Record<string, readonly Candle[]>>, window: number): Record<string, number[]> {
  const pairs = Object.keys(series);
  const n = commonTail(series, window);
  if (n <= 0) return alignCloses(Object.fromEntries(pairs.map((p) => [p, tail(series[p]!, window)])));
  const out: Record<string, number[]> = {};
  for (const p of pairs) {
    const s = series[p]!;
    const o = s.length - n;
    const closes = new Array<number>(n);
    for (let k = 0; k < n; k++) closes[k] = s[o + k]!.close;
    out[p] = closes;
  }
  return out;
}

/** The tails' common length when every series' newest `window` candles have the very same strictly ascending open times; 0 otherwise. */
function commonTail(series: Readonly<Record<string, readonly Candle[]>>, window: number): number {
  return tails(series, window).n;
}

/**
 * commonTail's length, and whether every close in those tails is positive (then so are those the
 * correlation reads: no need to read them again), from one pass over the tails' candles.
 */
function tails(series: Readonly<Record<string, readonly Candle[]>>, window: number): { n: number; positive: boolean } {
  const pairs = Object.keys(series);
  const ref = pairs.length ? series[pairs[0]!]! : [];
  const n = Math.min(ref.length, window);
  if (!(n > 0)) return { n: 0, positive: false };
  const r0 = ref.length - n;
  const others: (readonly Candle[])[] = [];
  const offsets: number[] = [];
  for (let i = 1; i < pairs.length; i++) {
    const s = series[pairs[i]!]!;
    if (Math.min(s.length, window) !== n) return { n: 0, positive: false };
    others.push(s);
    offsets.push(s.length - n);
  }
  // Each of the reference's open times read once, checked ascending and against every other tail.
  let prev = Number.NaN;
  let positive = true;
  for (let k = 0; k < n; k++) {
    const c = ref[r0 + k]!;
    const t = c.openTime;
    if (k > 0 && !(t > prev)) return { n: 0, positive: false };
    if (!(c.close > 0)) positive = false;
    for (let i = 0; i < others.length; i++) {
      const o = others[i]![offsets[i]! + k]!;
      if (o.openTime !== t) return { n: 0, positive: false };
      if (!(o.close > 0)) positive = false;
    }
    prev = t;
  }
  return { n, positive };
}

/** correlationMatrix's check on the closes its last `count` returns read, pairs in its (sorted) order. */
function checkPositiveCloses(series: Readonly<Record<string, readonly Candle[]>>, count: number): void {
  if (count <= 0) return;
  // Every close read once; only a bad one sends the check through correlationMatrix's order, for its error.
  let positive = true;
  for (const p of Object.keys(series)) {
    const s = series[p]!;
    for (let i = s.length - count - 1; positive && i < s.length; i++) if (!(s[i]!.close > 0)) positive = false;
  }
  if (positive) return;
  for (const p of Object.keys(series).sort()) {
    const s = series[p]!;
    for (let i = s.length - count; i < s.length; i++) {
      const a = s[i - 1]!.close;
      const b = s[i]!.close;
      if (!(a > 0) || !(b > 0)) throw new RangeError(`closes must be positive, got ${a} → ${b}`);
    }
  }
}
