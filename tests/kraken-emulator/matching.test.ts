import { describe, expect, it } from 'vitest';
import { KrakenError, KrakenExchange, type Params } from './exchange.ts';
import { flat, hourly } from './helpers.ts';

const KEY = 'k1';

/** A BTC/USD path: start at 100, then the rows given. halfSpread 0 so fills are exact. */
function exchange(rows: Array<[number, number, number, number]>, balances: Record<string, number> = { USD: 10_000, BTC: 10 }, opts: { halfSpread?: number; volume30dUsd?: number } = {}) {
  let t = Date.UTC(2025, 0, 1);
  const ex = new KrakenExchange({
    candles: { 'BTC/USD': hourly('BTC/USD', [[100, 100, 100, 100], ...rows]) },
    startIndex: 0,
    halfSpread: opts.halfSpread ?? 0,
    now: () => (t += 1000),
  });
  const acc = ex.addAccount({ key: KEY, secret: 'c2VjcmV0', balances, volume30dUsd: opts.volume30dUsd ?? 0 });
  const add = (p: Record<string, string | Record<string, string>>) => ex.addOrder(acc, { pair: 'XBTUSD', ...p } as Params).txid![0]!;
  const order = (id: string) => ex.orders.get(id)!;
  return { ex, acc, add, order };
}

describe('resting limit orders', () => {
  it.each([
    ['buy', '95', [100, 101, 96, 99], 'open'],
    ['buy', '95', [100, 101, 95, 99], 'closed'],
    ['buy', '95', [100, 101, 90, 99], 'closed'],
    ['sell', '105', [100, 104.9, 99, 101], 'open'],
    ['sell', '105', [100, 105, 99, 101], 'closed'],
  ] as const)('%s limit %s against candle %j → %s', (side, price, candle, status) => {
    const { ex, add, order } = exchange([candle as unknown as [number, number, number, number]]);
    const id = add({ type: side, ordertype: 'limit', price, volume: '1' });
    expect(order(id).status).toBe('open');
    ex.advance();
    expect(order(id).status).toBe(status);
    if (status === 'closed') {
      // a resting limit fills at its own price, as maker
      const t = ex.tradesOf(KEY)[0]!;
      expect(t.price).toBe(Number(price));
      expect(t.maker).toBe(true);
    }
  });

  it('a marketable limit fills at once at the touch, as taker', () => {
    const { ex, add, order } = exchange([], { USD: 10_000 }, { halfSpread: 0.001 });
    const id = add({ type: 'buy', ordertype: 'limit', price: '150', volume: '1' });
    expect(order(id).status).toBe('closed');
    expect(ex.tradesOf(KEY)[0]).toMatchObject({ price: 100.1, maker: false });
  });

  it('a post-only limit that would cross is cancelled, not filled', () => {
    const { add, order } = exchange([]);
    const id = add({ type: 'buy', ordertype: 'limit', price: '150', volume: '1', oflags: 'post' });
    expect(order(id)).toMatchObject({ status: 'canceled', reason: 'Post only order', volExec: 0 });
  });

  it('fees: maker for a resting limit, taker for a market order, from the fee tier', () => {
    const { ex, add } = exchange([[100, 100, 90, 95]], { USD: 100_000, BTC: 10 }, { volume30dUsd: 60_000 });
    add({ type: 'buy', ordertype: 'market', volume: '1' });
    add({ type: 'buy', ordertype: 'limit', price: '92', volume: '1' });
    ex.advance();
    const [taker, maker] = ex.tradesOf(KEY);
    expect(taker!.maker).toBe(false);
    expect(taker!.fee).toBeCloseTo(taker!.cost * 0.0024, 5); // 50k tier taker 0.24 %, rounded to cost_decimals
    expect(maker!.maker).toBe(true);
    expect(maker!.fee).toBeCloseTo(92 * 0.0014, 5); // 50k tier maker 0.14 %
  });
});

describe('stops and take-profits', () => {
  it('when one candle touches both, the stop fills first', () => {
    const { ex, add, order } = exchange([[100, 112, 88, 100]], { USD: 0, BTC: 2 });
    const tp = add({ type: 'sell', ordertype: 'take-profit', price: '110', volume: '1' });
    const sl = add({ type: 'sell', ordertype: 'stop-loss', price: '90', volume: '1' });
    ex.advance();
    const trades = ex.tradesOf(KEY);
    expect(trades.map((t) => t.ordertxid)).toEqual([sl, tp]);
    expect(order(sl).status).toBe('closed');
    expect(order(tp).status).toBe('closed');
  });

  it.each([
    // side, type, trigger, candle, expected fill (halfSpread 0)
    ['sell', 'stop-loss', '90', [100, 101, 85, 86], 90],
    ['sell', 'stop-loss', '90', [88, 89, 85, 86], 88], // gapped through: fills at the open
    ['buy', 'stop-loss', '110', [100, 115, 99, 112], 110],
    ['sell', 'take-profit', '110', [100, 115, 99, 112], 110],
    ['buy', 'take-profit', '90', [95, 96, 85, 86], 90],
  ] as const)('%s %s @ %s on %j fills at %d', (side, type, trigger, candle, px) => {
    const { ex, add, order } = exchange([candle as unknown as [number, number, number, number]]);
    const id = add({ type: side, ordertype: type, price: trigger, volume: '1' });
    expect(order(id).status).toBe('open');
    ex.advance();
    expect(order(id).status).toBe('closed');
    expect(ex.tradesOf(KEY)[0]).toMatchObject({ price: px, maker: false });
  });

  it('a stop-loss-limit whose limit is not reached rests after triggering, then fills as a limit', () => {
    const { ex, add, order } = exchange([
      [89, 89, 85, 86], // gaps below 90 to 89: the sell limit at 89.5 is not marketable
      [86, 90, 86, 89],
    ]);
    const id = add({ type: 'sell', ordertype: 'stop-loss-limit', price: '90', price2: '89.5', volume: '1' });
    ex.advance();
    expect(order(id)).toMatchObject({ status: 'open', triggered: true });
    ex.advance();
    expect(order(id).status).toBe('closed');
    expect(ex.tradesOf(KEY)[0]).toMatchObject({ price: 89.5, maker: true });
  });

  it('an already-crossed stop fires at placement', () => {
    const { ex, add, order } = exchange([]);
    const id = add({ type: 'sell', ordertype: 'stop-loss', price: '120', volume: '1' });
    expect(order(id).status).toBe('closed');
    expect(ex.tradesOf(KEY)).toHaveLength(1);
  });
});

describe('holds and balances', () => {
  it('an open buy limit holds quote incl. the taker fee; cancel releases it', () => {
    const { ex, acc, add } = exchange([], { USD: 1_000 });
    const id = add({ type: 'buy', ordertype: 'limit', price: '90', volume: '2' });
    expect(ex.held(acc, 'ZUSD')).toBeCloseTo(180 * 1.0026, 9);
    expect(ex.free(acc, 'ZUSD')).toBeCloseTo(1_000 - 180 * 1.0026, 9);
    ex.cancelOrder(acc, { txid: id });
    expect(ex.held(acc, 'ZUSD')).toBe(0);
    expect(ex.orders.get(id)!.status).toBe('canceled');
  });

  it('an open sell holds base', () => {
    const { ex, acc, add } = exchange([], { BTC: 3 });
    add({ type: 'sell', ordertype: 'limit', price: '110', volume: '2' });
    expect(ex.held(acc, 'XXBT')).toBe(2);
    expect(() => add({ type: 'sell', ordertype: 'limit', price: '110', volume: '1.5' })).toThrow(new KrakenError('EOrder:Insufficient funds'));
  });

  it('a fill moves base and quote and charges the fee in quote', () => {
    const { ex, acc, add } = exchange([[100, 100, 94, 96]], { USD: 1_000, BTC: 0 });
    add({ type: 'buy', ordertype: 'limit', price: '95', volume: '2' });
    ex.advance();
    expect(ex.total(acc, 'XXBT')).toBe(2);
    expect(ex.total(acc, 'ZUSD')).toBeCloseTo(1_000 - 190 - 190 * 0.0016, 6);
    expect(ex.held(acc, 'ZUSD')).toBe(0);
  });
});

describe('conditional close', () => {
  it('becomes a live order for the filled volume when the entry fills, then executes', () => {
    const { ex, acc, add, order } = exchange([
      [100, 100, 94, 96], // entry buy limit 95 fills
      [96, 97, 89, 90], // the attached stop at 90 fires
    ], { USD: 1_000 });
    const entry = add({ type: 'buy', ordertype: 'limit', price: '95', volume: '1', close: { ordertype: 'stop-loss', price: '90' } });
    expect(ex.ordersOf(KEY)).toHaveLength(1); // not an order until the entry fills
    ex.advance();
    const close = ex.ordersOf(KEY).find((o) => o.refid === entry)!;
    expect(close).toMatchObject({ side: 'sell', ordertype: 'stop-loss', price: 90, volume: 1, status: 'open' });
    expect(ex.held(acc, 'XXBT')).toBe(1);
    ex.advance();
    expect(order(close.txid).status).toBe('closed');
    expect(ex.total(acc, 'XXBT')).toBeCloseTo(0, 12);
  });
});

describe('partial fills (maxFillShare)', () => {
  it('a resting limit fills a share of each candle, keeps its hold for the rest, and arms the close per fill', () => {
    let t = Date.UTC(2025, 0, 1);
    // volume 10 per candle, share 0.1 → at most 1 BTC per candle
    const ex = new KrakenExchange({ candles: { 'BTC/USD': hourly('BTC/USD', [[100, 100, 100, 100], [100, 100, 94, 96], [96, 97, 94, 95], [95, 96, 94, 95]]) }, startIndex: 0, halfSpread: 0, now: () => (t += 1000), maxFillShare: 0.1 });
    const acc = ex.addAccount({ key: KEY, secret: 'c2VjcmV0', balances: { USD: 1_000 } });
    const id = ex.addOrder(acc, { pair: 'XBTUSD', type: 'buy', ordertype: 'limit', price: '95', volume: '2.5', close: { ordertype: 'limit', price: '120' } }).txid![0]!;
    ex.advance();
    const o = ex.orders.get(id)!;
    expect(o).toMatchObject({ status: 'open', volExec: 1 });
    expect(ex.held(acc, 'ZUSD')).toBeCloseTo(1.5 * 95 * 1.0026, 9);
    ex.advance();
    ex.advance();
    expect(o).toMatchObject({ status: 'closed', volExec: 2.5 });
    expect(ex.tradesOf(KEY).map((x) => x.vol)).toEqual([1, 1, 0.5]);
    expect(ex.ordersOf(KEY).filter((x) => x.refid === id).map((x) => x.volume)).toEqual([1, 1, 0.5]);
    expect(ex.held(acc, 'ZUSD')).toBe(0);
    expect(ex.held(acc, 'XXBT')).toBe(2.5);
  });
});

describe('order validation', () => {
  const base = { type: 'buy', ordertype: 'limit', price: '90', volume: '1' };
  it.each([
    [{ volume: '0.00001' }, 'EOrder:Order minimum not met'],
    [{ volume: '0.001', price: '100' }, 'EOrder:Cost minimum not met'],
    [{ volume: '1000' }, 'EOrder:Insufficient funds'],
    [{ pair: 'NOPEUSD' }, 'EQuery:Unknown asset pair'],
    [{ userref: '7', cl_ord_id: 'abc' }, 'EGeneral:Invalid arguments'],
    [{ cl_ord_id: 'this-free-text-is-far-too-long' }, 'EGeneral:Invalid arguments:cl_ord_id'],
    [{ price: '90.25' }, 'EOrder:Invalid price:XBTUSD price can only be specified up to 1 decimals.'],
    [{ volume: '0.123456789' }, 'EGeneral:Invalid arguments:volume'],
    [{ ordertype: 'stop-loss-limit', price: '90' }, 'EGeneral:Invalid arguments:price2'],
    [{ oflags: 'bogus' }, 'EGeneral:Invalid arguments:oflags'],
    [{ leverage: '2' }, 'EGeneral:Permission denied'],
    [{ pair: 'LTCUSD', volume: '1' }, 'EService:Market in cancel_only mode'],
  ])('%j → %s', (patch, error) => {
    const { add } = exchange([]);
    expect(() => add({ ...base, ...patch })).toThrow(new KrakenError(error));
  });

  it('a cl_ord_id must be unique among open orders, and is free again once the order is closed', () => {
    const { ex, acc, add } = exchange([]);
    const first = add({ ...base, cl_ord_id: 'dup-1' });
    expect(() => add({ ...base, cl_ord_id: 'dup-1' })).toThrow(new KrakenError('EOrder:Duplicate order'));
    ex.cancelOrder(acc, { cl_ord_id: 'dup-1' });
    expect(ex.orders.get(first)!.status).toBe('canceled');
    expect(add({ ...base, cl_ord_id: 'dup-1' })).not.toBe(first);
  });

  it('records margin attempts so tests can assert none were sent', () => {
    const { ex, add } = exchange([]);
    expect(() => add({ ...base, leverage: '3' })).toThrow(KrakenError);
    expect(ex.marginAttempts).toMatchObject([{ key: KEY, method: 'AddOrder', params: { leverage: '3' } }]);
  });

  it('validate=true checks without placing', () => {
    const { ex, acc } = exchange([]);
    const res = ex.addOrder(acc, { pair: 'XBTUSD', ...base, validate: 'true' });
    expect(res).toEqual({ descr: { order: 'buy 1.00000000 XBTUSD @ limit 90.0' } });
    expect(ex.ordersOf(KEY)).toHaveLength(0);
    expect(() => ex.addOrder(acc, { pair: 'XBTUSD', ...base, volume: '1000', validate: 'true' })).toThrow(new KrakenError('EOrder:Insufficient funds'));
  });
});

describe('replay cursor', () => {
  it('refuses to advance past the last candle', () => {
    const ex = new KrakenExchange({ candles: { 'BTC/USD': flat('BTC/USD', 100, 3) }, startIndex: 1, halfSpread: 0, now: () => 0 });
    ex.advance();
    expect(() => ex.advance()).toThrow(/no more candles/);
  });
});
