/**
 * The real ccxt kraken client against the emulator: every endpoint ccxt calls, the auth rules, and
 * each Kraken error string mapped to the ccxt class DESIGN.md §5 names.
 */
import ccxt from 'ccxt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caught, ccxtOptions, hourly } from './helpers.ts';
import { generateKey, startKrakenEmulator, type KrakenEmulator } from './index.ts';

type Kraken = InstanceType<typeof ccxt.kraken>;

let emu: KrakenEmulator;
const alice = generateKey();
let ex: Kraken;


/** A fresh funded key with its own client, so tests do not share balances or counters. */
function freshAccount(balances: Record<string, number> = { USD: 100_000, BTC: 2, ETH: 20 }, extra: Record<string, unknown> = {}) {
  const k = generateKey();
  emu.addKey({ ...k, tier: 'pro', balances });
  return { k, client: new ccxt.kraken(ccxtOptions(emu, k, extra)) as Kraken };
}

beforeAll(async () => {
  emu = await startKrakenEmulator({ keys: [{ ...alice, tier: 'pro', balances: { USD: 50_000, BTC: 1, ETH: 10 } }] });
  ex = new ccxt.kraken(ccxtOptions(emu, alice)) as Kraken;
});
afterAll(async () => {
  expect(emu.internalErrors).toEqual([]);
  await emu.close();
});

describe('public endpoints', () => {
  it('loadMarkets calls Assets then AssetPairs and yields Kraken-shaped markets', async () => {
    const before = emu.requests.length;
    const markets = await ex.loadMarkets();
    expect(emu.requests.slice(before).map((r) => r.name)).toEqual(['Assets', 'AssetPairs']);
    expect(Object.keys(markets)).toEqual(expect.arrayContaining(['BTC/USD', 'ETH/USD', 'SOL/USD', 'USDC/USD', 'USDT/USD', 'ETH/BTC', 'BTC/EUR', 'LTC/USD']));
    const btc = markets['BTC/USD']!;
    expect(btc).toMatchObject({ id: 'XXBTZUSD', altname: 'XBTUSD', wsId: 'XBT/USD', base: 'BTC', quote: 'USD', active: true, taker: 0.0026, maker: 0.0016 });
    expect(btc.info).toMatchObject({ base: 'XXBT', quote: 'ZUSD', pair_decimals: 1, lot_decimals: 8, ordermin: '0.00005', costmin: '0.5', status: 'online' });
    expect(btc.precision).toEqual({ price: 0.1, amount: 1e-8 });
    expect(btc.limits.amount?.min).toBe(0.00005);
    expect(btc.limits.cost?.min).toBe(0.5);
    expect(markets['LTC/USD']!.active).toBe(false); // cancel_only
    expect((markets['LTC/USD']!.info as { status: string }).status).toBe('cancel_only');
    expect(markets['USDC/USD']!.taker).toBe(0.002);
    expect(markets['ETH/BTC']!.quote).toBe('BTC');
    expect(ex.currencies['BTC']!.id).toBe('XXBT');
  });

  it('fetchTime and fetchStatus', async () => {
    const t = await ex.fetchTime();
    expect(Math.abs(t! - Date.now())).toBeLessThan(5_000);
    expect((await ex.fetchStatus()).status).toBe('ok');
    emu.setSystemStatus('maintenance');
    expect((await ex.fetchStatus()).status).toBe('maintenance');
    expect(await caught(ex.fetchTicker('BTC/USD'))).toBeInstanceOf(ccxt.ExchangeNotAvailable); // EService:Unavailable
    emu.setSystemStatus('online');
  });

  it('system cancel_only refuses new orders; a pair can be switched to cancel_only mid-test', async () => {
    const { client } = freshAccount();
    const o = await client.createOrder('ETH/USD', 'limit', 'buy', 0.01, 100);
    emu.setSystemStatus('cancel_only');
    try {
      expect(await caught(client.createOrder('ETH/USD', 'limit', 'buy', 0.01, 100))).toBeInstanceOf(ccxt.OnMaintenance);
      await client.cancelOrder(o.id!); // cancels still work
    } finally {
      emu.setSystemStatus('online');
    }
    emu.setPairStatus('ETHUSD', 'cancel_only');
    try {
      const markets = await client.loadMarkets(true);
      expect(markets['ETH/USD']!.active).toBe(false);
      expect((await caught(client.createOrder('ETH/USD', 'limit', 'buy', 0.01, 100))).message).toContain('EService:Market in cancel_only mode');
    } finally {
      emu.setPairStatus('ETHUSD', 'online');
    }
  });

  it('fetchTicker / fetchTickers answer the replay cursor price with a spread', async () => {
    const tk = await ex.fetchTicker('BTC/USD');
    const candle = emu.exchange.candle(emu.exchange.pair('XBTUSD'));
    expect(tk.last).toBeCloseTo(candle.close, 1);
    expect(tk.bid!).toBeLessThan(tk.ask!);
    const all = await ex.fetchTickers(['BTC/USD', 'ETH/USD', 'USDC/USD']);
    expect(Object.keys(all).sort()).toEqual(['BTC/USD', 'ETH/USD', 'USDC/USD']);
  });

  it('fetchOHLCV: newest 720 candles, the last one open, since honoured inside the window', async () => {
    const all = await ex.fetchOHLCV('BTC/USD', '1h');
    expect(all).toHaveLength(720);
    const cursorTime = emu.exchange.path.timeline[emu.exchange.cursor]!;
    expect(all.at(-1)![0]).toBe(cursorTime);
    const since = all[700]![0]!;
    const recent = await ex.fetchOHLCV('BTC/USD', '1h', since);
    expect(recent[0]![0]).toBe(since);
    expect(recent).toHaveLength(20);
    // older than the window: Kraken still serves only the newest 720
    expect(await ex.fetchOHLCV('BTC/USD', '1h', Date.UTC(2015, 0, 1))).toHaveLength(720);
    const raw = (await ex.publicGetOHLC({ pair: 'XXBTZUSD', interval: 60 })) as { result: { last: number } };
    expect(raw.result.last * 1000).toBe(all.at(-2)![0]); // the last committed candle
    const daily = await ex.fetchOHLCV('BTC/USD', '1d');
    expect(daily.length).toBeGreaterThan(25);
    expect(daily.at(-1)![0]! % 86_400_000).toBe(0);
  });

  it('fetchOrderBook and fetchTrades', async () => {
    const ob = await ex.fetchOrderBook('ETH/USD', 10);
    expect(ob.bids).toHaveLength(10);
    expect(ob.asks).toHaveLength(10);
    expect(ob.bids[0]![0]!).toBeLessThan(ob.asks[0]![0]!);
    const trades = await ex.fetchTrades('ETH/USD', undefined, 20);
    expect(trades).toHaveLength(20);
    expect(trades.at(-1)!.timestamp!).toBeGreaterThan(trades[0]!.timestamp!);
  });

  it('an unknown pair is EQuery:Unknown asset pair', async () => {
    const e = await caught(ex.publicGetTicker({ pair: 'NOPEUSD' }));
    expect(e.message).toContain('EQuery:Unknown asset pair');
  });
});

describe('authentication', () => {
  it('accepts ccxt-signed requests and records the key', async () => {
    await ex.fetchBalance();
    const last = emu.calls('BalanceEx').at(-1)!;
    expect(last).toMatchObject({ method: 'POST', path: '/0/private/BalanceEx', key: alice.key, status: 200, errors: [] });
  });

  it('unknown key → EAPI:Invalid key → AuthenticationError', async () => {
    const c = new ccxt.kraken(ccxtOptions(emu, generateKey()));
    const e = await caught(c.fetchBalance());
    expect(e).toBeInstanceOf(ccxt.AuthenticationError);
    expect(e.message).toContain('EAPI:Invalid key');
  });

  it('wrong secret → EAPI:Invalid signature → plain ExchangeError', async () => {
    const c = new ccxt.kraken(ccxtOptions(emu, { key: alice.key, secret: generateKey().secret }));
    const e = await caught(c.fetchBalance());
    expect(e.constructor).toBe(ccxt.ExchangeError);
    expect(e.message).toContain('EAPI:Invalid signature');
  });

  it('a nonce that does not increase → EAPI:Invalid nonce → InvalidNonce', async () => {
    const { client } = freshAccount();
    client.nonce = () => 1_700_000_000_000;
    await client.fetchBalance();
    const e = await caught(client.fetchBalance());
    expect(e).toBeInstanceOf(ccxt.InvalidNonce);
    expect(e.message).toContain('EAPI:Invalid nonce');
  });
});

describe('private endpoints', () => {
  it('fetchBalance reads BalanceEx: total and hold_trade (used)', async () => {
    const { client } = freshAccount({ USD: 10_000, BTC: 0.5 });
    await client.createOrder('BTC/USD', 'limit', 'buy', 0.01, 10_000);
    const b = await client.fetchBalance();
    expect(b['USD']!.total).toBe(10_000);
    expect(b['USD']!.used).toBeCloseTo(100 * 1.0026, 4);
    expect(b['BTC']!.free).toBe(0.5);
    const raw = (await client.privatePostBalanceEx()) as { result: Record<string, { balance: string; hold_trade: string }> };
    expect(raw.result['ZUSD']).toEqual({ balance: '10000.0000', hold_trade: '100.2600' });
    const plain = (await client.privatePostBalance()) as { result: Record<string, string> };
    expect(plain.result['XXBT']).toBe('0.5000000000');
  });

  it('TradeBalance values everything in the asked asset', async () => {
    const { client } = freshAccount({ USD: 1_000, BTC: 1 });
    const res = (await client.privatePostTradeBalance({ asset: 'ZUSD' })) as { result: { eb: string } };
    const btc = emu.exchange.last(emu.exchange.pair('XBTUSD'));
    expect(Number(res.result.eb)).toBeCloseTo(1_000 + btc, 2);
  });

  it('createOrder: market, limit with clientOrderId, stop-loss, take-profit, stop-loss-limit, take-profit-limit', async () => {
    const { k, client } = freshAccount();
    const px = (await client.fetchTicker('BTC/USD')).last!;
    const market = await client.createOrder('BTC/USD', 'market', 'buy', 0.01);
    expect(market.id).toMatch(/^O[A-Z2-7]{5}-[A-Z2-7]{5}-[A-Z2-7]{6}$/);
    const limit = await client.createOrder('BTC/USD', 'limit', 'buy', 0.01, Math.round(px * 0.8), { clientOrderId: 'entry-0001' });
    expect(limit).toMatchObject({ side: 'buy', type: 'limit', price: Math.round(px * 0.8), amount: 0.01 });
    const sl = await client.createOrder('BTC/USD', 'market', 'sell', 0.01, undefined, { stopLossPrice: Math.round(px * 0.7) });
    const tp = await client.createOrder('BTC/USD', 'market', 'sell', 0.01, undefined, { takeProfitPrice: Math.round(px * 1.3) });
    const sll = await client.createOrder('BTC/USD', 'limit', 'sell', 0.01, Math.round(px * 0.69), { stopLossPrice: Math.round(px * 0.7) });
    const tpl = await client.createOrder('BTC/USD', 'limit', 'sell', 0.01, Math.round(px * 1.29), { takeProfitPrice: Math.round(px * 1.3) });
    const held = emu.orders(k.key);
    expect(held.map((o) => o.ordertype)).toEqual(['market', 'limit', 'stop-loss', 'take-profit', 'stop-loss-limit', 'take-profit-limit']);
    expect(held[1]!.clOrdId).toBe('entry-0001');
    expect(held[0]!.status).toBe('closed');
    expect(held.slice(1).every((o) => o.status === 'open')).toBe(true);
    const sent = emu.calls('AddOrder', k.key).map((r) => r.params.ordertype);
    expect(sent).toEqual(['market', 'limit', 'stop-loss', 'take-profit', 'stop-loss-limit', 'take-profit-limit']);

    const open = await client.fetchOpenOrders();
    expect(open.map((o) => o.id).sort()).toEqual([limit.id, sl.id, tp.id, sll.id, tpl.id].sort());
    const byClient = await client.fetchOpenOrders(undefined, undefined, undefined, { clientOrderId: 'entry-0001' });
    expect(byClient).toHaveLength(1);
    expect(byClient[0]).toMatchObject({ id: limit.id, clientOrderId: 'entry-0001', status: 'open' });
    const slOpen = open.find((o) => o.id === sl.id)!;
    expect(slOpen.stopLossPrice).toBe(Math.round(px * 0.7));
    const sllOpen = open.find((o) => o.id === sll.id)!;
    expect(sllOpen).toMatchObject({ type: 'limit', price: Math.round(px * 0.69), stopLossPrice: Math.round(px * 0.7) });

    const fetched = await client.fetchOrder(market.id!);
    expect(fetched).toMatchObject({ id: market.id, status: 'closed', filled: 0.01, side: 'buy' });
    expect(fetched.average!).toBeGreaterThan(0);
    await expect(client.fetchOrder('OAAAAA-BBBBB-CCCCCC')).rejects.toBeInstanceOf(ccxt.OrderNotFound);
  });

  it('validate=true checks the order without placing it', async () => {
    const { k, client } = freshAccount();
    const res = (await client.privatePostAddOrder({ pair: 'XXBTZUSD', type: 'buy', ordertype: 'limit', price: '20000', volume: '0.01', validate: true })) as { result: Record<string, unknown> };
    expect(res.result).toEqual({ descr: { order: 'buy 0.01000000 XBTUSD @ limit 20000.0' } });
    expect(emu.orders(k.key)).toHaveLength(0);
  });

  it('userref and cl_ord_id together are refused; userref alone works', async () => {
    const { client } = freshAccount();
    const e = await caught(client.privatePostAddOrder({ pair: 'XXBTZUSD', type: 'buy', ordertype: 'limit', price: '20000', volume: '0.01', userref: 42, cl_ord_id: 'abc' }));
    expect(e).toBeInstanceOf(ccxt.BadRequest);
    expect(e.message).toContain('EGeneral:Invalid arguments');
    await client.privatePostAddOrder({ pair: 'XXBTZUSD', type: 'buy', ordertype: 'limit', price: '20000', volume: '0.01', userref: 42 });
    const open = (await client.privatePostOpenOrders({ userref: 42 })) as { result: { open: Record<string, { userref: number }> } };
    expect(Object.values(open.result.open)).toMatchObject([{ userref: 42 }]);
  });

  it('close[ordertype]/close[price] reach the emulator and arm when the entry fills', async () => {
    const { k, client } = freshAccount();
    const px = (await client.fetchTicker('ETH/USD')).last!;
    const entry = await client.createOrder('ETH/USD', 'market', 'buy', 0.5, undefined, { close: { ordertype: 'stop-loss', price: Math.round(px * 0.9) } });
    const req = emu.calls('AddOrder', k.key).at(-1)!;
    expect(req.params.close).toEqual({ ordertype: 'stop-loss', price: String(Math.round(px * 0.9)) });
    const close = emu.orders(k.key).find((o) => o.refid === entry.id)!;
    expect(close).toMatchObject({ side: 'sell', ordertype: 'stop-loss', volume: 0.5, status: 'open' });
    const info = (await client.privatePostQueryOrders({ txid: entry.id })) as { result: Record<string, { descr: { close: string } }> };
    expect(info.result[entry.id!]!.descr.close).toBe(`close position @ stop loss ${Math.round(px * 0.9).toFixed(2)}`);
  });

  it('post-only flag is passed as oflags=post', async () => {
    const { k, client } = freshAccount();
    const px = (await client.fetchTicker('BTC/USD')).last!;
    await client.createOrder('BTC/USD', 'limit', 'buy', 0.01, Math.round(px * 0.9), { postOnly: true });
    expect(emu.calls('AddOrder', k.key).at(-1)!.params.oflags).toBe('post');
    expect(emu.orders(k.key)[0]!.oflags).toContain('post');
  });

  it('fetchClosedOrders, fetchMyTrades and fetchTradingFee', async () => {
    const { client } = freshAccount({ USD: 100_000 }, {});
    await client.loadMarkets();
    const m = await client.createOrder('SOL/USD', 'market', 'buy', 3);
    const lim = await client.createOrder('SOL/USD', 'limit', 'buy', 3, 1);
    await client.cancelOrder(lim.id!);
    const closed = await client.fetchClosedOrders();
    // ccxt sorts by open time; the raw reply is newest-closed first, as Kraken's
    expect(closed.map((o) => [o.id, o.status])).toEqual([
      [m.id, 'closed'],
      [lim.id, 'canceled'],
    ]);
    const raw = (await client.privatePostClosedOrders()) as { result: { closed: Record<string, unknown>; count: number } };
    expect(Object.keys(raw.result.closed)).toEqual([lim.id, m.id]);
    expect(raw.result.count).toBe(2);
    const trades = await client.fetchMyTrades();
    expect(trades).toHaveLength(1);
    expect(trades[0]).toMatchObject({ order: m.id, symbol: 'SOL/USD', side: 'buy', amount: 3, takerOrMaker: 'taker' });
    expect(trades[0]!.fee!.cost!).toBeCloseTo(trades[0]!.cost! * 0.0026, 4);
    expect(trades[0]!.fee!.currency).toBe('USD');
    const ledger = await client.fetchLedger();
    const quoteRow = ledger.find((l) => l.currency === 'USD')!;
    const baseRow = ledger.find((l) => l.currency === 'SOL')!;
    expect(baseRow).toMatchObject({ referenceId: trades[0]!.id, direction: 'in', amount: 3, after: 3 });
    expect(quoteRow).toMatchObject({ referenceId: trades[0]!.id, direction: 'out', amount: trades[0]!.cost });
    // the ledger shows ZUSD at its 4 asset decimals
    expect(quoteRow.fee!.cost).toBeCloseTo(trades[0]!.fee!.cost!, 3);
    expect(quoteRow.after).toBeCloseTo(100_000 - trades[0]!.cost! - trades[0]!.fee!.cost!, 3);
    const fee = await client.fetchTradingFee('SOL/USD');
    expect(fee).toMatchObject({ symbol: 'SOL/USD', taker: 0.0026, maker: 0.0016 });
  });

  it('the fee tier follows 30-day volume', async () => {
    const k = generateKey();
    emu.addKey({ ...k, volume30dUsd: 1_200_000, balances: { USD: 1000 } });
    const client = new ccxt.kraken(ccxtOptions(emu, k)) as Kraken;
    expect(await client.fetchTradingFee('BTC/USD')).toMatchObject({ taker: 0.0016, maker: 0.0006 });
  });

  it('cancelOrder by txid and by clientOrderId; cancelAllOrders; unknown order → OrderNotFound', async () => {
    const { k, client } = freshAccount();
    const a = await client.createOrder('BTC/USD', 'limit', 'buy', 0.01, 10_000);
    await client.createOrder('BTC/USD', 'limit', 'buy', 0.01, 10_001, { clientOrderId: 'cancel-me-1' });
    await client.createOrder('BTC/USD', 'limit', 'buy', 0.01, 10_002);
    await client.cancelOrder(a.id!);
    await client.cancelOrder('', undefined, { clientOrderId: 'cancel-me-1' });
    expect(emu.calls('CancelOrder', k.key).at(-1)!.params).toMatchObject({ cl_ord_id: 'cancel-me-1' });
    expect(emu.orders(k.key).map((o) => o.status)).toEqual(['canceled', 'canceled', 'open']);
    await client.cancelAllOrders();
    expect(emu.orders(k.key).every((o) => o.status === 'canceled')).toBe(true);
    expect(emu.balances(k.key)['ZUSD']!.hold).toBe(0);
    const e = await caught(client.cancelOrder('OAAAAA-BBBBB-CCCCCC'));
    expect(e).toBeInstanceOf(ccxt.OrderNotFound);
    expect(e).toBeInstanceOf(ccxt.InvalidOrder);
  });

  it('GetWebSocketsToken', async () => {
    const res = (await ex.privatePostGetWebSocketsToken()) as { result: { token: string; expires: number } };
    expect(res.result.token.length).toBeGreaterThan(20);
    expect(res.result.expires).toBe(900);
  });

  it('leverage is recorded and refused with EGeneral:Permission denied', async () => {
    const { k, client } = freshAccount();
    const e = await caught(client.createOrder('BTC/USD', 'limit', 'buy', 0.01, 10_000, { leverage: 2 }));
    expect(e).toBeInstanceOf(ccxt.PermissionDenied);
    expect(emu.marginAttempts().filter((m) => m.key === k.key)).toHaveLength(1);
    expect(emu.orders(k.key)).toHaveLength(0);
  });

  it('counts private calls per key', async () => {
    const { k, client } = freshAccount();
    const before = emu.privateCalls();
    await client.fetchBalance();
    await client.fetchOpenOrders();
    expect(emu.privateCalls(k.key)).toBe(2);
    expect(emu.privateCalls(k.key, 'OpenOrders')).toBe(1);
    expect(emu.privateCalls()).toBe(before + 2);
  });
});

describe('Kraken errors → ccxt classes (DESIGN.md §5)', () => {
  // Injected as a Kraken reply to a private call; ccxt's exact map decides the class.
  it.each([
    ['EAPI:Rate limit exceeded', 'DDoSProtection'],
    ['EOrder:Rate limit exceeded', 'DDoSProtection'],
    ['EGeneral:Temporary lockout', 'DDoSProtection'],
    ['EService:Unavailable', 'ExchangeNotAvailable'],
    ['EService:Busy', 'ExchangeNotAvailable'],
    ['EAPI:Invalid nonce', 'InvalidNonce'],
    ['EOrder:Insufficient funds', 'InsufficientFunds'],
    ['EOrder:Order minimum not met', 'InvalidOrder'],
    ['EOrder:Unknown order', 'InvalidOrder'],
    ['EAPI:Invalid key', 'AuthenticationError'],
    ['EAPI:Invalid signature', 'ExchangeError'],
    // beyond §5's list, as ccxt 4.5 maps them
    ['EGeneral:Permission denied', 'PermissionDenied'],
    ['EGeneral:Invalid arguments', 'BadRequest'],
    ['EService:Market in cancel_only mode', 'OnMaintenance'],
    ['EOrder:Cost minimum not met', 'ExchangeError'],
    ['EQuery:Unknown asset pair', 'ExchangeError'],
    ['EOrder:Invalid price:XBTUSD price can only be specified up to 1 decimals.', 'ExchangeError'],
    ['EGeneral:Invalid arguments:volume', 'InvalidOrder'],
    ['EGeneral:Invalid arguments:cl_ord_id', 'ExchangeError'],
    ['EOrder:Duplicate order', 'ExchangeError'],
  ])('%s → %s', async (error, cls) => {
    emu.faults.add({ method: 'BalanceEx', kind: 'error', error });
    const e = await caught(ex.fetchBalance());
    expect(e.constructor.name).toBe(cls);
    expect(e).toBeInstanceOf((ccxt as unknown as Record<string, new () => Error>)[cls]!);
  });

  it.each([
    [429, 'RateLimitExceeded'],
    [500, 'ExchangeNotAvailable'],
    [502, 'ExchangeNotAvailable'],
    [503, 'ExchangeNotAvailable'],
    [520, 'ExchangeNotAvailable'],
    [504, 'RequestTimeout'],
  ])('HTTP %d → %s', async (status, cls) => {
    emu.faults.add({ method: 'Ticker', kind: 'http', status });
    const e = await caught(ex.fetchTicker('BTC/USD'));
    expect(e.constructor.name).toBe(cls);
  });

  it('ccxt 4.5 hierarchy facts a retry policy depends on', () => {
    expect(new ccxt.RateLimitExceeded('x')).not.toBeInstanceOf(ccxt.DDoSProtection); // HTTP 429 is a sibling, not a child
    expect(new ccxt.RateLimitExceeded('x')).toBeInstanceOf(ccxt.NetworkError);
    expect(new ccxt.DDoSProtection('x')).toBeInstanceOf(ccxt.NetworkError);
    expect(new ccxt.InvalidNonce('x')).toBeInstanceOf(ccxt.NetworkError);
    expect(new ccxt.PermissionDenied('x')).toBeInstanceOf(ccxt.AuthenticationError); // a margin refusal looks like an auth error
    expect(new ccxt.OnMaintenance('x')).toBeInstanceOf(ccxt.ExchangeNotAvailable); // cancel_only looks retryable
    expect(new ccxt.OrderNotFound('x')).toBeInstanceOf(ccxt.InvalidOrder);
  });

  it('a client timeout → RequestTimeout', async () => {
    const c = new ccxt.kraken(ccxtOptions(emu, alice, { timeout: 200 })) as Kraken;
    emu.faults.add({ method: 'Time', kind: 'timeout' });
    const e = await caught(c.fetchTime());
    expect(e.constructor.name).toBe('RequestTimeout');
    expect(emu.calls('Time').at(-1)!.status).toBe('timeout');
  });

  it('the errors the emulator produces itself carry the same classes', async () => {
    const { client } = freshAccount({ USD: 100 });
    const px = (await client.fetchTicker('BTC/USD')).last!;
    const cases: Array<[Promise<unknown>, string, string]> = [
      [client.createOrder('BTC/USD', 'limit', 'buy', 1, Math.round(px)), 'InsufficientFunds', 'EOrder:Insufficient funds'],
      [client.privatePostAddOrder({ pair: 'XXBTZUSD', type: 'buy', ordertype: 'limit', price: '100', volume: '0.00001' }), 'InvalidOrder', 'EOrder:Order minimum not met'],
      [client.privatePostAddOrder({ pair: 'XXBTZUSD', type: 'buy', ordertype: 'limit', price: '10', volume: '0.001' }), 'ExchangeError', 'EOrder:Cost minimum not met'],
      [client.createOrder('LTC/USD', 'limit', 'buy', 0.1, 50), 'OnMaintenance', 'EService:Market in cancel_only mode'],
    ];
    for (const [p, cls, msg] of cases) {
      const e = await caught(p);
      expect(e.constructor.name, msg).toBe(cls);
      expect(e.message).toContain(msg);
    }
  });
});

describe('the replay drives fills that ccxt sees', () => {
  it('a resting limit fills when a later candle crosses it; trades, orders and balances follow', async () => {
    const k = generateKey();
    const candles = { 'BTC/USD': hourly('BTC/USD', [[100, 101, 99, 100], [100, 100.5, 99.5, 100], [100, 100, 94, 95], [95, 96, 89, 90]]) };
    const local = await startKrakenEmulator({ candles, startIndex: 0, halfSpread: 0, keys: [{ ...k, balances: { USD: 1_000 } }] });
    try {
      const c = new ccxt.kraken(ccxtOptions(local, k)) as Kraken;
      const entry = await c.createOrder('BTC/USD', 'limit', 'buy', 2, 95, { clientOrderId: 'e2e-entry', close: { ordertype: 'stop-loss', price: 90 } });
      expect((await c.fetchBalance())['USD']!.used).toBeCloseTo(190 * 1.0026, 4);
      local.advance(); // 99.5 low: no fill
      expect(await c.fetchOpenOrders()).toHaveLength(1);
      local.advance(); // low 94 crosses 95: maker fill, the attached stop arms
      const [fill] = await c.fetchMyTrades();
      expect(fill).toMatchObject({ order: entry.id, price: 95, amount: 2, takerOrMaker: 'maker' });
      expect(fill!.fee!.cost).toBeCloseTo(190 * 0.0016, 5);
      const open = await c.fetchOpenOrders();
      expect(open).toMatchObject([{ side: 'sell', stopLossPrice: 90, amount: 2 }]);
      const bal = await c.fetchBalance();
      expect(bal['BTC']!.total).toBe(2);
      expect(bal['BTC']!.used).toBe(2);
      expect(bal['USD']!.total).toBeCloseTo(1_000 - 190 - 0.304, 4);
      local.advance(); // low 89: the stop sells at 90
      expect(await c.fetchOpenOrders()).toHaveLength(0);
      const trades = await c.fetchMyTrades();
      expect(trades.map((t) => [t.side, t.price])).toEqual([
        ['buy', 95],
        ['sell', 90],
      ]);
      expect((await c.fetchBalance())['BTC']!.total).toBeCloseTo(0, 10);
    } finally {
      await local.close();
    }
  });
});

describe('rate limits through ccxt', () => {
  it('REST counter: a starter key gets 15 calls, then DDoSProtection; decay on the injected clock frees one', async () => {
    let t = Date.UTC(2025, 0, 1);
    const k = generateKey();
    const local = await startKrakenEmulator({ now: () => t, keys: [{ ...k, tier: 'starter', balances: { USD: 10 } }], startIndex: 800 });
    try {
      const c = new ccxt.kraken(ccxtOptions(local, k)) as Kraken;
      for (let i = 0; i < 15; i++) await c.privatePostBalance();
      const e = await caught(c.privatePostBalance());
      expect(e.constructor.name).toBe('DDoSProtection');
      expect(e.message).toContain('EAPI:Rate limit exceeded');
      t += 3_100; // 0.33/s → one call's worth
      await c.privatePostBalance();
      // history calls cost 2: with ~1 left it is refused
      t += 3_100;
      const h = await caught(c.privatePostTradesHistory());
      expect(h.message).toContain('EAPI:Rate limit exceeded');
    } finally {
      await local.close();
    }
  });

  it('repeated breaches lock the key out', async () => {
    const t = Date.UTC(2025, 0, 1);
    const k = generateKey();
    const local = await startKrakenEmulator({ now: () => t, keys: [{ ...k, tier: 'pro' }], lockout: { breaches: 2, windowMs: 60_000, lockoutMs: 60_000 } });
    try {
      const c = new ccxt.kraken(ccxtOptions(local, k)) as Kraken;
      for (let i = 0; i < 20; i++) await c.privatePostBalance();
      expect((await caught(c.privatePostBalance())).message).toContain('EAPI:Rate limit exceeded');
      const e = await caught(c.privatePostBalance());
      expect(e.message).toContain('EGeneral:Temporary lockout');
      expect(e.constructor.name).toBe('DDoSProtection');
    } finally {
      await local.close();
    }
  });

  it('too many invalid nonces lock the key out (they count as breaches)', async () => {
    const t = Date.UTC(2025, 0, 1);
    const k = generateKey();
    const local = await startKrakenEmulator({ now: () => t, keys: [{ ...k, tier: 'pro' }], lockout: { breaches: 3, windowMs: 60_000, lockoutMs: 60_000 } });
    try {
      const c = new ccxt.kraken(ccxtOptions(local, k)) as Kraken;
      c.nonce = () => 1_700_000_000_000;
      await c.privatePostBalance();
      for (let i = 0; i < 3; i++) expect(await caught(c.privatePostBalance())).toBeInstanceOf(ccxt.InvalidNonce);
      c.nonce = () => 1_800_000_000_000;
      const e = await caught(c.privatePostBalance());
      expect(e.message).toContain('EGeneral:Temporary lockout');
    } finally {
      await local.close();
    }
  });

  it('trading counter: early cancels cost +8 and trip EOrder:Rate limit exceeded', async () => {
    const t = Date.UTC(2025, 0, 1);
    const k = generateKey();
    const local = await startKrakenEmulator({ now: () => t, keys: [{ ...k, tier: 'starter', balances: { USD: 1_000_000 } }] });
    try {
      const c = new ccxt.kraken(ccxtOptions(local, k)) as Kraken;
      // starter: max 60; each round costs 1 (add) + 8 (cancel within 5 s) = 9
      let error: Error | undefined;
      let rounds = 0;
      for (; rounds < 10 && !error; rounds++) {
        try {
          const o = await c.createOrder('BTC/USD', 'limit', 'buy', 0.001, 10_000);
          await c.cancelOrder(o.id!);
        } catch (e) {
          error = e as Error;
        }
      }
      expect(error?.message).toContain('EOrder:Rate limit exceeded');
      expect(error?.constructor.name).toBe('DDoSProtection');
      expect(rounds).toBe(7); // 6 rounds = 54, the 7th add makes 55, its cancel would make 63 > 60
    } finally {
      await local.close();
    }
  });
});
