import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../lib/clock.ts';
import { protectHoldings, runAccountCycle } from '../../../lib/cycle/account-cycle.ts';
import { emptyBook, type AccountBook } from '../../../lib/cycle/book.ts';
import { executeIntents } from '../../../lib/cycle/execute.ts';
import { riskContext, scopeOf } from '../../../lib/cycle/order-phase.ts';
import { planProtection, restingStops } from '../../../lib/cycle/protection.ts';
import type { AccountSettingsSet, Journal, MarketView } from '../../../lib/cycle/types.ts';
import { engineVenue, type Venue } from '../../../lib/cycle/venue.ts';
import { SimEngine } from '../../../lib/exchange/sim-engine.ts';
import type { BrokerOrder, MarketSpec } from '../../../lib/exchange/types.ts';
import { usdMarket } from '../../../lib/exchange/usd-markets.ts';
import { adminHalt } from '../../../lib/risk/drawdown.ts';
import type { Candle } from '../../../lib/market/candle.ts';
import { hedgeSettingsSchema } from '../../../lib/hedge/settings.ts';
import { riskSettingsSchema } from '../../../lib/risk/settings.ts';
import { tradingSettingsSchema } from '../../../lib/strategy/settings.ts';
import { kindCause, type OrderIntent } from '../../../lib/strategy/intent.ts';

const BTC = usdMarket('BTC/USD'); // lot 1e-8, tick 0.1, ordermin 0.00005, costmin 0.5
const H = 3_600_000;

const stop = (id: string, amount: number, price: number, filled = 0): BrokerOrder => ({
  id,
  clientId: null,
  pair: 'BTC/USD',
  side: 'sell',
  type: 'stop-loss',
  amount,
  price,
  status: 'open',
  filled,
  avgPrice: null,
  fee: 0,
  createdAt: 0,
});

describe('planProtection', () => {
  const plan = (held: number, level: number | undefined, open: BrokerOrder[]) =>
    planProtection({ held: held > 0 ? { 'BTC/USD': held } : {}, levels: level === undefined ? {} : { 'BTC/USD': level }, open, markets: { 'BTC/USD': BTC } });

  it.each([
    ['a covered holding at its level needs nothing', 1, 40_000, [stop('S1', 1, 40_000)], []],
    ['an uncovered holding gets a stop at the recorded level', 1, 40_000, [], [{ kind: 'place', amount: 1, price: 40_000 }]],
    ['a stop at another level is amended in place', 1, 41_000, [stop('S1', 1, 40_000)], [{ kind: 'amend', change: { price: 41_000 } }]],
    ['a partly covered holding gets a stop for the rest', 1, 40_000, [stop('S1', 0.4, 40_000)], [{ kind: 'place', amount: 0.6, price: 40_000 }]],
    ['a stop resting for more than is held is cut to the holding', 0.5, 40_000, [stop('S1', 1, 40_000)], [{ kind: 'amend', change: { amount: 0.5 } }]],
    ['a stop with nothing held is cancelled', 0, undefined, [stop('S1', 1, 40_000)], [{ kind: 'cancel' }]],
    ['cut and moved in one amend', 0.5, 39_000, [stop('S1', 1, 40_000)], [{ kind: 'amend', change: { amount: 0.5, price: 39_000 } }]],
    ['a gap under the minimum tops up the largest stop', 1, 40_000, [stop('S1', 0.99999, 40_000)], [{ kind: 'amend', change: { amount: 1 } }]],
    ['dust under the exchange minimum cannot carry a stop', 0.00001, 40_000, [], []],
  ] as const)('%s', (_label, held, level, open, want) => {
    const got = plan(held, level, [...open]);
    expect(got).toHaveLength(want.length);
    want.forEach((w, i) => expect(got[i]).toMatchObject(w));
  });
});

/** A SimEngine venue at $50,000 with 0.2 BTC bought at the first bar, and a cycle's worth of settings. */
function setup(o: { failSubmit?: (req: OrderIntent['order']) => boolean } = {}) {
  const clock = new VirtualClock(2 * H);
  const engine = SimEngine.create({ balances: { USD: 100_000 } }, { markets: [BTC], slippage: { halfSpread: 0, impactK: 0, maxImpact: 0, maxVolumeShare: 1 } });
  const candle = (i: number, px: number): Candle => ({ pair: 'BTC/USD', interval: 3600, openTime: i * H, open: px, high: px, low: px, close: px, volume: 1_000 });
  engine.processBar(candle(0, 50_000));
  engine.submit({ clientId: 'entry', pair: 'BTC/USD', side: 'buy', type: 'market', amount: 0.2, close: { type: 'stop-loss', price: 45_000 } }, clock.now(), { bid: 50_000, ask: 50_000, last: 50_000, time: H });
  const base = engineVenue(engine, clock);
  const venue: Venue = {
    ...base,
    submit: (req) => {
      if (o.failSubmit?.(req)) throw new Error('the exchange went away');
      return base.submit(req);
    },
  };
  const settings: AccountSettingsSet = { trading: tradingSettingsSchema.parse({ pairs: ['BTC/USD'] }), risk: riskSettingsSchema.parse({}), hedge: hedgeSettingsSchema.parse({}) };
  const bar = candle(1, 50_000);
  const market: MarketView = { now: 2 * H, bars: { 'BTC/USD': bar }, signals: { 'BTC/USD': null }, markets: { 'BTC/USD': BTC }, groupOf: {}, slippage: { 'BTC/USD': 0.0005 }, volAnnual: 0.5 };
  const log: string[] = [];
  const journal: Journal = {
    beforeSubmit: () => 'send',
    afterSubmit: (i, order, r) => void log.push(`submit ${i.kind} ${order.type} ${r.status}`),
    refused: (i, v) => void log.push(`refused ${i.kind} ${v.code}`),
    amended: (order, change, r) => void log.push(`amend ${order.id} ${JSON.stringify(change)} ${r.status}`),
    cancelled: (order) => void log.push(`cancel ${order.id}`),
  };
  const book: AccountBook = { ...emptyBook(), protection: { 'BTC/USD': { stopLoss: 45_000, takeProfit: 60_000, avgPrice: 50_000, openedAt: H } } };
  const stops = () => restingStops(engine.openOrders(), 'BTC/USD');
  const covered = () => stops().reduce((s, x) => s + x.amount - x.filled, 0);
  const held = () => engine.balances().BTC?.total ?? 0;
  const ctxFor = (b: AccountBook) => (bal: Parameters<typeof riskContext>[0]) => riskContext(bal, { state: 'ACTIVE', since: 0, reason: '', dayKey: '', drawdown: 0, referenceEquity: null }, settings, market, { 'BTC/USD': 50_000 }, { 'BTC/USD': held() }, b, 110_000, {});
  return { engine, venue, settings, market, journal, log, book, stops, covered, held, ctxFor, markets: { 'BTC/USD': BTC } as Record<string, MarketSpec> };
}

const sale = (kind: 'exit' | 'hedge', amount: number): OrderIntent => ({
  kind,
  cause: kindCause(kind),
  accountId: 'a',
  decisionTime: 2 * H,
  order: { clientId: `${kind}-1`, pair: 'BTC/USD', side: 'sell', type: 'market', amount },
  reason: 'test',
  signal: null,
  expectedEdge: 0,
});

describe('the protection invariant through execution', () => {
  it('a partial sale cuts the stop down in place: what is left stays protected', async () => {
    const s = setup();
    expect(s.covered()).toBeCloseTo(0.2, 10);
    const [e] = await executeIntents([sale('hedge', 0.05)], s.venue, s.journal, s.ctxFor(s.book), s.markets, scopeOf('a', 2 * H, s.book));
    expect(e!.result?.status).toBe('accepted');
    expect(s.held()).toBeCloseTo(0.15, 10);
    expect(s.covered()).toBeCloseTo(0.15, 10);
    expect(s.log.filter((l) => l.startsWith('cancel'))).toEqual([]); // never without a stop
  });

  it('a sale the exchange rejects puts the stop back before anything else', async () => {
    const s = setup();
    const huge = sale('exit', 0.2);
    const rejectingVenue: Venue = { ...s.venue, submit: (req) => (req.type === 'market' ? { status: 'rejected', code: 'MARKET_NOT_TRADABLE', reason: 'limit_only' } : s.venue.submit(req)) };
    const [e] = await executeIntents([huge], rejectingVenue, s.journal, s.ctxFor(s.book), s.markets, scopeOf('a', 2 * H, s.book));
    expect(e!.result).toMatchObject({ status: 'rejected' });
    expect(s.held()).toBeCloseTo(0.2, 10);
    expect(s.covered()).toBeCloseTo(0.2, 10);
    expect(s.stops().every((o) => o.price === 45_000)).toBe(true);
  });

  it('a sale that throws after its stop was freed restores the stop, then reports the error', async () => {
    const s = setup({ failSubmit: (req) => req.type === 'market' });
    await expect(executeIntents([sale('exit', 0.2)], s.venue, s.journal, s.ctxFor(s.book), s.markets, scopeOf('a', 2 * H, s.book))).rejects.toThrow(/went away/);
    expect(s.covered()).toBeCloseTo(s.held(), 10);
    expect(s.stops().every((o) => o.price === 45_000)).toBe(true);
  });

  it('a sale the risk engine refuses never touches the stop', async () => {
    const s = setup();
    const tooSmall = sale('exit', 0.00001); // under ordermin
    const [e] = await executeIntents([tooSmall], s.venue, s.journal, s.ctxFor(s.book), s.markets, scopeOf('a', 2 * H, s.book));
    expect(e!.result).toBeNull();
    expect(s.log).toEqual(['refused exit BELOW_EXCHANGE_MINIMUM']);
    expect(s.covered()).toBeCloseTo(0.2, 10);
  });

  it('a stop move amends the resting stop in place (same order, new trigger)', async () => {
    const s = setup();
    const before = s.stops().map((o) => o.id);
    const move: OrderIntent = { ...sale('exit', 0.2), kind: 'stop-move', order: { clientId: 'mv', pair: 'BTC/USD', side: 'sell', type: 'stop-loss', amount: 0.2, price: 47_000 }, replacesStop: 45_000 };
    const [e] = await executeIntents([move], s.venue, s.journal, s.ctxFor(s.book), s.markets, scopeOf('a', 2 * H, s.book));
    expect(e!.result?.status).toBe('accepted');
    expect(s.stops().map((o) => o.id)).toEqual(before);
    expect(s.stops().map((o) => o.price)).toEqual([47_000]);
  });

  it('the start-of-cycle check re-places a stop that went missing, at the recorded level', async () => {
    const s = setup();
    for (const o of s.stops()) s.engine.cancel(o.id, 2 * H, 'lost');
    expect(s.covered()).toBe(0);
    const input = { accountId: 'a', settings: s.settings, market: s.market, venue: s.venue, book: s.book, journal: s.journal };
    const r = await protectHoldings(input, s.book, 'start');
    expect(r.check.actions.map((a) => a.kind)).toEqual(['place']);
    expect(s.covered()).toBeCloseTo(0.2, 10);
    expect(s.stops().map((o) => o.price)).toEqual([45_000]);
  });

  it('a whole cycle ends with every holding covered', async () => {
    const s = setup();
    for (const o of s.stops()) s.engine.amend(o.id, { amount: 0.05 }, 2 * H);
    const c = await runAccountCycle({ accountId: 'a', settings: s.settings, market: s.market, venue: s.venue, book: s.book, journal: s.journal });
    expect(c.protection[0]!.actions.length).toBeGreaterThan(0);
    expect(s.covered()).toBeCloseTo(s.held(), 10);
  });
});

describe('a halt set between cycles (the kill switch)', () => {
  it('cancels the resting entries at the next cycle and keeps the holding behind its stop', async () => {
    const s = setup();
    s.engine.submit({ clientId: 'resting-entry', pair: 'BTC/USD', side: 'buy', type: 'limit', amount: 0.1, price: 40_000 }, 2 * H, { bid: 50_000, ask: 50_000, last: 50_000, time: 2 * H });
    expect(s.engine.openOrders().some((o) => o.side === 'buy' && o.status === 'open')).toBe(true);
    const halted: AccountBook = { ...s.book, tradingState: adminHalt(null, { now: 2 * H - 1, by: 'admin@example.com', note: 'stop now' }) };
    const c = await runAccountCycle({ accountId: 'a', settings: s.settings, market: s.market, venue: s.venue, book: halted, journal: s.journal });
    expect(c.order.tradingState.state).toBe('HALTED');
    expect(c.order.cancelledEntries).toHaveLength(1);
    expect(s.engine.openOrders().filter((o) => o.side === 'buy' && o.status === 'open')).toEqual([]);
    expect(s.covered()).toBeCloseTo(s.held(), 10);
    expect(s.log.filter((l) => l.startsWith('submit entry'))).toEqual([]);
  });
});
