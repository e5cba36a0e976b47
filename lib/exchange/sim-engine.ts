import { closeTime, type Candle } from '../market/candle.ts';
import { minimumViolation, roundDown, roundNearest, roundPrice, roundUp } from './precision.ts';
import {
  DEFAULT_SLIPPAGE,
  type Quote,
  type SimConfig,
  type SimFill,
  type SimInitial,
  type SimOrder,
  type SimBar,
  type SimPosition,
  type SimState,
  type SlippageConfig,
} from './sim-types.ts';
import type { AmendChange, AmendResult, Balances, BrokerOrder, MarketSpec, OrderRequest, OrderType, Side, SubmitResult } from './types.ts';
import { acceptsEntries, acceptsExits, assertUsdSpot } from './universe.ts';

/**
 * The synchronous simulation core: one account's orders, fills, balances and positions over a plain
 * SimState that it mutates in place (no per-step copies: a backtest pushes tens of thousands of bars a
 * second through it). SimBroker wraps it with persistence and the async Broker interface.
 *
 * Matching model (all prices rounded to the pair's tick against the trader, amounts to lot decimals):
 * - market orders fill on submit at ask/bid × (1 ± impact); what exceeds maxVolumeShare of the last
 *   bar's volume stays open and fills on later bars at their open ± half-spread ± impact;
 * - limit orders that are marketable on submit fill as taker, capped at their limit; resting ones
 *   fill at their limit as maker when a bar trades through it (low < buy limit, high > sell limit);
 * - stop-loss/take-profit trigger on the bar's low/high (or on submit against the last price), fill
 *   like a market order from the trigger price, or from the open when the bar gapped through it;
 *   a stop (not a take-profit) gives up, before spread and impact, `stopPenetration` of the bar's run
 *   beyond that price (to its low for a sell stop, its high for a buy stop; see SlippageConfig): a
 *   stop fills worse the further the bar went through it, and at or below the open on a gap down;
 *   *-limit variants turn into a limit at price2, never filled beyond it;
 * - inside one bar: market remainders first, then stops, then take-profits and limits (the
 *   conservative rule: when a bar touches both the stop and the take-profit, the stop fills first);
 *   a stop attached to an entry that fills in this bar may trigger in the same bar, a take-profit not;
 * - orders only match bars that open at or after their creation, or their last amend (no look-ahead).
 *
 * Funds, as Kraken holds them: an open buy holds remaining × (limit, or expected execution price) ×
 * (1 + taker fee) of USD, and every open sell holds its own remaining base — stops, take-profits,
 * attached closes and reduce-only exits alike; none shares another's hold. A submit or an amend that
 * does not fit next to the existing holds is rejected (INSUFFICIENT_FUNDS), so a second stop, or a
 * take-profit next to a stop, for coins another order already holds is refused exactly as Kraken
 * refuses it (spot has no one-cancels-other: the cycle enforces its take-profit itself, and moves a
 * stop by amending it). Because open sells never hold more than the balance, a sell fill can never
 * leave another sell without coins. No fill ever spends cash another order holds: when the price has
 * run away from a resting buy's reservation, it fills what the cash still covers and the rest is
 * cancelled (INSUFFICIENT_FUNDS).
 *
 * Exits: an attached close (`OrderRequest.close`) becomes a live reduce-only order for the amount its
 * entry has filled, growing with later fills of the entry. Spot positions are long only: attached
 * closes go on buy entries, reduce-only buys are refused.
 *
 * Amends (Kraken AmendOrder): an open order keeps its id, client id, fills and parent link; its
 * amount (new total), limit or trigger price, or *-limit price change in place, checked like a
 * submit (precision, minimums, post-only, market status, funds next to the other holds).
 */

const STOP_TYPES: ReadonlySet<OrderType> = new Set(['stop-loss', 'stop-loss-limit']);
const TP_TYPES: ReadonlySet<OrderType> = new Set(['take-profit', 'take-profit-limit']);
const isTrigger = (t: OrderType): boolean => STOP_TYPES.has(t) || TP_TYPES.has(t);
const isLimitVariant = (t: OrderType): boolean => t === 'limit' || t === 'stop-loss-limit' || t === 'take-profit-limit';

const reject = (code: string, reason: string): SubmitResult => ({ status: 'rejected', code, reason });

const emptyPosition = (pair: string): SimPosition => ({
  pair,
  qty: 0,
  avgEntryPrice: 0,
  costBasis: 0,
  realizedPnl: 0,
  fees: 0,
});

/** A fresh state with opening balances; every non-USD balance of a known base opens a position at its cost basis. */
export function createSimState(initial: SimInitial, markets: readonly MarketSpec[]): SimState {
  const state: SimState = {
    schema: 1,
    version: 0,
    balances: {},
    holds: {},
    orders: {},
    openOrderIds: [],
    clientIds: {},
    fills: [],
    positions: {},
    bars: {},
    quotes: {},
    seq: { order: 0, fill: 0 },
  };
  for (const [asset, amount] of Object.entries(initial.balances)) {
    if (!Number.isFinite(amount) || amount < 0) throw new RangeError(`opening balance of ${asset} must be ≥ 0, got ${amount}`);
    const spec = markets.find((m) => m.base === asset);
    const total = spec === undefined ? amount : roundDown(amount, spec.amountPrecision);
    state.balances[asset] = total;
    if (spec !== undefined && total > 0) {
      const basis = initial.costBasis?.[asset];
      if (basis === undefined || !Number.isFinite(basis) || basis < 0) {
        throw new RangeError(`opening ${asset} balance needs a cost basis (USD per unit) to open its ${spec.symbol} position`);
      }
      state.positions[spec.symbol] = { ...emptyPosition(spec.symbol), qty: total, avgEntryPrice: basis, costBasis: total * basis };
    }
  }
  return state;
}

export class SimEngine {
  private readonly markets = new Map<string, MarketSpec>();
  private readonly slip: SlippageConfig;
  /** Set by every mutation; SimBroker persists only when it is set. */
  dirty = false;
  /** Fills are appended at non-decreasing times unless a bar is consumed after a later submit. */
  private fillsInTimeOrder: boolean;

  private constructor(
    private readonly state: SimState,
    private readonly config: SimConfig,
  ) {
    for (const m of config.markets) this.markets.set(m.symbol, assertUsdSpot(m.symbol, config.markets));
    this.slip = { ...DEFAULT_SLIPPAGE, ...config.slippage };
    this.fillsInTimeOrder = state.fills.every((f, i) => i === 0 || f.time >= (state.fills[i - 1] as SimFill).time);
    if (!(this.slip.maxVolumeShare > 0 && this.slip.maxVolumeShare <= 1)) throw new RangeError('maxVolumeShare must be in (0, 1]');
    if (this.slip.halfSpread < 0 || this.slip.impactK < 0 || this.slip.maxImpact < 0) throw new RangeError('slippage parameters must be ≥ 0');
    if (!(this.slip.stopPenetration >= 0 && this.slip.stopPenetration <= 1)) throw new RangeError('stopPenetration must be in [0, 1]');
  }

  static create(initial: SimInitial, config: SimConfig): SimEngine {
    return new SimEngine(createSimState(initial, config.markets), config);
  }

  /** Continues from a saved state. Takes ownership of `state` (it is mutated from now on). */
  static restore(state: SimState, config: SimConfig): SimEngine {
    if (state.schema !== 1) throw new Error(`unsupported sim state schema ${String(state.schema)}`);
    return new SimEngine(state, config);
  }

  /** A deep copy of the state, safe to serialise or keep while the engine runs on. */
  snapshot(): SimState {
    return structuredClone(this.state);
  }

  get version(): number {
    return this.state.version;
  }

  /** Called by the persistence layer after a successful save. */
  bumpVersion(): number {
    this.state.version += 1;
    return this.state.version;
  }

  // ---------------------------------------------------------------- reads

  balances(): Balances {
    // Every asset with a balance or a hold, balances' assets first (no intermediate arrays: a backtest reads this several times a bar).
    const out: Balances = {};
    const { balances, holds } = this.state;
    for (const asset in balances) {
      if (!Object.hasOwn(balances, asset)) continue;
      const total = balances[asset] ?? 0;
      const hold = holds[asset] ?? 0;
      out[asset] = { total, hold, free: total - hold };
    }
    for (const asset in holds) {
      if (!Object.hasOwn(holds, asset) || Object.hasOwn(out, asset)) continue;
      const total = balances[asset] ?? 0;
      const hold = holds[asset] ?? 0;
      out[asset] = { total, hold, free: total - hold };
    }
    return out;
  }

  openOrders(): BrokerOrder[] {
    const out: BrokerOrder[] = [];
    for (const id of this.state.openOrderIds) out.push(this.view(this.mustOrder(id)));
    return out;
  }

  order(orderId: string): BrokerOrder | null {
    const o = this.state.orders[orderId];
    return o === undefined ? null : this.view(o);
  }

  /** The full engine record (price2, parent/child links, engine reason) of an order. */
  orderDetail(orderId: string): SimOrder | null {
    const o = this.state.orders[orderId];
    return o === undefined ? null : structuredClone(o);
  }

  orderByClientId(clientId: string): BrokerOrder | null {
    const id = this.state.clientIds[clientId];
    return id === undefined ? null : this.order(id);
  }

  /** Fills at or after `since` (epoch ms), in execution order. */
  fills(since = Number.NEGATIVE_INFINITY): SimFill[] {
    const all = this.state.fills;
    if (!this.fillsInTimeOrder) return all.filter((f) => f.time >= since).map((f) => ({ ...f }));
    // A backtest asks every step for the newest fills: binary search instead of a scan of all of them.
    let lo = 0;
    let hi = all.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((all[mid] as SimFill).time < since) lo = mid + 1;
      else hi = mid;
    }
    return copiesFrom(all, lo);
  }

  position(pair: string): SimPosition {
    const p = this.state.positions[pair];
    return p === undefined ? emptyPosition(pair) : { ...p };
  }

  positions(): SimPosition[] {
    return Object.values(this.state.positions).map((p) => ({ ...p }));
  }

  lastBarOpenTime(pair: string): number | null {
    return this.state.bars[pair]?.openTime ?? null;
  }

  // ---------------------------------------------------------------- commands

  /** Latest quote for a pair; market orders fill against it. */
  setQuote(pair: string, quote: Quote): void {
    assertQuote(pair, quote);
    this.state.quotes[pair] = { ...quote };
    this.dirty = true;
  }

  /**
   * Places an order. The same clientId twice returns the first order, whatever the second request
   * says. `quote` (if given) becomes the pair's latest quote; otherwise the last one is used.
   */
  submit(req: OrderRequest, now: number, quote?: Quote): SubmitResult {
    const existingId = this.state.clientIds[req.clientId];
    if (existingId !== undefined) return { status: 'accepted', order: this.view(this.mustOrder(existingId)) };

    const spec = this.markets.get(req.pair);
    if (spec === undefined) return reject('NOT_SPOT_USD', `${req.pair} is not a USD spot market of this simulation`);
    const invalid = validateRequest(req);
    if (invalid !== null) return reject('INVALID_ORDER', invalid);
    if (quote !== undefined) assertQuote(req.pair, quote);
    const q = quote ?? this.state.quotes[req.pair]; // stored only if the order is accepted

    const statusProblem = this.statusProblem(spec, req);
    if (statusProblem !== null) return reject('MARKET_NOT_TRADABLE', statusProblem);
    if (req.reduceOnly === true && req.side === 'buy') {
      return reject('REDUCE_ONLY_WOULD_INCREASE', 'a spot buy never reduces a position');
    }

    const amount = roundDown(req.amount, spec.amountPrecision);
    const price = req.type === 'market' ? null : this.roundOrderPrice(req.type, req.price as number, spec, req.side);
    const price2 = req.price2 === undefined || !isLimitVariant(req.type) ? null : roundPrice(req.price2, spec.pricePrecision, req.side);
    const refPrice = req.type === 'market' ? (q === undefined ? null : req.side === 'buy' ? q.ask : q.bid) : (price2 ?? price);
    if (refPrice === null) return reject('NO_MARKET_DATA', `no quote for ${req.pair}: a market order has nothing to fill against`);
    const below = minimumViolation(spec, amount, refPrice);
    if (below !== null) return reject('BELOW_EXCHANGE_MINIMUM', below);

    if (req.postOnly === true && q !== undefined && price !== null) {
      const wouldTake = req.side === 'buy' ? price >= q.ask : price <= q.bid;
      if (wouldTake) return reject('POST_ONLY_WOULD_TAKE', `post-only ${req.side} at ${price} would take liquidity (bid ${q.bid}, ask ${q.ask})`);
    }

    const order: SimOrder = {
      id: '', // assigned on acceptance, so that rejections do not consume ids
      clientId: req.clientId,
      pair: req.pair,
      side: req.side,
      type: req.type,
      amount,
      price,
      status: 'open',
      filled: 0,
      avgPrice: null,
      fee: 0,
      createdAt: now,
      price2,
      postOnly: req.postOnly === true,
      reduceOnly: req.reduceOnly === true,
      close: req.close === undefined ? null : { ...req.close },
      parentId: null,
      childId: null,
      triggered: false,
      holdPrice: 0,
      updatedAt: now,
      reason: null,
    };
    if (order.side === 'buy') order.holdPrice = this.buyHoldPrice(order, spec, q);

    const shortfall = this.fundsShortfall(order, spec);
    if (shortfall !== null) return reject('INSUFFICIENT_FUNDS', shortfall);

    this.state.seq.order += 1;
    order.id = `SIM-O${String(this.state.seq.order).padStart(7, '0')}`;
    this.state.orders[order.id] = order;
    this.state.openOrderIds.push(order.id);
    this.state.clientIds[req.clientId] = order.id;
    if (quote !== undefined) this.state.quotes[req.pair] = { ...quote };
    this.dirty = true;
    this.recomputeHolds();

    if (q !== undefined) this.executeOnSubmit(order, spec, q, now);
    return { status: 'accepted', order: this.view(order) };
  }

  /** Cancels an open order: true when it was open, false when it was already final. Unknown ids throw. */
  cancel(orderId: string, now: number, reason: string | null = null): boolean {
    const o = this.state.orders[orderId];
    if (o === undefined) throw new Error(`unknown sim order ${orderId}`);
    if (o.status !== 'open') return false;
    this.finish(o, 'canceled', now, reason);
    this.recomputeHolds();
    return true;
  }

  /**
   * Changes an open order in place, as Kraken's AmendOrder does: id, client id, fills and the parent
   * link of an attached close stay; `price` is the limit of a limit order and the trigger of a
   * stop-loss / take-profit (not once triggered), `price2` the limit of a *-limit order, `amount` the
   * new total quantity. An amount at or below what has filled closes the order (the rest is
   * cancelled). Otherwise the amended order is checked like a submit — rounded to the pair's
   * precision, against its minimums, post-only and market status, and against the funds the other
   * open orders leave (raising a buy's amount or limit, or a sell's amount, needs them) — and a
   * price the market already reaches executes at once. Refusals are values and change nothing.
   */
  amend(orderId: string, change: AmendChange, now: number): AmendResult {
    const o = this.state.orders[orderId];
    if (o === undefined) return refuseAmend('UNKNOWN_ORDER', `no sim order ${orderId}`);
    if (o.status !== 'open') return refuseAmend('ORDER_NOT_OPEN', `${orderId} is ${o.status}: only open orders can be amended`);
    const spec = this.markets.get(o.pair) as MarketSpec;
    const invalid = validateAmend(o, change);
    if (invalid !== null) return refuseAmend('INVALID_ORDER', invalid);

    const amount = change.amount === undefined ? o.amount : roundDown(change.amount, spec.amountPrecision);
    const before = `amount ${o.amount}, price ${o.price ?? '-'}${o.price2 === null ? '' : `, price2 ${o.price2}`}`;
    if (change.amount !== undefined && o.filled > 0 && amount <= o.filled) {
      // Kraken: a quantity at or below the filled one cancels the rest; the order is done at what it
      // filled. That is a cancel, which every market status allows.
      o.amount = o.filled;
      this.finish(o, 'closed', now, `amended to amount ${amount} ≤ filled ${o.filled}: closed, the rest cancelled (was ${before})`);
      this.recomputeHolds();
      return { status: 'amended', order: this.view(o) };
    }
    if (spec.status === 'cancel_only') return refuseAmend('MARKET_NOT_TRADABLE', `${spec.symbol} is cancel_only: orders can only be cancelled`);
    if (o.side === 'buy' && !acceptsEntries(spec)) return refuseAmend('MARKET_NOT_TRADABLE', `${spec.symbol} is ${spec.status}: only exits`);
    const price = change.price === undefined ? o.price : this.roundOrderPrice(o.type, change.price, spec, o.side);
    const price2 = change.price2 === undefined ? o.price2 : roundPrice(change.price2, spec.pricePrecision, o.side);
    if (!(amount > 0) || (price !== null && !(price > 0)) || (price2 !== null && !(price2 > 0))) {
      return refuseAmend('BELOW_EXCHANGE_MINIMUM', `${spec.symbol}: the amended order rounds to zero at the pair's precision`);
    }
    const below = minimumViolation(spec, amount, (price2 ?? price) as number);
    if (below !== null) return refuseAmend('BELOW_EXCHANGE_MINIMUM', below);
    const q = this.state.quotes[o.pair];
    const restsAsLimit = o.type === 'limit' || (o.triggered && price2 !== null);
    const limit = o.type === 'limit' ? price : price2;
    if (o.postOnly && restsAsLimit && q !== undefined && limit !== null && (o.side === 'buy' ? limit >= q.ask : limit <= q.bid)) {
      return refuseAmend('POST_ONLY_WOULD_TAKE', `post-only ${o.side} amended to ${limit} would take liquidity (bid ${q.bid}, ask ${q.ask})`);
    }

    const next: SimOrder = { ...o, amount, price, price2 };
    if (o.side === 'buy') next.holdPrice = this.buyHoldPrice(next, spec, q);
    const shortfall = this.fundsShortfall(next, spec, o);
    if (shortfall !== null) return refuseAmend('INSUFFICIENT_FUNDS', shortfall);

    o.amount = amount;
    o.price = price;
    o.price2 = price2;
    o.holdPrice = next.holdPrice;
    o.amendedAt = now;
    o.updatedAt = now;
    o.reason = `amended: ${before} → amount ${amount}, price ${price ?? '-'}${price2 === null ? '' : `, price2 ${price2}`}`;
    this.dirty = true;
    this.recomputeHolds();
    if (q !== undefined) {
      // A price the market already reaches executes now, as on Kraken.
      if (!o.triggered) this.executeOnSubmit(o, spec, q, now);
      else if (price2 !== null && (o.side === 'buy' ? price2 >= q.ask : price2 <= q.bid)) this.takeAtQuote(o, spec, q, now, price2);
    }
    return { status: 'amended', order: this.view(o) };
  }

  /**
   * Matches the pair's open orders against a newly closed bar. A bar at or before the last one
   * consumed for its pair is ignored (bars are consumed once). Returns the fills it produced.
   */
  processBar(candle: Candle): SimFill[] {
    const spec = this.markets.get(candle.pair);
    if (spec === undefined) throw new Error(`processBar: ${candle.pair} is not a market of this simulation`);
    const prev = this.state.bars[candle.pair];
    if (prev !== undefined && candle.openTime <= prev.openTime) return [];
    if (!(candle.low > 0 && candle.low <= candle.high && candle.volume >= 0)) {
      throw new RangeError(`processBar: invalid ${candle.pair} bar at ${candle.openTime}`);
    }
    const hs = this.slip.halfSpread;
    const time = closeTime(candle);
    if (prev === undefined) {
      this.state.bars[candle.pair] = { openTime: 0, interval: 0, open: 0, high: 0, low: 0, close: 0, volume: 0, used: 0 };
      this.state.quotes[candle.pair] = { bid: 0, ask: 0, last: 0, time: 0 };
    }
    const bar = this.state.bars[candle.pair] as SimBar;
    bar.openTime = candle.openTime;
    bar.interval = candle.interval;
    bar.open = candle.open;
    bar.high = candle.high;
    bar.low = candle.low;
    bar.close = candle.close;
    bar.volume = candle.volume;
    bar.used = 0;
    const quote = this.state.quotes[candle.pair] as Quote;
    quote.bid = candle.close * (1 - hs);
    quote.ask = candle.close * (1 + hs);
    quote.last = candle.close;
    quote.time = time;
    this.dirty = true;

    const ids = this.state.openOrderIds;
    let any = false;
    for (let i = 0; i < ids.length; i++) {
      const o = this.state.orders[ids[i] as string] as SimOrder;
      if (o.pair === candle.pair && activeFrom(o) <= candle.openTime) {
        any = true;
        break;
      }
    }
    if (!any) return [];

    const fillsBefore = this.state.fills.length;
    // Loops, not callbacks, on the per-bar path: the TypeScript loader names every closure it creates.
    const eligible: SimOrder[] = [];
    for (const id of ids) {
      const o = this.state.orders[id] as SimOrder;
      if (o.pair === candle.pair && activeFrom(o) <= candle.openTime) eligible.push(o);
    }
    const seen = new Set<string>();
    // The conservative order: market remainders, then stops, then take-profits and limits.
    for (const phase of [0, 1, 2] as const) {
      for (const o of eligible) {
        if (o.status !== 'open' || seen.has(o.id) || barPhase(o) !== phase) continue;
        seen.add(o.id);
        this.matchOnBar(o, spec, candle, time, seen);
      }
    }
    // Stops attached to entries that filled in this bar: the bar's low may have come after the entry.
    for (const id of [...this.state.openOrderIds]) {
      const o = this.state.orders[id] as SimOrder;
      const bornHere = o.parentId !== null && o.createdAt === time;
      if (bornHere && o.pair === candle.pair && o.status === 'open' && !seen.has(id) && STOP_TYPES.has(o.type) && !o.triggered) {
        seen.add(id);
        this.matchOnBar(o, spec, candle, time, seen);
      }
    }
    return copiesFrom(this.state.fills, fillsBefore);
  }

  // ---------------------------------------------------------------- matching

  private executeOnSubmit(o: SimOrder, spec: MarketSpec, q: Quote, now: number): void {
    const buy = o.side === 'buy';
    if (o.type === 'market') {
      this.takeAtQuote(o, spec, q, now, null);
    } else if (o.type === 'limit') {
      const price = o.price as number;
      if (buy ? price >= q.ask : price <= q.bid) this.takeAtQuote(o, spec, q, now, price);
    } else {
      // Triggers already through the last price fire at once, as on Kraken.
      const trigger = o.price as number;
      const fired = STOP_TYPES.has(o.type) === buy ? q.last >= trigger : q.last <= trigger;
      if (!fired) return;
      o.triggered = true;
      o.updatedAt = now;
      if (o.price2 === null) this.takeAtQuote(o, spec, q, now, null);
      else if (buy ? o.price2 >= q.ask : o.price2 <= q.bid) this.takeAtQuote(o, spec, q, now, o.price2);
    }
  }

  /** A taker fill against the quote, limited by the current bar's volume budget (unknown bar: no limit, no impact). */
  private takeAtQuote(o: SimOrder, spec: MarketSpec, q: Quote, now: number, limit: number | null): void {
    const bar = this.state.bars[o.pair];
    const remaining = this.remaining(o, spec);
    const qty = bar === undefined ? remaining : Math.min(remaining, this.budget(bar, spec));
    if (qty <= 0) return;
    const impact = bar === undefined ? 0 : this.impact(qty, bar.volume);
    let px = o.side === 'buy' ? q.ask * (1 + impact) : q.bid * (1 - impact);
    if (limit !== null) px = o.side === 'buy' ? Math.min(px, limit) : Math.max(px, limit);
    this.fill(o, spec, qty, this.roundFillPrice(px, spec, o.side), 'taker', now, bar);
  }

  private matchOnBar(o: SimOrder, spec: MarketSpec, c: Candle, time: number, seen: Set<string>): void {
    const buy = o.side === 'buy';
    const bar = this.state.bars[o.pair] as SimBar;
    if (o.type === 'market' || (o.triggered && o.price2 === null)) return this.takeOnBar(o, spec, bar, time, c.open, null);
    if (o.type === 'limit') return this.makeOnBar(o, spec, bar, time, o.price as number);
    if (o.triggered) return this.makeOnBar(o, spec, bar, time, o.price2 as number);

    const trigger = o.price as number;
    // A buy stop and a sell take-profit fire on the high, the other two on the low.
    const onHigh = STOP_TYPES.has(o.type) === buy;
    const fired = onHigh ? c.high >= trigger : c.low <= trigger;
    if (!fired) return;
    const from = onHigh ? Math.max(trigger, c.open) : Math.min(trigger, c.open); // gaps fill at the open
    // A stop sells into the run that triggered it: a share of how far the bar went beyond `from`.
    const executes = STOP_TYPES.has(o.type) ? from + this.slip.stopPenetration * ((onHigh ? c.high : c.low) - from) : from;
    o.triggered = true;
    o.updatedAt = time;
    this.dirty = true;
    seen.add(o.id);
    if (o.price2 === null) return this.takeOnBar(o, spec, bar, time, executes, null);
    const hs = this.slip.halfSpread;
    const marketable = buy ? o.price2 >= from * (1 + hs) : o.price2 <= from * (1 - hs);
    if (marketable) this.takeOnBar(o, spec, bar, time, executes, o.price2); // otherwise it rests as a limit from the next bar
  }

  /** A taker fill on a bar from price `from`, paying half-spread and impact, never beyond `limit`. */
  private takeOnBar(o: SimOrder, spec: MarketSpec, bar: SimBar, time: number, from: number, limit: number | null): void {
    const qty = Math.min(this.remaining(o, spec), this.budget(bar, spec));
    if (qty <= 0) return;
    const hs = this.slip.halfSpread;
    const impact = this.impact(qty, bar.volume);
    let px = o.side === 'buy' ? from * (1 + hs) * (1 + impact) : from * (1 - hs) * (1 - impact);
    if (limit !== null) px = o.side === 'buy' ? Math.min(px, limit) : Math.max(px, limit);
    this.fill(o, spec, qty, this.roundFillPrice(px, spec, o.side), 'taker', time, bar);
  }

  /** A resting limit fills at its price as maker when the bar trades through it. */
  private makeOnBar(o: SimOrder, spec: MarketSpec, bar: SimBar, time: number, limit: number): void {
    const crossed = o.side === 'buy' ? bar.low < limit : bar.high > limit;
    if (!crossed) return;
    const qty = Math.min(this.remaining(o, spec), this.budget(bar, spec));
    if (qty > 0) this.fill(o, spec, qty, limit, 'maker', time, bar);
  }

  /** Applies one execution: balances, position, order, fill, attached close, sibling cut-back. */
  private fill(o: SimOrder, spec: MarketSpec, wanted: number, price: number, liquidity: 'maker' | 'taker', time: number, bar: SimBar | undefined): void {
    const rate = liquidity === 'maker' ? this.makerFee(spec) : this.takerFee(spec);
    const base = spec.base;
    const bal = this.state.balances;
    let qty = wanted;
    let starved = false; // the cash ran out before the order did
    const ownHoldBefore = o.side === 'buy' ? this.remaining(o, spec) * o.holdPrice * (1 + this.takerFee(spec)) : 0;
    if (o.side === 'buy') {
      // Never spend cash other orders reserve, whatever the price did since this one was placed.
      const available = (bal.USD ?? 0) - ((this.state.holds.USD ?? 0) - ownHoldBefore);
      qty = Math.min(qty, roundDown(Math.max(0, available) / (price * (1 + rate)), spec.amountPrecision));
      const step = 10 ** -spec.amountPrecision;
      while (qty > 0 && qty * price + qty * price * rate > available) qty = roundDown(qty - step, spec.amountPrecision);
      starved = qty < wanted;
      if (qty <= 0) {
        this.finish(o, 'canceled', time, 'INSUFFICIENT_FUNDS: not enough free USD at the fill price');
        this.recomputeHolds();
        return;
      }
    } else {
      qty = Math.min(qty, roundDown(bal[base] ?? 0, spec.amountPrecision));
      if (qty <= 0) {
        this.finish(o, 'canceled', time, `INSUFFICIENT_FUNDS: no ${base} left to sell`);
        this.recomputeHolds();
        return;
      }
    }

    const notional = qty * price;
    const fee = notional * rate;
    const pos = (this.state.positions[o.pair] ??= emptyPosition(o.pair));
    let realized = 0;
    if (o.side === 'buy') {
      const total = notional + fee;
      bal.USD = (bal.USD ?? 0) - total;
      bal[base] = roundNearest((bal[base] ?? 0) + qty, spec.amountPrecision);
      const newQty = roundNearest(pos.qty + qty, spec.amountPrecision);
      pos.avgEntryPrice = (pos.avgEntryPrice * pos.qty + notional) / newQty;
      pos.costBasis += total;
      pos.qty = newQty;
    } else {
      bal[base] = roundNearest((bal[base] ?? 0) - qty, spec.amountPrecision);
      bal.USD = (bal.USD ?? 0) + (notional - fee);
      const basisOut = pos.qty > 0 ? pos.costBasis * Math.min(1, qty / pos.qty) : 0;
      realized = notional - fee - basisOut;
      pos.qty = roundNearest(Math.max(0, pos.qty - qty), spec.amountPrecision);
      if (pos.qty === 0) {
        pos.costBasis = 0;
        pos.avgEntryPrice = 0;
      } else {
        pos.costBasis -= basisOut;
      }
      pos.realizedPnl += realized;
    }
    pos.fees += fee;

    const prevFilled = o.filled;
    o.filled = roundNearest(prevFilled + qty, spec.amountPrecision);
    o.avgPrice = ((o.avgPrice ?? 0) * prevFilled + notional) / o.filled;
    o.fee += fee;
    o.updatedAt = time;
    if (bar !== undefined) bar.used += qty;
    this.state.seq.fill += 1;
    const last = this.state.fills[this.state.fills.length - 1];
    if (last !== undefined && time < last.time) this.fillsInTimeOrder = false;
    this.state.fills.push({
      id: `SIM-T${String(this.state.seq.fill).padStart(8, '0')}`,
      orderId: o.id,
      clientId: o.clientId,
      pair: o.pair,
      side: o.side,
      price,
      amount: qty,
      fee,
      liquidity,
      time,
      realizedPnl: realized,
    });
    this.dirty = true;
    if (o.side === 'buy' && !starved && this.remaining(o, spec) > 0) {
      // The fill may have cost more than the remainder's reservation assumed (the price moved): the
      // rest stays open only while the cash still covers it next to every other open order.
      const otherHolds = (this.state.holds.USD ?? 0) - ownHoldBefore;
      starved = (bal.USD ?? 0) - otherHolds < this.remaining(o, spec) * o.holdPrice * (1 + this.takerFee(spec));
    }
    if (this.remaining(o, spec) <= 0) this.finish(o, 'closed', time, null);
    else if (starved) this.finish(o, 'canceled', time, 'INSUFFICIENT_FUNDS: the rest no longer fits the free USD at the fill price');
    if (o.close !== null) this.attachClose(o, spec, qty, time);
    this.recomputeHolds();
  }

  /** The entry's attached close grows with every fill of the entry (Kraken's close[...]). */
  private attachClose(parent: SimOrder, spec: MarketSpec, qty: number, time: number): void {
    const close = parent.close as NonNullable<SimOrder['close']>;
    const existing = parent.childId === null ? undefined : this.state.orders[parent.childId];
    if (existing !== undefined && existing.status === 'open') {
      existing.amount = roundNearest(existing.amount + qty, spec.amountPrecision);
      existing.updatedAt = time;
      return;
    }
    const side: Side = parent.side === 'buy' ? 'sell' : 'buy';
    const price = this.roundOrderPrice(close.type, close.price, spec, side);
    const price2 = close.price2 === undefined || !isLimitVariant(close.type) ? null : roundPrice(close.price2, spec.pricePrecision, side);
    this.state.seq.order += 1;
    const child: SimOrder = {
      id: `SIM-O${String(this.state.seq.order).padStart(7, '0')}`,
      clientId: null,
      pair: parent.pair,
      side,
      type: close.type,
      amount: qty,
      price,
      status: 'open',
      filled: 0,
      avgPrice: null,
      fee: 0,
      createdAt: time,
      price2,
      postOnly: false,
      reduceOnly: true,
      close: null,
      parentId: parent.id,
      childId: null,
      triggered: false,
      holdPrice: 0,
      updatedAt: time,
      reason: null,
    };
    if (side === 'buy') child.holdPrice = this.buyHoldPrice(child, spec, this.state.quotes[parent.pair]);
    this.state.orders[child.id] = child;
    this.state.openOrderIds.push(child.id);
    parent.childId = child.id;
  }

  // ---------------------------------------------------------------- helpers

  private finish(o: SimOrder, status: 'closed' | 'canceled', time: number, reason: string | null): void {
    o.status = status;
    o.updatedAt = time;
    if (reason !== null) o.reason = reason;
    const i = this.state.openOrderIds.indexOf(o.id);
    if (i >= 0) this.state.openOrderIds.splice(i, 1);
    this.dirty = true;
  }

  private remaining(o: SimOrder, spec: MarketSpec): number {
    return roundDown(o.amount - o.filled, spec.amountPrecision);
  }

  private budget(bar: SimBar, spec: MarketSpec): number {
    return roundDown(Math.max(0, bar.volume * this.slip.maxVolumeShare - bar.used), spec.amountPrecision);
  }

  private impact(qty: number, volume: number): number {
    if (volume <= 0) return this.slip.maxImpact;
    return Math.min(this.slip.maxImpact, this.slip.impactK * Math.sqrt(qty / volume));
  }

  private takerFee(spec: MarketSpec): number {
    return this.config.fees?.taker ?? spec.takerFee;
  }

  private makerFee(spec: MarketSpec): number {
    return this.config.fees?.maker ?? spec.makerFee;
  }

  /** Trigger prices round to the nearest tick; limit prices in the owner's favour. */
  private roundOrderPrice(type: OrderType, price: number, spec: MarketSpec, side: Side): number {
    return isTrigger(type) ? roundPrice(price, spec.pricePrecision) : roundPrice(price, spec.pricePrecision, side);
  }

  /** Executions land on a tick, rounded against the trader (slippage is never rounded away). */
  private roundFillPrice(px: number, spec: MarketSpec, side: Side): number {
    return side === 'buy' ? roundUp(px, spec.pricePrecision) : roundDown(px, spec.pricePrecision);
  }

  /** USD per unit an open buy reserves: its limit, or the expected execution price of a market-type buy. */
  private buyHoldPrice(o: SimOrder, spec: MarketSpec, q: Quote | undefined): number {
    if (o.type === 'limit') return o.price as number;
    if (o.price2 !== null) return o.price2;
    const bar = this.state.bars[o.pair];
    if (o.type === 'market') {
      // Reserve for the whole amount's impact: the conservative side of what it may cost.
      return (q as Quote).ask * (1 + (bar === undefined ? 0 : this.impact(o.amount, bar.volume)));
    }
    return (o.price as number) * (1 + this.slip.halfSpread) * (1 + this.slip.maxImpact);
  }

  /** Why `candidate` cannot be funded next to the open orders (less `replaces`, which it would replace), or null. */
  private fundsShortfall(candidate: SimOrder, spec: MarketSpec, replaces?: SimOrder): string | null {
    const asset = candidate.side === 'buy' ? 'USD' : spec.base;
    const total = this.state.balances[asset] ?? 0;
    const hold = this.holdsFor(asset, candidate, replaces);
    // A hair of tolerance so that "spend exactly what is free" is not refused by a rounding artefact.
    if (hold <= total * (1 + 1e-12)) return null;
    return `${candidate.side} ${candidate.amount} ${spec.symbol} needs ${asset} ${roundNearest(hold - (this.state.holds[asset] ?? 0), 8)}, free ${roundNearest(total - (this.state.holds[asset] ?? 0), 8)}`;
  }

  /**
   * What the open orders reserve of `asset`, with `extra` added and `without` left out (an amend
   * weighs the amended order in place of the original). Every order holds its own remaining amount.
   */
  private holdsFor(asset: string, extra?: SimOrder, without?: SimOrder): number {
    const ids = this.state.openOrderIds;
    let sum = 0;
    for (let i = 0; i <= ids.length; i++) {
      const o = i < ids.length ? (this.state.orders[ids[i] as string] as SimOrder) : extra;
      if (o === undefined) break;
      if (o === without) continue;
      const spec = this.markets.get(o.pair) as MarketSpec;
      if (o.side === 'buy') {
        if (asset === 'USD') sum += this.remaining(o, spec) * o.holdPrice * (1 + this.takerFee(spec));
      } else if (spec.base === asset) {
        sum += this.remaining(o, spec);
      }
    }
    return sum;
  }

  private recomputeHolds(): void {
    const holds: Record<string, number> = {};
    const assets = new Set<string>(['USD']);
    for (const id of this.state.openOrderIds) {
      const o = this.state.orders[id] as SimOrder;
      if (o.side === 'sell') assets.add((this.markets.get(o.pair) as MarketSpec).base);
    }
    for (const a of assets) {
      const h = this.holdsFor(a);
      if (h > 0) holds[a] = h;
    }
    this.state.holds = holds;
  }

  private statusProblem(spec: MarketSpec, req: OrderRequest): string | null {
    const exit = req.side === 'sell';
    if (spec.status === 'cancel_only') return `${spec.symbol} is cancel_only: no new orders`;
    if (!acceptsEntries(spec) && !(exit && acceptsExits(spec))) return `${spec.symbol} is ${spec.status}: only exits`;
    if (spec.status === 'limit_only' && !isLimitVariant(req.type)) return `${spec.symbol} is limit_only`;
    if (spec.status === 'post_only' && !(req.type === 'limit' && req.postOnly === true)) return `${spec.symbol} is post_only`;
    return null;
  }

  private mustOrder(id: string): SimOrder {
    const o = this.state.orders[id];
    if (o === undefined) throw new Error(`sim state is inconsistent: order ${id} is indexed but missing`);
    return o;
  }

  private view(o: SimOrder): BrokerOrder {
    return {
      id: o.id,
      clientId: o.clientId,
      pair: o.pair,
      side: o.side,
      type: o.type,
      amount: o.amount,
      price: o.price,
      status: o.status,
      filled: o.filled,
      avgPrice: o.avgPrice,
      fee: o.fee,
      createdAt: o.createdAt,
    };
  }
}

function assertQuote(pair: string, q: Quote): void {
  if (!(q.bid > 0 && q.ask >= q.bid && Number.isFinite(q.ask))) throw new RangeError(`${pair}: invalid quote bid ${q.bid} ask ${q.ask}`);
}

const refuseAmend = (code: string, reason: string): AmendResult => ({ status: 'rejected', code, reason });

/** Why `change` cannot apply to `o` at all (whatever the market and funds), or null. */
function validateAmend(o: SimOrder, change: AmendChange): string | null {
  const given = (['amount', 'price', 'price2'] as const).filter((k) => change[k] !== undefined);
  if (given.length === 0) return 'an amend changes amount, price or price2: none given';
  for (const k of given) {
    const v = change[k] as number;
    if (!(Number.isFinite(v) && v > 0)) return `${k} must be a positive number, got ${v}`;
  }
  if (o.type === 'market') return 'a market order does not rest: it cannot be amended';
  if (change.price !== undefined && o.triggered) return `${o.type} ${o.id} has triggered: its trigger price can no longer change`;
  if (change.price2 !== undefined && !(o.type === 'stop-loss-limit' || o.type === 'take-profit-limit')) return `price2 is the limit of *-limit orders; ${o.type} has none`;
  return null;
}

/** The time from which an order may match bars: its creation, or its last amend (no look-ahead). */
function activeFrom(o: SimOrder): number {
  return o.amendedAt ?? o.createdAt;
}

/** 0: executes like a market order now; 1: stop trigger; 2: take-profit trigger or resting limit. */
function barPhase(o: SimOrder): 0 | 1 | 2 {
  if (o.type === 'market' || (o.triggered && o.price2 === null)) return 0;
  if (!o.triggered && STOP_TYPES.has(o.type)) return 1;
  return 2;
}

function validateRequest(req: OrderRequest): string | null {
  if (req.clientId.length === 0) return 'clientId is required';
  if (req.side !== 'buy' && req.side !== 'sell') return `side must be buy or sell, got ${String(req.side)}`;
  if (!(Number.isFinite(req.amount) && req.amount > 0)) return `amount must be a positive number, got ${req.amount}`;
  if (req.type !== 'market' && !(req.price !== undefined && Number.isFinite(req.price) && req.price > 0)) {
    return `${req.type} orders need a positive price`;
  }
  if ((req.type === 'stop-loss-limit' || req.type === 'take-profit-limit') && !(req.price2 !== undefined && Number.isFinite(req.price2) && req.price2 > 0)) {
    return `${req.type} orders need a positive limit price (price2)`;
  }
  if (req.postOnly === true && req.type !== 'limit') return 'postOnly applies to limit orders only';
  if (req.close !== undefined) {
    const c = req.close;
    if (req.side !== 'buy') return 'attached closes protect buy entries (spot positions are long only)';
    if (!(Number.isFinite(c.price) && c.price > 0)) return 'close.price must be positive';
    if ((c.type === 'stop-loss-limit' || c.type === 'take-profit-limit') && !(c.price2 !== undefined && c.price2 > 0)) return `close ${c.type} needs price2`;
  }
  return null;
}

/** Copies of the fills from index `from` on (callers may keep or change what they get). */
function copiesFrom(fills: readonly SimFill[], from: number): SimFill[] {
  const out: SimFill[] = [];
  for (let i = from; i < fills.length; i++) out.push({ ...fills[i]! });
  return out;
}
