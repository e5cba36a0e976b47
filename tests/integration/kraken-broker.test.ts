/**
 * KrakenBroker against the Kraken emulator through the real ccxt client, with nonces persisted in a
 * fresh PostgreSQL database. Time is a VirtualClock shared by the emulator (rate-limit decay, order
 * times) and the broker (limiter, backoff): the broker's sleeps advance it, so waits are exact and instant.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock, systemClock } from '../../lib/clock.ts';
import { withDeadline } from '../../lib/deadline.ts';
import { createKrakenBroker, type KrakenBroker, type KrakenBrokerOptions } from '../../lib/exchange/kraken-broker.ts';
import { checkKrakenCredentials } from '../../lib/exchange/kraken-credentials.ts';
import { ExchangeRejectedError } from '../../lib/exchange/kraken-errors.ts';
import { PgNonceStore } from '../../lib/exchange/kraken-nonce.ts';
import { reconcile } from '../../lib/exchange/kraken-reconcile.ts';
import type { OrderRequest } from '../../lib/exchange/types.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { generateKey, startKrakenEmulator, type FaultSpec, type KrakenEmulator } from '../kraken-emulator/index.ts';

let db: TestDatabase;
let emu: KrakenEmulator;
let store: PgNonceStore;
const clock = new VirtualClock(Date.now());
const sleeps: number[] = [];
const sleep = async (ms: number) => {
  sleeps.push(ms);
  clock.advance(Math.ceil(ms));
};

async function newAccount(slug: string): Promise<string> {
  const r = await db.owner.query<{ id: string }>(`insert into accounts (slug, name, kind) values ($1, $1, 'company') returning id`, [slug]);
  return r.rows[0]!.id;
}

interface Harness {
  key: { key: string; secret: string };
  accountId: string;
  broker: KrakenBroker;
  make(extra?: Partial<KrakenBrokerOptions>): Promise<KrakenBroker>;
}

let seq = 0;
async function harness(init: { tier?: 'starter' | 'intermediate' | 'pro'; balances?: Record<string, number>; volume30dUsd?: number } = {}, extra: Partial<KrakenBrokerOptions> = {}): Promise<Harness> {
  const key = generateKey();
  emu.addKey({ ...key, tier: init.tier ?? 'pro', balances: init.balances ?? { USD: 100_000, BTC: 2, ETH: 20 }, volume30dUsd: init.volume30dUsd ?? 0 });
  const accountId = await newAccount(`kraken-${++seq}-${randomUUID().slice(0, 8)}`);
  const make = (more: Partial<KrakenBrokerOptions> = {}) =>
    createKrakenBroker({
      accountId,
      credentials: { apiKey: key.key, apiSecret: key.secret },
      apiUrl: emu.url,
      nonceStore: store,
      clock,
      sleep,
      tier: init.tier ?? 'pro',
      timeoutMs: 400,
      lookupSettleMs: 50,
      ...extra,
      ...more,
    });
  return { key, accountId, broker: await make(), make };
}

const btcPrice = () => emu.exchange.last(emu.exchange.pair('XXBTZUSD'));
const restingBuy = (over: Partial<OrderRequest> = {}): OrderRequest => ({ clientId: randomUUID(), pair: 'BTC/USD', side: 'buy', type: 'limit', amount: 0.001, price: Math.floor(btcPrice() * 0.5), ...over });
const ordersWith = (key: string, clientId: string) => emu.orders(key).filter((o) => o.clOrdId === clientId);
const addOrdersWith = (clientId: string) => emu.calls('AddOrder').filter((r) => r.params.cl_ord_id === clientId);

beforeAll(async () => {
  db = await createTestDatabase();
  store = new PgNonceStore(db.app.db);
  emu = await startKrakenEmulator({ now: () => clock.now() });
});

afterAll(async () => {
  await emu?.close();
  await db?.drop();
});

describe('markets', () => {
  it('are the USD spot pairs with their status (a cancel_only pair included, marked so); ETH/XBT and the EUR pair are not', async () => {
    const { broker } = await harness();
    const markets = await broker.loadMarkets();
    const symbols = markets.map((m) => m.symbol);
    expect(symbols).toEqual(expect.arrayContaining(['BTC/USD', 'ETH/USD', 'SOL/USD', 'USDC/USD', 'USDT/USD']));
    expect(symbols).not.toContain('ETH/BTC');
    expect(symbols).not.toContain('BTC/EUR');
    expect(markets.find((m) => m.symbol === 'LTC/USD')?.status).toBe('cancel_only');
    expect(markets.find((m) => m.symbol === 'BTC/USD')?.status).toBe('online');
    const usdc = (await broker.loadMarkets()).find((m) => m.symbol === 'USDC/USD')!;
    expect(usdc.stablecoin).toBe(true);
  });

  it('refuses non-USD, unknown and cancel_only pairs before any request', async () => {
    const { broker } = await harness();
    await broker.loadMarkets();
    const before = emu.requests.length;
    for (const pair of ['ETH/BTC', 'BTC/EUR', 'DOGE/USD']) {
      expect(await broker.submit(restingBuy({ pair }))).toMatchObject({ status: 'rejected', code: 'NOT_SPOT_USD' });
    }
    expect(await broker.submit(restingBuy({ pair: 'LTC/USD', price: 10, amount: 1 }))).toMatchObject({ status: 'rejected', code: 'MARKET_NOT_TRADABLE' });
    expect(emu.requests.length).toBe(before);
  });

  it('carry the account fee tier from TradeVolume, cached, and read again by refreshDue (not before an order) after the TTL', async () => {
    const { broker, key } = await harness({ volume30dUsd: 120_000 });
    const btc = (await broker.loadMarkets()).find((m) => m.symbol === 'BTC/USD')!;
    expect(btc.takerFee).toBe(0.0022);
    expect(btc.makerFee).toBe(0.0012);
    await broker.loadMarkets();
    await broker.refreshDue();
    expect(emu.calls('TradeVolume', key.key)).toHaveLength(1);
    clock.advance(3_600_001);
    await broker.loadMarkets(); // the tier it has serves meanwhile
    expect(emu.calls('TradeVolume', key.key)).toHaveLength(1);
    await broker.refreshDue();
    expect(emu.calls('TradeVolume', key.key)).toHaveLength(2);
  });
});

describe('markets off the order path (marketsTtlMs 5 min, marketsMaxAgeMs 3 h, as the order jobs run)', () => {
  const ttl = { marketsTtlMs: 300_000, marketsMaxAgeMs: 3 * 3_600_000 };
  const assetPairs = () => emu.calls('AssetPairs').length;

  it('a job an hour later decides on the read its predecessor made after its orders: no AssetPairs read before the order', async () => {
    const { broker } = await harness({}, ttl);
    await broker.loadMarkets();
    await broker.refreshDue(); // fresh: nothing to read
    const first = assetPairs();
    clock.advance(3_600_000);
    await broker.loadMarkets();
    await broker.balances();
    expect(await broker.submit(restingBuy())).toMatchObject({ status: 'accepted' });
    expect(assetPairs()).toBe(first);
    await broker.refreshDue(); // after the orders: the stale read is replaced
    expect(assetPairs()).toBe(first + 1);
    clock.advance(3 * 3_600_000 + 1); // a missed cycle or two: older than the max age, decisions wait for a read
    await broker.loadMarkets();
    expect(assetPairs()).toBe(first + 2);
  });

  it('a sale judged on market(): the listing as Kraken has it now, read when the last one is stale — that pair alone', async () => {
    const { broker } = await harness({}, ttl);
    await broker.loadMarkets();
    const first = assetPairs();
    expect((await broker.market('ETH/USD'))?.status).toBe('online');
    expect(assetPairs()).toBe(first); // fresh: no read
    clock.advance(3_600_000);
    emu.setPairStatus('ETHUSD', 'limit_only');
    try {
      expect((await broker.loadMarkets()).find((m) => m.symbol === 'ETH/USD')?.status).toBe('online'); // decisions: the cached read
      expect((await broker.market('ETH/USD'))?.status).toBe('limit_only');
      expect(assetPairs()).toBe(first + 1);
      expect(emu.calls('AssetPairs').at(-1)!.params).toEqual({ pair: 'XETHZUSD' }); // one pair's listing, not Kraken's whole list
      // Kraken no longer lists it: no listing, so the risk check refuses the sale and its stops stay.
      emu.faults.add({ method: 'AssetPairs', kind: 'error', error: 'EQuery:Unknown asset pair', count: 1 });
      expect(await broker.market('ETH/USD')).toBeNull();
      expect(await broker.market('NOPE/USD')).toBeNull(); // a pair no read listed: the whole list is read
      expect(emu.calls('AssetPairs').at(-1)!.params).toEqual({});
    } finally {
      emu.setPairStatus('ETHUSD', 'online');
    }
  });

  it('an order Kraken refuses for what a listing governs makes the next decision read AssetPairs first', async () => {
    const { broker } = await harness({}, ttl);
    await broker.loadMarkets();
    const first = assetPairs();
    emu.faults.add({ method: 'AddOrder', kind: 'error', error: 'EService:Market in cancel_only mode', count: 1 });
    expect(await broker.submit(restingBuy())).toMatchObject({ status: 'rejected', code: 'MARKET_NOT_TRADABLE' });
    expect(assetPairs()).toBe(first);
    await broker.loadMarkets();
    expect(assetPairs()).toBe(first + 1);
    emu.faults.add({ method: 'AddOrder', kind: 'error', error: 'EOrder:Insufficient funds', count: 1 });
    expect(await broker.submit(restingBuy())).toMatchObject({ status: 'rejected', code: 'INSUFFICIENT_FUNDS' });
    await broker.loadMarkets(); // funds are not a listing's matter: the read stands
    expect(assetPairs()).toBe(first + 1);
  });
});

describe('order parameters', () => {
  it('rounds amount, price and the conditional-close price to the pair precision', async () => {
    const { broker, key } = await harness();
    const clientId = randomUUID();
    const p = btcPrice();
    const r = await broker.submit({ clientId, pair: 'BTC/USD', side: 'buy', type: 'limit', amount: 0.0123456789, price: Math.floor(p * 0.5) + 0.06, close: { type: 'stop-loss', price: Math.floor(p * 0.4) + 0.04 } });
    expect(r.status).toBe('accepted');
    const sent = addOrdersWith(clientId)[0]!.params;
    expect(sent.volume).toBe('0.01234567');
    expect(sent.price).toBe(`${Math.floor(p * 0.5)}.0`); // a buy never bids above what was asked
    expect(sent.close).toEqual({ ordertype: 'stop-loss', price: `${Math.floor(p * 0.4)}.0` });
    expect(ordersWith(key.key, clientId)).toHaveLength(1);
  });

  it.each([
    ['below ordermin', { amount: 0.00001 }],
    ['below costmin', { pair: 'SOL/USD', amount: 0.02, price: 10 }],
    ['rounding to zero', { amount: 0.000000001 }],
  ])('refuses an order %s locally (0 requests)', async (_name, over) => {
    const { broker } = await harness();
    await broker.loadMarkets();
    const before = emu.requests.length;
    expect(await broker.submit(restingBuy(over))).toMatchObject({ status: 'rejected', code: 'BELOW_EXCHANGE_MINIMUM' });
    expect(emu.requests.length).toBe(before);
  });

  it('asks for fees in USD on every order (Kraken would charge a sell\'s fee in the base asset)', async () => {
    const { broker, key } = await harness();
    const before = emu.balances(key.key);
    const clientId = randomUUID();
    expect(await broker.submit({ clientId, pair: 'BTC/USD', side: 'sell', type: 'market', amount: 0.01 })).toMatchObject({ status: 'accepted' });
    expect(addOrdersWith(clientId)[0]!.params.oflags).toBe('fciq');
    const after = emu.balances(key.key);
    expect(before.XXBT!.total - after.XXBT!.total).toBeCloseTo(0.01, 10); // exactly what was sold: the fee came out of the USD
    const [fill] = emu.trades(key.key).filter((t) => t.ordertxid === ordersWith(key.key, clientId)[0]!.txid);
    expect(after.ZUSD!.total - before.ZUSD!.total).toBeCloseTo(fill!.cost - fill!.fee, 6);
    expect(await broker.submit(restingBuy({ postOnly: true }))).toMatchObject({ status: 'accepted' });
    expect(emu.calls('AddOrder', key.key).at(-1)!.params.oflags).toBe('post,fciq');
  });

  it('maps exchange rejections to stable codes without throwing', async () => {
    const { broker } = await harness({ balances: { USD: 10 } });
    expect(await broker.submit(restingBuy({ amount: 0.01 }))).toMatchObject({ status: 'rejected', code: 'INSUFFICIENT_FUNDS' });
  });
});

describe('ambiguous and temporary failures on AddOrder', () => {
  const kinds: Array<[string, FaultSpec]> = [
    ['latency', { method: 'AddOrder', kind: 'latency', ms: 20 }],
    ['timeout', { method: 'AddOrder', kind: 'timeout' }],
    ['reset', { method: 'AddOrder', kind: 'reset' }],
    ['http 500', { method: 'AddOrder', kind: 'http', status: 500 }],
    ['http 502', { method: 'AddOrder', kind: 'http', status: 502 }],
    ['http 429', { method: 'AddOrder', kind: 'http', status: 429 }],
    ['EService:Unavailable', { method: 'AddOrder', kind: 'error', error: 'EService:Unavailable' }],
    ['EService:Busy', { method: 'AddOrder', kind: 'error', error: 'EService:Busy' }],
    ['EAPI:Rate limit exceeded', { method: 'AddOrder', kind: 'error', error: 'EAPI:Rate limit exceeded' }],
    ['EOrder:Rate limit exceeded', { method: 'AddOrder', kind: 'error', error: 'EOrder:Rate limit exceeded' }],
    ['EAPI:Invalid nonce', { method: 'AddOrder', kind: 'error', error: 'EAPI:Invalid nonce' }],
    ['accept-then-drop', { method: 'AddOrder', kind: 'accept-then-drop' }],
    ['accept-then-delay (reply after the timeout)', { method: 'AddOrder', kind: 'accept-then-delay', ms: 700 }],
    ['accept-then-http 500 (5xx after placing)', { method: 'AddOrder', kind: 'accept-then-http', status: 500 }],
    ['accept-then-http 502', { method: 'AddOrder', kind: 'accept-then-http', status: 502 }],
    ['accept-then-http 504', { method: 'AddOrder', kind: 'accept-then-http', status: 504 }],
    ['http 503', { method: 'AddOrder', kind: 'http', status: 503 }],
  ];
  let h: Harness;
  beforeAll(async () => {
    h = await harness();
  });

  it.each(kinds)('%s on a resting limit leaves exactly one order on the exchange', async (_name, fault) => {
    const req = restingBuy();
    emu.faults.add({ ...fault, key: h.key.key });
    const r = await h.broker.submit(req);
    expect(r).toMatchObject({ status: 'accepted', order: { clientId: req.clientId } });
    expect(ordersWith(h.key.key, req.clientId)).toHaveLength(1);
    if (r.status === 'accepted') expect(r.order.id).toBe(ordersWith(h.key.key, req.clientId)[0]!.txid);
  });

  it.each(kinds)('%s on a market order (fills at once) leaves exactly one order', async (_name, fault) => {
    const req: OrderRequest = { clientId: randomUUID(), pair: 'ETH/USD', side: 'buy', type: 'market', amount: 0.01 };
    emu.faults.add({ ...fault, key: h.key.key });
    expect(await h.broker.submit(req)).toMatchObject({ status: 'accepted' });
    expect(ordersWith(h.key.key, req.clientId)).toHaveLength(1);
    expect(ordersWith(h.key.key, req.clientId)[0]!.status).toBe('closed');
  });

  it('an accepted-then-dropped order is found by cl_ord_id through OpenOrders/ClosedOrders and not re-sent', async () => {
    const req: OrderRequest = { clientId: randomUUID(), pair: 'ETH/USD', side: 'buy', type: 'market', amount: 0.01 };
    const from = emu.requests.length;
    emu.faults.add({ method: 'AddOrder', key: h.key.key, kind: 'accept-then-drop' });
    const r = await h.broker.submit(req);
    expect(r.status).toBe('accepted');
    expect(addOrdersWith(req.clientId)).toHaveLength(1);
    const lookups = emu.requests.slice(from).filter((x) => x.name === 'OpenOrders' || x.name === 'ClosedOrders');
    expect(lookups.length).toBeGreaterThan(0);
    for (const l of lookups) {
      expect(l.params.cl_ord_id).toBe(req.clientId);
      expect(l.params.userref).toBeUndefined();
    }
  });

  it.each([
    ['reply after the timeout', { kind: 'accept-then-delay', ms: 700 }],
    ['5xx after placing', { kind: 'accept-then-http', status: 502 }],
  ] as const)('%s: the order is found by cl_ord_id before anything is re-sent', async (_n, fault) => {
    const req: OrderRequest = { clientId: randomUUID(), pair: 'ETH/USD', side: 'buy', type: 'market', amount: 0.01 };
    const from = emu.requests.length;
    emu.faults.add({ method: 'AddOrder', key: h.key.key, ...fault });
    const r = await h.broker.submit(req);
    expect(r).toMatchObject({ status: 'accepted', order: { id: ordersWith(h.key.key, req.clientId)[0]!.txid } });
    expect(addOrdersWith(req.clientId)).toHaveLength(1);
    const after = emu.requests.slice(from).filter((x) => x.key === h.key.key).map((x) => x.name);
    expect(after.slice(0, 2)).toEqual(['AddOrder', 'OpenOrders']);
  });

  it('an HTTP 429 on AddOrder (no answer from Kraken itself) is looked up before a resend too', async () => {
    const req = restingBuy();
    emu.faults.add({ method: 'AddOrder', key: h.key.key, kind: 'http', status: 429 });
    expect(await h.broker.submit(req)).toMatchObject({ status: 'accepted' });
    const names = emu.requests.filter((x) => x.key === h.key.key).slice(-6).map((x) => x.name);
    // two lookups a settle time apart found nothing: only then the resend
    expect(names).toEqual(['AddOrder', 'OpenOrders', 'ClosedOrders', 'OpenOrders', 'ClosedOrders', 'AddOrder']);
    expect(ordersWith(h.key.key, req.clientId)).toHaveLength(1);
  });

  it('the lookups failing too gives OrderStateUnknownError, not a resend', async () => {
    const req = restingBuy();
    emu.faults.add({ method: 'AddOrder', key: h.key.key, kind: 'accept-then-drop' });
    emu.faults.add({ method: 'OpenOrders', key: h.key.key, kind: 'reset', count: 20 });
    await expect(h.broker.submit(req)).rejects.toMatchObject({ name: 'OrderStateUnknownError', clientId: req.clientId });
    emu.faults.clear();
    expect(addOrdersWith(req.clientId)).toHaveLength(1);
    expect((await h.broker.orderByClientId(req.clientId))?.clientId).toBe(req.clientId);
  });

  it('retries EService:Unavailable with exponential backoff and jitter', async () => {
    const req = restingBuy();
    emu.faults.add({ method: 'AddOrder', key: h.key.key, kind: 'error', error: 'EService:Unavailable', count: 3 });
    const mark = sleeps.length;
    expect(await h.broker.submit(req)).toMatchObject({ status: 'accepted' });
    expect(addOrdersWith(req.clientId)).toHaveLength(4);
    const waits = sleeps.slice(mark);
    expect(waits).toHaveLength(3);
    // equal jitter: retry n waits within [base·2^n / 2, base·2^n] (base 200 ms)
    waits.forEach((w, n) => {
      expect(w).toBeGreaterThanOrEqual((200 * 2 ** n) / 2);
      expect(w).toBeLessThanOrEqual(200 * 2 ** n);
    });
    expect(ordersWith(h.key.key, req.clientId)).toHaveLength(1);
  });

  it('gives up on persistent unavailability with ExchangeTemporaryError, having placed nothing', async () => {
    const req = restingBuy();
    emu.faults.add({ method: 'AddOrder', key: h.key.key, kind: 'error', error: 'EService:Unavailable', count: 50 });
    await expect(h.broker.submit(req)).rejects.toMatchObject({ name: 'ExchangeTemporaryError', code: 'UNAVAILABLE' });
    emu.faults.clear();
    expect(ordersWith(h.key.key, req.clientId)).toHaveLength(0);
  });
});

describe('rate limits', () => {
  it('a temporary lockout fails fast with LOCKOUT and its retryAfter, sends nothing while it lasts, and ends with the lockout', async () => {
    const { broker, key } = await harness({}, { lockoutMs: 15 * 60_000 });
    emu.faults.add({ method: 'BalanceEx', key: key.key, kind: 'error', error: 'EGeneral:Temporary lockout' });
    const mark = sleeps.length;
    await expect(broker.balances()).rejects.toMatchObject({ name: 'ExchangeTemporaryError', code: 'LOCKOUT', retryAfterMs: 15 * 60_000 });
    const before = emu.calls('BalanceEx', key.key).length;
    clock.advance(60_000);
    await expect(broker.openOrders()).rejects.toMatchObject({ code: 'LOCKOUT', retryAfterMs: 14 * 60_000 });
    expect(emu.privateCalls(key.key)).toBe(before); // nothing went out during the lockout
    expect(sleeps.slice(mark)).toEqual([]); // and nothing slept on it
    clock.advance(14 * 60_000);
    expect((await broker.balances()).USD?.total).toBe(100_000);
    expect(broker.lockedUntil()).toBeLessThanOrEqual(clock.now());
  });

  it('the client-side limiter keeps a starter key under Kraken REST counter: 0 rate-limit errors', async () => {
    const { broker, key } = await harness({ tier: 'starter' });
    const t0 = clock.now();
    await Promise.all(Array.from({ length: 40 }, () => broker.balances()));
    const calls = emu.calls('BalanceEx', key.key);
    expect(calls).toHaveLength(40);
    expect(calls.flatMap((c) => c.errors)).toEqual([]);
    // 40 calls against a 15-point bucket decaying at 0.33/s cannot take less than (40 - 14) / 0.33 s
    expect(clock.now() - t0).toBeGreaterThanOrEqual(((40 - 15) / 0.33) * 1000);
  });

  it('the per-pair trading counter spaces order entry: 0 EOrder:Rate limit exceeded', async () => {
    const { broker, key } = await harness({ tier: 'starter', balances: { USD: 1_000_000 } });
    await broker.loadMarkets();
    for (let i = 0; i < 70; i++) expect((await broker.submit(restingBuy())).status).toBe('accepted');
    expect(emu.calls('AddOrder', key.key).flatMap((c) => c.errors)).toEqual([]);
  });
});

describe('nonces', () => {
  it('stay strictly increasing under concurrent calls (0 EAPI:Invalid nonce)', async () => {
    const { broker, key } = await harness();
    await broker.loadMarkets();
    await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 3 === 0 ? broker.balances() : i % 3 === 1 ? broker.openOrders() : broker.submit(restingBuy()))));
    const priv = emu.requests.filter((r) => r.api === 'private' && r.key === key.key);
    expect(priv.flatMap((r) => r.errors)).not.toContain('EAPI:Invalid nonce');
    const nonces = priv.map((r) => BigInt(r.params.nonce as string));
    for (let i = 1; i < nonces.length; i++) expect(nonces[i]! > nonces[i - 1]!).toBe(true);
  });

  it('stay above the persisted mark after a restart, even when the new process clock is behind', async () => {
    const h = await harness();
    for (let i = 0; i < 5; i++) await h.broker.balances();
    await h.broker.flushNonces(); // the process is gone: what it recorded is in the store
    const behind = new VirtualClock(clock.now() - 3_600_000);
    const restarted = await h.make({ clock: behind, sleep: async (ms) => behind.advance(Math.ceil(ms)) });
    for (let i = 0; i < 5; i++) await restarted.balances();
    const priv = emu.requests.filter((r) => r.api === 'private' && r.key === h.key.key);
    expect(priv).toHaveLength(10);
    expect(priv.flatMap((r) => r.errors)).toEqual([]);
    await restarted.flushNonces(); // nonces are recorded in the store in the background
    const row = await db.owner.query<{ last_nonce: string }>('select last_nonce from kraken_nonces where account_id = $1', [h.accountId]);
    expect(BigInt(row.rows[0]!.last_nonce)).toBeGreaterThanOrEqual(BigInt(priv[9]!.params.nonce as string));
  });
  it('PgNonceStore: concurrent reservations get disjoint blocks above the floor, per account', async () => {
    const a = await newAccount(`nonce-a-${randomUUID().slice(0, 8)}`);
    const b = await newAccount(`nonce-b-${randomUUID().slice(0, 8)}`);
    const blocks = await Promise.all(Array.from({ length: 20 }, (_, i) => store.reserve(a, BigInt(1000 + i), 10n)));
    blocks.sort((x, y) => (x.from < y.from ? -1 : 1));
    expect(blocks[0]!.from).toBeGreaterThan(1000n);
    for (const [i, blk] of blocks.entries()) {
      expect(blk.to - blk.from).toBe(9n);
      if (i > 0) expect(blk.from).toBeGreaterThan(blocks[i - 1]!.to);
    }
    expect(await store.reserve(b, 0n, 5n)).toEqual({ from: 1n, to: 5n });
  });
});

describe('credentials', () => {
  it('checkCredentials: a good key passes with its balances; an unfunded key still passes', async () => {
    const { broker } = await harness();
    expect(await broker.checkCredentials()).toMatchObject({ ok: true, balances: { USD: { total: 100_000 } } });
    const poor = await harness({ balances: {} });
    expect(await poor.broker.checkCredentials()).toMatchObject({ ok: true });
    expect(emu.orders(poor.key.key)).toHaveLength(0);
  });

  it('checkCredentials: an unknown key or a wrong secret fails with AUTH', async () => {
    const accountId = await newAccount(`kraken-bad-${randomUUID().slice(0, 8)}`);
    const bad = await createKrakenBroker({ accountId, credentials: { apiKey: 'nope', apiSecret: generateKey().secret }, apiUrl: emu.url, nonceStore: store, clock, sleep });
    expect(await bad.checkCredentials()).toMatchObject({ ok: false, reason: expect.stringContaining('AUTH') });
    const { key } = await harness();
    const wrong = await createKrakenBroker({ accountId, credentials: { apiKey: key.key, apiSecret: generateKey().secret }, apiUrl: emu.url, nonceStore: store, clock, sleep });
    expect(await wrong.checkCredentials()).toMatchObject({ ok: false, reason: expect.stringContaining('AUTH') });
    const before = emu.requests.length;
    const garbled = await createKrakenBroker({ accountId, credentials: { apiKey: key.key, apiSecret: 'not base64!' }, apiUrl: emu.url, nonceStore: store, clock, sleep });
    expect(await garbled.checkCredentials()).toEqual({ ok: false, reason: 'AUTH: the API secret is not base64' });
    expect(emu.requests.length).toBe(before);
  });
});

describe('checkKrakenCredentials (key upload)', () => {
  it('passes a good key, also one KrakenBroker already used; fails an unknown key', async () => {
    const key = generateKey();
    emu.addKey({ ...key, tier: 'pro', balances: {} });
    const accountId = await newAccount(`kraken-upload-${randomUUID().slice(0, 8)}`);
    const used = await createKrakenBroker({ accountId, credentials: { apiKey: key.key, apiSecret: key.secret }, apiUrl: emu.url, nonceStore: store, clock: systemClock });
    await used.balances();
    expect(await checkKrakenCredentials(emu.url, { apiKey: key.key, apiSecret: key.secret })).toEqual({ ok: true });
    // the withdrawal probe is denied (a trading key), the unfunded key's validate order is refused for funds, which does not fail the check; no nonce trouble
    expect(emu.requests.filter((r) => r.key === key.key).flatMap((r) => r.errors)).toEqual(['EGeneral:Permission denied', 'EOrder:Insufficient funds']);
    expect(emu.orders(key.key)).toHaveLength(0);
    expect(await checkKrakenCredentials(emu.url, { apiKey: 'unknown', apiSecret: key.secret })).toMatchObject({ ok: false, reason: expect.stringContaining('AUTH') });
  });
});

describe('reads, cancel and reconciliation', () => {
  it('cancel, also when the reply to CancelOrder is dropped; idempotent on a canceled order, refused on a filled one', async () => {
    const { broker, key } = await harness();
    const a = await broker.submit(restingBuy());
    const b = await broker.submit(restingBuy());
    if (a.status !== 'accepted' || b.status !== 'accepted') throw new Error('not accepted');
    await broker.cancel(a.order.id);
    emu.faults.add({ method: 'CancelOrder', key: key.key, kind: 'accept-then-drop' });
    await broker.cancel(b.order.id);
    expect(emu.orders(key.key).map((o) => o.status)).toEqual(['canceled', 'canceled']);
    await broker.cancel(a.order.id); // already canceled: a no-op
    const filled = await broker.submit({ clientId: randomUUID(), pair: 'ETH/USD', side: 'buy', type: 'market', amount: 0.01 });
    if (filled.status !== 'accepted') throw new Error('not accepted');
    await expect(broker.cancel(filled.order.id)).rejects.toMatchObject({ name: 'ExchangeRejectedError', code: 'ORDER_NOT_FOUND' });
    await expect(broker.cancel('OXXXXX-XXXXX-XXXXXX')).rejects.toBeInstanceOf(ExchangeRejectedError);
  });

  it('fills carry the client id; orderByClientId finds open and closed orders', async () => {
    const { broker } = await harness();
    const t0 = clock.now();
    const m = await broker.submit({ clientId: randomUUID(), pair: 'ETH/USD', side: 'buy', type: 'market', amount: 0.05 });
    if (m.status !== 'accepted') throw new Error('not accepted');
    const fills = await broker.fills(t0);
    expect(fills).toHaveLength(1);
    expect(fills[0]).toMatchObject({ orderId: m.order.id, clientId: m.order.clientId, pair: 'ETH/USD', side: 'buy', amount: 0.05, liquidity: 'taker' });
    expect(await broker.orderByClientId(m.order.clientId!)).toMatchObject({ id: m.order.id, status: 'closed', filled: 0.05 });
    expect(await broker.orderByClientId(randomUUID())).toBeNull();
  });

  it('finds an order placed behind the broker\'s back as unexplained', async () => {
    const { broker, key } = await harness();
    const t0 = clock.now();
    const start = await broker.balances();
    const ours = [await broker.submit(restingBuy()), await broker.submit({ clientId: randomUUID(), pair: 'ETH/USD', side: 'buy', type: 'market', amount: 0.05 })];
    const local = ours.map((r) => {
      if (r.status !== 'accepted') throw new Error('not accepted');
      return { clientId: r.order.clientId!, exchangeId: r.order.id, status: r.order.status, filled: r.order.filled };
    });
    const rogue = emu.exchange.addOrder(emu.exchange.account(key.key), { pair: 'XBTUSD', type: 'buy', ordertype: 'limit', price: '1000.0', volume: '0.001' });
    const snapshot = await broker.exchangeSnapshot(t0);
    const result = reconcile({
      local: { orders: local, fills: [], balances: Object.fromEntries(Object.entries(start).map(([a, b]) => [a, b.total])) },
      exchange: snapshot,
    });
    expect(result.unexplained).toEqual([expect.objectContaining({ kind: 'unknown_order', ref: rogue.txid![0] })]);
    expect(result.matched).toEqual([local[0]!.clientId]);
    expect(result.updates).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'order', clientId: local[1]!.clientId, status: 'closed', filled: 0.05 }),
        expect.objectContaining({ kind: 'fill', clientId: local[1]!.clientId }),
      ]),
    );
  });
});

describe('amend (AmendOrder)', () => {
  const amendsOf = (txid: string) => emu.calls('AmendOrder').filter((r) => r.params.txid === txid);
  const emuOrder = (key: string, txid: string) => emu.orders(key).find((o) => o.txid === txid)!;
  async function resting(h: Harness, req: OrderRequest) {
    const r = await h.broker.submit(req);
    if (r.status !== 'accepted') throw new Error(`not accepted: ${r.code} ${r.reason}`);
    return r.order;
  }

  it('moves a stop-loss trigger (trigger_price, rounded to the tick) and keeps txid and cl_ord_id', async () => {
    const h = await harness();
    const p = btcPrice();
    const stop = await resting(h, { clientId: randomUUID(), pair: 'BTC/USD', side: 'sell', type: 'stop-loss', amount: 0.01, price: Math.floor(p * 0.8) });
    const target = Math.floor(p * 0.85) + 0.06;
    const r = await h.broker.amend(stop.id, { price: target });
    expect(r).toMatchObject({ status: 'amended', order: { id: stop.id, clientId: stop.clientId, type: 'stop-loss', price: Math.floor(p * 0.85) + 0.1, status: 'open' } });
    expect(amendsOf(stop.id).map((x) => x.params)).toEqual([expect.objectContaining({ txid: stop.id, trigger_price: `${Math.floor(p * 0.85)}.1` })]);
    expect(amendsOf(stop.id)[0]!.params.limit_price).toBeUndefined();
    expect(emuOrder(h.key.key, stop.id)).toMatchObject({ price: Math.floor(p * 0.85) + 0.1, clOrdId: stop.clientId });
  });

  it('stop-loss-limit: price moves the trigger, price2 the limit', async () => {
    const h = await harness();
    const p = btcPrice();
    const stop = await resting(h, { clientId: randomUUID(), pair: 'BTC/USD', side: 'sell', type: 'stop-loss-limit', amount: 0.01, price: Math.floor(p * 0.8), price2: Math.floor(p * 0.79) });
    const r = await h.broker.amend(stop.id, { price: Math.floor(p * 0.82), price2: Math.floor(p * 0.81) });
    expect(r).toMatchObject({ status: 'amended', order: { price: Math.floor(p * 0.82), price2: Math.floor(p * 0.81) } });
    expect(amendsOf(stop.id)[0]!.params).toMatchObject({ trigger_price: `${Math.floor(p * 0.82)}.0`, limit_price: `${Math.floor(p * 0.81)}.0` });
  });

  it('reduces and raises the quantity (order_qty, truncated to the lot) and moves a limit price (limit_price)', async () => {
    const h = await harness();
    const buy = await resting(h, restingBuy({ amount: 0.004 }));
    expect(await h.broker.amend(buy.id, { amount: 0.0021234567 })).toMatchObject({ status: 'amended', order: { amount: 0.00212345 } });
    expect(await h.broker.amend(buy.id, { amount: 0.006 })).toMatchObject({ status: 'amended', order: { amount: 0.006 } });
    const lower = Math.floor(btcPrice() * 0.45);
    expect(await h.broker.amend(buy.id, { price: lower + 0.09 })).toMatchObject({ status: 'amended', order: { price: lower, amount: 0.006 } });
    expect(amendsOf(buy.id).map((x) => x.params)).toEqual([
      expect.objectContaining({ order_qty: '0.00212345' }),
      expect.objectContaining({ order_qty: '0.00600000' }),
      expect.objectContaining({ limit_price: `${lower}.0` }),
    ]);
    expect(emuOrder(h.key.key, buy.id)).toMatchObject({ volume: 0.006, price: lower, status: 'open' });
    expect(ordersWith(h.key.key, buy.clientId!)).toHaveLength(1);
  });

  it('an amend to what the order already shows sends nothing', async () => {
    const h = await harness();
    const buy = await resting(h, restingBuy());
    expect(await h.broker.amend(buy.id, { amount: buy.amount, price: buy.price! })).toMatchObject({ status: 'amended', order: { id: buy.id } });
    expect(amendsOf(buy.id)).toHaveLength(0);
  });

  it('is rejected as values: closed or unknown order → ORDER_NOT_FOUND, funds, minimums', async () => {
    const h = await harness();
    const filled = await resting(h, { clientId: randomUUID(), pair: 'ETH/USD', side: 'buy', type: 'market', amount: 0.01 });
    expect(await h.broker.amend(filled.id, { amount: 0.02 })).toMatchObject({ status: 'rejected', code: 'ORDER_NOT_FOUND' });
    expect(await h.broker.amend('OXXXXX-XXXXX-XXXXXX', { amount: 0.02 })).toMatchObject({ status: 'rejected', code: 'ORDER_NOT_FOUND' });
    const buy = await resting(h, restingBuy());
    await h.broker.cancel(buy.id);
    expect(await h.broker.amend(buy.id, { price: 100 })).toMatchObject({ status: 'rejected', code: 'ORDER_NOT_FOUND' });
    const other = await resting(h, restingBuy());
    expect(await h.broker.amend(other.id, { amount: 50 })).toMatchObject({ status: 'rejected', code: 'INSUFFICIENT_FUNDS' });
    const before = emu.requests.length;
    expect(await h.broker.amend(other.id, { amount: 0.0000001 })).toMatchObject({ status: 'rejected', code: 'BELOW_EXCHANGE_MINIMUM' });
    expect(emu.requests.slice(before).map((r) => r.name)).not.toContain('AmendOrder');
    expect(emuOrder(h.key.key, other.id)).toMatchObject({ volume: 0.001, status: 'open' });
  });

  it('an order that closes between the query and the amend is ORDER_NOT_FOUND (Kraken: EOrder:Unknown order)', async () => {
    const h = await harness();
    const buy = await resting(h, restingBuy());
    emu.setPrivateRequestHook((rec, phase) => {
      if (rec.key === h.key.key && rec.name === 'QueryOrders' && phase === 'processed') emu.exchange.cancelOrder(emu.exchange.account(h.key.key), { txid: buy.id });
    });
    try {
      expect(await h.broker.amend(buy.id, { amount: 0.002 })).toMatchObject({ status: 'rejected', code: 'ORDER_NOT_FOUND' });
    } finally {
      emu.setPrivateRequestHook(undefined);
    }
    expect(amendsOf(buy.id).flatMap((r) => r.errors)).toEqual(['EOrder:Unknown order']);
  });

  it.each([
    ['accept-then-drop', { kind: 'accept-then-drop' }, 1],
    ['accept-then-delay', { kind: 'accept-then-delay', ms: 700 }, 1],
    ['accept-then-http 502', { kind: 'accept-then-http', status: 502 }, 1],
    ['timeout (not processed)', { kind: 'timeout' }, 2],
    ['reset (not processed)', { kind: 'reset' }, 2],
    ['http 503 (not processed)', { kind: 'http', status: 503 }, 2],
    ['EService:Busy', { kind: 'error', error: 'EService:Busy' }, 2],
  ] as const)('an ambiguous or failed amend (%s) is settled by querying the order, and applied once', async (_n, fault, amends) => {
    const h = await harness();
    const buy = await resting(h, restingBuy({ amount: 0.002 }));
    emu.faults.add({ method: 'AmendOrder', key: h.key.key, ...fault });
    expect(await h.broker.amend(buy.id, { amount: 0.003 })).toMatchObject({ status: 'amended', order: { id: buy.id, amount: 0.003 } });
    expect(emuOrder(h.key.key, buy.id)).toMatchObject({ volume: 0.003, status: 'open' });
    expect(amendsOf(buy.id)).toHaveLength(amends);
  });

  it('amends are counted on the trading counter: rapid amends of one order never hit EOrder:Rate limit exceeded', async () => {
    const h = await harness({ tier: 'starter' });
    const buy = await resting(h, restingBuy({ amount: 0.001 }));
    for (let i = 0; i < 25; i++) expect(await h.broker.amend(buy.id, { amount: 0.001 + (i % 2 === 0 ? 0.001 : 0) })).toMatchObject({ status: 'amended' });
    expect(emu.calls('AmendOrder', h.key.key).flatMap((r) => r.errors)).toEqual([]);
    expect(emu.calls('AmendOrder', h.key.key)).toHaveLength(25);
  });
});

describe('20–27 % random faults of every kind on every private call', () => {
  it('orders still go through, each inside a 45 s budget, with no duplicate and no resend before a lookup', async () => {
    const h = await harness({ balances: { USD: 1_000_000, BTC: 10, ETH: 100 } });
    await h.broker.loadMarkets();
    const each = 0.25 / 14; // ≈ 25 % of calls faulted, spread over the kinds
    const kinds: FaultSpec[] = [
      { method: '*', kind: 'timeout' },
      { method: '*', kind: 'reset' },
      { method: '*', kind: 'http', status: 500 },
      { method: '*', kind: 'http', status: 502 },
      { method: '*', kind: 'http', status: 429 },
      { method: '*', kind: 'error', error: 'EService:Unavailable' },
      { method: '*', kind: 'error', error: 'EService:Busy' },
      { method: '*', kind: 'error', error: 'EAPI:Rate limit exceeded' },
      { method: '*', kind: 'error', error: 'EOrder:Rate limit exceeded' },
      { method: '*', kind: 'error', error: 'EAPI:Invalid nonce' },
      { method: '*', kind: 'accept-then-drop' },
      { method: '*', kind: 'accept-then-delay', ms: 600 },
      { method: '*', kind: 'accept-then-http', status: 500 },
      { method: '*', kind: 'accept-then-http', status: 503 },
    ];
    emu.faults.add(kinds.map((k, i) => ({ ...k, key: h.key.key, probability: each / (1 - i * each) })));
    const ids: string[] = [];
    try {
      for (let i = 0; i < 30; i++) {
        const req: OrderRequest = i % 3 === 0 ? { clientId: randomUUID(), pair: 'ETH/USD', side: 'buy', type: 'market', amount: 0.01 } : restingBuy();
        ids.push(req.clientId);
        const started = performance.now();
        const r = await withDeadline(45_000, () => h.broker.submit(req));
        expect(r.status).toBe('accepted');
        expect(performance.now() - started).toBeLessThan(45_000);
        if (i % 5 === 4) await withDeadline(45_000, () => h.broker.balances());
      }
    } finally {
      emu.faults.clear();
    }
    for (const id of ids) expect(ordersWith(h.key.key, id)).toHaveLength(1);
    const priv = emu.requests.filter((r) => r.key === h.key.key && r.api === 'private');
    const faulted = priv.filter((r) => r.status !== 200 || r.errors.length > 0).length;
    expect(faulted / priv.length).toBeGreaterThan(0.12);
  });
});

describe('spot only', () => {
  it('no request the emulator received carried leverage or margin parameters', () => {
    const offending = emu.requests.filter((r) => ['leverage', 'reduce_only', 'margin'].some((k) => k in r.params));
    expect(offending).toEqual([]);
    expect(emu.marginAttempts()).toEqual([]);
    expect(emu.calls('AddOrder').length).toBeGreaterThan(100);
  });
});
