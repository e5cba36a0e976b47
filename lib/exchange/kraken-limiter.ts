/**
 * A client-side model of Kraken's counters for one API key (DESIGN.md §5), so the platform waits
 * before Kraken would refuse: the per-key REST counter (+1 per call, +2 for history calls, decaying
 * by tier) and a per-pair trading counter (+1 per order, an amend's fixed +1 and its age penalty, the
 * cancel penalty by order age). It also holds a lockout deadline after `EGeneral:Temporary lockout`.
 *
 * One limiter exists per key per process (it lives in the key's shared KrakenBroker, see
 * `krakenBrokerFor`), so every job that uses the key draws from the same model. It runs on the WALL
 * clock: its counters decay and its lockout ends with real time. Handed a market (bar) clock it would
 * never drain — the broker refuses waits it cannot serve instead of sleeping on them.
 */
import type { Clock } from '../clock.ts';

export type KrakenTier = 'starter' | 'intermediate' | 'pro';

export const REST_LIMITS: Readonly<Record<KrakenTier, { max: number; decayPerSec: number }>> = {
  starter: { max: 15, decayPerSec: 0.33 },
  intermediate: { max: 20, decayPerSec: 0.5 },
  pro: { max: 20, decayPerSec: 1 },
};

/** Kraken's spot trading rate limits per pair. */
export const TRADING_LIMITS: Readonly<Record<KrakenTier, { max: number; decayPerSec: number }>> = {
  starter: { max: 60, decayPerSec: 1 },
  intermediate: { max: 125, decayPerSec: 2.34 },
  pro: { max: 180, decayPerSec: 3.75 },
};

const HISTORY = new Set(['Ledgers', 'QueryLedgers', 'TradesHistory', 'QueryTrades', 'ClosedOrders']);
/**
 * Kraken's REST rate-limit page: "All other API calls increase this counter by 1 (except AddOrder,
 * CancelOrder which operate on a different limiter)". AmendOrder and EditOrder are not exempt, so they
 * cost +1 on the REST counter as well as their trading-counter cost: the strict reading.
 */
const REST_EXEMPT = new Set(['AddOrder', 'AddOrderBatch', 'CancelOrder', 'CancelOrderBatch']);
const TRADING = new Set(['AddOrder', 'AddOrderBatch', 'CancelOrder', 'CancelOrderBatch', 'EditOrder', 'AmendOrder']);

/** REST counter cost of a private method. */
export function restCost(method: string): number {
  if (REST_EXEMPT.has(method)) return 0;
  return HISTORY.has(method) ? 2 : 1;
}

/** Whether a method is counted on the per-pair trading counter. */
export const isTradingMethod = (method: string): boolean => TRADING.has(method);

/** Kraken's documented cancel penalty by the age of the order (since placed or last amended). */
export function cancelPenalty(ageMs: number): number {
  const s = ageMs / 1000;
  if (s < 5) return 8;
  if (s < 10) return 6;
  if (s < 15) return 5;
  if (s < 45) return 4;
  if (s < 90) return 2;
  if (s < 300) return 1;
  return 0;
}

/** AmendOrder's trading-counter cost: +1, plus +3 / +2 / +1 when the order is under 5 / 10 / 15 s old (since placed or last amended). */
export function amendCost(ageMs: number): number {
  const s = ageMs / 1000;
  return 1 + (s < 5 ? 3 : s < 10 ? 2 : s < 15 ? 1 : 0);
}

/** A leaky bucket on the injected (wall) clock. */
export class LeakyBucket {
  private value = 0;
  private at: number;
  constructor(
    readonly max: number,
    readonly decayPerSec: number,
    private readonly clock: Clock,
  ) {
    this.at = clock.now();
  }

  level(): number {
    const t = this.clock.now();
    this.value = Math.max(0, this.value - (Math.max(0, t - this.at) / 1000) * this.decayPerSec);
    this.at = Math.max(this.at, t);
    return this.value;
  }

  /** Milliseconds until `cost` fits under `max - headroom` (0 when it fits now). */
  waitMs(cost: number, headroom: number): number {
    if (cost === 0) return 0; // a free call only fails past the maximum, which the bucket never reaches
    const over = this.level() + cost - (this.max - headroom);
    return over <= 0 ? 0 : Math.ceil((over / this.decayPerSec) * 1000);
  }

  add(cost: number): void {
    this.level();
    this.value += cost;
  }

  /** After Kraken said the counter is full: assume it is. */
  fill(): void {
    this.level();
    this.value = Math.max(this.value, this.max);
  }
}

/** Kraken's lockout after repeated breaches is 15 minutes; wait it out rather than extend it. */
export const DEFAULT_LOCKOUT_MS = 15 * 60_000;

export interface KrakenLimiterOptions {
  tier: KrakenTier;
  /** The wall clock (never the market clock): decay and lockout end with real time. */
  clock: Clock;
  lockoutMs?: number;
  /** Counter points kept free for drift between our model and Kraken's (default 1). */
  headroom?: number;
}

/** Why a call has to wait: the lockout, the REST counter or a pair's trading counter. */
export type LimiterHold = { ms: number; reason: 'lockout' | 'rest' | 'trading' | null };

export class KrakenLimiter {
  readonly rest: LeakyBucket;
  private readonly trading = new Map<string, LeakyBucket>();
  private lockedUntil = 0;
  private readonly clock: Clock;
  readonly lockoutMs: number;
  private readonly headroom: number;
  private readonly tier: KrakenTier;

  constructor(opts: KrakenLimiterOptions) {
    this.clock = opts.clock;
    this.tier = opts.tier;
    this.lockoutMs = opts.lockoutMs ?? DEFAULT_LOCKOUT_MS;
    this.headroom = opts.headroom ?? 1;
    const r = REST_LIMITS[opts.tier];
    this.rest = new LeakyBucket(r.max, r.decayPerSec, opts.clock);
  }

  private pairBucket(pair: string): LeakyBucket {
    let b = this.trading.get(pair);
    if (!b) {
      const t = TRADING_LIMITS[this.tier];
      b = new LeakyBucket(t.max, t.decayPerSec, this.clock);
      this.trading.set(pair, b);
    }
    return b;
  }

  /** How long this call must wait before it may go out, and why (ms 0 = now). */
  hold(method: string, trade?: { pair: string; cost: number }): LimiterHold {
    const lock = Math.max(0, this.lockedUntil - this.clock.now());
    if (lock > 0) return { ms: lock, reason: 'lockout' };
    const rest = this.rest.waitMs(restCost(method), this.headroom);
    const pair = trade ? this.pairBucket(trade.pair).waitMs(trade.cost, this.headroom) : 0;
    if (rest === 0 && pair === 0) return { ms: 0, reason: null };
    return rest >= pair ? { ms: rest, reason: 'rest' } : { ms: pair, reason: 'trading' };
  }

  /** How long to wait before this call may go out (0 = now). */
  waitMs(method: string, trade?: { pair: string; cost: number }): number {
    return this.hold(method, trade).ms;
  }

  /** Books a call that is going out now. */
  record(method: string, trade?: { pair: string; cost: number }): void {
    this.rest.add(restCost(method));
    if (trade) this.pairBucket(trade.pair).add(trade.cost);
  }

  /**
   * Kraken answered a rate-limit error: our model was behind, treat that counter as full. `EOrder:`
   * rate limits are the pair's trading counter; `EAPI:` ones the REST counter.
   */
  rateLimited(counter: 'rest' | 'trading', pair?: string): void {
    if (counter === 'trading' && pair !== undefined) this.pairBucket(pair).fill();
    else this.rest.fill();
  }

  /** Kraken locked the key out: no call until the lockout has passed. Returns the new deadline. */
  lockedOut(): number {
    this.lockedUntil = Math.max(this.lockedUntil, this.clock.now() + this.lockoutMs);
    return this.lockedUntil;
  }

  lockedUntilMs(): number {
    return this.lockedUntil;
  }

  /** Milliseconds of lockout left (0 when not locked out). */
  lockoutLeftMs(): number {
    return Math.max(0, this.lockedUntil - this.clock.now());
  }
}
