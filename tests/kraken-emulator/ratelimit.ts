/** Kraken's leaky-bucket counters, decaying on the emulator's time source. */

export type Tier = 'starter' | 'intermediate' | 'pro';

/** REST API counter: +1 per call, +2 for history calls (Kraken "API rate limits"). */
export const REST_TIERS: Record<Tier, { max: number; decayPerSec: number }> = {
  starter: { max: 15, decayPerSec: 0.33 },
  intermediate: { max: 20, decayPerSec: 0.5 },
  pro: { max: 20, decayPerSec: 1 },
};

/** Per-pair trading counter (Kraken "Spot trading rate limits"). */
export const TRADING_TIERS: Record<Tier, { max: number; decayPerSec: number }> = {
  starter: { max: 60, decayPerSec: 1 },
  intermediate: { max: 125, decayPerSec: 2.34 },
  pro: { max: 180, decayPerSec: 3.75 },
};

export const HISTORY_METHODS = new Set(['Ledgers', 'QueryLedgers', 'TradesHistory', 'QueryTrades', 'ClosedOrders']);
/**
 * Kraken's REST rate-limit page exempts exactly these: "All other API calls increase this counter by 1
 * (except AddOrder, CancelOrder which operate on a different limiter)". AmendOrder is not on that list,
 * so it costs +1 here as well as its trading-counter cost: the strict reading of the documentation.
 */
export const REST_EXEMPT = new Set(['AddOrder', 'CancelOrder']);

export function restCost(method: string): number {
  if (REST_EXEMPT.has(method)) return 0;
  return HISTORY_METHODS.has(method) ? 2 : 1;
}

/** Trading counter, "Spot Trading Limits": AddOrder's fixed count. */
export const ADD_ORDER_COST = 1;

/**
 * AmendOrder's trading-counter cost: a fixed +1 plus a decaying count by the seconds since the order
 * was created or last amended (+3 under 5 s, +2 under 10 s, +1 under 15 s).
 */
export function amendCost(ageMs: number): number {
  const s = ageMs / 1000;
  return 1 + (s < 5 ? 3 : s < 10 ? 2 : s < 15 ? 1 : 0);
}

/** Cancel penalty by the age of the order (since it was created or last amended), as Kraken documents it. */
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

export class DecayingCounter {
  private value = 0;
  private at: number;
  constructor(
    readonly max: number,
    readonly decayPerSec: number,
    private readonly now: () => number,
  ) {
    this.at = now();
  }

  level(): number {
    const t = this.now();
    this.value = Math.max(0, this.value - ((t - this.at) / 1000) * this.decayPerSec);
    this.at = t;
    return this.value;
  }

  /** Adds `cost` unless that would take the counter past its maximum; a refused call adds nothing. */
  tryAdd(cost: number): boolean {
    if (this.level() + cost > this.max) return false;
    this.value += cost;
    return true;
  }
}

export interface LockoutPolicy {
  breaches: number; // this many refusals within windowMs ...
  windowMs: number;
  lockoutMs: number; // ... lock the key out for this long
}

export const DEFAULT_LOCKOUT: LockoutPolicy = { breaches: 5, windowMs: 60_000, lockoutMs: 15 * 60_000 };

export type RestVerdict = 'ok' | 'EAPI:Rate limit exceeded' | 'EGeneral:Temporary lockout';

/** One key's REST counter with lockout after repeated breaches. */
export class RestLimiter {
  private readonly counter: DecayingCounter;
  private breachTimes: number[] = [];
  private lockedUntil = 0;
  constructor(
    tier: Tier,
    private readonly now: () => number,
    private readonly policy: LockoutPolicy = DEFAULT_LOCKOUT,
  ) {
    const t = REST_TIERS[tier];
    this.counter = new DecayingCounter(t.max, t.decayPerSec, now);
  }

  level(): number {
    return this.counter.level();
  }

  /** Counts a call; a refusal is a breach. Calls that fail later (bad nonce, bad order) still count, as on Kraken. */
  admit(method: string): RestVerdict {
    const t = this.now();
    if (t < this.lockedUntil) return 'EGeneral:Temporary lockout';
    if (this.counter.tryAdd(restCost(method))) return 'ok';
    return this.strike() ? 'EGeneral:Temporary lockout' : 'EAPI:Rate limit exceeded';
  }

  /**
   * Records a breach: a rate-limit refusal, an invalid nonce or an invalid signature (Kraken locks a
   * key out for too many of any of these). Returns true when this breach starts a lockout.
   */
  strike(): boolean {
    const t = this.now();
    this.breachTimes = [...this.breachTimes.filter((b) => t - b < this.policy.windowMs), t];
    if (this.breachTimes.length < this.policy.breaches) return false;
    this.lockedUntil = t + this.policy.lockoutMs;
    this.breachTimes = [];
    return true;
  }
}
