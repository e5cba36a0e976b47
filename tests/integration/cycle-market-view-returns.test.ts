import { describe, expect, it } from 'vitest';
import { alignedTails, marketView } from '../../lib/cycle/market-view.ts';
import { USD_MARKETS } from '../../lib/exchange/usd-markets.ts';
import { basketVolAnnual } from '../../lib/hedge/inputs.ts';
import type { Candle } from '../../lib/market/candle.ts';
import { correlationGroups, correlationMatrix } from '../../lib/risk/correlation.ts';
import { krakenHourly } from '../unit/strategy/ohlcv.ts';

/**
 * The market view reads log returns per candle (each computed once) when every tail has the same
 * bars; its groups and volatility must be exactly those of the closes path.
 */
const markets = Object.fromEntries(USD_MARKETS.map((m) => [m.symbol, m]));
const risk = { correlationWindow: 72, correlationThreshold: 0.7, defaultSlippage: 0.001 };

function closesPath(history: Record<string, readonly Candle[]>) {
  const aligned = alignedTails(history, Math.max(risk.correlationWindow, 168) + 1);
  const corr = Object.fromEntries(Object.entries(aligned).map(([p, c]) => [p, c.slice(-(risk.correlationWindow + 1))]));
  const vol = basketVolAnnual(aligned, Object.fromEntries(Object.keys(aligned).map((p) => [p, 1])), 168, 3600);
  return { groupOf: correlationGroups(correlationMatrix(corr, risk.correlationWindow), risk.correlationThreshold).groupOf, volAnnual: Number.isFinite(vol) ? vol : 0 };
}

describe('marketView from per-candle log returns', () => {
  const all = { 'BTC/USD': krakenHourly('BTC').slice(0, 2000), 'ETH/USD': krakenHourly('ETH').slice(0, 2000) };

  it('gives the groups and volatility of the closes path, bar after bar on the same arrays', () => {
    const history: Record<string, Candle[]> = { 'BTC/USD': [], 'ETH/USD': [] };
    for (let i = 0; i < 600; i++) {
      for (const p of Object.keys(all) as (keyof typeof all)[]) if (all[p][i]) history[p]!.push(all[p][i]!);
      if (i % 7 !== 0 && i < 590) continue;
      const v = marketView(history, {}, markets, 0, risk);
      const r = closesPath(history);
      expect(v.groupOf).toEqual(r.groupOf);
      expect(Object.is(v.volAnnual, r.volAnnual)).toBe(true);
    }
  });

  it('refuses a non-positive close in the correlation window, as correlationMatrix does', () => {
    const btc = all['BTC/USD'].slice(0, 300).map((c) => ({ ...c }));
    const eth = all['ETH/USD'].slice(0, 300).map((c) => ({ ...c }));
    const aligned = btc.every((c, i) => c.openTime === eth[i]!.openTime);
    expect(aligned).toBe(true);
    eth[290] = { ...eth[290]!, close: 0 };
    expect(() => marketView({ 'BTC/USD': btc, 'ETH/USD': eth }, {}, markets, 0, risk)).toThrow(/closes must be positive/);
  });
});
