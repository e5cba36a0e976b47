/**
 * The emulated exchange's state and rules: accounts, balances and holds, orders, fills, the replay
 * cursor and the matching of resting orders against each replayed candle. No HTTP here.
 */
import { randomBytes } from 'node:crypto';
import type { Candle } from '../../lib/market/candle.ts';
import { EUR_USD, PAIRS, feeForVolume, findAsset, findPair, type PairDef } from './markets.ts';
import { buildPricePath, type PricePath } from './prices.ts';
import { DEFAULT_PERMISSIONS, type Permission } from './permissions.ts';
import { ADD_ORDER_COST, DecayingCounter, RestLimiter, TRADING_TIERS, amendCost, cancelPenalty, type LockoutPolicy, type Tier } from './ratelimit.ts';

/** A Kraken error string, answered as `{"error":[code]}`. */
export class KrakenError extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

/** Kraken's SystemStatus values. */
export type SystemStatus = 'online' | 'maintenance' | 'cancel_only' | 'post_only';

export type Params = Record<string, string | Record<string, string>>;

export interface KeyInit {
  key: string;
  secret: string;
  tier?: Tier;
  balances?: Record<string, number>; // by Kraken asset id or unified code ("ZUSD" or "USD")
  volume30dUsd?: number;
  /** The key's permissions (default DEFAULT_PERMISSIONS: a trading key that cannot withdraw). */
  permissions?: readonly Permission[];
}

export interface Account {
  key: string;
  secret: string;
  tier: Tier;
  balances: Map<string, number>; // Kraken asset id → total
  volume30dUsd: number;
  tradedUsd: number; // volume traded on the emulator, added to the fee-tier volume
  lastNonce: bigint | null;
  permissions: Set<Permission>;
  rest: RestLimiter;
  trading: Map<string, DecayingCounter>; // by pair key
}

export type EmuOrderType = 'market' | 'limit' | 'stop-loss' | 'take-profit' | 'stop-loss-limit' | 'take-profit-limit';
const ORDER_TYPES: EmuOrderType[] = ['market', 'limit', 'stop-loss', 'take-profit', 'stop-loss-limit', 'take-profit-limit'];
const CLOSE_TYPES: EmuOrderType[] = ['limit', 'stop-loss', 'take-profit', 'stop-loss-limit', 'take-profit-limit'];
const OFLAGS = new Set(['post', 'fcib', 'fciq', 'nompp', 'viqc']);

export interface CloseSpec {
  ordertype: EmuOrderType;
  price: number;
  price2?: number;
}

export interface EmuOrder {
  txid: string;
  key: string;
  pair: PairDef;
  side: 'buy' | 'sell';
  ordertype: EmuOrderType;
  volume: number;
  price?: number; // limit price, or trigger price of stop / take-profit
  price2?: number; // limit price of *-limit
  oflags: string[];
  timeinforce: 'GTC' | 'IOC' | 'GTD';
  userref: number | null;
  clOrdId: string | null;
  refid: string | null; // the entry that created a conditional close
  status: 'pending' | 'open' | 'closed' | 'canceled' | 'expired';
  reason: string | null;
  opentm: number; // ms
  closetm: number | null;
  amendtm: number | null; // ms of the last AmendOrder: Kraken ages an order for its trading counter from here
  volExec: number;
  cost: number;
  fee: number;
  trades: string[];
  close?: CloseSpec;
  hold: { asset: string; amount: number } | null;
  triggered: boolean; // a *-limit order whose trigger has fired now rests as a limit at price2
}

export interface EmuTrade {
  id: string;
  tradeId: number;
  ordertxid: string;
  postxid: string;
  key: string;
  pair: PairDef;
  time: number; // ms
  side: 'buy' | 'sell';
  ordertype: EmuOrderType;
  price: number;
  vol: number;
  cost: number;
  fee: number;
  maker: boolean;
}

/** One Ledgers row: each fill writes one for the base and one for the quote side. */
export interface LedgerEntry {
  id: string;
  refid: string; // the trade id
  key: string;
  time: number; // ms
  type: 'trade';
  asset: string;
  amount: number; // signed
  fee: number;
  balance: number; // after the entry
}

export interface MarginAttempt {
  key: string;
  method: string;
  params: Params;
  time: number;
}

/** The fields an AmendOrder changes: total volume, limit/trigger price (price), *-limit price (price2). */
interface AmendChange {
  volume?: number;
  price?: number;
  price2?: number;
  postOnly: boolean;
}

export type MarketEvent = { type: 'advance'; index: number; trades: EmuTrade[] };

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
function krakenId(prefix: 'O' | 'T' | 'L'): string {
  const bytes = randomBytes(16);
  const chars = [...bytes].map((b) => B32[b % 32]).join('');
  return `${prefix}${chars.slice(0, 5)}-${chars.slice(5, 10)}-${chars.slice(10, 16)}`;
}

const DECIMAL = /^\d+(\.\d+)?$/;
const decimalsOf = (s: string): number => (s.includes('.') ? s.split('.')[1]!.length : 0);
const roundTo = (n: number, d: number): number => Number(n.toFixed(d));
const EPS = 1e-9;

// Kraken accepts a long UUID, a 32-hex short UUID, or free text of up to 18 ASCII characters.
const CL_ORD_ID = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32}|[\x21-\x7e]{1,18})$/i;

export interface ExchangeOptions {
  candles: Record<string, Candle[]>;
  startIndex: number;
  halfSpread: number; // fraction of price either side of the replayed close
  now: () => number;
  lockout?: LockoutPolicy;
  /** Caps what a resting limit can fill per candle to this share of the candle's volume (partial fills); default no cap. */
  maxFillShare?: number;
}

export class KrakenExchange {
  readonly pairs: PairDef[] = PAIRS.map((p) => ({ ...p })); // a copy per emulator: statuses can change
  systemStatus: SystemStatus = 'online';
  readonly path: PricePath;
  cursor: number;
  halfSpread: number;
  readonly accounts = new Map<string, Account>();
  readonly orders = new Map<string, EmuOrder>();
  readonly trades: EmuTrade[] = [];
  readonly ledger: LedgerEntry[] = [];
  readonly marginAttempts: MarginAttempt[] = [];
  private readonly listeners: Array<(ev: MarketEvent) => void> = [];
  private tradeSeq = 1;
  private readonly now: () => number;
  private readonly lockout: LockoutPolicy | undefined;
  private readonly maxFillShare: number | undefined;

  constructor(opts: ExchangeOptions) {
    this.now = opts.now;
    this.lockout = opts.lockout;
    if (opts.maxFillShare !== undefined && !(opts.maxFillShare > 0 && opts.maxFillShare <= 1)) throw new Error(`maxFillShare must be in (0, 1], got ${opts.maxFillShare}`);
    this.maxFillShare = opts.maxFillShare;
    this.halfSpread = opts.halfSpread;
    this.path = buildPricePath(opts.candles, this.pairs, opts.startIndex);
    if (opts.startIndex < 0 || opts.startIndex >= this.path.timeline.length) {
      throw new Error(`startIndex ${opts.startIndex} is outside the replay (0..${this.path.timeline.length - 1})`);
    }
    this.cursor = opts.startIndex;
  }

  setPairStatus(name: string, status: PairDef['status']): void {
    this.pair(name).status = status;
  }

  onMarket(fn: (ev: MarketEvent) => void): void {
    this.listeners.push(fn);
  }

  pair(name: string): PairDef {
    const p = findPair(this.pairs, name);
    if (!p) throw new KrakenError('EQuery:Unknown asset pair');
    return p;
  }

  /** The newest `count` candles of a pair up to and including the cursor (the last is the current, open candle). */
  history(p: PairDef, count = Infinity): Candle[] {
    return this.path.series(p.key).slice(Math.max(0, this.cursor + 1 - count), this.cursor + 1);
  }

  candle(p: PairDef, index = this.cursor): Candle {
    return this.path.series(p.key)[index]!;
  }

  last(p: PairDef): number {
    return this.candle(p).close;
  }

  bid(p: PairDef): number {
    return roundTo(this.last(p) * (1 - this.halfSpread), p.pairDecimals);
  }

  ask(p: PairDef): number {
    const a = roundTo(this.last(p) * (1 + this.halfSpread), p.pairDecimals);
    // keep a one-tick spread even when the half-spread rounds away
    return a > this.bid(p) ? a : roundTo(this.bid(p) + 10 ** -p.pairDecimals, p.pairDecimals);
  }

  /** USD value of one unit of a Kraken asset at the cursor. */
  usdPrice(asset: string): number {
    if (asset === 'ZUSD') return 1;
    if (asset === 'ZEUR') return EUR_USD;
    const p = this.pairs.find((x) => x.base === asset && x.quote === 'ZUSD');
    return p ? this.last(p) : 0;
  }

  // ---- accounts ----

  addAccount(init: KeyInit): Account {
    if (this.accounts.has(init.key)) throw new Error(`emulator key ${init.key} already exists`);
    const tier = init.tier ?? 'starter';
    const acc: Account = {
      key: init.key,
      secret: init.secret,
      tier,
      balances: new Map(),
      volume30dUsd: init.volume30dUsd ?? 0,
      tradedUsd: 0,
      lastNonce: null,
      permissions: new Set(init.permissions ?? DEFAULT_PERMISSIONS),
      rest: new RestLimiter(tier, this.now, this.lockout),
      trading: new Map(),
    };
    for (const [asset, amount] of Object.entries(init.balances ?? {})) this.setBalance(acc, asset, amount);
    this.accounts.set(init.key, acc);
    return acc;
  }

  account(key: string): Account {
    const acc = this.accounts.get(key);
    if (!acc) throw new Error(`unknown emulator key ${key}`);
    return acc;
  }

  setBalance(acc: Account, asset: string, amount: number): void {
    const a = findAsset(asset);
    if (!a) throw new Error(`unknown asset ${asset}`);
    acc.balances.set(a.id, amount);
  }

  total(acc: Account, asset: string): number {
    return acc.balances.get(asset) ?? 0;
  }

  held(acc: Account, asset: string): number {
    let h = 0;
    for (const o of this.orders.values()) if (o.key === acc.key && o.hold?.asset === asset) h += o.hold.amount;
    return h;
  }

  free(acc: Account, asset: string): number {
    return this.total(acc, asset) - this.held(acc, asset);
  }

  volumeUsd(acc: Account): number {
    return acc.volume30dUsd + acc.tradedUsd;
  }

  feeRate(acc: Account, p: PairDef, liquidity: 'maker' | 'taker'): number {
    return feeForVolume(liquidity === 'maker' ? p.feesMaker : p.fees, this.volumeUsd(acc)).fee / 100;
  }

  ordersOf(key: string): EmuOrder[] {
    return [...this.orders.values()].filter((o) => o.key === key);
  }

  tradesOf(key: string): EmuTrade[] {
    return this.trades.filter((t) => t.key === key);
  }

  // ---- order entry ----

  private num(v: string | Record<string, string> | undefined, field: string, decimals?: { max: number; pair: PairDef; price: boolean }): number | undefined {
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || !DECIMAL.test(v)) throw new KrakenError(`EGeneral:Invalid arguments:${field}`);
    if (decimals && decimalsOf(v) > decimals.max) {
      throw new KrakenError(
        decimals.price
          ? `EOrder:Invalid price:${decimals.pair.altname} price can only be specified up to ${decimals.max} decimals.`
          : `EGeneral:Invalid arguments:${field}`,
      );
    }
    return Number(v);
  }

  private str(params: Params, field: string): string | undefined {
    const v = params[field];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw new KrakenError('EGeneral:Invalid arguments');
    return v;
  }

  private tradingCounter(acc: Account, p: PairDef): DecayingCounter {
    let c = acc.trading.get(p.key);
    if (!c) {
      const t = TRADING_TIERS[acc.tier];
      c = new DecayingCounter(t.max, t.decayPerSec, this.now);
      acc.trading.set(p.key, c);
    }
    return c;
  }

  /** Adds a transaction's cost to the key's counter for the pair, or refuses it (a refusal adds nothing). */
  private charge(acc: Account, p: PairDef, cost: number): void {
    if (!this.tradingCounter(acc, p).tryAdd(cost)) throw new KrakenError('EOrder:Rate limit exceeded');
  }

  /** The time an order's trading-counter age runs from: its creation or its last amend. */
  private restingSince(o: EmuOrder): number {
    return o.amendtm ?? o.opentm;
  }

  /** What an order reserves while it rests: quote for a buy (incl. the taker fee), base for a sell. */
  private holdFor(acc: Account, o: Pick<EmuOrder, 'side' | 'ordertype' | 'volume' | 'price' | 'price2' | 'pair'>, refPrice: number): { asset: string; amount: number } {
    if (o.side === 'sell') return { asset: o.pair.base, amount: o.volume };
    const px = o.ordertype.endsWith('-limit') ? o.price2! : o.ordertype === 'market' ? refPrice : o.price!;
    return { asset: o.pair.quote, amount: o.volume * px * (1 + this.feeRate(acc, o.pair, 'taker')) };
  }

  /** AddOrder. Returns Kraken's `result`; throws KrakenError for every refusal. */
  addOrder(acc: Account, params: Params): { descr: { order: string; close?: string }; txid?: string[] } {
    if ((params.leverage !== undefined && params.leverage !== 'none') || params.reduce_only === 'true') {
      this.marginAttempts.push({ key: acc.key, method: 'AddOrder', params, time: this.now() });
      throw new KrakenError('EGeneral:Permission denied');
    }
    const pairName = this.str(params, 'pair');
    const side = this.str(params, 'type');
    const ordertype = this.str(params, 'ordertype') as EmuOrderType | undefined;
    if (!pairName || !side || !ordertype || params.volume === undefined) throw new KrakenError('EGeneral:Invalid arguments');
    const p = this.pair(pairName);
    // Kraken applies the fixed count on receipt, "even if the transaction fails validation"; a
    // validate=true dry run places nothing and is left uncounted here.
    if (params.validate !== 'true') this.charge(acc, p, ADD_ORDER_COST);
    if (side !== 'buy' && side !== 'sell') throw new KrakenError('EGeneral:Invalid arguments:type');
    if (!ORDER_TYPES.includes(ordertype)) throw new KrakenError('EGeneral:Invalid arguments:ordertype');

    const oflags = (this.str(params, 'oflags') ?? '').split(',').filter((f) => f !== '');
    for (const f of oflags) if (!OFLAGS.has(f)) throw new KrakenError('EGeneral:Invalid arguments:oflags');
    if (oflags.includes('fcib') && oflags.includes('fciq')) throw new KrakenError('EGeneral:Invalid arguments:oflags');
    const viqc = oflags.includes('viqc');
    if (viqc && !(ordertype === 'market' && side === 'buy')) throw new KrakenError('EGeneral:Invalid arguments:viqc');
    if (oflags.includes('post') && ordertype !== 'limit') throw new KrakenError('EGeneral:Invalid arguments:oflags');

    const userrefRaw = this.str(params, 'userref');
    const clOrdId = this.str(params, 'cl_ord_id') ?? null;
    if (userrefRaw !== undefined && clOrdId !== null) throw new KrakenError('EGeneral:Invalid arguments');
    let userref: number | null = null;
    if (userrefRaw !== undefined) {
      if (!/^-?\d+$/.test(userrefRaw) || Math.abs(Number(userrefRaw)) > 2 ** 31 - 1) throw new KrakenError('EGeneral:Invalid arguments:userref');
      userref = Number(userrefRaw);
    }
    if (clOrdId !== null && !CL_ORD_ID.test(clOrdId)) throw new KrakenError('EGeneral:Invalid arguments:cl_ord_id');
    // Kraken enforces cl_ord_id uniqueness across a client's open orders (exact error text unverified).
    if (clOrdId !== null && this.ordersOf(acc.key).some((o) => o.clOrdId === clOrdId && (o.status === 'open' || o.status === 'pending'))) {
      throw new KrakenError('EOrder:Duplicate order');
    }

    const tifRaw = this.str(params, 'timeinforce') ?? 'GTC';
    if (tifRaw !== 'GTC' && tifRaw !== 'IOC' && tifRaw !== 'GTD') throw new KrakenError('EGeneral:Invalid arguments:timeinforce');

    const volDecimals = viqc ? p.costDecimals : p.lotDecimals;
    const volumeIn = this.num(params.volume, 'volume', { max: volDecimals, pair: p, price: false })!;
    const priceDec = { max: p.pairDecimals, pair: p, price: true };
    const price = this.num(params.price, 'price', priceDec);
    const price2 = this.num(params.price2, 'price2', priceDec);
    if (ordertype !== 'market' && price === undefined) throw new KrakenError('EGeneral:Invalid arguments:price');
    if (ordertype.endsWith('-limit') && price2 === undefined) throw new KrakenError('EGeneral:Invalid arguments:price2');

    let close: CloseSpec | undefined;
    if (params.close !== undefined) {
      const c = params.close;
      if (typeof c !== 'object') throw new KrakenError('EGeneral:Invalid arguments:close');
      const ct = c.ordertype as EmuOrderType | undefined;
      if (!ct || !CLOSE_TYPES.includes(ct)) throw new KrakenError('EGeneral:Invalid arguments:close[ordertype]');
      const cp = this.num(c.price, 'close[price]', priceDec);
      const cp2 = this.num(c.price2, 'close[price2]', priceDec);
      if (cp === undefined) throw new KrakenError('EGeneral:Invalid arguments:close[price]');
      if (ct.endsWith('-limit') && cp2 === undefined) throw new KrakenError('EGeneral:Invalid arguments:close[price2]');
      close = { ordertype: ct, price: cp, ...(cp2 !== undefined ? { price2: cp2 } : {}) };
    }

    if (this.systemStatus === 'cancel_only') throw new KrakenError('EService:Market in cancel_only mode');
    if (this.systemStatus === 'post_only' && !oflags.includes('post')) throw new KrakenError('EService:Market in post_only mode');
    if (p.status === 'cancel_only') throw new KrakenError('EService:Market in cancel_only mode');
    if (p.status === 'post_only' && !oflags.includes('post')) throw new KrakenError('EService:Market in post_only mode');
    if (p.status === 'limit_only' && ordertype !== 'limit') throw new KrakenError('EService:Market in limit_only mode');

    const refPrice = side === 'buy' ? this.ask(p) : this.bid(p);
    const volume = viqc ? roundTo(volumeIn / refPrice, p.lotDecimals) : volumeIn;
    if (volume + EPS < Number(p.ordermin)) throw new KrakenError('EOrder:Order minimum not met');
    const costPrice = ordertype === 'market' ? refPrice : ordertype.endsWith('-limit') ? price2! : price!;
    if (volume * costPrice + EPS < Number(p.costmin)) throw new KrakenError('EOrder:Cost minimum not met');

    const draft = { side, ordertype, volume, price, price2, pair: p } as const;
    const hold = this.holdFor(acc, draft, refPrice);
    if (hold.amount > this.free(acc, hold.asset) + EPS) throw new KrakenError('EOrder:Insufficient funds');

    const descr = { order: describeOrder(draft), ...(close ? { close: describeClose(close, p) } : {}) };
    if (params.validate === 'true') return { descr };

    const o: EmuOrder = {
      txid: krakenId('O'),
      key: acc.key,
      pair: p,
      side,
      ordertype,
      volume,
      ...(price !== undefined ? { price } : {}),
      ...(price2 !== undefined ? { price2 } : {}),
      oflags: oflags.filter((f) => f !== 'viqc').concat(oflags.includes('fcib') ? [] : ['fciq']),
      timeinforce: tifRaw,
      userref,
      clOrdId,
      refid: null,
      status: 'open',
      reason: null,
      opentm: this.now(),
      closetm: null,
      amendtm: null,
      volExec: 0,
      cost: 0,
      fee: 0,
      trades: [],
      ...(close ? { close } : {}),
      hold: ordertype === 'market' ? null : hold,
      triggered: false,
    };
    this.orders.set(o.txid, o);
    this.onPlaced(o);
    return { descr, txid: [o.txid] };
  }

  /** Immediate execution at placement: market orders, marketable limits, already-triggered stops. */
  private onPlaced(o: EmuOrder): void {
    if (o.ordertype === 'market') {
      this.fill(o, o.side === 'buy' ? this.ask(o.pair) : this.bid(o.pair), false);
      return;
    }
    if (o.ordertype === 'limit' && this.marketable(o) && o.oflags.includes('post')) return this.finish(o, 'canceled', 'Post only order');
    this.executeIfMarketable(o);
    if (o.status === 'open' && o.ordertype === 'limit' && o.timeinforce === 'IOC') this.finish(o, 'canceled', 'Immediate or cancel');
  }

  /** Would this resting limit (a limit, or a triggered *-limit at price2) take liquidity at the current spread? */
  private marketable(o: EmuOrder): boolean {
    const lim = o.ordertype === 'limit' ? o.price! : o.price2!;
    return o.side === 'buy' ? lim >= this.ask(o.pair) : lim <= this.bid(o.pair);
  }

  /** A resting order that the current price already reaches executes now (after placement or an amend). */
  private executeIfMarketable(o: EmuOrder): void {
    const buy = o.side === 'buy';
    const taker = buy ? this.ask(o.pair) : this.bid(o.pair);
    if (o.ordertype === 'limit' || o.triggered) {
      if (this.marketable(o)) this.fill(o, taker, false);
      return;
    }
    const last = this.last(o.pair);
    if (triggerHit(o, last, last)) this.trigger(o, taker);
  }

  /** A stop / take-profit fires: a market order executes; a *-limit becomes a limit at price2. */
  private trigger(o: EmuOrder, execPrice: number): void {
    if (!o.ordertype.endsWith('-limit')) {
      this.fill(o, execPrice, false);
      return;
    }
    o.triggered = true;
    const marketable = o.side === 'buy' ? o.price2! >= execPrice : o.price2! <= execPrice;
    if (marketable) this.fill(o, execPrice, false);
  }

  private finish(o: EmuOrder, status: 'closed' | 'canceled' | 'expired', reason: string | null): void {
    o.status = status;
    o.reason = reason;
    o.closetm = this.now();
    o.hold = null;
  }

  /** Fills the remaining volume (up to `maxVol`) at `price`; pays the fee in quote (or base with fcib). */
  private fill(o: EmuOrder, price: number, maker: boolean, maxVol = Infinity): EmuTrade | null {
    const acc = this.account(o.key);
    const p = o.pair;
    const remaining = o.volume - o.volExec;
    const vol = maxVol >= remaining ? remaining : Math.floor(maxVol * 10 ** p.lotDecimals) / 10 ** p.lotDecimals;
    if (vol <= 0) return null;
    const cost = roundTo(vol * price, p.costDecimals);
    const fee = roundTo(cost * this.feeRate(acc, p, maker ? 'maker' : 'taker'), p.costDecimals);
    const feeInBase = o.oflags.includes('fcib');
    o.hold = null; // released first, so the checks below see this order's own reservation as free
    const base = this.total(acc, p.base);
    const quote = this.total(acc, p.quote);
    if (o.side === 'buy') {
      const spend = cost + (feeInBase ? 0 : fee);
      if (spend > this.free(acc, p.quote) + EPS) {
        this.finish(o, 'canceled', 'Insufficient funds');
        return null;
      }
      acc.balances.set(p.quote, quote - spend);
      acc.balances.set(p.base, base + vol - (feeInBase ? fee / price : 0));
    } else {
      const give = vol + (feeInBase ? fee / price : 0);
      if (give > this.free(acc, p.base) + EPS) {
        this.finish(o, 'canceled', 'Insufficient funds');
        return null;
      }
      acc.balances.set(p.base, base - give);
      acc.balances.set(p.quote, quote + cost - (feeInBase ? 0 : fee));
    }
    const t: EmuTrade = {
      id: krakenId('T'),
      tradeId: this.tradeSeq++,
      ordertxid: o.txid,
      postxid: krakenId('T'),
      key: o.key,
      pair: p,
      time: this.now(),
      side: o.side,
      ordertype: o.ordertype,
      price,
      vol,
      cost,
      fee,
      maker,
    };
    this.trades.push(t);
    const feeAsset = feeInBase ? p.base : p.quote;
    for (const asset of [p.base, p.quote]) {
      const after = this.total(acc, asset);
      const before = asset === p.base ? base : quote;
      // Kraken's ledger amount excludes the fee: balance = before + amount - fee
      const feeHere = asset !== feeAsset ? 0 : feeInBase ? fee / price : fee;
      this.ledger.push({ id: krakenId('L'), refid: t.id, key: o.key, time: t.time, type: 'trade', asset, amount: after - before + feeHere, fee: feeHere, balance: after });
    }
    acc.tradedUsd += cost * this.usdPrice(p.quote);
    o.volExec += vol;
    o.cost += cost;
    o.fee += fee;
    o.trades.push(t.id);
    if (vol < remaining) o.hold = this.holdFor(acc, { ...o, volume: o.volume - o.volExec }, price); // partial: stays open
    else this.finish(o, 'closed', null);
    // Kraken arms the conditional close for each executed quantity.
    if (o.close) this.spawnClose(o, acc, vol);
    return t;
  }

  /** The entry (partly) filled: its conditional close becomes a live order for the filled volume. */
  private spawnClose(entry: EmuOrder, acc: Account, volume: number): void {
    const c = entry.close!;
    const draft = {
      side: entry.side === 'buy' ? ('sell' as const) : ('buy' as const),
      ordertype: c.ordertype,
      volume,
      price: c.price,
      ...(c.price2 !== undefined ? { price2: c.price2 } : {}),
      pair: entry.pair,
    };
    const o: EmuOrder = {
      ...draft,
      txid: krakenId('O'),
      key: acc.key,
      oflags: ['fciq'],
      timeinforce: 'GTC',
      userref: entry.userref,
      clOrdId: null,
      refid: entry.txid,
      status: 'open',
      reason: null,
      opentm: this.now(),
      closetm: null,
      amendtm: null,
      volExec: 0,
      cost: 0,
      fee: 0,
      trades: [],
      hold: null,
      triggered: false,
    };
    const hold = this.holdFor(acc, o, draft.price);
    this.orders.set(o.txid, o);
    if (hold.amount > this.free(acc, hold.asset) + EPS) return this.finish(o, 'canceled', 'Insufficient funds');
    o.hold = hold;
  }

  // ---- cancel ----

  private findOpen(acc: Account, id: string): EmuOrder[] {
    const open = this.ordersOf(acc.key).filter((o) => o.status === 'open' || o.status === 'pending');
    if (/^-?\d+$/.test(id)) return open.filter((o) => o.userref === Number(id));
    return open.filter((o) => o.txid === id || o.clOrdId === id);
  }

  cancelOrder(acc: Account, params: Params): { count: number } {
    const id = this.str(params, 'cl_ord_id') ?? this.str(params, 'txid');
    if (id === undefined) throw new KrakenError('EGeneral:Invalid arguments');
    const hits = this.findOpen(acc, id);
    if (hits.length === 0) throw new KrakenError('EOrder:Unknown order');
    this.chargeCancels(acc, hits);
    for (const o of hits) this.finish(o, 'canceled', 'User requested');
    return { count: hits.length };
  }

  /**
   * Charges the cancel penalties of `hits` (by age since creation or last amend), per pair, all or
   * nothing: a refused cancel (one userref can match orders on several pairs) leaves no counter charged.
   */
  private chargeCancels(acc: Account, hits: EmuOrder[]): void {
    const byPair = new Map<PairDef, number>();
    for (const o of hits) byPair.set(o.pair, (byPair.get(o.pair) ?? 0) + cancelPenalty(this.now() - this.restingSince(o)));
    const fits = ([p, cost]: [PairDef, number]) => this.tradingCounter(acc, p).level() + cost <= this.tradingCounter(acc, p).max;
    if (![...byPair].every(fits)) throw new KrakenError('EOrder:Rate limit exceeded');
    for (const [p, cost] of byPair) this.charge(acc, p, cost);
  }

  // ---- amend ----

  /**
   * AmendOrder (Kraken's atomic amend): changes an open order in place, keeping its txid, cl_ord_id
   * and fills. Returns Kraken's `result`; throws KrakenError for every refusal.
   */
  amendOrder(acc: Account, params: Params): { amend_id: string } {
    const o = this.amendTarget(acc, params);
    // Fixed +1 plus the decaying count, applied on receipt even if the amend then fails validation.
    this.charge(acc, o.pair, amendCost(this.now() - this.restingSince(o)));
    const change = this.parseAmend(o, params);
    const volume = change.volume ?? o.volume;
    // "If an amend request will reduce the order quantity below the existing filled quantity, the
    // remaining quantity will be cancelled."
    if (change.volume !== undefined && o.volExec > 0 && volume <= o.volExec + EPS) {
      this.finish(o, 'canceled', 'User requested');
      return { amend_id: krakenId('T') };
    }
    const next = { ...o, volume, price: change.price ?? o.price, price2: change.price2 ?? o.price2 };
    this.checkAmendable(next, change.postOnly);
    const hold = this.holdFor(acc, { ...next, volume: volume - o.volExec }, next.price ?? this.last(o.pair));
    // The order's own reservation is released by the amend, so it counts as available.
    const available = this.free(acc, hold.asset) + (o.hold?.asset === hold.asset ? o.hold.amount : 0);
    if (hold.amount > available + EPS) throw new KrakenError('EOrder:Insufficient funds');
    o.volume = volume;
    if (next.price !== undefined) o.price = next.price;
    if (next.price2 !== undefined) o.price2 = next.price2;
    o.hold = hold;
    o.amendtm = this.now();
    this.executeIfMarketable(o); // an amended price the market already reaches executes now
    return { amend_id: krakenId('T') };
  }

  /** Exactly one of txid / cl_ord_id, naming an open order of this key. */
  private amendTarget(acc: Account, params: Params): EmuOrder {
    const txid = this.str(params, 'txid');
    const clOrdId = this.str(params, 'cl_ord_id');
    if ((txid === undefined) === (clOrdId === undefined)) throw new KrakenError('EGeneral:Invalid arguments');
    const o = txid !== undefined ? this.orders.get(txid) : this.ordersOf(acc.key).find((x) => x.clOrdId === clOrdId && x.status === 'open');
    // Only open orders can be amended: closed, cancelled and other keys' orders are unknown here.
    if (!o || o.key !== acc.key || o.status !== 'open') throw new KrakenError('EOrder:Unknown order');
    return o;
  }

  /** Reads the amendable fields with AddOrder's precision rules and error strings. */
  private parseAmend(o: EmuOrder, params: Params): AmendChange {
    const p = o.pair;
    // The emulator has no iceberg orders, and display_qty is for iceberg orders only.
    if (params.display_qty !== undefined) throw new KrakenError('EGeneral:Invalid arguments:display_qty');
    const priceDec = { max: p.pairDecimals, pair: p, price: true };
    const volume = this.num(params.order_qty, 'volume', { max: p.lotDecimals, pair: p, price: false });
    const limit = this.num(params.limit_price, 'limit_price', priceDec);
    const trigger = this.num(params.trigger_price, 'trigger_price', priceDec);
    const postOnly = this.str(params, 'post_only');
    if (postOnly !== undefined && postOnly !== 'true' && postOnly !== 'false') throw new KrakenError('EGeneral:Invalid arguments:post_only');
    if (volume === undefined && limit === undefined && trigger === undefined) throw new KrakenError('EGeneral:Invalid arguments');
    if (volume !== undefined && volume <= 0) throw new KrakenError('EGeneral:Invalid arguments:volume');
    // limit_price only where the type has one; trigger_price only on triggered types not yet triggered.
    if (limit !== undefined && (limit <= 0 || !(o.ordertype === 'limit' || o.ordertype.endsWith('-limit')))) throw new KrakenError('EGeneral:Invalid arguments:limit_price');
    if (trigger !== undefined && (trigger <= 0 || o.ordertype === 'limit' || o.ordertype === 'market' || o.triggered)) {
      throw new KrakenError('EGeneral:Invalid arguments:trigger_price');
    }
    const isLimitPrice2 = o.ordertype.endsWith('-limit');
    return {
      ...(volume !== undefined ? { volume } : {}),
      ...(trigger !== undefined ? { price: trigger } : limit !== undefined && !isLimitPrice2 ? { price: limit } : {}),
      ...(limit !== undefined && isLimitPrice2 ? { price2: limit } : {}),
      postOnly: postOnly === 'true' || o.oflags.includes('post'),
    };
  }

  /** Market state, AddOrder's minimums and post-only, applied to the order as it would be after the amend. */
  private checkAmendable(next: EmuOrder, postOnly: boolean): void {
    const p = next.pair;
    if (this.systemStatus === 'cancel_only' || p.status === 'cancel_only') throw new KrakenError('EService:Market in cancel_only mode');
    if (next.volume + EPS < Number(p.ordermin)) throw new KrakenError('EOrder:Order minimum not met');
    const costPrice = next.ordertype.endsWith('-limit') ? next.price2! : next.price!;
    if (next.volume * costPrice + EPS < Number(p.costmin)) throw new KrakenError('EOrder:Cost minimum not met');
    const resting = next.ordertype === 'limit' || next.triggered;
    const postOnlyMarket = this.systemStatus === 'post_only' || p.status === 'post_only';
    // A post-only amend is refused when its price would take liquidity (exact Kraken text unverified).
    if ((postOnly || postOnlyMarket) && resting && this.marketable(next)) throw new KrakenError('EOrder:Post only order');
  }

  cancelAll(acc: Account): { count: number } {
    const open = this.ordersOf(acc.key).filter((o) => o.status === 'open' || o.status === 'pending');
    for (const o of open) this.finish(o, 'canceled', 'User requested');
    return { count: open.length };
  }

  // ---- replay ----

  /** Moves the cursor `n` candles, matching resting orders against each new candle. */
  advance(n = 1): EmuTrade[] {
    if (!Number.isInteger(n) || n < 1) throw new Error(`advance(n) needs a positive integer, got ${n}`);
    const all: EmuTrade[] = [];
    for (let k = 0; k < n; k++) {
      if (this.cursor + 1 >= this.path.timeline.length) throw new Error('the replay has no more candles');
      this.cursor++;
      const before = this.trades.length;
      const resting = new Set([...this.orders.values()].filter((o) => o.status === 'open').map((o) => o.pair));
      for (const p of this.pairs) if (resting.has(p)) this.matchCandle(p, this.candle(p));
      const fresh = this.trades.slice(before);
      all.push(...fresh);
      for (const fn of this.listeners) fn({ type: 'advance', index: this.cursor, trades: fresh });
    }
    return all;
  }

  private matchCandle(p: PairDef, c: Candle): void {
    const hs = this.halfSpread;
    // Stops first: when a candle touches both a stop and a take-profit, assume the worse came first.
    const open = [...this.orders.values()]
      .filter((o) => o.pair === p && o.status === 'open')
      .sort((a, b) => rank(a) - rank(b) || a.opentm - b.opentm);
    for (const o of open) {
      if (o.status !== 'open') continue;
      const buy = o.side === 'buy';
      const restingLimit = o.ordertype === 'limit' || o.triggered;
      if (restingLimit) {
        const lim = o.ordertype === 'limit' ? o.price! : o.price2!;
        if (buy ? c.low <= lim : c.high >= lim) this.fill(o, lim, true, this.maxFillShare === undefined ? Infinity : this.maxFillShare * c.volume);
        continue;
      }
      if (!triggerHit(o, c.low, c.high)) continue;
      const trig = o.price!;
      const raw = worseOf(o, trig, c.open);
      const exec = roundTo(buy ? raw * (1 + hs) : raw * (1 - hs), p.pairDecimals);
      this.trigger(o, exec);
    }
  }
}

const rank = (o: EmuOrder): number => (o.ordertype.startsWith('stop-loss') && !o.triggered ? 0 : 1);

/** Has the trigger of a stop / take-profit been reached within [low, high]? */
function triggerHit(o: EmuOrder, low: number, high: number): boolean {
  const trig = o.price!;
  const stop = o.ordertype.startsWith('stop-loss');
  const buy = o.side === 'buy';
  // A sell stop fires on the way down, a buy stop on the way up; take-profits the other way round.
  return stop === !buy ? low <= trig : high >= trig;
}

/** The execution reference of a triggered order: the trigger price, or the open if the candle gapped through it. */
function worseOf(o: EmuOrder, trig: number, open: number): number {
  const stop = o.ordertype.startsWith('stop-loss');
  const buy = o.side === 'buy';
  if (stop) return buy ? Math.max(trig, open) : Math.min(trig, open);
  return buy ? Math.min(trig, open) : Math.max(trig, open);
}

const fmtPrice = (n: number, p: PairDef): string => n.toFixed(p.pairDecimals);

export function describeOrder(o: { side: string; ordertype: EmuOrderType; volume: number; price?: number | undefined; price2?: number | undefined; pair: PairDef }): string {
  const head = `${o.side} ${o.volume.toFixed(o.pair.lotDecimals)} ${o.pair.altname} @ `;
  return head + describeType(o.ordertype, o.price, o.price2, o.pair);
}

function describeType(t: EmuOrderType, price: number | undefined, price2: number | undefined, p: PairDef): string {
  switch (t) {
    case 'market':
      return 'market';
    case 'limit':
      return `limit ${fmtPrice(price!, p)}`;
    case 'stop-loss':
      return `stop loss ${fmtPrice(price!, p)}`;
    case 'take-profit':
      return `take profit ${fmtPrice(price!, p)}`;
    case 'stop-loss-limit':
      return `stop loss ${fmtPrice(price!, p)} -> limit ${fmtPrice(price2!, p)}`;
    case 'take-profit-limit':
      return `take profit ${fmtPrice(price!, p)} -> limit ${fmtPrice(price2!, p)}`;
  }
}

export function describeClose(c: CloseSpec, p: PairDef): string {
  return `close position @ ${describeType(c.ordertype, c.price, c.price2, p)}`;
}
