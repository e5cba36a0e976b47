import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Candle } from '../../../lib/market/candle.ts';
import { roundNearest } from '../../../lib/exchange/precision.ts';
import { SimEngine } from '../../../lib/exchange/sim-engine.ts';
import type { OrderType } from '../../../lib/exchange/types.ts';
import { usdMarket } from '../../../lib/exchange/usd-markets.ts';

const H = 3_600_000;
const MARKETS = [usdMarket('BTC/USD'), usdMarket('SOL/USD')];
const START = { 'BTC/USD': 50_000, 'SOL/USD': 150 } as Record<string, number>;
const USD0 = 20_000;
// SOL starts with a position not covered by exits; BTC starts flat, so its exits protect everything it holds.
const OPENING = { balances: { USD: USD0, BTC: 0, SOL: 40 }, costBasis: { SOL: 140 } };
const BASIS0 = 40 * 140;
const TYPES: OrderType[] = ['market', 'limit', 'stop-loss', 'take-profit', 'stop-loss-limit', 'take-profit-limit'];

const barAction = fc.record({
  kind: fc.constant('bar' as const),
  pair: fc.integer({ min: 0, max: 1 }),
  move: fc.double({ min: -0.08, max: 0.08, noNaN: true }),
  gap: fc.double({ min: -0.08, max: 0.08, noNaN: true }),
  up: fc.double({ min: 0, max: 0.05, noNaN: true }),
  down: fc.double({ min: 0, max: 0.05, noNaN: true }),
  volume: fc.oneof({ arbitrary: fc.constant(0), weight: 1 }, { arbitrary: fc.double({ min: 0.01, max: 200, noNaN: true }), weight: 9 }),
});
const submitAction = fc.record({
  kind: fc.constant('submit' as const),
  pair: fc.integer({ min: 0, max: 1 }),
  side: fc.constantFrom('buy' as const, 'sell' as const),
  type: fc.constantFrom(...TYPES),
  value: fc.double({ min: 0.2, max: 8_000, noNaN: true }), // USD worth, turned into an amount
  allIn: fc.boolean(), // or (nearly) everything that is free: keeps the cash tight
  offset: fc.double({ min: -0.06, max: 0.06, noNaN: true }),
  offset2: fc.double({ min: -0.02, max: 0.02, noNaN: true }),
  reduceOnly: fc.boolean(),
  postOnly: fc.boolean(),
  close: fc.option(fc.record({ type: fc.constantFrom('stop-loss' as const, 'take-profit' as const), offset: fc.double({ min: 0.01, max: 0.1, noNaN: true }) })),
  reuseClientId: fc.boolean(),
});
const cancelAction = fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() });
/** An amend of some open order: a new total (a share of it, up to twice), a price moved by a share, or both. */
const amendAction = fc.record({
  kind: fc.constant('amend' as const),
  pick: fc.nat(),
  amount: fc.option(fc.double({ min: 0.05, max: 2, noNaN: true })),
  price: fc.option(fc.double({ min: -0.05, max: 0.05, noNaN: true })),
});
const action = fc.oneof({ arbitrary: barAction, weight: 6 }, { arbitrary: submitAction, weight: 6 }, { arbitrary: cancelAction, weight: 1 }, { arbitrary: amendAction, weight: 2 });

type Action = typeof action extends fc.Arbitrary<infer A> ? A : never;

/** Plays the actions and returns the engine; checks the invariants after every step. */
function run(actions: Action[]): SimEngine {
  const e = SimEngine.create(OPENING, {
    markets: MARKETS,
    slippage: { halfSpread: 0.0005, impactK: 0.02, maxImpact: 0.03, maxVolumeShare: 0.25 },
  });
  const px = { ...START };
  let now = H;
  let n = 0;
  for (const pair of Object.keys(px)) e.processBar(flatBar(pair, 0, px[pair] as number));

  for (const a of actions) {
    if (a.kind === 'bar') {
      const pair = MARKETS[a.pair]?.symbol as string;
      const prev = px[pair] as number;
      const open = prev * (1 + a.gap);
      const close = open * (1 + a.move);
      const c: Candle = {
        pair, interval: 3600, openTime: now, open, close, volume: a.volume,
        high: Math.max(open, close) * (1 + a.up), low: Math.min(open, close) * (1 - a.down),
      };
      px[pair] = close;
      now += H; // one clock for both pairs: orders placed now match the next bar of either
      e.processBar(c);
    } else if (a.kind === 'submit') {
      const spec = MARKETS[a.pair] as (typeof MARKETS)[number];
      const p = px[spec.symbol] as number;
      const price = p * (1 + a.offset);
      const free = e.balances()[a.side === 'buy' ? 'USD' : spec.base]?.free ?? 0;
      const amount = a.allIn ? (a.side === 'buy' ? (free * 0.99) / price : free) : a.value / p;
      e.submit({
        clientId: a.reuseClientId && n > 0 ? `c${n - 1}` : `c${n++}`,
        pair: spec.symbol,
        side: a.side,
        type: a.type,
        amount,
        price: a.type === 'market' ? undefined : price,
        price2: a.type.endsWith('-limit') ? price * (1 + a.offset2) : undefined,
        reduceOnly: a.reduceOnly && a.side === 'sell',
        postOnly: a.postOnly && a.type === 'limit',
        close: a.close === null ? undefined : { type: a.close.type, price: p * (a.close.type === 'stop-loss' ? 1 - a.close.offset : 1 + a.close.offset) },
      }, now);
    } else if (a.kind === 'amend') {
      amendSome(e, a, now);
    } else {
      const open = e.openOrders();
      const o = open[a.pick % Math.max(1, open.length)];
      if (o !== undefined) e.cancel(o.id, now);
    }
    checkInvariants(e);
  }
  return e;
}

/**
 * Amends the picked open order and checks what an amend promises: a refusal changes nothing; an
 * accepted one keeps the order's id, client id, fills and parent link and applies the change.
 */
function amendSome(e: SimEngine, a: { pick: number; amount: number | null; price: number | null }, now: number): void {
  const open = e.openOrders();
  const o = open[a.pick % Math.max(1, open.length)];
  if (o === undefined) return;
  const detail = e.orderDetail(o.id)!;
  const change = {
    ...(a.amount === null ? {} : { amount: o.amount * a.amount }),
    ...(a.price === null || o.price === null || detail.triggered ? {} : { price: o.price * (1 + a.price) }),
  };
  const before = e.snapshot();
  const r = e.amend(o.id, change, now);
  if (r.status === 'rejected') {
    check(JSON.stringify(e.snapshot()) === JSON.stringify(before), `a refused amend (${r.code}) changed nothing`);
    return;
  }
  amends.accepted++;
  const after = e.orderDetail(o.id)!;
  check(after.id === o.id && after.clientId === o.clientId && after.parentId === detail.parentId, 'an amend keeps id, client id and parent link');
  check(after.filled >= detail.filled, 'an amend keeps the fills');
}
const amends = { accepted: 0 };

function flatBar(pair: string, i: number, p: number): Candle {
  return { pair, interval: 3600, openTime: i * H, open: p, high: p, low: p, close: p, volume: 100 };
}

/** Plain checks (vitest's expect is too slow to call tens of thousands of times); a failure throws. */
function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`invariant broken: ${what}`);
}
const near = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(a), Math.abs(b));

function checkInvariants(e: SimEngine): void {
  const bal = e.balances();
  for (const [asset, b] of Object.entries(bal)) {
    check(b.total >= 0, `${asset} total ${b.total} ≥ 0`);
    check(b.hold >= 0, `${asset} hold ${b.hold} ≥ 0`);
    check(b.free >= -1e-9 * Math.max(1, b.total), `${asset} free ${b.free} ≥ 0`);
  }
  const fills = e.fills();
  // Cash flow: USD moved by exactly the fills' notional and fees.
  const cash = fills.reduce((s, f) => s + (f.side === 'sell' ? f.price * f.amount - f.fee : -(f.price * f.amount + f.fee)), USD0);
  const usd = bal.USD?.total ?? 0;
  check(near(usd, cash), `USD ${usd} = start + fill cash flows ${cash}`);
  // Cost-basis accounting: USD + what the open positions cost = start + realised PnL of all fills.
  const positions = e.positions();
  const basis = positions.reduce((s, p) => s + p.costBasis, 0);
  const realized = fills.reduce((s, f) => s + f.realizedPnl, 0);
  check(near(usd + basis, USD0 + BASIS0 + realized), `USD ${usd} + cost basis ${basis} = start + realised ${realized}`);
  check(near(positions.reduce((s, p) => s + p.realizedPnl, 0), realized), 'positions realised PnL = Σ fill PnL');
  for (const spec of MARKETS) {
    const opening = OPENING.balances[spec.base as 'BTC' | 'SOL'];
    const net = fills.filter((f) => f.pair === spec.symbol).reduce((s, f) => s + (f.side === 'buy' ? f.amount : -f.amount), opening);
    const held = bal[spec.base]?.total ?? 0;
    check(held === roundNearest(net, spec.amountPrecision), `${spec.base} ${held} = opening + net fills ${net}`);
    check(e.position(spec.symbol).qty === held, `${spec.symbol} position qty = ${spec.base} balance`);
  }
  for (const o of e.openOrders()) {
    const filled = fills.filter((f) => f.orderId === o.id).reduce((s, f) => s + f.amount, 0);
    check(o.filled === roundNearest(filled, 8), `order ${o.id} filled ${o.filled} = Σ its fills ${filled}`);
    check(o.filled < o.amount, `open order ${o.id} is not fully filled`);
  }
  // Kraken's holds: every open sell holds its own remainder, none shares another's; together they never exceed the coins.
  for (const spec of MARKETS) {
    const sells = e.openOrders().filter((o) => o.pair === spec.symbol && o.side === 'sell');
    const held = sells.reduce((s, o) => s + roundNearest(o.amount - o.filled, spec.amountPrecision), 0);
    const b = bal[spec.base] ?? { total: 0, hold: 0, free: 0 };
    check(near(b.hold, held), `${spec.base} hold ${b.hold} = Σ open sells' remainders ${held}`);
    check(held <= b.total + 1e-9, `open ${spec.base} sells ${held} ≤ held ${b.total}`);
  }
}

describe('SimEngine properties', () => {
  it('no sequence of orders, bars and cancels makes a balance negative, and cash reconciles with the fills', () => {
    const seen = { fills: 0, partial: 0, stopFills: 0, makerFills: 0 };
    fc.assert(
      fc.property(fc.array(action, { minLength: 1, maxLength: 80, size: 'max' }), (actions) => {
        const e = run(actions);
        const fills = e.fills();
        const snap = e.snapshot();
        seen.fills += fills.length;
        seen.makerFills += fills.filter((f) => f.liquidity === 'maker').length;
        seen.stopFills += fills.filter((f) => snap.orders[f.orderId]?.type === 'stop-loss').length;
        seen.partial += Object.values(snap.orders).filter((o) => o.filled > 0 && o.filled < o.amount).length;
      }),
      { numRuns: 500 },
    );
    // The generator really reaches the interesting paths (otherwise the property proves little).
    for (const [k, v] of Object.entries(seen)) expect(v, k).toBeGreaterThan(10);
    expect(amends.accepted).toBeGreaterThan(10);
  });

  it('exits hold like Kraken: a sell for coins another open order holds is refused, and an amend is the way to move or resize a stop', () => {
    const step = fc.oneof(
      fc.record({ kind: fc.constant('entry' as const), value: fc.double({ min: 50, max: 4_000, noNaN: true }), sl: fc.double({ min: 0.005, max: 0.05, noNaN: true }) }),
      // A second protective order (stop or take-profit) or an exit for a share of the position: refused when it needs held coins.
      fc.record({ kind: fc.constant('sell' as const), type: fc.constantFrom('stop-loss' as const, 'take-profit' as const, 'market' as const), share: fc.double({ min: 0.05, max: 1, noNaN: true }), offset: fc.double({ min: 0.005, max: 0.05, noNaN: true }) }),
      // Move (and maybe resize) a resting stop, the way the cycle protects without a gap.
      fc.record({ kind: fc.constant('move' as const), pick: fc.nat(), up: fc.double({ min: -0.02, max: 0.03, noNaN: true }), share: fc.option(fc.double({ min: 0.1, max: 1.5, noNaN: true })) }),
      barAction.map((b) => ({ ...b, pair: 0 })),
    );
    const seen = { refused: 0, accepted: 0, moved: 0 };
    fc.assert(
      fc.property(fc.array(step, { minLength: 5, maxLength: 60, size: 'max' }), (steps) => {
        const spec = MARKETS[0] as (typeof MARKETS)[number];
        const e = SimEngine.create(OPENING, { markets: MARKETS, slippage: { halfSpread: 0.0005, impactK: 0.02, maxImpact: 0.03, maxVolumeShare: 0.25 } });
        let px = START['BTC/USD'] as number;
        let now = H;
        let n = 0;
        e.processBar(flatBar(spec.symbol, 0, px));
        for (const s of steps) {
          if (s.kind === 'entry') {
            e.submit({ clientId: `e${n++}`, pair: spec.symbol, side: 'buy', type: 'market', amount: s.value / px, close: { type: 'stop-loss', price: px * (1 - s.sl) } }, now);
          } else if (s.kind === 'sell') {
            const b = e.balances().BTC ?? { total: 0, hold: 0, free: 0 };
            const amount = roundNearest(b.total * s.share, spec.amountPrecision);
            if (amount * px < 1 || amount < spec.minAmount) continue;
            const price = s.type === 'market' ? undefined : px * (s.type === 'stop-loss' ? 1 - s.offset : 1 + s.offset);
            const r = e.submit({ clientId: `s${n++}`, pair: spec.symbol, side: 'sell', type: s.type, amount, price, reduceOnly: true }, now);
            // Exactly Kraken's rule: accepted if and only if the free coins cover it.
            check((r.status === 'accepted') === (amount <= b.free + 1e-9), `sell ${amount} with ${b.free} free: ${r.status}${r.status === 'rejected' ? ` ${r.code}` : ''}`);
            if (r.status === 'rejected') check(r.code === 'INSUFFICIENT_FUNDS', `refused for funds, got ${r.code}`);
            seen[r.status === 'accepted' ? 'accepted' : 'refused']++;
          } else if (s.kind === 'move') {
            const stops = e.openOrders().filter((o) => o.type === 'stop-loss');
            const o = stops[s.pick % Math.max(1, stops.length)];
            if (o === undefined || e.orderDetail(o.id)!.triggered) continue;
            const free = e.balances().BTC?.free ?? 0;
            const rest = o.amount - o.filled;
            const change = { price: Math.min(px * 0.999, (o.price as number) * (1 + s.up)), ...(s.share === null ? {} : { amount: o.filled + rest * s.share }) };
            const r = e.amend(o.id, change, now);
            const grows = s.share !== null && rest * s.share - rest > free + 1e-9;
            if (r.status === 'amended') {
              seen.moved++;
              check(!grows, `an amend growing a stop by ${rest * (s.share ?? 1) - rest} beyond ${free} free was accepted`);
            } else check(grows || r.code === 'BELOW_EXCHANGE_MINIMUM', `a stop move within the free coins was refused: ${r.code} ${r.reason}`);
          } else {
            const open = px * (1 + s.gap);
            const close = open * (1 + s.move);
            e.processBar({ pair: spec.symbol, interval: 3600, openTime: now, open, close, volume: s.volume, high: Math.max(open, close) * (1 + s.up), low: Math.min(open, close) * (1 - s.down) });
            px = close;
            now += H;
          }
          checkInvariants(e);
        }
      }),
      { numRuns: 200 },
    );
    for (const [k, v] of Object.entries(seen)) expect(v, k).toBeGreaterThan(10);
  });

  it('restoring a JSON snapshot at any point gives the same end state as never restarting', () => {
    fc.assert(
      fc.property(fc.array(submitAction.map((s) => ({ ...s, reuseClientId: false })), { minLength: 1, maxLength: 10 }), fc.array(barAction, { minLength: 1, maxLength: 10 }), fc.nat(), (subs, bars, cut) => {
        const config = { markets: MARKETS, slippage: { halfSpread: 0.0005, impactK: 0.02, maxImpact: 0.03, maxVolumeShare: 0.25 } };
        const steps: Array<(e: SimEngine) => void> = [];
        let i = 0;
        for (const [k, s] of subs.entries()) {
          const spec = MARKETS[s.pair] as (typeof MARKETS)[number];
          const p = START[spec.symbol] as number;
          steps.push((e) => void e.submit({
            clientId: `r${k}`, pair: spec.symbol, side: s.side, type: s.type, amount: s.value / p,
            price: s.type === 'market' ? undefined : p * (1 + s.offset),
            price2: s.type.endsWith('-limit') ? p * (1 + s.offset) * (1 + s.offset2) : undefined,
            reduceOnly: s.reduceOnly,
          }, H));
          // Some of them amended in place (the amend time must survive the restart too).
          if (k % 2 === 1) steps.push((e) => {
            const o = e.orderByClientId(`r${k}`);
            if (o?.status === 'open' && o.type !== 'market') void e.amend(o.id, { amount: o.amount * 0.9, ...(o.price === null ? {} : { price: o.price * 0.99 }) }, H + 1);
          });
          const b = bars[k % bars.length] as (typeof bars)[number];
          const open = p * (1 + b.gap);
          const close = open * (1 + b.move);
          const t = ++i;
          steps.push((e) => void e.processBar({ pair: spec.symbol, interval: 3600, openTime: t * H, open, close, volume: b.volume, high: Math.max(open, close) * (1 + b.up), low: Math.min(open, close) * (1 - b.down) }));
        }
        const init = () => {
          const e = SimEngine.create(OPENING, config);
          for (const spec of MARKETS) e.processBar(flatBar(spec.symbol, 0, START[spec.symbol] as number));
          return e;
        };
        const straight = init();
        steps.forEach((s) => s(straight));
        const k = cut % (steps.length + 1);
        let e = init();
        steps.slice(0, k).forEach((s) => s(e));
        e = SimEngine.restore(JSON.parse(JSON.stringify(e.snapshot())), config);
        steps.slice(k).forEach((s) => s(e));
        expect(e.snapshot()).toEqual(straight.snapshot());
      }),
      { numRuns: 200 },
    );
  });
});
