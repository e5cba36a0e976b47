import type { Db } from '../db/client.ts';
import type { MarketSpec } from '../exchange/types.ts';
import type { Candle } from '../market/candle.ts';
import { loadBarCandles, loadCandles } from '../market/store.ts';
import type { RiskSettings } from '../risk/settings.ts';
import { loadSignals } from './live-store.ts';
import { marketView } from './market-view.ts';
import type { Signal } from '../strategy/signal.ts';
import type { MarketView } from './types.ts';

/** Enough closed bars for the correlation (168) and volatility windows. */
export const VIEW_BARS = 400;
const KEEP_BARS = 3;

interface BarData {
  history: Record<string, Candle[]>;
  views: Map<string, Omit<MarketView, 'signals' | 'markets'>>;
}

/**
 * What every account's order job of one bar reads alike — the pairs' closed candles and the market
 * view computed from them — loaded once per process and bar, not once per account (a hundred
 * accounts on ten pairs would otherwise read and compute it a hundred times). Only a complete bar is
 * kept (every pair has it): closed candles do not change. Signals are read per job, they are small
 * and `score` may still be writing them when an early job runs.
 */
export class MarketData {
  private readonly bars = new Map<string, Promise<BarData>>();

  constructor(private readonly db: Db) {}

  private load(pairs: readonly string[], interval: number, barTime: number): Promise<BarData> {
    const sorted = [...pairs].sort();
    const key = `${barTime} ${interval} ${sorted.join(',')}`;
    const cached = this.bars.get(key);
    if (cached) return cached;
    const previous = this.bars.get(`${barTime - interval * 1000} ${interval} ${sorted.join(',')}`);
    const data = (async () => {
      const before = previous ? await previous.catch(() => null) : null;
      const step = interval * 1000;
      // The previous bar's complete series only need the new bar appended (closed candles do not
      // change): one query for the pairs that have one; a gap or a first read reads the whole window.
      const extendable = sorted.filter((pair) => {
        const b = before?.history[pair];
        return b !== undefined && b.length === VIEW_BARS && b.at(-1)?.openTime === barTime - step;
      });
      const added = new Map((await loadBarCandles(this.db, extendable, interval, barTime)).map((c) => [c.pair, c]));
      const series = await Promise.all(
        sorted.map((pair) => {
          const c = added.get(pair);
          return c ? [...before!.history[pair]!.slice(1), c] : loadCandles(this.db, pair, interval, { to: barTime + 1, limit: VIEW_BARS });
        }),
      );
      const history: Record<string, Candle[]> = Object.fromEntries(sorted.map((pair, i) => [pair, series[i]!]));
      return { history, views: new Map() };
    })();
    this.bars.set(key, data);
    data.then(
      (d) => {
        if (!Object.values(d.history).every((cs) => cs.at(-1)?.openTime === barTime)) this.bars.delete(key); // incomplete: read again next time
      },
      () => this.bars.delete(key),
    );
    const times = [...new Set([...this.bars.keys()].map((k) => Number(k.split(' ')[0])))].sort((a, b) => b - a);
    for (const k of this.bars.keys()) if (Number(k.split(' ')[0]) < (times[KEEP_BARS - 1] ?? -Infinity)) this.bars.delete(k);
    return data;
  }

  /** The closed candles per pair up to the bar (newest last). Shared: read-only. */
  async history(pairs: readonly string[], interval: number, barTime: number): Promise<Readonly<Record<string, readonly Candle[]>>> {
    return (await this.load(pairs, interval, barTime)).history;
  }

  /** The signals `score` stored for the bar (an ML champion's before the baseline's), read per job. */
  signals(pairs: readonly string[], barTime: number): Promise<Record<string, Signal | null>> {
    return loadSignals(this.db, [...pairs].sort(), barTime);
  }

  /**
   * The market view at the bar's close for these markets and risk settings, with the bar's signals.
   * Accounts on the same pairs share the computed part; the markets (each account's own fee tier)
   * and the signals are attached per job.
   */
  async view(
    pairs: readonly string[],
    interval: number,
    barTime: number,
    markets: Readonly<Record<string, MarketSpec>>,
    risk: Pick<RiskSettings, 'correlationWindow' | 'correlationThreshold' | 'defaultSlippage'>,
    signals: Readonly<Record<string, Signal | null>>,
  ): Promise<MarketView> {
    const data = await this.load(pairs, interval, barTime);
    const tradable = Object.keys(data.history).filter((p) => markets[p]).join(',');
    const key = `${risk.correlationWindow} ${risk.correlationThreshold} ${risk.defaultSlippage} ${tradable}`;
    let view = data.views.get(key);
    if (!view) {
      const { signals: _s, markets: _m, ...computed } = marketView(data.history, {}, markets, barTime + interval * 1000, risk);
      data.views.set(key, (view = computed));
    }
    return { ...view, signals, markets };
  }
}
