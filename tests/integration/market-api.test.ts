import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveSignal } from '../../lib/cycle/live-store.ts';
import { upsertCandles } from '../../lib/market/store.ts';
import type { Signal } from '../../lib/strategy/signal.ts';
import { call, expectError, login, onboard, startApi, type ApiHarness } from '../helpers/api.ts';

/** The market data the account page charts (candles) and explains (the newest signal per pair), for any signed-in user. */
const HOUR = 3_600_000;
const T0 = Date.parse('2026-01-05T00:00:00Z');
let h: ApiHarness;
let viewer: string;

const signal = (pair: string, time: number, modelVersion: string, probUp: number): Signal => ({
  pair,
  time,
  probUp,
  expectedReturn: 0.01,
  horizonBars: 168,
  regime: { label: 'bull', probs: { bull: 0.7, sideways: 0.2, bear: 0.1 } },
  volatility: 0.01,
  atrPct: 0.02,
  modelVersion,
});

beforeAll(async () => {
  h = await startApi();
  const o = await onboard(h);
  const r = await call(h.app, 'POST', '/users', { token: o.token, json: { email: 'market.viewer@example.com', name: 'Viewer', role: 'viewer', password: 'viewer password long enough', accountIds: [] } });
  expect(r.status, r.text).toBe(201);
  viewer = await login(h, 'market.viewer@example.com', 'viewer password long enough');
  const candles = Array.from({ length: 5 }, (_, i) => ({ pair: 'BTC/USD', interval: 3600, openTime: T0 + i * HOUR, open: 100 + i, high: 102 + i, low: 99 + i, close: 101 + i, volume: 3 }));
  await upsertCandles(h.ctx.db, candles, 'csv');
  await h.ctx.db.transaction(async (tx) => {
    await saveSignal(tx, signal('BTC/USD', T0, 'ml-7', 0.4));
    await saveSignal(tx, signal('BTC/USD', T0 + HOUR, 'baseline-trend-v3', 0.55));
    await saveSignal(tx, signal('BTC/USD', T0 + HOUR, 'ml-8', 0.61));
    await saveSignal(tx, signal('ETH/USD', T0, 'baseline-trend-v3', 0.3));
  });
}, 120_000);
afterAll(() => h?.close());

describe('market API', () => {
  it('answers the newest candles of a pair, oldest first', async () => {
    const r = await call(h.app, 'GET', '/markets/candles?pair=BTC%2FUSD&limit=3', { token: viewer });
    expect(r.status, r.text).toBe(200);
    const { candles } = r.body as { candles: Array<{ time: string; open: number; close: number }> };
    expect(candles.map((c) => c.time)).toEqual([2, 3, 4].map((i) => new Date(T0 + i * HOUR).toISOString()));
    expect(candles[0]).toMatchObject({ open: 102, close: 103 });
    const none = await call(h.app, 'GET', '/markets/candles?pair=SOL%2FUSD', { token: viewer });
    expect(none.body).toEqual({ candles: [] });
  });

  it("answers each pair's newest signal, a model's over the baseline's of the same bar", async () => {
    const r = await call(h.app, 'GET', '/markets/signals?pairs=BTC%2FUSD,ETH%2FUSD,SOL%2FUSD', { token: viewer });
    expect(r.status, r.text).toBe(200);
    const { signals } = r.body as { signals: Array<{ pair: string; modelVersion: string; probUp: number; regime: string; time: string }> };
    expect(signals.map((s) => [s.pair, s.modelVersion])).toEqual([['BTC/USD', 'ml-8'], ['ETH/USD', 'baseline-trend-v3']]);
    expect(signals[0]).toMatchObject({ regime: 'bull', time: new Date(T0 + HOUR).toISOString() });
    expect(signals[0]!.probUp).toBeCloseTo(0.61, 5);
  });

  it('refuses bad input with a 400 and strangers with a 401', async () => {
    for (const q of ['/markets/candles?pair=BTC%2FEUR', '/markets/candles?pair=BTC%2FUSD&limit=0', '/markets/candles?pair=BTC%2FUSD&interval=60', '/markets/candles', '/markets/signals?pairs=btc', '/markets/candles?pair=BTC%2FUSD&x=1'])
      expectError(await call(h.app, 'GET', q, { token: viewer }), 400);
    expectError(await call(h.app, 'GET', '/markets/candles?pair=BTC%2FUSD'), 401);
  });
});
