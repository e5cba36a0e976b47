import type { Candle } from '../market/candle.ts';
import type { Signal } from './signal.ts';
import { TREND_VERSION, trendAtrPct, trendEnd, trendScore, type TrendOptions } from './trend.ts';

/**
 * trendSignalAt's signal, whose numbers are computed when first read. A backtest scores every pair
 * at every bar, but between decisions (daily by default) the cycle reads no more than a held pair's
 * atrPct (stops, trailing): computing σ and the score of every pair every hour was most of a
 * backtest's time. Nothing is guessed about who reads what: any read of a number computes it (atrPct
 * alone, or the momentum part: probUp, expectedReturn, regime, volatility) by the very functions
 * trendSignalAt uses, from the same candles, so every value is bit-identical to the eager signal.
 *
 * It behaves as the plain object it stands for — reads, `in`, Object.keys, spread, JSON and schema
 * checks see all nine fields in trendSignalAt's order; a write or a descriptor read computes
 * everything first. (A Proxy cannot be structured-cloned: spread it first to post it to a worker.)
 *
 * The checks (enough candles, one series) run now, as trendSignalAt's do. The candles must stay as
 * they are until the numbers are read (appending is fine, as the backtest's history does); the
 * newest candle is checked at that point, so an array shifted or reused in between throws instead of
 * giving another window's numbers.
 */
export function lazyTrendSignal(candles: readonly Candle[], o: Omit<TrendOptions, 'asOf'>, asOf: number): Signal {
  const end = trendEnd(candles, o, asOf);
  const last = candles[end - 1]!;
  // Every field present from the start (placeholders for the numbers), in the eager signal's order.
  const target: Signal = {
    pair: last.pair,
    time: last.openTime,
    probUp: Number.NaN,
    expectedReturn: Number.NaN,
    horizonBars: o.horizonBars,
    regime: PENDING_REGIME,
    volatility: Number.NaN,
    atrPct: Number.NaN,
    modelVersion: TREND_VERSION,
  };
  return new Proxy(target, new LazyTrend(candles, end, last, o));
}

const PENDING_REGIME: Signal['regime'] = Object.freeze({ label: 'sideways', probs: Object.freeze({ bull: Number.NaN, bear: Number.NaN, sideways: Number.NaN }) });

/** The fields trendScore computes. */
const SCORED = new Set<string | symbol>(['probUp', 'expectedReturn', 'regime', 'volatility']);

class LazyTrend implements ProxyHandler<Signal> {
  private candles: readonly Candle[] | null;
  private atr = false;
  private scored = false;

  constructor(
    candles: readonly Candle[],
    private readonly end: number,
    private readonly last: Candle,
    private readonly o: Omit<TrendOptions, 'asOf'>,
  ) {
    this.candles = candles;
  }

  get(target: Signal, key: string | symbol): unknown {
    if (key === 'atrPct') {
      if (!this.atr) this.fillAtr(target);
    } else if (!this.scored && SCORED.has(key)) this.fillScore(target);
    return Reflect.get(target, key);
  }

  getOwnPropertyDescriptor(target: Signal, key: string | symbol): PropertyDescriptor | undefined {
    this.fillAll(target);
    return Reflect.getOwnPropertyDescriptor(target, key);
  }

  set(target: Signal, key: string | symbol, value: unknown): boolean {
    this.fillAll(target);
    return Reflect.set(target, key, value);
  }

  defineProperty(target: Signal, key: string | symbol, d: PropertyDescriptor): boolean {
    this.fillAll(target);
    return Reflect.defineProperty(target, key, d);
  }

  deleteProperty(target: Signal, key: string | symbol): boolean {
    this.fillAll(target);
    return Reflect.deleteProperty(target, key);
  }

  private fillAll(target: Signal): void {
    if (!this.atr) this.fillAtr(target);
    if (!this.scored) this.fillScore(target);
  }

  private fillAtr(target: Signal): void {
    target.atrPct = trendAtrPct(this.window(), this.end, this.o);
    this.atr = true;
    this.release();
  }

  private fillScore(target: Signal): void {
    const s = trendScore(this.window(), this.end, this.o);
    target.probUp = s.probUp;
    target.expectedReturn = s.expectedReturn;
    target.regime = s.regime;
    target.volatility = s.volatility;
    this.scored = true;
    this.release();
  }

  private window(): readonly Candle[] {
    const c = this.candles!;
    if (c[this.end - 1] !== this.last) throw new Error(`${this.last.pair} trend signal at ${this.last.openTime}: its candles changed before its numbers were read`);
    return c;
  }

  /** Once every number is in, the candles are not held any longer. */
  private release(): void {
    if (this.atr && this.scored) this.candles = null;
  }
}
