import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buyCost, checkOrder, reserveApproved, sellProceeds, type RiskContext } from '../../../lib/risk/index.ts';
import type { TradingStateName } from '../../../lib/risk/drawdown.ts';
import { kindCause, type OrderIntent } from '../../../lib/strategy/intent.ts';
import { MARKETS, settings } from './fixtures.ts';

const PAIRS = ['BTC/USD', 'ETH/USD', 'SOL/USD', 'USDC/USD'] as const;
const BASE: Record<string, string> = { 'BTC/USD': 'BTC', 'ETH/USD': 'ETH', 'SOL/USD': 'SOL', 'USDC/USD': 'USDC' };

/** Uniform-ish doubles: fc.double piles up on extreme values, which starves the interesting cases. */
const uniform = (min: number, max: number) => fc.integer({ min: 0, max: 1_000_000 }).map((k) => min + ((max - min) * k) / 1_000_000);
const price = fc.oneof(uniform(0.5, 200), uniform(200, 100_000));
/** Position value as a share of equity (0 = flat half of the time). */
const share = fc.oneof(fc.constant(0), uniform(0, 0.4));

const contextArb = fc
  .record({
    equity: uniform(100, 1e6),
    freeShare: uniform(0, 1.2),
    reservedShare: fc.oneof(fc.constant(0), uniform(0, 0.5)),
    state: fc.constantFrom<TradingStateName>('ACTIVE', 'ACTIVE', 'ACTIVE', 'REDUCING', 'HALTED'),
    prices: fc.tuple(price, price, price, uniform(0.98, 1.02)),
    shares: fc.tuple(share, share, share, share),
    /** Resting (open) buy orders per pair, as a share of equity: committed exposure next to the held one. */
    restingShares: fc.tuple(share, share, share, share),
    baseFree: fc.tuple(uniform(0, 1), uniform(0, 1), uniform(0, 1), uniform(0, 1)),
    pairCap: uniform(0.01, 0.5),
    groupExtra: uniform(0, 0.5),
    slip: uniform(0, 0.01),
    grouped: fc.boolean(),
    reduceToFit: fc.boolean(),
  })
  .map((r): RiskContext => {
    const prices: Record<string, number> = {};
    const positions: RiskContext['positions'] = {};
    const resting: Record<string, number> = {};
    const freeUsd = r.freeShare * r.equity;
    const balances: RiskContext['balances'] = { USD: { total: freeUsd, hold: 0, free: freeUsd } };
    PAIRS.forEach((p, i) => {
      prices[p] = r.prices[i]!;
      const q = (r.shares[i]! * r.equity) / prices[p]!;
      const free = q * r.baseFree[i]!;
      balances[BASE[p]!] = { total: q, hold: q - free, free };
      if (q > 0) (positions as Record<string, RiskContext['positions'][string]>)[p] = { qty: q, avgPrice: prices[p]!, markPrice: prices[p]! };
      if (r.restingShares[i]! > 0) resting[p] = r.restingShares[i]! * r.equity;
    });
    return {
      settings: settings({ maxPairExposure: r.pairCap, maxGroupExposure: Math.min(1, r.pairCap + r.groupExtra), reduceToFit: r.reduceToFit }),
      tradingState: r.state,
      balances,
      positions,
      resting,
      prices,
      equity: r.equity,
      markets: MARKETS,
      groupOf: r.grouped ? { 'BTC/USD': 0, 'ETH/USD': 0, 'SOL/USD': 0 } : { 'BTC/USD': 0, 'ETH/USD': 1, 'SOL/USD': 2 },
      slippage: { 'BTC/USD': r.slip, 'ETH/USD': r.slip, 'SOL/USD': r.slip },
      reservedUsd: r.reservedShare * r.equity,
    };
  });

const intentArb = fc
  .record({
    kind: fc.constantFrom<OrderIntent['kind']>('entry', 'exit', 'stop-move', 'hedge'),
    pair: fc.constantFrom(...PAIRS),
    /** Mostly the side the kind implies; sometimes the wrong one (must be refused). */
    wrongSide: fc.integer({ min: 0, max: 9 }).map((k) => k === 0),
    hedgeSide: fc.constantFrom('buy' as const, 'sell' as const),
    /** Order notional as a share of equity, converted to base units at the mark. */
    notional: uniform(1e-7, 0.8),
    limit: fc.boolean(),
    limitFactor: uniform(0.9, 1.1),
    stopFactor: fc.oneof(uniform(0.93, 0.999), uniform(0.5, 1.01)),
    edge: fc.oneof(uniform(0.008, 0.05), uniform(-0.01, 0.05)),
  });
type IntentShape = typeof intentArb extends fc.Arbitrary<infer T> ? T : never;

function toIntent(r: IntentShape, ctx: RiskContext): OrderIntent {
  const mark = ctx.prices[r.pair]!;
  const px = r.limit ? mark * r.limitFactor : mark;
  const type = r.kind === 'stop-move' ? 'stop-loss' : r.limit ? 'limit' : 'market';
  return {
    kind: r.kind,
    cause: kindCause(r.kind),
    accountId: 'company',
    decisionTime: 0,
    order: {
      clientId: 'x',
      pair: r.pair,
      side: r.kind === 'hedge' ? r.hedgeSide : (r.kind === 'entry') !== r.wrongSide ? 'buy' : 'sell',
      type,
      amount: (r.notional * ctx.equity) / mark,
      ...(type === 'market' ? {} : { price: r.kind === 'stop-move' ? mark * r.stopFactor : px }),
      ...(r.kind === 'entry' ? { close: { type: 'stop-loss' as const, price: px * r.stopFactor } } : {}),
    },
    reason: 'prop',
    signal: null,
    expectedEdge: r.edge,
  };
}

/** Re-derives every limit from the inputs, independently of check.ts's bookkeeping. */
const seen = { riskyBuys: 0, reduced: 0, sells: 0, withResting: 0 };

function assertWithinLimits(i: OrderIntent, c: RiskContext): void {
  const v = checkOrder(i, c);
  if (!v.ok) return;
  if (v.adjusted !== undefined) seen.reduced++;
  const o = v.order;
  const spec = c.markets[o.pair]!;
  const mark = c.prices[o.pair]!;
  // Judged at the price actually sent (rounded to the pair's decimals).
  const ref = o.type === 'market' ? mark : o.price!;
  expect(o.amount).toBeGreaterThan(0);
  // Rounded down, up to the few ulps of binary error the lot rounding forgives.
  expect(o.amount).toBeLessThanOrEqual(i.order.amount * (1 + 4 * Number.EPSILON));
  expect(o.amount).toBeGreaterThanOrEqual(spec.minAmount);
  expect(o.amount * ref).toBeGreaterThanOrEqual(spec.minCost);
  const lots = o.amount * 10 ** spec.amountPrecision;
  expect(Math.abs(Math.round(lots) - lots)).toBeLessThanOrEqual(1e-9 * lots + 1e-9);
  expect(o.clientId).toBe(i.order.clientId);
  if (o.side === 'sell') {
    const b = c.balances[spec.base]!;
    expect(o.amount).toBeLessThanOrEqual(i.kind === 'stop-move' ? b.total : b.free);
    seen.sells++;
    return;
  }
  const fee = spec.takerFee;
  const slip = c.slippage[o.pair] ?? c.settings.defaultSlippage;
  const free = c.balances['USD']!.free - (i.kind === 'entry' ? (c.reservedUsd ?? 0) : 0);
  expect(buyCost(o.amount, ref, fee, slip)).toBeLessThanOrEqual(free);
  if (spec.stablecoin) return;
  // Nothing risky is bought unless the account is ACTIVE.
  expect(c.tradingState).toBe('ACTIVE');
  seen.riskyBuys++;
  const expPrice = Math.max(mark, ref);
  // Held + resting + new never exceeds a cap (resting buys are committed exposure).
  const committed = (p: string) => (c.positions[p] ? c.positions[p]!.qty * c.positions[p]!.markPrice : 0) + (c.resting[p] ?? 0);
  const pairNow = committed(o.pair);
  expect(pairNow + o.amount * expPrice).toBeLessThanOrEqual(c.settings.maxPairExposure * c.equity);
  let groupNow = 0;
  for (const p of new Set([...Object.keys(c.positions), ...Object.keys(c.resting)])) {
    if (c.markets[p]!.stablecoin) continue;
    if (p === o.pair || (c.groupOf[p] !== undefined && c.groupOf[p] === c.groupOf[o.pair])) groupNow += committed(p);
  }
  expect(groupNow + o.amount * expPrice).toBeLessThanOrEqual(c.settings.maxGroupExposure * c.equity);
  if (c.resting[o.pair] !== undefined || Object.keys(c.resting).some((p) => c.groupOf[p] === c.groupOf[o.pair])) seen.withResting++;
  if (i.kind === 'entry') expect(o.close?.price).toBeLessThan(ref);
}

describe('checkOrder properties', () => {
  it('never approves beyond the free balance, an exposure cap or the trading state', () => {
    fc.assert(
      fc.property(contextArb, intentArb, (c, r) => {
        assertWithinLimits(toIntent(r, c), c);
      }),
      { numRuns: 3000 },
    );
    // The generators must reach the interesting cases, or the property proves nothing.
    expect(seen.riskyBuys).toBeGreaterThan(30);
    expect(seen.reduced).toBeGreaterThan(20);
    expect(seen.sells).toBeGreaterThan(50);
    expect(seen.withResting).toBeGreaterThan(20);
  });

  it('a sequence of approvals, each reserved, stays within the starting free USD and caps', () => {
    fc.assert(
      fc.property(contextArb, fc.array(intentArb, { minLength: 1, maxLength: 12 }), (c0, rs) => {
        let c = c0;
        let spent = 0;
        let received = 0;
        // Committed exposure per pair, tallied here from the starting context and the approvals alone.
        const committed: Record<string, number> = {};
        for (const p of PAIRS) committed[p] = (c0.positions[p] ? c0.positions[p]!.qty * c0.positions[p]!.markPrice : 0) + (c0.resting[p] ?? 0);
        for (const r of rs) {
          const i = toIntent(r, c);
          assertWithinLimits(i, c);
          const v = checkOrder(i, c);
          if (!v.ok) continue;
          if (v.order.side === 'buy') {
            const spec = c.markets[v.order.pair]!;
            const ref = v.order.type === 'market' ? c.prices[v.order.pair]! : v.order.price!;
            spent += buyCost(v.order.amount, ref, spec.takerFee, c.slippage[v.order.pair] ?? c.settings.defaultSlippage);
            const before = committed[v.order.pair]!;
            committed[v.order.pair] = before + v.order.amount * Math.max(ref, c.prices[v.order.pair]!);
            // A buy that adds exposure leaves the pair within its cap, resting and earlier approvals included.
            if (!spec.stablecoin) expect(committed[v.order.pair]!).toBeLessThanOrEqual(c0.settings.maxPairExposure * c0.equity * (1 + 1e-9) + 1e-9);
          } else if (v.order.type === 'market') {
            // A market sale's proceeds (at the mark, net of fee and slippage) are spendable by the next order.
            const spec = c.markets[v.order.pair]!;
            received += sellProceeds(v.order.amount, c.prices[v.order.pair]!, spec.takerFee, c.slippage[v.order.pair] ?? c.settings.defaultSlippage);
          }
          c = reserveApproved(c, v.order);
        }
        expect(spent).toBeLessThanOrEqual((c0.balances['USD']!.free + received) * (1 + 1e-12));
      }),
      { numRuns: 1000 },
    );
  });

  it('never enters while REDUCING or HALTED', () => {
    fc.assert(
      fc.property(contextArb, intentArb, fc.constantFrom<TradingStateName>('REDUCING', 'HALTED'), (c0, r, state) => {
        const c = { ...c0, tradingState: state };
        const v = checkOrder(toIntent({ ...r, kind: 'entry', wrongSide: false, pair: r.pair === 'USDC/USD' ? 'BTC/USD' : r.pair }, c), c);
        expect(v.ok).toBe(false);
        if (!v.ok) expect(v.code).toBe(state === 'HALTED' ? 'DAILY_DRAWDOWN_HALT' : 'REDUCING_EXITS_ONLY');
      }),
      { numRuns: 1000 },
    );
  });
  it('always lets an exit of a held long through, in every trading state', () => {
    fc.assert(
      fc.property(contextArb, fc.constantFrom('BTC/USD', 'ETH/USD', 'SOL/USD'), uniform(0, 1), (c, pair, part) => {
        const spec = c.markets[pair]!;
        const free = c.balances[spec.base]!.free;
        const amount = Math.floor(free * part * 10 ** spec.amountPrecision) / 10 ** spec.amountPrecision;
        fc.pre(amount >= spec.minAmount && amount * c.prices[pair]! >= spec.minCost);
        const i: OrderIntent = { kind: 'exit', cause: 'signal', accountId: 'company', decisionTime: 0, order: { clientId: 'x', pair, side: 'sell', type: 'market', amount }, reason: 'prop', signal: null, expectedEdge: 0 };
        expect(checkOrder(i, c)).toMatchObject({ ok: true, order: { amount } });
      }),
      { numRuns: 500 },
    );
  });
});
