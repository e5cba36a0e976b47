import { describe, expect, it } from 'vitest';
import { checkOrder, computeStops, riskSettingsSchema, type RiskContext } from '../../../lib/risk/index.ts';
import { clientId, decide, flattenIntents, tradingSettingsSchema, type DecideInput } from '../../../lib/strategy/index.ts';
import { MARKETS } from '../risk/fixtures.ts';
import { H, signal, T } from './fixtures.ts';

const risk = riskSettingsSchema.parse({});
const trading = tradingSettingsSchema.parse({});

const input = (over: Partial<DecideInput> = {}): DecideInput => ({
  accountId: 'company',
  pair: 'BTC/USD',
  decisionTime: T,
  signal: signal(0.7),
  position: null,
  lastBar: { open: 50_000, high: 50_500, low: 49_500 },
  price: 50_000,
  equity: 100_000,
  openPositions: 0,
  market: MARKETS['BTC/USD']!,
  slippage: 0.0005,
  trading,
  risk,
  ...over,
});
const held = { qty: 0.2, avgPrice: 48_000, stopLoss: 47_000, takeProfit: 55_000 };

describe('decide', () => {
  it('enters with a stop-loss attached, sized by volatility and risk, with a deterministic client id', () => {
    const [i, ...rest] = decide(input());
    expect(rest).toEqual([]);
    const stops = computeStops(50_000, 0.01, 'bull', risk); // 3 daily ATRs (1 % × √24 each) ≈ 14.7 % SL, 36.7 % TP
    expect(stops.slPct).toBeCloseTo(3 * 0.01 * Math.sqrt(24), 12);
    expect(i).toMatchObject({
      kind: 'entry',
      cause: 'entry',
      accountId: 'company',
      decisionTime: T,
      signal: { pair: 'BTC/USD', time: T - 3_600_000, modelVersion: 'baseline-v1' },
      expectedEdge: expect.closeTo(0.02, 12),
      order: { side: 'buy', type: 'market', pair: 'BTC/USD', close: { type: 'stop-loss', price: stops.stopLoss }, clientId: clientId('company', 'BTC/USD', T, 'entry') },
      stops: { stopLoss: stops.stopLoss, takeProfit: stops.takeProfit },
    });
    // Realised vol 0.01/h ≈ 0.94 annualised → 15 %/0.94 ≈ 16 % of equity, under the risk cap 3 %/(14.7 % + 0.62 %) ≈ 19.6 %.
    const weight = Math.min(0.15 / (0.01 * Math.sqrt(8760)), 0.03 / (stops.slPct + 0.0062));
    expect(weight).toBeCloseTo(0.16, 2);
    expect(i!.order.amount).toBeCloseTo((100_000 * weight) / 50_000, 9);
  });

  it('the entry it proposes passes the risk engine', () => {
    const [i] = decide(input());
    const ctx: RiskContext = {
      settings: risk,
      tradingState: 'ACTIVE',
      balances: { USD: { total: 100_000, hold: 0, free: 100_000 } },
      positions: {},
      resting: {},
      prices: { 'BTC/USD': 50_000 },
      equity: 100_000,
      markets: MARKETS,
      groupOf: {},
      slippage: { 'BTC/USD': 0.0005 },
    };
    expect(checkOrder(i!, ctx)).toMatchObject({ ok: true });
  });

  it('a limit entry is priced a few bps above the mark and protected from there', () => {
    const [i] = decide(input({ trading: { ...trading, entryOrderType: 'limit', limitOffsetBps: 10 } }));
    expect(i!.order).toMatchObject({ type: 'limit', price: expect.closeTo(50_050, 9) });
    // The risk engine sends it at the tick, not a tick lower.
    const v = checkOrder(i!, { settings: risk, tradingState: 'ACTIVE', balances: { USD: { total: 1e5, hold: 0, free: 1e5 } }, positions: {}, resting: {}, prices: { 'BTC/USD': 50_000 }, equity: 1e5, markets: MARKETS, groupOf: {}, slippage: {} });
    expect(v).toMatchObject({ ok: true, order: { price: 50_050 } });
    expect(i!.order.close!.price).toBeCloseTo(50_050 * (1 - computeStops(50_050, 0.01, 'bull', risk).slPct), 9);
  });

  it.each([
    ['weak signal', { signal: signal(0.49) }],
    // probUp clears the threshold but the expected 0.5 % does not pay the 0.72 % round trip (fees, slippage, margin).
    ['edge below the round trip', { signal: signal(0.55) }],
    ['between decisions (01:00 UTC)', { decisionTime: T + H, signal: signal(0.9, 'bull', T) }],
    ['bear regime', { signal: signal(0.9, 'bear') }],
    ['no position slot', { openPositions: 3 }],
    ['no signal', { signal: null }],
    ['no equity', { equity: 0 }],
  ])('stays flat: %s', (_name, over) => expect(decide(input(over))).toEqual([]));

  it.each([
    ['stop-loss touched by the bar', { lastBar: { open: 48_000, high: 48_100, low: 46_900 }, price: 47_500 }, 'stop-loss 47000 hit', 'stop', T],
    ['take-profit touched by the bar', { lastBar: { open: 54_000, high: 55_100, low: 53_900 }, price: 54_900 }, 'take-profit 55000 hit', 'take-profit', T],
    ['stop-loss crossed by the mark alone', { lastBar: null, price: 46_000 }, 'stop-loss 47000 hit', 'stop', T],
    ['probUp at the exit threshold', { signal: signal(0.47) }, 'exit threshold', 'signal', T],
    // Stops and take-profits are enforced every bar, not only at decision times.
    ['stop-loss between decisions', { decisionTime: T + H, signal: signal(0.7, 'bull', T), lastBar: { open: 48_000, high: 48_100, low: 46_900 }, price: 47_500 }, 'stop-loss 47000 hit', 'stop', T + H],
    ['take-profit between decisions', { decisionTime: T + H, signal: signal(0.7, 'bull', T), lastBar: { open: 54_000, high: 55_100, low: 53_900 }, price: 54_900 }, 'take-profit 55000 hit', 'take-profit', T + H],
  ] as const)('exits the whole position: %s', (_name, over, reason, cause, at) => {
    const out = decide(input({ position: held, openPositions: 1, ...over }));
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ kind: 'exit', cause, order: { side: 'sell', type: 'market', amount: 0.2, clientId: clientId('company', 'BTC/USD', at, 'exit') } });
    expect(out[0]!.reason).toContain(reason);
  });

  it('keeps a position through a weak signal between decisions (the stop protects it)', () => {
    expect(decide(input({ position: held, openPositions: 1, decisionTime: T + H, signal: signal(0.1, 'bull', T) }))).toEqual([]);
  });

  it('holds while the trailing stop (3 daily ATRs ≈ 14.7 % under 50k) is below the recorded stop', () => expect(decide(input({ position: held, openPositions: 1 }))).toEqual([]));
  it('holds with trailing off', () => expect(decide(input({ position: held, openPositions: 1, risk: { ...risk, trailAtrMultiple: 0 }, price: 54_000 }))).toEqual([]));

  it.each([
    ['at a decision', T],
    ['between decisions', T + H],
  ])('moves a trailing stop up (never down), %s', (_name, at) => {
    const trail = { ...risk, trailAtrMultiple: 1 };
    const [m] = decide(input({ decisionTime: at, position: held, openPositions: 1, risk: trail, price: 52_000, lastBar: { open: 51_000, high: 52_100, low: 50_900 } }));
    expect(m).toMatchObject({ kind: 'stop-move', cause: 'stop-move', replacesStop: 47_000, order: { side: 'sell', type: 'stop-loss', amount: 0.2, clientId: clientId('company', 'BTC/USD', at, 'stop-move') } });
    // One daily ATR: 1 % per hour × √24.
    expect(m!.order.price).toBeCloseTo(52_000 * (1 - 0.01 * Math.sqrt(24)), 9);
    expect(decide(input({ decisionTime: at, position: { ...held, stopLoss: 51_500 }, openPositions: 1, risk: trail, price: 52_000, lastBar: { open: 51_900, high: 52_100, low: 51_800 } }))).toEqual([]);
  });

  it('refuses a signal for another pair', () => {
    expect(() => decide(input({ signal: { ...signal(0.7), pair: 'ETH/USD' } }))).toThrow(RangeError);
  });
});

describe('flattenIntents', () => {
  it('sells every held position, sorted by pair, skipping empty ones', () => {
    const out = flattenIntents('director-1', T, { 'SOL/USD': { qty: 3 }, 'BTC/USD': { qty: 0.1 }, 'ETH/USD': { qty: 0 } }, 'HALTED: flatten on halt');
    expect(out.map((i) => [i.kind, i.order.pair, i.order.side, i.order.amount])).toEqual([
      ['exit', 'BTC/USD', 'sell', 0.1],
      ['exit', 'SOL/USD', 'sell', 3],
    ]);
    expect(out[0]!.order.clientId).toBe(clientId('director-1', 'BTC/USD', T, 'exit'));
  });
});
