import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Candle } from '../../../lib/market/candle.ts';
import { roundDown, roundUp } from '../../../lib/exchange/precision.ts';
import { SimEngine } from '../../../lib/exchange/sim-engine.ts';
import { DEFAULT_SLIPPAGE, type SimConfig, type SimInitial } from '../../../lib/exchange/sim-types.ts';
import type { MarketSpec, MarketStatus, OrderRequest } from '../../../lib/exchange/types.ts';
import { usdMarket } from '../../../lib/exchange/usd-markets.ts';

const H = 3_600_000;
const BTC = usdMarket('BTC/USD'); // tick 0.1, lot 1e-8, ordermin 0.00005, costmin 0.5, 0.26 % / 0.16 %
const ETH = usdMarket('ETH/USD');

/** No spread or impact unless a test asks for them: the numbers then follow from fees alone. */
// stopPenetration 0: stops fill at their trigger (or the open), so only the model's own tests see it.
const FLAT = { halfSpread: 0, impactK: 0, maxImpact: 0, maxVolumeShare: 1, stopPenetration: 0 };

function engine(opts: { usd?: number; btc?: number; config?: Partial<SimConfig>; markets?: MarketSpec[] } = {}): SimEngine {
  const initial: SimInitial = { balances: { USD: opts.usd ?? 100_000 } };
  if (opts.btc !== undefined) {
    initial.balances.BTC = opts.btc;
    initial.costBasis = { BTC: 50_000 };
  }
  return SimEngine.create(initial, { markets: opts.markets ?? [BTC, ETH], slippage: FLAT, ...opts.config });
}

let barN = 0;
function bar(i: number, o: number, h: number, l: number, c: number, volume = 1_000, pair = 'BTC/USD'): Candle {
  return { pair, interval: 3600, openTime: i * H, open: o, high: h, low: l, close: c, volume };
}
const flatBar = (i: number, px: number, volume = 1_000) => bar(i, px, px, px, px, volume);

const order = (o: Partial<OrderRequest> & Pick<OrderRequest, 'side' | 'type' | 'amount'>): OrderRequest => ({
  clientId: `c${++barN}`,
  pair: 'BTC/USD',
  ...o,
});

/** An engine that has seen bar 0 at `px` and sits at the open of bar 1. */
function at(px: number, opts: Parameters<typeof engine>[0] = {}, volume = 1_000): SimEngine {
  const e = engine(opts);
  e.processBar(flatBar(0, px, volume));
  return e;
}

describe('fees', () => {
  it.each([
    ['market buy pays taker', 'market', 'buy', undefined, 0.0026, 'taker'],
    ['market sell pays taker', 'market', 'sell', undefined, 0.0026, 'taker'],
    ['resting limit buy pays maker', 'limit', 'buy', 49_000, 0.0016, 'maker'],
  ] as const)('%s', (_label, type, side, price, rate, liquidity) => {
    const e = at(50_000, { btc: 1 });
    const r = e.submit(order({ side, type, amount: 0.5, price }), H);
    expect(r.status).toBe('accepted');
    if (type === 'limit') e.processBar(bar(1, 49_500, 49_600, 48_900, 49_000));
    const [f] = e.fills();
    expect(f?.liquidity).toBe(liquidity);
    expect(f?.fee).toBeCloseTo((f?.price as number) * 0.5 * rate, 9);
    const usd = e.balances().USD?.total as number;
    const cash = (f?.price as number) * 0.5;
    expect(usd).toBeCloseTo(side === 'buy' ? 100_000 - cash * (1 + rate) : 100_000 + cash * (1 - rate), 6);
  });

  it("uses the account's fee tier when given", () => {
    const e = at(50_000, { config: { fees: { taker: 0.004, maker: 0.0025 } } });
    e.submit(order({ side: 'buy', type: 'market', amount: 1 }), H);
    expect(e.fills()[0]?.fee).toBeCloseTo(200, 9);
  });
});

describe('slippage', () => {
  const slip = { halfSpread: 0.0002, impactK: 0.01, maxImpact: 0.005, maxVolumeShare: 1 };
  it.each([
    // side, amount, bar volume, expected impact before tick rounding
    ['buy', 0.01, 1_000, 0.01 * Math.sqrt(0.01 / 1_000)],
    ['buy', 10, 1_000, 0.01 * Math.sqrt(10 / 1_000)],
    ['buy', 500, 1_000, 0.005], // capped
    ['sell', 10, 1_000, 0.01 * Math.sqrt(10 / 1_000)],
  ] as const)('%s %d against %d of volume: half-spread + impact %d', (side, amount, volume, impact) => {
    const e = engine({ usd: 1e8, btc: 1_000, config: { slippage: slip } });
    e.processBar(flatBar(0, 50_000, volume));
    e.submit(order({ side, type: 'market', amount }), H);
    const [f] = e.fills();
    const want = side === 'buy' ? roundUp(50_000 * 1.0002 * (1 + impact), 1) : roundDown(50_000 * 0.9998 * (1 - impact), 1);
    expect(f?.price).toBe(want);
    expect(f?.amount).toBe(amount);
  });

  it('a real quote replaces the synthetic spread: market orders fill at its ask/bid plus impact', () => {
    const e = engine({ config: { slippage: { ...slip, impactK: 0 } } });
    e.processBar(flatBar(0, 50_000));
    e.submit(order({ side: 'buy', type: 'market', amount: 0.1 }), H, { bid: 50_100, ask: 50_120.3, last: 50_110, time: H });
    expect(e.fills()[0]?.price).toBe(50_120.3);
  });

  it('a stop that gaps fills from the open, not from its trigger', () => {
    const e = at(50_000, { btc: 1 });
    e.submit(order({ side: 'sell', type: 'stop-loss', amount: 1, price: 49_000 }), H);
    e.processBar(bar(1, 47_000, 47_500, 46_500, 47_200));
    expect(e.fills()[0]?.price).toBe(47_000);
  });
});

describe('stop slippage grows with how far the bar went through the trigger', () => {
  const P = 0.25;
  const slip = { ...FLAT, stopPenetration: P };
  /** A sell stop at `trigger` for 1 BTC, then one bar; the fill's price (or undefined). */
  const stopFill = (trigger: number, candle: Candle, config: Partial<SimConfig['slippage']> = slip, type: 'stop-loss' | 'stop-loss-limit' = 'stop-loss', price2?: number) => {
    const e = at(50_000, { btc: 1, config: { slippage: config } });
    expect(e.submit(order({ side: 'sell', type, amount: 1, price: trigger, ...(price2 === undefined ? {} : { price2 }) }), H).status).toBe('accepted');
    e.processBar(candle);
    return e.fills()[0]?.price;
  };

  it('is on by default, a share in [0, 1]; a share outside it is refused', () => {
    expect(DEFAULT_SLIPPAGE.stopPenetration).toBeGreaterThan(0);
    expect(DEFAULT_SLIPPAGE.stopPenetration).toBeLessThanOrEqual(1);
    for (const stopPenetration of [-0.1, 1.5, Number.NaN]) expect(() => engine({ config: { slippage: { ...FLAT, stopPenetration } } })).toThrow(/stopPenetration/);
  });

  it.each([
    ['just touched: almost the trigger', 47_900, 48_000 - P * 100],
    ['through by 1 000', 47_000, 48_000 - P * 1_000],
    ['through by 3 000 (a cascade)', 45_000, 48_000 - P * 3_000],
  ])('%s', (_label, low, want) => {
    expect(stopFill(48_000, bar(1, 50_000, 50_500, low, low + 200))).toBe(want);
  });

  it('a gap through the stop fills at or below the open: the open, less the share of its run down to the low', () => {
    expect(stopFill(49_000, bar(1, 47_000, 47_500, 46_500, 47_200))).toBe(47_000 - P * 500);
    expect(stopFill(49_000, bar(1, 47_000, 47_500, 47_000, 47_200))).toBe(47_000); // opened at its low
  });

  it('spread and impact come on top, rounded against the seller', () => {
    const withCosts = { halfSpread: 0.0002, impactK: 0.01, maxImpact: 0.02, maxVolumeShare: 1, stopPenetration: P };
    const executes = 48_000 - P * 1_000;
    expect(stopFill(48_000, bar(1, 50_000, 50_500, 47_000, 47_200, 1_000), withCosts)).toBe(roundDown(executes * 0.9998 * (1 - 0.01 * Math.sqrt(1 / 1_000)), 1));
  });

  it('a stop-loss-limit never fills beyond its limit', () => {
    expect(stopFill(48_000, bar(1, 50_000, 50_500, 47_000, 47_200), slip, 'stop-loss-limit', 47_900)).toBe(47_900);
  });

  it('a buy stop gives up its share of the run up to the high; a take-profit fills at its trigger', () => {
    const e = at(50_000, { btc: 1, config: { slippage: slip } });
    e.submit(order({ clientId: 'bs', side: 'buy', type: 'stop-loss', amount: 0.1, price: 51_000 }), H);
    e.submit(order({ clientId: 'tp', side: 'sell', type: 'take-profit', amount: 1, price: 52_000 }), H);
    e.processBar(bar(1, 50_000, 53_000, 49_900, 52_500));
    expect(e.fills().map((f) => [f.clientId, f.price])).toEqual([
      ['bs', 51_000 + P * 2_000],
      ['tp', 52_000],
    ]);
  });

  it('keeps the conservative order: a bar touching both fills the stop first (with its slippage), then the take-profit', () => {
    const e = at(50_000, { btc: 2, config: { slippage: slip } });
    e.submit(order({ clientId: 'sl', side: 'sell', type: 'stop-loss', amount: 1, price: 48_000, reduceOnly: true }), H);
    e.submit(order({ clientId: 'tp', side: 'sell', type: 'take-profit', amount: 1, price: 52_000, reduceOnly: true }), H);
    e.processBar(bar(1, 50_000, 53_000, 47_000, 50_000));
    expect(e.fills().map((f) => [f.clientId, f.price])).toEqual([
      ['sl', 47_750],
      ['tp', 52_000],
    ]);
  });

  it('a sell stop fills at or below min(trigger, open), never below the low less spread and impact, and worse the deeper the bar (property)', () => {
    const costs = { halfSpread: 0.0002, impactK: 0.01, maxImpact: 0.02, maxVolumeShare: 1 };
    fc.assert(
      fc.property(
        fc.integer({ min: 40_000, max: 49_900 }), // trigger, below the last price (one above it fires on submit)
        fc.integer({ min: 40_000, max: 56_000 }), // open
        fc.integer({ min: 0, max: 10_000 }), // how far the low is below min(trigger, open)
        fc.double({ min: 0, max: 1, noNaN: true }),
        (trigger, open, depth, share) => {
          const from = Math.min(trigger, open);
          const low = from - depth;
          fc.pre(low > 1_000);
          const candle = bar(1, open, Math.max(open, trigger) + 100, low, low + 1);
          const config = { ...costs, stopPenetration: share };
          const px = stopFill(trigger, candle, config)!;
          expect(px).toBeLessThanOrEqual(from);
          expect(px).toBeGreaterThanOrEqual(roundDown(low * (1 - costs.halfSpread) * (1 - costs.maxImpact), 1) - 0.1);
          if (depth >= 10) {
            const shallower = stopFill(trigger, bar(1, open, Math.max(open, trigger) + 100, low + depth / 2, low + depth / 2 + 1), config)!;
            expect(px).toBeLessThanOrEqual(shallower);
          }
        },
      ),
      { numRuns: 200, seed: 11 },
    );
  });
});

describe('partial fills', () => {
  it('a market order takes at most maxVolumeShare of each bar; the rest stays open', () => {
    const e = engine({ usd: 1e6, config: { slippage: { ...FLAT, maxVolumeShare: 0.1 } } });
    e.processBar(flatBar(0, 50_000, 10)); // 1 BTC may fill per bar
    const r = e.submit(order({ side: 'buy', type: 'market', amount: 2.5 }), H);
    if (r.status !== 'accepted') throw new Error('rejected');
    expect(e.order(r.order.id)).toMatchObject({ status: 'open', filled: 1 });
    e.processBar(flatBar(1, 50_000, 10));
    expect(e.order(r.order.id)).toMatchObject({ status: 'open', filled: 2 });
    e.processBar(flatBar(2, 50_000, 10));
    expect(e.order(r.order.id)).toMatchObject({ status: 'closed', filled: 2.5 });
    expect(e.fills().map((f) => f.amount)).toEqual([1, 1, 0.5]);
    expect(e.balances().BTC?.total).toBe(2.5);
  });

  it('a resting limit fills bar by bar and its hold shrinks with it', () => {
    const e = engine({ usd: 1e6, config: { slippage: { ...FLAT, maxVolumeShare: 0.5 } } });
    e.processBar(flatBar(0, 50_000, 4));
    const r = e.submit(order({ side: 'buy', type: 'limit', amount: 3, price: 49_000 }), H);
    if (r.status !== 'accepted') throw new Error('rejected');
    expect(e.balances().USD?.hold).toBeCloseTo(3 * 49_000 * 1.0026, 6);
    e.processBar(bar(1, 49_500, 49_500, 48_000, 48_500, 4));
    expect(e.order(r.order.id)?.filled).toBe(2);
    expect(e.balances().USD?.hold).toBeCloseTo(1 * 49_000 * 1.0026, 6);
  });

  it('a zero-volume bar fills nothing', () => {
    const e = at(50_000);
    e.submit(order({ side: 'buy', type: 'limit', amount: 1, price: 49_000 }), H);
    e.processBar(bar(1, 49_500, 49_500, 48_000, 48_500, 0));
    expect(e.fills()).toEqual([]);
  });
});

describe('stop-loss / take-profit inside one candle', () => {
  // 2 BTC at 50 000: a stop at 48 000 for one, a take-profit at 52 000 for the other (each holds its own coin).
  function protectedPosition(): SimEngine {
    const e = at(50_000, { btc: 2 });
    expect(e.submit(order({ clientId: 'sl', side: 'sell', type: 'stop-loss', amount: 1, price: 48_000, reduceOnly: true }), H).status).toBe('accepted');
    expect(e.submit(order({ clientId: 'tp', side: 'sell', type: 'take-profit', amount: 1, price: 52_000, reduceOnly: true }), H).status).toBe('accepted');
    expect(e.balances().BTC).toEqual({ total: 2, hold: 2, free: 0 });
    return e;
  }

  it.each([
    ['both touched → the stop fills first (the conservative order), then the take-profit', bar(1, 50_000, 53_000, 47_000, 50_000), [['sl', 48_000], ['tp', 52_000]]],
    ['both touched, closing high → still the stop first', bar(1, 50_000, 53_000, 47_000, 52_900), [['sl', 48_000], ['tp', 52_000]]],
    ['only the take-profit touched', bar(1, 50_000, 52_500, 49_000, 52_000), [['tp', 52_000]]],
    ['only the stop touched', bar(1, 50_000, 51_000, 47_900, 48_000), [['sl', 48_000]]],
    ['opens above the take-profit → fills at the open', bar(1, 52_400, 52_600, 52_100, 52_500), [['tp', 52_400]]],
  ] as const)('%s', (_label, candle, want) => {
    const e = protectedPosition();
    e.processBar(candle);
    expect(e.fills().map((f) => [f.clientId, f.price])).toEqual(want);
    const filled = new Set<string>(want.map(([id]) => id));
    for (const id of ['sl', 'tp']) expect(e.orderByClientId(id)?.status).toBe(filled.has(id) ? 'closed' : 'open');
    const left = 2 - want.length;
    expect(e.balances().BTC).toEqual({ total: left, hold: left, free: 0 });
  });

  it.each([
    ['sell stop at or above the last price', 'stop-loss', 50_000, 1],
    ['sell take-profit at or below the last price', 'take-profit', 49_000, 1],
    ['sell stop below the last price', 'stop-loss', 49_000, 0],
  ] as const)('on submit, a %s fires at once', (_label, type, price, fills) => {
    const e = at(50_000, { btc: 1 });
    e.submit(order({ side: 'sell', type, amount: 1, price }), H);
    expect(e.fills()).toHaveLength(fills);
  });

  it('a bar touching neither leaves both live', () => {
    const e = protectedPosition();
    e.processBar(bar(1, 50_000, 51_000, 49_000, 50_500));
    expect(e.openOrders().map((o) => o.clientId)).toEqual(['sl', 'tp']);
  });
});

describe('every open order holds its own quantity (as on Kraken)', () => {
  it.each([
    ['a second stop-loss', { type: 'stop-loss', price: 47_000 }],
    ['a take-profit next to the stop', { type: 'take-profit', price: 52_000 }],
    ['a reduce-only market exit', { type: 'market' }],
    ['a plain limit sell', { type: 'limit', price: 60_000, reduceOnly: false }],
  ] as const)('%s for coins a stop already holds is refused (INSUFFICIENT_FUNDS) and changes nothing', (_label, req) => {
    const e = at(50_000, { btc: 1 });
    expect(e.submit(order({ clientId: 'sl', side: 'sell', type: 'stop-loss', amount: 1, price: 48_000, reduceOnly: true }), H).status).toBe('accepted');
    const before = e.snapshot();
    expect(e.submit(order({ side: 'sell', amount: 0.5, reduceOnly: true, ...req }), H)).toMatchObject({ status: 'rejected', code: 'INSUFFICIENT_FUNDS' });
    expect(e.snapshot()).toEqual(before);
  });

  it('sells of one pair add up: a stop and a take-profit may split the position, not both cover it', () => {
    const e = at(50_000, { btc: 1 });
    expect(e.submit(order({ side: 'sell', type: 'stop-loss', amount: 0.6, price: 48_000, reduceOnly: true }), H).status).toBe('accepted');
    expect(e.submit(order({ side: 'sell', type: 'take-profit', amount: 0.4, price: 52_000, reduceOnly: true }), H).status).toBe('accepted');
    expect(e.balances().BTC).toEqual({ total: 1, hold: 1, free: 0 });
    expect(e.submit(order({ side: 'sell', type: 'take-profit', amount: 0.0001, price: 53_000, reduceOnly: true }), H)).toMatchObject({ code: 'INSUFFICIENT_FUNDS' });
  });

  it("an attached stop holds what its entry bought: a take-profit for the same coins is refused (spot has no one-cancels-other)", () => {
    const e = at(50_000);
    e.submit(order({ clientId: 'entry', side: 'buy', type: 'market', amount: 1, close: { type: 'stop-loss', price: 48_000 } }), H);
    expect(e.balances().BTC).toEqual({ total: 1, hold: 1, free: 0 });
    expect(e.submit(order({ clientId: 'tp', side: 'sell', type: 'take-profit', amount: 1, price: 52_000, reduceOnly: true }), H)).toMatchObject({ code: 'INSUFFICIENT_FUNDS' });
    // Cancelling the stop frees them; the exit then sells everything.
    const stop = e.openOrders().find((o) => o.type === 'stop-loss')!;
    e.cancel(stop.id, H);
    expect(e.submit(order({ clientId: 'exit', side: 'sell', type: 'market', amount: 1, reduceOnly: true }), H).status).toBe('accepted');
    expect(e.balances().BTC?.total).toBe(0);
  });
});

describe('attached conditional close', () => {
  it('becomes live for the filled amount when the entry fills, and grows with later fills', () => {
    const e = engine({ config: { slippage: { ...FLAT, maxVolumeShare: 0.1 } } });
    e.processBar(flatBar(0, 50_000, 10));
    e.submit(order({ clientId: 'entry', side: 'buy', type: 'market', amount: 1.5, close: { type: 'stop-loss', price: 45_000 } }), H);
    const child = () => e.openOrders().find((o) => o.type === 'stop-loss');
    expect(child()).toMatchObject({ side: 'sell', amount: 1, price: 45_000, clientId: null });
    e.processBar(flatBar(1, 50_000, 10));
    expect(child()?.amount).toBe(1.5);
    expect(e.balances().BTC).toEqual({ total: 1.5, hold: 1.5, free: 0 });
  });

  it('a resting entry that never fills never creates its close', () => {
    const e = at(50_000);
    e.submit(order({ side: 'buy', type: 'limit', amount: 1, price: 40_000, close: { type: 'stop-loss', price: 38_000 } }), H);
    e.processBar(flatBar(1, 50_000));
    expect(e.openOrders().map((o) => o.type)).toEqual(['limit']);
  });

  it('entry and its stop in the same bar: the stop may trigger (conservative); a take-profit child would wait', () => {
    const e = at(50_000);
    e.submit(order({ side: 'buy', type: 'limit', amount: 1, price: 49_000, close: { type: 'stop-loss', price: 47_000 } }), H);
    e.submit(order({ side: 'buy', type: 'limit', amount: 1, price: 49_000, close: { type: 'take-profit', price: 51_000 } }), H);
    e.processBar(bar(1, 50_000, 52_000, 46_000, 50_000));
    const kinds = e.fills().map((f) => `${f.side}@${f.price}`);
    expect(kinds).toEqual(['buy@49000', 'buy@49000', 'sell@47000']);
    expect(e.openOrders()).toMatchObject([{ type: 'take-profit', amount: 1 }]);
  });

  it('a stop-loss-limit that gaps below its limit rests as a limit instead of filling', () => {
    const e = at(50_000, { btc: 1 });
    e.submit(order({ clientId: 'sll', side: 'sell', type: 'stop-loss-limit', amount: 1, price: 48_000, price2: 47_800 }), H);
    e.processBar(bar(1, 47_000, 47_500, 46_500, 47_200));
    expect(e.fills()).toEqual([]);
    expect(e.orderByClientId('sll')?.status).toBe('open');
    e.processBar(bar(2, 47_200, 48_000, 47_100, 47_900)); // trades through 47 800
    expect(e.fills()).toMatchObject([{ price: 47_800, liquidity: 'maker' }]);
  });
});

describe('limit orders', () => {
  it.each([
    ['buy', 49_000, 49_000, false], // touched, not crossed: queue position unknown
    ['buy', 49_000, 48_999.9, true],
    ['sell', 51_000, 51_000, false],
    ['sell', 51_000, 51_000.1, true],
  ] as const)('%s limit %d, bar extreme %d → fills: %s', (side, price, extreme, fills) => {
    const e = at(50_000, { btc: 1 });
    e.submit(order({ side, type: 'limit', amount: 1, price }), H);
    const c = side === 'buy' ? bar(1, 50_000, 50_000, extreme, 50_000) : bar(1, 50_000, extreme, 50_000, 50_000);
    e.processBar(c);
    expect(e.fills().length).toBe(fills ? 1 : 0);
    if (fills) expect(e.fills()[0]).toMatchObject({ price, liquidity: 'maker' });
  });

  it('a marketable limit fills at once as taker, never beyond its limit', () => {
    const e = engine({ config: { slippage: { halfSpread: 0.001, impactK: 0.05, maxImpact: 0.05, maxVolumeShare: 1 } } });
    e.processBar(flatBar(0, 50_000, 100));
    e.submit(order({ side: 'buy', type: 'limit', amount: 1, price: 50_100 }), H); // ask 50 050, impact 0.5 %
    expect(e.fills()).toMatchObject([{ price: 50_100, liquidity: 'taker' }]);
  });

  it('post-only that would take is rejected', () => {
    const e = at(50_000);
    const r = e.submit(order({ side: 'buy', type: 'limit', amount: 1, price: 50_000, postOnly: true }), H);
    expect(r).toMatchObject({ status: 'rejected', code: 'POST_ONLY_WOULD_TAKE' });
  });

  it('an order placed during a bar does not match that bar (no look-ahead)', () => {
    const e = at(50_000);
    e.submit(order({ side: 'buy', type: 'limit', amount: 1, price: 49_000 }), H + 10 * 60_000);
    e.processBar(bar(1, 50_000, 50_000, 48_000, 49_500));
    expect(e.fills()).toEqual([]);
    e.processBar(bar(2, 49_500, 49_500, 48_500, 49_000));
    expect(e.fills()).toHaveLength(1);
  });

  it('a bar already consumed is ignored', () => {
    const e = at(50_000);
    e.submit(order({ side: 'buy', type: 'limit', amount: 1, price: 49_000 }), H);
    const c = bar(1, 50_000, 50_000, 48_000, 49_500, 5);
    e.processBar(c);
    expect(e.processBar(c)).toEqual([]);
    expect(e.processBar(flatBar(0, 1))).toEqual([]);
  });
});

describe('exchange minimums and precision', () => {
  it.each([
    ['below ordermin', 0.00004, 'limit', 100_000, 'BELOW_EXCHANGE_MINIMUM'],
    ['rounded below ordermin', 0.0000499999, 'limit', 100_000, 'BELOW_EXCHANGE_MINIMUM'],
    ['below costmin', 0.00005, 'limit', 5_000, 'BELOW_EXCHANGE_MINIMUM'],
    ['market below costmin at the ask', 0.000009, 'market', undefined, 'BELOW_EXCHANGE_MINIMUM'],
    ['exactly the minimums', 0.00005, 'limit', 10_000, null],
    ['rounded down onto ordermin', 0.0000500009, 'limit', 10_000, null],
  ] as const)('%s', (_label, amount, type, price, code) => {
    const e = at(50_000);
    const r = e.submit(order({ side: 'buy', type, amount, price }), H);
    if (code === null) expect(r.status).toBe('accepted');
    else expect(r).toMatchObject({ status: 'rejected', code });
  });

  it.each([
    ['amount to lot decimals', { amount: 0.123456789, price: 40_000 }, { amount: 0.12345678, price: 40_000 }],
    ['buy limit price down to the tick', { amount: 1, price: 40_000.17 }, { amount: 1, price: 40_000.1 }],
    ['float artefacts vanish', { amount: 0.1 + 0.2, price: 40_000 }, { amount: 0.3, price: 40_000 }],
  ])('rounds %s', (_label, req, want) => {
    const e = at(50_000);
    const r = e.submit(order({ side: 'buy', type: 'limit', ...req }), H);
    expect(r).toMatchObject({ status: 'accepted', order: want });
  });

  it('a sell limit rounds up to the tick (ETH: 2 decimals)', () => {
    const e = engine({ markets: [BTC, ETH] });
    e.processBar(flatBar(0, 3_000));
    const r = SimEngine.create({ balances: { USD: 0, ETH: 1 }, costBasis: { ETH: 3000 } }, { markets: [ETH], slippage: FLAT }).submit(
      order({ pair: 'ETH/USD', side: 'sell', type: 'limit', amount: 1, price: 3_100.001 }),
      H,
    );
    expect(r).toMatchObject({ status: 'accepted', order: { price: 3_100.01 } });
  });

  it('fill prices land on the tick, rounded against the trader', () => {
    const e = engine({ config: { slippage: { halfSpread: 0.00013, impactK: 0, maxImpact: 0, maxVolumeShare: 1 } } });
    e.processBar(flatBar(0, 50_000.3));
    e.submit(order({ side: 'buy', type: 'market', amount: 0.1 }), H); // 50 006.8039 → 50 006.9
    expect(e.fills()[0]?.price).toBe(50_006.9);
  });
});

describe('balances and holds', () => {
  it.each([
    ['buy limit beyond free USD', { usd: 1_000 }, { side: 'buy', type: 'limit', amount: 1, price: 1_000 }],
    ['buy limit that fits only without its fee', { usd: 1_000 }, { side: 'buy', type: 'limit', amount: 0.02, price: 49_999 }],
    ['sell without the coins', { usd: 1_000 }, { side: 'sell', type: 'limit', amount: 1, price: 60_000 }],
    ['market buy beyond free USD', { usd: 1_000 }, { side: 'buy', type: 'market', amount: 1 }],
  ] as const)('%s → INSUFFICIENT_FUNDS', (_label, funds, req) => {
    const e = at(50_000, funds);
    expect(e.submit(order(req), H)).toMatchObject({ status: 'rejected', code: 'INSUFFICIENT_FUNDS' });
    expect(e.openOrders()).toEqual([]);
  });

  it('an open buy holds USD including the fee; cancelling releases it', () => {
    const e = at(50_000, { usd: 10_000 });
    const r = e.submit(order({ side: 'buy', type: 'limit', amount: 0.1, price: 40_000 }), H);
    if (r.status !== 'accepted') throw new Error('rejected');
    expect(e.balances().USD).toEqual({ total: 10_000, hold: 4_000 * 1.0026, free: 10_000 - 4_000 * 1.0026 });
    expect(e.submit(order({ side: 'buy', type: 'limit', amount: 0.15, price: 40_000 }), H)).toMatchObject({ code: 'INSUFFICIENT_FUNDS' });
    expect(e.cancel(r.order.id, H)).toBe(true);
    expect(e.cancel(r.order.id, H)).toBe(false);
    expect(e.balances().USD).toEqual({ total: 10_000, hold: 0, free: 10_000 });
    expect(() => e.cancel('SIM-O9999999', H)).toThrow(/unknown sim order/);
  });

  it('an open sell holds the base; no other sell, reduce-only or not, can use coins a stop protects', () => {
    const e = at(50_000, { btc: 1 });
    const stop = e.submit(order({ side: 'sell', type: 'stop-loss', amount: 1, price: 45_000, reduceOnly: true }), H);
    expect(e.balances().BTC).toEqual({ total: 1, hold: 1, free: 0 });
    expect(e.submit(order({ side: 'sell', type: 'limit', amount: 0.5, price: 60_000 }), H)).toMatchObject({ code: 'INSUFFICIENT_FUNDS' });
    expect(e.submit(order({ side: 'sell', type: 'market', amount: 1, reduceOnly: true }), H)).toMatchObject({ code: 'INSUFFICIENT_FUNDS' });
    // Amending the stop down frees what an exit needs.
    if (stop.status !== 'accepted') throw new Error('rejected');
    expect(e.amend(stop.order.id, { amount: 0.4 }, H)).toMatchObject({ status: 'amended', order: { amount: 0.4 } });
    expect(e.submit(order({ side: 'sell', type: 'market', amount: 0.6, reduceOnly: true }), H).status).toBe('accepted');
    expect(e.balances().BTC).toEqual({ total: 0.4, hold: 0.4, free: 0 });
  });

  it('a reduce-only buy is refused (spot positions are long only)', () => {
    const e = at(50_000);
    expect(e.submit(order({ side: 'buy', type: 'limit', amount: 1, price: 40_000, reduceOnly: true }), H)).toMatchObject({ code: 'REDUCE_ONLY_WOULD_INCREASE' });
  });

  it('a resting market remainder that the cash no longer covers is cancelled, never overdrawn', () => {
    const e = engine({ usd: 10_000, config: { slippage: { ...FLAT, maxVolumeShare: 0.1 } } });
    e.processBar(flatBar(0, 5_000, 10)); // 1 BTC per bar
    const r = e.submit(order({ side: 'buy', type: 'market', amount: 1.9 }), H);
    if (r.status !== 'accepted') throw new Error(r.reason);
    e.processBar(flatBar(1, 9_000, 10)); // the price jumped; 0.9 × 9 000 is more than what is left
    const o = e.orderDetail(r.order.id);
    expect(o?.status).toBe('canceled');
    expect(o?.filled).toBe(roundDown(1 + (10_000 - 5_000 * 1.0026) / (9_000 * 1.0026), 8)); // what the cash still bought
    expect(o?.reason).toMatch(/INSUFFICIENT_FUNDS/);
    expect(e.balances().USD?.total).toBeGreaterThanOrEqual(0);
  });
  it('a fill never spends what other open orders reserve', () => {
    const e = engine({ usd: 10_000, config: { slippage: { ...FLAT, maxVolumeShare: 0.1 } } });
    e.processBar(flatBar(0, 5_000, 10)); // 1 BTC per bar
    const m = e.submit(order({ side: 'buy', type: 'market', amount: 1.5 }), H); // 1 now, 0.5 rests (holds 2 500 + fee)
    const l = e.submit(order({ side: 'buy', type: 'limit', amount: 0.4, price: 4_000 }), H); // holds 1 600 + fee
    if (m.status !== 'accepted' || l.status !== 'accepted') throw new Error('rejected');
    e.processBar(flatBar(1, 8_000, 10)); // the remainder now costs 4 000 + fee
    const usd = e.balances().USD as { total: number; hold: number; free: number };
    expect(usd.hold).toBeCloseTo(1_600 * 1.0026, 6); // the limit keeps its reservation
    expect(usd.free).toBeGreaterThanOrEqual(0);
    expect(e.orderDetail(m.order.id)?.status).toBe('canceled');
    expect(e.order(m.order.id)?.filled).toBe(1 + roundDown((10_000 - 5_000 * 1.0026 - 1_600 * 1.0026) / (8_000 * 1.0026), 8));
  });
});

describe('market status', () => {
  const withStatus = (status: MarketStatus) => at(50_000, { btc: 1, markets: [{ ...BTC, status }] });
  it.each([
    ['cancel_only', 'sell', 'limit', false, false],
    ['reduce_only', 'buy', 'limit', false, false],
    ['reduce_only', 'sell', 'limit', false, true],
    ['limit_only', 'buy', 'market', false, false],
    ['limit_only', 'buy', 'limit', false, true],
    ['post_only', 'buy', 'limit', false, false],
    ['post_only', 'buy', 'limit', true, true],
  ] as const)('%s: %s %s (postOnly %s) accepted: %s', (status, side, type, postOnly, ok) => {
    const price = type === 'market' ? undefined : side === 'buy' ? 40_000 : 60_000;
    const r = withStatus(status).submit(order({ side, type, amount: 0.5, price, postOnly }), H);
    if (ok) expect(r.status).toBe('accepted');
    else expect(r).toMatchObject({ status: 'rejected', code: 'MARKET_NOT_TRADABLE' });
  });
});

describe('order identity and validation', () => {
  it('the same clientId twice returns the first order and never fills twice', () => {
    const e = at(50_000);
    const a = e.submit(order({ clientId: 'dup', side: 'buy', type: 'market', amount: 0.1 }), H);
    const b = e.submit(order({ clientId: 'dup', side: 'buy', type: 'market', amount: 5 }), H + 1);
    expect(a.status === 'accepted' && b.status === 'accepted' && a.order.id === b.order.id).toBe(true);
    expect(e.fills()).toHaveLength(1);
    expect(e.orderByClientId('dup')?.amount).toBe(0.1);
    expect(e.orderByClientId('nope')).toBeNull();
  });

  it.each([
    ['an unknown pair', { pair: 'ETH/BTC', side: 'buy', type: 'market', amount: 1 }, 'NOT_SPOT_USD'],
    ['a zero amount', { side: 'buy', type: 'market', amount: 0 }, 'INVALID_ORDER'],
    ['a NaN amount', { side: 'buy', type: 'market', amount: Number.NaN }, 'INVALID_ORDER'],
    ['a limit without price', { side: 'buy', type: 'limit', amount: 1 }, 'INVALID_ORDER'],
    ['a stop-loss-limit without price2', { side: 'sell', type: 'stop-loss-limit', amount: 1, price: 45_000 }, 'INVALID_ORDER'],
    ['post-only market', { side: 'buy', type: 'market', amount: 1, postOnly: true }, 'INVALID_ORDER'],
  ] as const)('rejects %s', (_label, req, code) => {
    const e = at(50_000);
    expect(e.submit(order(req), H)).toMatchObject({ status: 'rejected', code });
  });

  it('a rejected clientId can be used again', () => {
    const e = at(50_000, { usd: 100 });
    expect(e.submit(order({ clientId: 'x', side: 'buy', type: 'market', amount: 1 }), H).status).toBe('rejected');
    expect(e.submit(order({ clientId: 'x', side: 'buy', type: 'market', amount: 0.001 }), H).status).toBe('accepted');
  });

  it('a market order with no quote at all is rejected', () => {
    expect(engine().submit(order({ side: 'buy', type: 'market', amount: 1 }), H)).toMatchObject({ code: 'NO_MARKET_DATA' });
  });
});

describe('virtual PnL', () => {
  it('tracks qty, average entry and realised PnL net of fees; each fill carries its PnL', () => {
    const e = at(50_000, { usd: 1e6 });
    e.submit(order({ side: 'buy', type: 'market', amount: 1 }), H);
    e.processBar(flatBar(1, 60_000));
    e.submit(order({ side: 'buy', type: 'market', amount: 1 }), 2 * H);
    expect(e.position('BTC/USD')).toMatchObject({ qty: 2, avgEntryPrice: 55_000 });
    e.processBar(flatBar(2, 70_000));
    e.submit(order({ side: 'sell', type: 'market', amount: 1 }), 3 * H);
    const basis = (50_000 + 60_000) * 1.0026; // buy fees are part of the cost basis
    const pnl = 70_000 * (1 - 0.0026) - basis / 2;
    const fills = e.fills();
    expect(fills.map((f) => f.realizedPnl)).toEqual([0, 0, expect.closeTo(pnl, 6)]);
    expect(e.position('BTC/USD')).toMatchObject({ qty: 1, avgEntryPrice: 55_000, realizedPnl: expect.closeTo(pnl, 6), costBasis: expect.closeTo(basis / 2, 6) });
    expect(e.fills(2 * H + 1).map((f) => f.side)).toEqual(['sell']);
  });

  it('an opening balance needs a cost basis', () => {
    expect(() => SimEngine.create({ balances: { USD: 0, BTC: 1 } }, { markets: [BTC] })).toThrow(/cost basis/);
  });
});

describe('persistence across a restart', () => {
  type Step = (e: SimEngine) => void;
  const steps: Step[] = [
    (e) => e.processBar(bar(0, 50_000, 50_200, 49_800, 50_000, 8)),
    (e) => void e.submit({ clientId: 'e1', pair: 'BTC/USD', side: 'buy', type: 'market', amount: 1.5, close: { type: 'stop-loss', price: 47_000 } }, H),
    (e) => void e.submit({ clientId: 't1', pair: 'BTC/USD', side: 'sell', type: 'take-profit', amount: 1.5, price: 53_000, reduceOnly: true }, H), // refused: the stop holds the coins
    (e) => void e.amend('SIM-O0000002', { price: 47_500 }, H), // the attached stop, moved up
    (e) => void e.submit({ clientId: 'l1', pair: 'ETH/USD', side: 'buy', type: 'limit', amount: 2, price: 2_900 }, H),
    (e) => e.processBar(bar(1, 50_000, 51_000, 49_000, 50_500, 8)),
    (e) => e.processBar(bar(1, 3_000, 3_050, 2_850, 2_950, 50, 'ETH/USD')),
    (e) => e.processBar(bar(2, 50_500, 53_500, 50_000, 53_000, 20)),
    (e) => void e.submit({ clientId: 'e2', pair: 'ETH/USD', side: 'sell', type: 'market', amount: 1 }, 3 * H),
    (e) => e.processBar(bar(3, 53_000, 54_000, 46_000, 47_000, 20)),
  ];
  const config: SimConfig = { markets: [BTC, ETH], slippage: { halfSpread: 0.0002, impactK: 0.01, maxImpact: 0.02, maxVolumeShare: 0.1 } };

  it.each(Array.from({ length: steps.length + 1 }, (_, k) => [k]))('snapshot → JSON → restore after step %d continues identically', (k) => {
    const straight = SimEngine.create({ balances: { USD: 200_000 } }, config);
    for (const s of steps) s(straight);

    let e = SimEngine.create({ balances: { USD: 200_000 } }, config);
    steps.slice(0, k).forEach((s) => s(e));
    e = SimEngine.restore(JSON.parse(JSON.stringify(e.snapshot())), config);
    steps.slice(k).forEach((s) => s(e));

    expect(e.snapshot()).toEqual(straight.snapshot());
    expect(straight.fills().length).toBeGreaterThanOrEqual(4); // the script exercises real fills
  });

  it('snapshot is a copy: later steps do not change it', () => {
    const e = at(50_000);
    const snap = e.snapshot();
    e.submit(order({ side: 'buy', type: 'market', amount: 0.1 }), H);
    expect(snap.fills).toEqual([]);
  });
});

describe('fills(since)', () => {
  it.each([
    ['in time order', false],
    ['out of time order (a bar consumed after a later submit)', true],
  ])('returns exactly the fills at or after since, %s', (_label, late) => {
    const e = at(50_000, { usd: 1e6 });
    e.submit(order({ side: 'buy', type: 'limit', amount: 1, price: 49_000 }), H);
    e.submit(order({ side: 'buy', type: 'market', amount: 0.1 }), late ? 5 * H : H); // fills at once
    e.processBar(bar(1, 50_000, 50_000, 48_000, 49_000)); // the limit fills at 2H
    const times = e.fills().map((f) => f.time);
    for (const since of [0, H, H + 1, 2 * H, 2 * H + 1, 5 * H, 6 * H]) {
      expect(e.fills(since).map((f) => f.time)).toEqual(times.filter((t) => t >= since));
    }
    const restored = SimEngine.restore(JSON.parse(JSON.stringify(e.snapshot())), { markets: [BTC, ETH], slippage: FLAT });
    expect(restored.fills(2 * H)).toEqual(e.fills(2 * H));
  });
});

describe('amend (Kraken AmendOrder)', () => {
  const accepted = (r: ReturnType<SimEngine['submit']>) => {
    if (r.status !== 'accepted') throw new Error(`rejected: ${r.reason}`);
    return r.order;
  };

  it('a limit buy moves in place: same id and client id, the hold follows the new price, the reason is recorded', () => {
    const e = at(50_000, { usd: 10_000 });
    const o = accepted(e.submit(order({ clientId: 'lb', side: 'buy', type: 'limit', amount: 0.1, price: 40_000 }), H));
    const r = e.amend(o.id, { price: 45_000.07 }, H + 1);
    expect(r).toMatchObject({ status: 'amended', order: { id: o.id, clientId: 'lb', price: 45_000, amount: 0.1, status: 'open' } });
    expect(e.balances().USD?.hold).toBeCloseTo(0.1 * 45_000 * 1.0026, 6);
    expect(e.orderDetail(o.id)).toMatchObject({ amendedAt: H + 1, reason: expect.stringContaining('price 40000 → amount 0.1, price 45000') });
    expect(e.orderByClientId('lb')?.id).toBe(o.id);
  });

  it.each([
    ['a buy raised beyond the free USD', { side: 'buy', type: 'limit', amount: 0.1, price: 40_000 }, { amount: 0.3 }, 'INSUFFICIENT_FUNDS'],
    ['a buy limit raised beyond the free USD', { side: 'buy', type: 'limit', amount: 0.2, price: 40_000 }, { price: 49_900 }, 'INSUFFICIENT_FUNDS'],
    ['a sell raised beyond the coins held', { side: 'sell', type: 'stop-loss', amount: 1, price: 45_000 }, { amount: 1.5 }, 'INSUFFICIENT_FUNDS'],
    ['an amount under ordermin', { side: 'buy', type: 'limit', amount: 0.1, price: 40_000 }, { amount: 0.00004 }, 'BELOW_EXCHANGE_MINIMUM'],
    ['a price that rounds to zero', { side: 'buy', type: 'limit', amount: 0.1, price: 40_000 }, { price: 0.01 }, 'BELOW_EXCHANGE_MINIMUM'],
    ['a price under costmin', { side: 'buy', type: 'limit', amount: 0.0001, price: 40_000 }, { price: 4_000 }, 'BELOW_EXCHANGE_MINIMUM'],
    ['nothing to change', { side: 'buy', type: 'limit', amount: 0.1, price: 40_000 }, {}, 'INVALID_ORDER'],
    ['a negative amount', { side: 'buy', type: 'limit', amount: 0.1, price: 40_000 }, { amount: -1 }, 'INVALID_ORDER'],
    ['price2 on a plain limit', { side: 'buy', type: 'limit', amount: 0.1, price: 40_000 }, { price2: 39_000 }, 'INVALID_ORDER'],
    ['price2 on a plain stop-loss', { side: 'sell', type: 'stop-loss', amount: 1, price: 45_000 }, { price2: 44_000 }, 'INVALID_ORDER'],
    ['a post-only limit moved to take', { side: 'buy', type: 'limit', amount: 0.1, price: 40_000, postOnly: true }, { price: 50_100 }, 'POST_ONLY_WOULD_TAKE'],
  ] as const)('%s → %4$s, nothing changes', (_label, req, change, code) => {
    const e = at(50_000, { usd: 10_000, btc: 1 });
    const o = accepted(e.submit(order(req), H));
    const before = e.snapshot();
    expect(e.amend(o.id, change, H)).toMatchObject({ status: 'rejected', code });
    expect(e.snapshot()).toEqual(before);
  });

  it('only open orders: unknown, filled and cancelled ones are refused; a market order does not rest', () => {
    const e = at(50_000, { usd: 1e8, config: { slippage: { ...FLAT, maxVolumeShare: 0.1 } } });
    expect(e.amend('SIM-O9999999', { price: 1 }, H)).toMatchObject({ status: 'rejected', code: 'UNKNOWN_ORDER' });
    const filled = accepted(e.submit(order({ side: 'buy', type: 'market', amount: 1 }), H));
    expect(e.amend(filled.id, { amount: 2 }, H)).toMatchObject({ status: 'rejected', code: 'ORDER_NOT_OPEN' });
    const l = accepted(e.submit(order({ side: 'buy', type: 'limit', amount: 1, price: 40_000 }), H));
    e.cancel(l.id, H);
    expect(e.amend(l.id, { price: 41_000 }, H)).toMatchObject({ status: 'rejected', code: 'ORDER_NOT_OPEN' });
    const big = accepted(e.submit(order({ side: 'buy', type: 'market', amount: 500 }), H)); // 100 fills, the rest rests
    expect(e.order(big.id)?.status).toBe('open');
    expect(e.amend(big.id, { amount: 200 }, H)).toMatchObject({ status: 'rejected', code: 'INVALID_ORDER' });
  });

  it('an amount at or below what has filled closes the order and releases the rest of its hold', () => {
    const e = engine({ usd: 1e6, config: { slippage: { ...FLAT, maxVolumeShare: 0.5 } } });
    e.processBar(flatBar(0, 50_000, 4));
    const o = accepted(e.submit(order({ side: 'buy', type: 'limit', amount: 3, price: 49_000 }), H));
    e.processBar(bar(1, 49_500, 49_500, 48_000, 48_500, 4)); // 2 of 3 fill
    expect(e.amend(o.id, { amount: 1.5 }, 2 * H)).toMatchObject({ status: 'amended', order: { status: 'closed', filled: 2, amount: 2 } });
    expect(e.balances().USD?.hold).toBe(0);
    expect(e.orderDetail(o.id)?.reason).toMatch(/≤ filled 2: closed/);
  });

  it('a partly filled order raised or lowered above its fill keeps its fills', () => {
    const e = engine({ usd: 1e6, config: { slippage: { ...FLAT, maxVolumeShare: 0.5 } } });
    e.processBar(flatBar(0, 50_000, 4));
    const o = accepted(e.submit(order({ side: 'buy', type: 'limit', amount: 3, price: 49_000 }), H));
    e.processBar(bar(1, 49_500, 49_500, 48_000, 48_500, 4));
    expect(e.amend(o.id, { amount: 2.5 }, 2 * H)).toMatchObject({ status: 'amended', order: { status: 'open', filled: 2, amount: 2.5 } });
    expect(e.balances().USD?.hold).toBeCloseTo(0.5 * 49_000 * 1.0026, 6);
  });

  it('rounds like a submit: amount down to the lot, a buy limit down to the tick, a trigger to the nearest tick', () => {
    const e = at(50_000, { usd: 1e6, btc: 1 });
    const l = accepted(e.submit(order({ side: 'buy', type: 'limit', amount: 0.1, price: 40_000 }), H));
    expect(e.amend(l.id, { amount: 0.123456789, price: 40_000.17 }, H)).toMatchObject({ order: { amount: 0.12345678, price: 40_000.1 } });
    const s = accepted(e.submit(order({ side: 'sell', type: 'stop-loss', amount: 0.5, price: 45_000 }), H));
    expect(e.amend(s.id, { price: 46_000.06 }, H)).toMatchObject({ order: { price: 46_000.1 } });
  });

  it('a moved stop triggers at its new level, not its old one; a triggered stop keeps its trigger', () => {
    const e = at(50_000, { btc: 1 });
    const s = accepted(e.submit(order({ clientId: 'sl', side: 'sell', type: 'stop-loss', amount: 1, price: 45_000, reduceOnly: true }), H));
    expect(e.amend(s.id, { price: 48_000 }, H).status).toBe('amended');
    e.processBar(bar(1, 50_000, 50_500, 47_500, 48_500));
    expect(e.fills().map((f) => [f.clientId, f.price])).toEqual([['sl', 48_000]]);

    const slow = at(50_000, { btc: 100, config: { slippage: { ...FLAT, maxVolumeShare: 0.01 } } });
    const big = accepted(slow.submit(order({ side: 'sell', type: 'stop-loss', amount: 50, price: 49_000 }), H));
    slow.processBar(bar(1, 50_000, 50_000, 48_000, 48_500, 1_000)); // triggers, 10 of 50 fill
    expect(slow.order(big.id)).toMatchObject({ status: 'open', filled: 10 });
    expect(slow.amend(big.id, { price: 47_000 }, 2 * H)).toMatchObject({ status: 'rejected', code: 'INVALID_ORDER' });
    expect(slow.amend(big.id, { amount: 20 }, 2 * H)).toMatchObject({ status: 'amended', order: { amount: 20, filled: 10 } });
  });

  it('a stop-loss-limit: price moves the trigger, price2 the limit', () => {
    const e = at(50_000, { btc: 1 });
    const o = accepted(e.submit(order({ side: 'sell', type: 'stop-loss-limit', amount: 1, price: 48_000, price2: 47_800 }), H));
    expect(e.amend(o.id, { price: 48_500, price2: 48_300 }, H).status).toBe('amended');
    expect(e.orderDetail(o.id)).toMatchObject({ price: 48_500, price2: 48_300 });
  });

  it('a price the market already reaches executes at once: a limit moved through the ask, a stop moved through the last price', () => {
    const e = at(50_000, { usd: 1e6, btc: 1 });
    const l = accepted(e.submit(order({ clientId: 'lb', side: 'buy', type: 'limit', amount: 0.1, price: 40_000 }), H));
    expect(e.amend(l.id, { price: 50_100 }, H)).toMatchObject({ status: 'amended', order: { status: 'closed', filled: 0.1 } });
    expect(e.fills().at(-1)).toMatchObject({ clientId: 'lb', liquidity: 'taker' });
    const s = accepted(e.submit(order({ clientId: 'sl', side: 'sell', type: 'stop-loss', amount: 1, price: 45_000 }), H));
    expect(e.amend(s.id, { price: 50_000 }, H)).toMatchObject({ status: 'amended', order: { status: 'closed', filled: 1 } });
  });

  it('no look-ahead: an order amended during a bar matches from the next bar on', () => {
    const e = at(50_000);
    const l = accepted(e.submit(order({ side: 'buy', type: 'limit', amount: 1, price: 40_000 }), H));
    e.amend(l.id, { price: 49_000 }, H + 10 * 60_000);
    e.processBar(bar(1, 50_000, 50_000, 48_000, 49_500)); // opened before the amend
    expect(e.fills()).toEqual([]);
    e.processBar(bar(2, 49_500, 49_500, 48_500, 49_000));
    expect(e.fills()).toMatchObject([{ price: 49_000 }]);
  });

  it('an attached stop amended keeps its parent link and grows from its amended size as the entry fills more', () => {
    const e = engine({ usd: 1e6, config: { slippage: { ...FLAT, maxVolumeShare: 0.1 } } });
    e.processBar(flatBar(0, 50_000, 10)); // 1 BTC per bar
    const entry = accepted(e.submit(order({ clientId: 'entry', side: 'buy', type: 'market', amount: 1.5, close: { type: 'stop-loss', price: 45_000 } }), H));
    const child = e.openOrders().find((o) => o.type === 'stop-loss')!;
    expect(e.amend(child.id, { price: 47_000, amount: 0.8 }, H)).toMatchObject({ status: 'amended', order: { id: child.id, price: 47_000, amount: 0.8 } });
    expect(e.orderDetail(child.id)).toMatchObject({ parentId: entry.id, reduceOnly: true });
    expect(e.orderDetail(entry.id)?.childId).toBe(child.id);
    e.processBar(flatBar(1, 50_000, 10)); // the entry's last 0.5 fills
    expect(e.order(child.id)).toMatchObject({ amount: 1.3, price: 47_000 });
    expect(e.balances().BTC).toMatchObject({ total: 1.5, hold: 1.3, free: expect.closeTo(0.2, 12) });
  });

  it.each([
    ['cancel_only', 'sell', 'MARKET_NOT_TRADABLE'],
    ['reduce_only', 'buy', 'MARKET_NOT_TRADABLE'],
    ['reduce_only', 'sell', null],
  ] as const)('on a %s market a %s amend: %s', (status, side, code) => {
    const e = at(50_000, { usd: 1e6, btc: 1 });
    const o = accepted(e.submit(order({ side, type: 'limit', amount: 0.5, price: side === 'buy' ? 40_000 : 60_000 }), H));
    const restricted = SimEngine.restore(e.snapshot(), { markets: [{ ...BTC, status }, ETH], slippage: FLAT });
    const r = restricted.amend(o.id, { price: side === 'buy' ? 41_000 : 61_000 }, H);
    if (code === null) expect(r.status).toBe('amended');
    else expect(r).toMatchObject({ status: 'rejected', code });
  });
});
