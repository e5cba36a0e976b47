/**
 * A client-side model of Kraken's counters for one API key (DESIGN.md §5), so the platform waits
 * before Kraken would refuse: the per-key REST counter (+1 per call, +2 for history calls, decaying
 * by tier) and a per-pair trading counter (+1 per order, cancel penalty by order age). It also
 * holds a lockout deadline after `EGeneral:Temporary lockout`.
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
const TRADING = new Set(['AddOrder', 'AddOrderBatch', 'CancelOrder', 'CancelOrderBatch', 'EditOrder', 'AmendOrder']);

/** REST counter cost of a private method: order entry is on the trading counter instead. */
export function restCost(method: string): number {
  if (TRADING.has(method)) return 0;
  return HISTORY.has(method) ? 2 : 1;
}

/** Kraken's documented cancel penalty by the age of the order being cancelled. */
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

/** A leaky bucket on the injected clock. */
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
    this.at = t;
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
  clock: Clock;
  lockoutMs?: number;
  /** Counter points kept free for drift between our model and Kraken's (default 1). */
  headroom?: number;
}

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

  /** How long to wait before this call may go out (0 = now). */
  waitMs(method: string, trade?: { pair: string; cost: number }): number {
    const lock = Math.max(0, this.lockedUntil - this.clock.now());
    const rest = this.rest.waitMs(restCost(method), this.headroom);
    const pair = trade ? this.pairBucket(trade.pair).waitMs(trade.cost, this.headroom) : 0;
    return Math.max(lock, rest, pair);
  }

  /** Books a call that is going out now. */
  record(method: string, trade?: { pair: string; cost: number }): void {
    this.rest.add(restCost(method));
    if (trade) this.pairBucket(trade.pair).add(trade.cost);
  }

  /** Kraken answered a rate-limit error: our model was behind, treat the counter as full. */
  rateLimited(method: string, pair?: string): void {
    if (pair !== undefined && TRADING.has(method)) this.pairBucket(pair).fill();
    else this.rest.fill();
  }

  /** Kraken locked the key out: no call until the lockout has passed. */
  lockedOut(): void {
    this.lockedUntil = Math.max(this.lockedUntil, this.clock.now() + this.lockoutMs);
  }

  lockedUntilMs(): number {
    return this.lockedUntil;
  }
}
