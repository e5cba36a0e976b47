import { describe, expect, it } from 'vitest';
import { basketVolAnnual, drawdownFromPeak } from '../../../lib/hedge/index.ts';
import { logReturnStd } from '../../../lib/strategy/indicators.ts';
import { alignCloses } from '../../../lib/risk/correlation.ts';
import { krakenHourly } from '../strategy/ohlcv.ts';

describe('basketVolAnnual', () => {
  const closes = alignCloses({ 'BTC/USD': krakenHourly('BTC'), 'ETH/USD': krakenHourly('ETH') });

  it('a one-asset basket is that asset’s annualised volatility', () => {
    const btc = closes['BTC/USD']!;
    expect(basketVolAnnual(closes, { 'BTC/USD': 1 }, 720, 3600)).toBeCloseTo(logReturnStd(btc, 720) * Math.sqrt(8760), 12);
  });

  it('real BTC hourly volatility is in a sane range and a BTC+ETH basket sits between its parts', () => {
    const btc = basketVolAnnual(closes, { 'BTC/USD': 1 }, 2000, 3600);
    const eth = basketVolAnnual(closes, { 'ETH/USD': 1 }, 2000, 3600);
    const mix = basketVolAnnual(closes, { 'BTC/USD': 1, 'ETH/USD': 1 }, 2000, 3600);
    expect(btc).toBeGreaterThan(0.2);
    expect(btc).toBeLessThan(2);
    expect(mix).toBeLessThanOrEqual(Math.max(btc, eth));
    expect(mix).toBeGreaterThanOrEqual(Math.min(btc, eth) * 0.9);
  });

  it.each([
    ['no weights', {}],
    ['a pair without closes', { 'SOL/USD': 1 }],
    ['zero weights', { 'BTC/USD': 0 }],
  ])('NaN for %s', (_n, w) => expect(basketVolAnnual(closes, w, 100, 3600)).toBeNaN());
});

describe('drawdownFromPeak', () => {
  it.each([
    [100, 100, 0],
    [100, 90, 0.1],
    [100, 110, 0],
    [0, 50, 0],
    [100, -5, 1],
  ])('peak %d, equity %d → %d', (peak, eq, dd) => expect(drawdownFromPeak(peak, eq)).toBeCloseTo(dd, 12));
});
