/**
 * KrakenBroker: the Broker of lib/exchange/types.ts on Kraken spot, through ccxt's `kraken` class
 * (signing, HTTP, error mapping, implicit endpoints). What ccxt does not do for us lives here:
 * USD-spot filtering, rounding and minimums before anything is sent, the real fee tier,
 * deterministic `cl_ord_id` with lookup-before-resend, per-class retry with backoff, a client-side
 * model of Kraken's counters, per-key serialisation and persisted strictly increasing nonces.
 */
import type { kraken } from 'ccxt';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Clock } from '../clock.ts';
import {
  ExchangeRejectedError,
  ExchangeTemporaryError,
  OrderStateUnknownError,
  RETRY_POLICY,
  backoffMs,
  classifyKrakenFailure,
  toThrown,
  type Failure,
  type FailureClass,
} from './kraken-errors.ts';
import { KrakenLimiter, cancelPenalty, type KrakenTier } from './kraken-limiter.ts';
import { MARGIN_PARAMS, MarketIndex, parseTradeVolume, prepareAddOrder, tradeVolumeSchema, withFeeTier, type FeeTier } from './kraken-markets.ts';
import { NonceSequence, type NonceStore } from './kraken-nonce.ts';
import {
  addOrderSchema,
  balanceExSchema,
  closedOrdersSchema,
  openOrdersSchema,
  parseBalanceEx,
  parseOrders,
  parseTrades,
  queryOrdersSchema,
  tradesHistorySchema,
  type KrakenOrder,
} from './kraken-parse.ts';
import { roundUp } from './precision.ts';
import { NotUsdSpotError, assertUsdSpot, marketsFromAssetPairs } from './universe.ts';
import type { Balances, Broker, BrokerOrder, Fill, MarketSpec, OrderRequest, SubmitResult } from './types.ts';

export interface KrakenBrokerOptions {
  accountId: string;
  credentials: { apiKey: string; apiSecret: string };
  /** KRAKEN_API_URL: a bare origin, ccxt appends /0/public/… and /0/private/…. */
  apiUrl: string;
  nonceStore: NonceStore;
  clock: Clock;
  logger?: Logger;
  tier?: KrakenTier; // default starter: the most conservative counters
  timeoutMs?: number; // per HTTP request (default 10 s)
  /** How the broker waits (backoff, limiter); tests and benches pass one that advances a VirtualClock. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number; // jitter source
  lockoutMs?: number; // wait after EGeneral:Temporary lockout (default 15 min)
  feeTtlMs?: number; // fee tier cache (default 1 h)
  marketsTtlMs?: number; // AssetPairs cache (default 1 h)
  /** After an ambiguous AddOrder finds nothing, wait this long and look once more before resending (default 500 ms). */
  lookupSettleMs?: number;
}

export type CredentialCheck = { ok: true; balances: Balances } | { ok: false; reason: string };

/** Thrown inside the broker for one failed HTTP call; never escapes it. */
class CallFailure extends Error {
  constructor(readonly failure: Failure) {
    super(failure.message);
  }
}

/** Private calls of one key run one at a time, process-wide, whatever the number of broker instances. */
const keyQueues = new Map<string, Promise<unknown>>();
function serialised<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const prev = keyQueues.get(key) ?? Promise.resolve();
  const run = prev.then(fn, fn);
  const tail = run.then(
    () => undefined,
    () => undefined,
  );
  keyQueues.set(key, tail);
  void tail.then(() => {
    if (keyQueues.get(key) === tail) keyQueues.delete(key);
  });
  return run;
}

type Implicit = (params?: Record<string, string>) => Promise<unknown>;
type CcxtKraken = kraken;

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class KrakenBroker implements Broker {
  readonly kind = 'kraken' as const;
  private readonly limiter: KrakenLimiter;
  private readonly nonces: NonceSequence;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly clock: Clock;
  private readonly apiKey: string;
  private markets: { index: MarketIndex; at: number } | null = null;
  private fee: FeeTier | null = null;
  /** What we learnt about our orders: txid → client id, pair key and open time (for the cancel penalty). */
  private readonly known = new Map<string, { clientId: string | null; krakenPair: string; openedAt: number }>();

  constructor(
    private readonly ex: CcxtKraken,
    private readonly opts: KrakenBrokerOptions,
  ) {
    this.clock = opts.clock;
    this.apiKey = opts.credentials.apiKey;
    this.sleep = opts.sleep ?? realSleep;
    this.random = opts.random ?? Math.random;
    this.limiter = new KrakenLimiter({ tier: opts.tier ?? 'starter', clock: opts.clock, ...(opts.lockoutMs !== undefined ? { lockoutMs: opts.lockoutMs } : {}) });
    this.nonces = new NonceSequence(opts.nonceStore, opts.accountId, opts.clock);
    // ccxt's nonce is the current millisecond and collides; ours is reserved ahead (see call()).
    ex.nonce = () => this.nonces.take();
  }

  // ---- transport ----

  private implicit(name: string): Implicit {
    const fn = (this.ex as unknown as Record<string, unknown>)[name];
    if (typeof fn !== 'function') throw new Error(`ccxt kraken has no implicit method ${name}`);
    return (fn as Implicit).bind(this.ex);
  }

  /** One private call, serialised per key, after the limiter allows it; failures come out as CallFailure. */
  private call<S extends z.ZodType>(method: string, params: Record<string, string>, schema: S, trade?: { pair: string; cost: number }): Promise<z.output<S>> {
    return serialised(this.apiKey, async () => {
      for (let w = this.limiter.waitMs(method, trade); w > 0; w = this.limiter.waitMs(method, trade)) await this.sleep(w);
      await this.nonces.ensure();
      this.limiter.record(method, trade);
      let raw: unknown;
      try {
        raw = await this.implicit(`privatePost${method}`)(params);
      } catch (e) {
        const f = classifyKrakenFailure(e);
        if (f.kind === 'temporary' && f.cls === 'LOCKOUT') this.limiter.lockedOut();
        if (f.kind === 'temporary' && f.cls === 'RATE_LIMIT') this.limiter.rateLimited(method, trade?.pair);
        if (f.kind === 'temporary' && f.cls === 'NONCE') this.nonces.invalidate();
        this.opts.logger?.warn({ method, failure: f.kind, cls: f.kind === 'rejected' ? f.code : f.cls }, `kraken ${method} failed: ${f.message}`);
        throw new CallFailure(f);
      }
      return schema.parse((raw as { result?: unknown }).result);
    });
  }

  private async backoff(cls: FailureClass, retry: number): Promise<void> {
    // A lockout's wait is the limiter's deadline, applied before the next call goes out.
    if (cls === 'LOCKOUT') return;
    await this.sleep(backoffMs(RETRY_POLICY[cls], retry, this.random));
  }

  /** A call without side effects: retried per class; rejections and exhausted retries throw our classes. */
  private async read<S extends z.ZodType>(method: string, params: Record<string, string>, schema: S): Promise<z.output<S>> {
    for (let retry = 0; ; retry++) {
      try {
        return await this.call(method, params, schema);
      } catch (e) {
        if (!(e instanceof CallFailure)) throw e;
        const f = e.failure;
        if (f.kind === 'rejected') throw toThrown(f);
        if (retry + 1 >= RETRY_POLICY[f.cls].attempts) throw new ExchangeTemporaryError(f.cls, `${method}: ${f.message}`);
        await this.backoff(f.cls, retry);
      }
    }
  }

  private async publicRead(fn: () => Promise<unknown>, what: string): Promise<unknown> {
    for (let retry = 0; ; retry++) {
      try {
        return await fn();
      } catch (e) {
        const f = classifyKrakenFailure(e);
        if (f.kind === 'rejected') throw toThrown(f);
        if (retry + 1 >= RETRY_POLICY[f.cls].attempts) throw new ExchangeTemporaryError(f.cls, `${what}: ${f.message}`);
        await this.backoff(f.cls, retry);
      }
    }
  }

  // ---- markets and fees ----

  private async marketIndex(): Promise<MarketIndex> {
    const ttl = this.opts.marketsTtlMs ?? 3_600_000;
    if (this.markets && this.clock.now() - this.markets.at < ttl) return this.markets.index;
    const raw = await this.publicRead(() => this.implicit('publicGetAssetPairs')(), 'AssetPairs');
    const index = new MarketIndex(marketsFromAssetPairs((raw as { result?: unknown }).result));
    this.markets = { index, at: this.clock.now() };
    return index;
  }

  /** The account's fee tier from TradeVolume, cached for feeTtlMs. */
  async feeTier(): Promise<FeeTier> {
    const ttl = this.opts.feeTtlMs ?? 3_600_000;
    if (this.fee && this.clock.now() - this.fee.fetchedAt < ttl) return this.fee;
    const index = await this.marketIndex();
    const pairs = index.all.map((m) => m.krakenPair).join(',');
    const result = await this.read('TradeVolume', { pair: pairs }, tradeVolumeSchema);
    this.fee = parseTradeVolume(result, this.clock.now());
    return this.fee;
  }

  /** The tradable USD-spot markets (status online) with the account's own fee rates. */
  async loadMarkets(): Promise<MarketSpec[]> {
    const index = await this.marketIndex();
    const tier = await this.feeTier();
    return index.tradable().map((m) => withFeeTier(m, tier));
  }

  // ---- reads ----

  async balances(): Promise<Balances> {
    return parseBalanceEx(await this.read('BalanceEx', {}, balanceExSchema));
  }

  private remember(orders: KrakenOrder[], index: MarketIndex): void {
    for (const o of orders) {
      if (this.known.has(o.id)) continue;
      this.known.set(o.id, { clientId: o.clientId, krakenPair: index.byKraken(o.krakenPair)?.krakenPair ?? o.krakenPair, openedAt: o.createdAt });
    }
  }

  async openOrders(): Promise<KrakenOrder[]> {
    const index = await this.marketIndex();
    const r = await this.read('OpenOrders', {}, openOrdersSchema);
    const orders = parseOrders(r.open, index);
    this.remember(orders, index);
    return orders;
  }

  /** Closed orders (closed, canceled, expired) closing after `since` (epoch ms), every page. */
  async closedOrders(since: number): Promise<KrakenOrder[]> {
    const index = await this.marketIndex();
    const out: KrakenOrder[] = [];
    const start = Math.max(0, Math.floor((since - 1) / 1000)).toString();
    for (let ofs = 0; ; ) {
      const r = await this.read('ClosedOrders', { start, ofs: ofs.toString() }, closedOrdersSchema);
      const page = parseOrders(r.closed, index);
      out.push(...page);
      ofs += page.length;
      if (page.length === 0 || ofs >= (r.count ?? 0)) break;
    }
    this.remember(out, index);
    return out;
  }

  /** The order with this `cl_ord_id`, through the raw endpoints (ccxt's fetchOrder would send userref). */
  async orderByClientId(clientId: string): Promise<KrakenOrder | null> {
    const index = await this.marketIndex();
    const open = parseOrders((await this.read('OpenOrders', { cl_ord_id: clientId }, openOrdersSchema)).open, index);
    const closed = open.length > 0 ? [] : parseOrders((await this.read('ClosedOrders', { cl_ord_id: clientId }, closedOrdersSchema)).closed, index);
    const hits = [...open, ...closed].filter((o) => o.clientId === clientId);
    this.remember(hits, index);
    if (hits.length > 1) this.opts.logger?.error({ clientId, ids: hits.map((o) => o.id) }, 'more than one Kraken order carries this cl_ord_id');
    return hits[0] ?? null;
  }

  async fills(since: number): Promise<Fill[]> {
    const index = await this.marketIndex();
    const out: Fill[] = [];
    const start = Math.max(0, (since - 1) / 1000).toFixed(3);
    for (let ofs = 0; ; ) {
      const r = await this.read('TradesHistory', { start, ofs: ofs.toString() }, tradesHistorySchema);
      const page = parseTrades(r.trades, index, (id) => this.known.get(id)?.clientId ?? null);
      out.push(...page);
      ofs += page.length;
      if (page.length === 0 || ofs >= r.count) break;
    }
    return out.filter((f) => f.time >= since).sort((a, b) => a.time - b.time || a.id.localeCompare(b.id));
  }

  /** Everything reconciliation compares against (see kraken-reconcile.ts): orders, fills since `since`, balances. */
  async exchangeSnapshot(since: number): Promise<{ orders: KrakenOrder[]; fills: Fill[]; balances: Balances }> {
    const open = await this.openOrders();
    const closed = await this.closedOrders(since);
    const ids = new Set(open.map((o) => o.id));
    return { orders: [...open, ...closed.filter((o) => !ids.has(o.id))], fills: await this.fills(since), balances: await this.balances() };
  }

  // ---- order entry ----

  /**
   * Sends an order the caller has already persisted as pending. Never re-sends blindly: after an
   * ambiguous failure (timeout, reset, 5xx, dropped reply) it looks the order up by cl_ord_id and
   * only re-sends when the exchange confirms it does not have it. Rejections are values; exhausted
   * retries throw ExchangeTemporaryError (not placed) or OrderStateUnknownError (could not tell).
   */
  async submit(req: OrderRequest): Promise<SubmitResult> {
    const index = await this.marketIndex();
    let spec: MarketSpec;
    try {
      spec = assertUsdSpot(req.pair, index.all);
    } catch (e) {
      if (e instanceof NotUsdSpotError) return { status: 'rejected', code: 'NOT_SPOT_USD', reason: e.message };
      throw e;
    }
    const prep = prepareAddOrder(req, spec);
    if (!prep.ok) return { status: 'rejected', code: prep.code, reason: prep.reason };
    for (const k of MARGIN_PARAMS) if (k in prep.params) throw new Error(`bug: margin parameter ${k} in an AddOrder`);

    for (let retry = 0; ; retry++) {
      let f: Failure;
      try {
        const r = await this.call('AddOrder', prep.params, addOrderSchema, { pair: spec.krakenPair, cost: 1 });
        const txid = r.txid?.[0];
        if (txid === undefined) throw new Error(`AddOrder for ${req.clientId} answered without a txid`);
        const openedAt = this.clock.now();
        this.known.set(txid, { clientId: req.clientId, krakenPair: spec.krakenPair, openedAt });
        const order: BrokerOrder = {
          id: txid,
          clientId: req.clientId,
          pair: spec.symbol,
          side: req.side,
          type: req.type,
          amount: prep.amount,
          price: prep.price,
          status: 'open',
          filled: 0,
          avgPrice: null,
          fee: 0,
          createdAt: openedAt,
        };
        return { status: 'accepted', order };
      } catch (e) {
        if (!(e instanceof CallFailure)) throw e;
        f = e.failure;
      }
      if (f.kind === 'rejected') {
        // cl_ord_id is unique among open orders: "duplicate" means an earlier attempt did land.
        if (f.code === 'DUPLICATE_ORDER') {
          const found = await this.lookupForSubmit(req.clientId);
          if (found) return { status: 'accepted', order: found };
        }
        return { status: 'rejected', code: f.code, reason: f.krakenError ?? f.message };
      }
      if (f.kind === 'ambiguous') {
        const found = await this.resolveAmbiguous(req.clientId);
        if (found) return { status: 'accepted', order: found };
      }
      if (retry + 1 >= RETRY_POLICY[f.cls].attempts) {
        throw new ExchangeTemporaryError(f.cls, `AddOrder ${req.clientId} not placed after ${retry + 1} attempts: ${f.message}`);
      }
      await this.backoff(f.cls, retry);
    }
  }

  private async lookupForSubmit(clientId: string): Promise<KrakenOrder | null> {
    try {
      return await this.orderByClientId(clientId);
    } catch (e) {
      if (e instanceof ExchangeTemporaryError || e instanceof ExchangeRejectedError) {
        throw new OrderStateUnknownError(clientId, `AddOrder ${clientId} outcome unknown and the lookup failed: ${e.message}`);
      }
      throw e;
    }
  }

  /** After an ambiguous AddOrder: the order if it landed, null once two lookups a settle time apart find nothing. */
  private async resolveAmbiguous(clientId: string): Promise<KrakenOrder | null> {
    const first = await this.lookupForSubmit(clientId);
    if (first) return first;
    await this.sleep(this.opts.lookupSettleMs ?? 500);
    return this.lookupForSubmit(clientId);
  }

  private async orderById(txid: string): Promise<KrakenOrder | null> {
    const index = await this.marketIndex();
    const orders = parseOrders(await this.read('QueryOrders', { txid }, queryOrdersSchema), index);
    this.remember(orders, index);
    return orders.find((o) => o.id === txid) ?? null;
  }

  /** Cancels an open order by txid; an ambiguous failure is settled by querying the order. */
  async cancel(orderId: string): Promise<void> {
    let info = this.known.get(orderId);
    if (!info) {
      const o = await this.orderById(orderId);
      if (!o) throw new ExchangeRejectedError('ORDER_NOT_FOUND', `no Kraken order ${orderId}`);
      info = this.known.get(orderId)!;
    }
    const trade = { pair: info.krakenPair, cost: cancelPenalty(this.clock.now() - info.openedAt) };
    for (let retry = 0; ; retry++) {
      let f: Failure;
      try {
        await this.call('CancelOrder', { txid: orderId }, cancelResult, trade);
        return;
      } catch (e) {
        if (!(e instanceof CallFailure)) throw e;
        f = e.failure;
      }
      if (f.kind === 'rejected' && f.code !== 'ORDER_NOT_FOUND') throw toThrown(f);
      if (f.kind === 'rejected' || f.kind === 'ambiguous') {
        const o = await this.orderById(orderId);
        if (o?.status === 'canceled') return;
        if (o === null || o.status !== 'open') throw new ExchangeRejectedError('ORDER_NOT_FOUND', `order ${orderId} is ${o?.status ?? 'unknown'}, not open`);
        if (f.kind === 'rejected') throw toThrown(f);
      }
      const cls = f.cls;
      if (retry + 1 >= RETRY_POLICY[cls].attempts) throw new ExchangeTemporaryError(cls, `CancelOrder ${orderId}: ${f.message}`);
      await this.backoff(cls, retry);
    }
  }

  // ---- key upload ----

  /**
   * Used when keys are uploaded: a Balance call proves the key and signature, a `validate=true`
   * order proves trading permission without placing anything. Lack of funds does not fail the check.
   */
  async checkCredentials(): Promise<CredentialCheck> {
    // Kraken secrets are base64 (HMAC key); ccxt would fail on anything else before sending.
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(this.opts.credentials.apiSecret)) return { ok: false, reason: 'AUTH: the API secret is not base64' };
    if (this.apiKey.trim() === '') return { ok: false, reason: 'AUTH: the API key is empty' };
    let balances: Balances;
    try {
      balances = await this.balances();
    } catch (e) {
      if (e instanceof ExchangeRejectedError) return { ok: false, reason: `${e.code}: ${e.message}` };
      throw e;
    }
    const index = await this.marketIndex();
    const m = index.tradable().find((x) => x.symbol === 'BTC/USD') ?? index.tradable()[0];
    if (!m) throw new ExchangeRejectedError('MARKET_NOT_TRADABLE', 'no tradable USD market to validate an order on');
    const price = roundUp(Math.max(m.minCost / m.minAmount, 10 ** -m.pricePrecision) * 1.01, m.pricePrecision);
    const prep = prepareAddOrder({ clientId: 'aether-validate', pair: m.symbol, side: 'buy', type: 'limit', amount: m.minAmount, price }, m);
    if (!prep.ok) throw new Error(`validate order refused locally: ${prep.reason}`);
    const { cl_ord_id: _omit, ...params } = prep.params;
    for (let retry = 0; ; retry++) {
      let f: Failure;
      try {
        await this.call('AddOrder', { ...params, validate: 'true' }, addOrderSchema);
        return { ok: true, balances };
      } catch (e) {
        if (!(e instanceof CallFailure)) throw e;
        f = e.failure;
      }
      if (f.kind === 'rejected') {
        if (f.code === 'AUTH' || f.code === 'PERMISSION_DENIED') return { ok: false, reason: `${f.code}: ${f.krakenError ?? f.message}` };
        if (f.code === 'INSUFFICIENT_FUNDS' || f.code === 'BELOW_EXCHANGE_MINIMUM') return { ok: true, balances };
        throw toThrown(f);
      }
      // validate=true never places an order, so even an ambiguous failure is safe to retry.
      if (retry + 1 >= RETRY_POLICY[f.cls].attempts) throw new ExchangeTemporaryError(f.cls, `validate order: ${f.message}`);
      await this.backoff(f.cls, retry);
    }
  }

  /** The limiter's lockout deadline (epoch ms; 0 when none). */
  lockedUntil(): number {
    return this.limiter.lockedUntilMs();
  }
}

const cancelResult = z.object({ count: z.number() });

/** Builds a KrakenBroker. ccxt is imported here, lazily: it takes ~0.3 s to load. */
export async function createKrakenBroker(opts: KrakenBrokerOptions): Promise<KrakenBroker> {
  const ccxt = await import('ccxt');
  const ex = new ccxt.kraken({
    apiKey: opts.credentials.apiKey,
    secret: opts.credentials.apiSecret,
    enableRateLimit: false, // our limiter models Kraken's counters; ccxt's is a flat delay
    timeout: opts.timeoutMs ?? 10_000,
    urls: { api: { public: opts.apiUrl, private: opts.apiUrl } },
  });
  return new KrakenBroker(ex, opts);
}
