import { describe, expect, it } from 'vitest';
import { ZodError } from 'zod';
import { VirtualClock } from '../../../lib/clock.ts';
import type { Candle } from '../../../lib/market/candle.ts';
import { SimBroker, type SimBrokerOptions } from '../../../lib/exchange/sim-broker.ts';
import { SimStateConflictError, type PriceSource, type Quote, type SimState, type SimStateStore } from '../../../lib/exchange/sim-types.ts';
import type { OrderRequest } from '../../../lib/exchange/types.ts';
import { usdMarket } from '../../../lib/exchange/usd-markets.ts';

const H = 3_600_000;

/** Test-only store: JSON strings in a Map, versioned like the PostgreSQL one. */
class MapStore implements SimStateStore {
  readonly rows = new Map<string, string>();
  saves = 0;
  async load(accountId: string): Promise<SimState | null> {
    const row = this.rows.get(accountId);
    return row === undefined ? null : (JSON.parse(row) as SimState);
  }
  async save(accountId: string, state: SimState, expectedVersion: number): Promise<void> {
    const row = this.rows.get(accountId);
    const actual = row === undefined ? 0 : (JSON.parse(row) as SimState).version;
    if (actual !== expectedVersion) throw new SimStateConflictError(accountId, expectedVersion, row === undefined ? null : actual);
    if (state.version !== expectedVersion + 1) throw new Error(`saved version ${state.version} is not ${expectedVersion} + 1`);
    this.rows.set(accountId, JSON.stringify(state));
    this.saves += 1;
  }
}

class Prices implements PriceSource {
  quotes = new Map<string, Quote>();
  candles = new Map<string, Candle>();
  quote(pair: string): Quote | null {
    return this.quotes.get(pair) ?? null;
  }
  async candle(pair: string): Promise<Candle | null> {
    return this.candles.get(pair) ?? null;
  }
}

const candle = (i: number, o: number, h: number, l: number, c: number, volume = 100): Candle => ({
  pair: 'BTC/USD', interval: 3600, openTime: i * H, open: o, high: h, low: l, close: c, volume,
});

function setup(over: Partial<SimBrokerOptions> = {}) {
  const store = new MapStore();
  const prices = new Prices();
  const clock = new VirtualClock(H);
  const opts: SimBrokerOptions = {
    accountId: 'company',
    markets: [usdMarket('BTC/USD'), usdMarket('ETH/USD')],
    clock,
    prices,
    store,
    slippage: { halfSpread: 0, impactK: 0, maxImpact: 0, maxVolumeShare: 1, stopPenetration: 0 },
    initial: { balances: { USD: 100_000 } },
    ...over,
  };
  const make = () => new SimBroker(opts);
  return { store, prices, clock, opts, make, broker: make() };
}

const buy = (clientId: string, amount: number, extra: Partial<OrderRequest> = {}): OrderRequest => ({
  clientId, pair: 'BTC/USD', side: 'buy', type: 'market', amount, ...extra,
});

describe('SimBroker', () => {
  it('is a sim broker over the given markets', async () => {
    const { broker } = setup();
    expect(broker.kind).toBe('sim');
    expect((await broker.loadMarkets()).map((m) => m.symbol)).toEqual(['BTC/USD', 'ETH/USD']);
  });

  it('fills a market order at the PriceSource quote and persists the result', async () => {
    const { broker, prices, store } = setup();
    prices.quotes.set('BTC/USD', { bid: 49_990, ask: 50_010, last: 50_000, time: H });
    const r = await broker.submit(buy('b1', 1));
    expect(r).toMatchObject({ status: 'accepted', order: { status: 'closed', avgPrice: 50_010 } });
    expect(store.saves).toBe(1);
    const [fill] = await broker.fills(0);
    expect(fill).toMatchObject({ clientId: 'b1', price: 50_010, amount: 1, liquidity: 'taker', time: H, realizedPnl: 0 });
    expect((await broker.balances()).BTC).toEqual({ total: 1, hold: 0, free: 1 });
  });

  it('survives a restart: a new instance on the same store continues where the old one stopped', async () => {
    const { broker, prices, make, clock } = setup();
    prices.quotes.set('BTC/USD', { bid: 50_000, ask: 50_000, last: 50_000, time: H });
    await broker.submit(buy('entry', 1.5, { close: { type: 'stop-loss', price: 48_000 } }));
    const stop = (await broker.openOrders())[0]!;
    // Kraken holds: the stop covers every coin, so a take-profit needs the stop cut down first.
    expect(await broker.submit({ clientId: 'tp0', pair: 'BTC/USD', side: 'sell', type: 'take-profit', amount: 0.75, price: 52_000, reduceOnly: true })).toMatchObject({ code: 'INSUFFICIENT_FUNDS' });
    expect(await broker.amend(stop.id, { amount: 0.75 })).toMatchObject({ status: 'amended', order: { id: stop.id, amount: 0.75 } });
    await broker.submit({ clientId: 'tp', pair: 'BTC/USD', side: 'sell', type: 'take-profit', amount: 0.75, price: 52_000, reduceOnly: true });

    const restarted = make();
    expect((await restarted.openOrders()).map((o) => [o.type, o.amount])).toEqual([['stop-loss', 0.75], ['take-profit', 0.75]]);
    clock.set(2 * H);
    const fills = await restarted.onCandle(candle(1, 50_000, 53_000, 47_000, 50_000));
    expect(fills.map((f) => f.price)).toEqual([48_000, 52_000]); // the stop first
    expect(await make().openOrders()).toEqual([]);
    expect((await make().orderByClientId('tp'))?.status).toBe('closed');
  });

  it('is idempotent by clientId across instances', async () => {
    const { broker, prices, make } = setup();
    prices.quotes.set('BTC/USD', { bid: 50_000, ask: 50_000, last: 50_000, time: H });
    const a = await broker.submit(buy('same', 0.5));
    const b = await make().submit(buy('same', 0.5));
    expect(a.status === 'accepted' && b.status === 'accepted' && a.order.id === b.order.id).toBe(true);
    expect(await broker.fills(0)).toHaveLength(1);
    expect((await make().orderByClientId('same'))?.filled).toBe(0.5);
  });

  it('consumes the newest closed candle before a submit, so resting orders are matched first', async () => {
    const { broker, prices, clock } = setup();
    prices.quotes.set('BTC/USD', { bid: 50_000, ask: 50_000, last: 50_000, time: H });
    await broker.submit(buy('limit', 1, { type: 'limit', price: 49_000 }));
    prices.candles.set('BTC/USD', candle(1, 50_000, 50_000, 48_500, 49_500));
    clock.set(2 * H);
    await broker.submit(buy('later', 0.1));
    expect((await broker.fills(0)).map((f) => [f.clientId, f.price])).toEqual([['limit', 49_000], ['later', 50_000]]);
  });

  it('processBar(pair, candle) refuses a candle of another pair', () => {
    const { broker } = setup();
    expect(() => broker.processBar('ETH/USD', candle(0, 1, 1, 1, 1))).toThrow(/BTC\/USD candle/);
  });

  it('a rejected submit stores nothing', async () => {
    const { broker, prices, store } = setup();
    prices.quotes.set('BTC/USD', { bid: 50_000, ask: 50_000, last: 50_000, time: H });
    expect(await broker.submit(buy('big', 100))).toMatchObject({ status: 'rejected', code: 'INSUFFICIENT_FUNDS' });
    expect(await broker.submit(buy('tiny', 0.00001))).toMatchObject({ status: 'rejected', code: 'BELOW_EXCHANGE_MINIMUM' });
    expect(store.saves).toBe(0);
  });

  it('amend is persisted like every other write; a refused amend stores nothing', async () => {
    const { broker, prices, make, store, clock } = setup();
    prices.quotes.set('BTC/USD', { bid: 50_000, ask: 50_000, last: 50_000, time: H });
    const r = await broker.submit(buy('l', 1, { type: 'limit', price: 40_000 }));
    if (r.status !== 'accepted') throw new Error(r.reason);
    const saves = store.saves;
    expect(await broker.amend(r.order.id, { amount: 5 })).toMatchObject({ status: 'rejected', code: 'INSUFFICIENT_FUNDS' });
    expect(store.saves).toBe(saves);
    clock.set(H + 60_000);
    expect(await broker.amend(r.order.id, { price: 42_000, amount: 1.5 })).toMatchObject({ status: 'amended', order: { id: r.order.id, clientId: 'l', price: 42_000, amount: 1.5 } });
    expect(store.saves).toBe(saves + 1);
    const again = make();
    expect(await again.orderByClientId('l')).toMatchObject({ price: 42_000, amount: 1.5 });
    expect((await again.balances()).USD?.hold).toBeCloseTo(1.5 * 42_000 * 1.0026, 6);
    expect(store.rows.get('company')).toContain('"amendedAt":3660000');
  });

  it('amend consumes the newest closed candle first: an order that bar filled is no longer open', async () => {
    const { broker, prices, clock } = setup();
    prices.quotes.set('BTC/USD', { bid: 50_000, ask: 50_000, last: 50_000, time: H });
    const r = await broker.submit(buy('limit', 1, { type: 'limit', price: 49_000 }));
    if (r.status !== 'accepted') throw new Error(r.reason);
    prices.candles.set('BTC/USD', candle(1, 50_000, 50_000, 48_500, 49_500));
    clock.set(2 * H);
    expect(await broker.amend(r.order.id, { price: 48_000 })).toMatchObject({ status: 'rejected', code: 'ORDER_NOT_OPEN' });
    expect((await broker.fills(0)).map((f) => f.price)).toEqual([49_000]);
  });

  it('cancel releases the hold and persists; an unknown id is an error', async () => {
    const { broker, prices, make } = setup();
    prices.quotes.set('BTC/USD', { bid: 50_000, ask: 50_000, last: 50_000, time: H });
    const r = await broker.submit(buy('l', 1, { type: 'limit', price: 40_000 }));
    if (r.status !== 'accepted') throw new Error(r.reason);
    expect((await broker.balances()).USD?.hold).toBeCloseTo(40_000 * 1.0026, 6);
    await broker.cancel(r.order.id);
    expect((await make().balances()).USD).toEqual({ total: 100_000, hold: 0, free: 100_000 });
    await expect(broker.cancel('SIM-O0000099')).rejects.toThrow(/unknown sim order/);
  });

  it('a concurrent writer makes the save fail with SimStateConflictError and nothing is lost', async () => {
    const { store, prices, opts } = setup();
    prices.quotes.set('BTC/USD', { bid: 50_000, ask: 50_000, last: 50_000, time: H });
    const racing: SimStateStore = {
      load: (id) => store.load(id),
      save: async (id, state, expected) => {
        // Another process saves between our load and our save.
        await new SimBroker({ ...opts, store }).submit(buy('other', 0.1));
        return store.save(id, state, expected);
      },
    };
    await expect(new SimBroker({ ...opts, store: racing }).submit(buy('mine', 0.1))).rejects.toBeInstanceOf(SimStateConflictError);
    const after = new SimBroker(opts);
    expect(await after.orderByClientId('other')).not.toBeNull();
    expect(await after.orderByClientId('mine')).toBeNull();
  });

  it('serialises calls on one instance', async () => {
    const { broker, prices, store } = setup();
    prices.quotes.set('BTC/USD', { bid: 50_000, ask: 50_000, last: 50_000, time: H });
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => broker.submit(buy(`p${i}`, 0.1))));
    expect(results.every((r) => r.status === 'accepted')).toBe(true);
    expect(store.saves).toBe(5);
    expect(await broker.fills(0)).toHaveLength(5);
  });

  it('an account with no stored state and no opening balances is an error, not an empty account', async () => {
    const { broker } = setup({ initial: undefined });
    await expect(broker.balances()).rejects.toThrow(/no simulation state yet/);
  });
});

describe('stored state validation', () => {
  async function stored(): Promise<{ store: MapStore; make: () => SimBroker; state: SimState }> {
    const { broker, prices, store, make } = setup();
    prices.quotes.set('BTC/USD', { bid: 50_000, ask: 50_000, last: 50_000, time: H });
    await broker.submit(buy('b', 0.1, { type: 'limit', price: 40_000 }));
    return { store, make, state: (await store.load('company')) as SimState };
  }

  it.each([
    ['a negative balance', (s: SimState) => void (s.balances.USD = -1)],
    ['an unknown schema', (s: SimState) => void ((s as { schema: number }).schema = 2)],
    ['an open id whose order is gone', (s: SimState) => void (s.orders = {})],
    ['a clientId pointing at the wrong order', (s: SimState) => void (s.clientIds.b = 'SIM-O0000042')],
    ['a fill with a string price', (s: SimState) => void s.fills.push({ ...({} as SimState['fills'][number]), price: '1' as unknown as number })],
  ])('refuses a stored state with %s', async (_label, corrupt) => {
    const { store, make, state } = await stored();
    corrupt(state);
    store.rows.set('company', JSON.stringify(state));
    await expect(make().balances()).rejects.toBeInstanceOf(ZodError);
  });

  it('accepts what it stored itself', async () => {
    const { make } = await stored();
    expect((await make().openOrders()).map((o) => o.clientId)).toEqual(['b']);
  });
});
