import { describe, expect, it } from 'vitest';
import { perPairIsolated, type SignalFailure, type SignalProvider } from '../../../lib/cycle/signals.ts';
import type { Candle } from '../../../lib/market/candle.ts';
import type { Signal } from '../../../lib/strategy/signal.ts';

const H = 3_600_000;
const history = (pair: string): Candle[] => [{ pair, interval: 3600, openTime: 0, open: 1, high: 1, low: 1, close: 1, volume: 1 }];
const signal = (pair: string, over: Partial<Signal> = {}): Signal => ({
  pair, time: 0, probUp: 0.6, expectedReturn: 0.01, horizonBars: 24, regime: { label: 'bull', probs: { bull: 1, bear: 0, sideways: 0 } }, volatility: 0.01, atrPct: 0.02, modelVersion: 'test-v1', ...over,
});

/** A provider that misbehaves on the pairs named in `bad`. */
const provider = (bad: Record<string, () => Signal | null>): SignalProvider => ({
  name: 'test',
  lookback: 10,
  companions: ['BTC/USD'],
  signal: (h) => {
    const pair = h.at(-1)!.pair;
    return (bad[pair] ?? (() => signal(pair)))();
  },
});

describe('perPairIsolated', () => {
  it.each([
    ['throws', () => { throw new Error('feature NaN'); }, 'feature NaN'],
    ['returns a NaN probability', () => signal('ETH/USD', { probUp: Number.NaN }), 'probUp'],
    ['returns a probability above 1', () => signal('ETH/USD', { probUp: 1.2 }), 'probUp'],
    ['returns an infinite volatility', () => signal('ETH/USD', { volatility: Number.POSITIVE_INFINITY }), 'volatility'],
    ['returns another pair’s signal', () => signal('BTC/USD'), 'signal for BTC/USD returned for ETH/USD'],
  ])('a provider that %s on one pair costs only that pair its signal, and says why', (_label, bad, why) => {
    const failed: SignalFailure[] = [];
    const p = perPairIsolated(provider({ 'ETH/USD': bad }), failed);
    expect(p).toMatchObject({ name: 'test', lookback: 10, companions: ['BTC/USD'] });
    expect(p.signal(history('BTC/USD'), H)).toMatchObject({ pair: 'BTC/USD', probUp: 0.6 });
    expect(p.signal(history('ETH/USD'), H)).toBeNull();
    expect(p.signal(history('SOL/USD'), H)).toMatchObject({ pair: 'SOL/USD' });
    expect(failed).toEqual([{ provider: 'test', pair: 'ETH/USD', error: expect.stringContaining(why) }]);
  });

  it('no signal (history too short) is not a failure', () => {
    const failed: SignalFailure[] = [];
    expect(perPairIsolated(provider({ 'ETH/USD': () => null }), failed).signal(history('ETH/USD'), H)).toBeNull();
    expect(failed).toEqual([]);
  });
});
