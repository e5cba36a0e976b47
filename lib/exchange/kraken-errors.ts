/**
 * Kraken failures → our error classes and retry policy (DESIGN.md §5). Classification reads the
 * Kraken error string when the exchange answered, and the ccxt class (by name, so this module never
 * imports ccxt) when it did not: a reply with an error is definitive, silence is ambiguous.
 */

/**
 * Retryable: the exchange refused for now (rate limit, lockout, unavailable, busy, bad nonce), the
 * link failed on a read, or the job's time budget ran out before the call could be made. Nothing
 * was changed on the exchange (an order entry that may have landed throws OrderStateUnknownError).
 * `retryAfterMs`, when set, is the earliest a retry can succeed (a lockout's end, a limiter wait).
 */
export class ExchangeTemporaryError extends Error {
  constructor(
    readonly code: FailureClass,
    message: string,
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ExchangeTemporaryError';
  }
}

/** Not retryable: the same request will fail again (funds, minimums, bad order, bad key). */
export class ExchangeRejectedError extends Error {
  constructor(
    readonly code: RejectCode,
    message: string,
  ) {
    super(message);
    this.name = 'ExchangeRejectedError';
  }
}

/** An order-entry call may or may not have taken effect and looking it up failed too: reconcile before acting. */
export class OrderStateUnknownError extends Error {
  constructor(
    readonly clientId: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'OrderStateUnknownError';
  }
}

export type RejectCode =
  | 'INSUFFICIENT_FUNDS'
  | 'BELOW_EXCHANGE_MINIMUM'
  | 'INVALID_ORDER'
  | 'DUPLICATE_ORDER'
  | 'ORDER_NOT_FOUND'
  | 'MARKET_NOT_TRADABLE'
  | 'NOT_SPOT_USD'
  | 'PERMISSION_DENIED'
  | 'AUTH'
  | 'EXCHANGE_ERROR';

/**
 * Retry classes: what happened, and therefore how long to wait and whether an order may have been
 * placed. DEADLINE is ours, not Kraken's: the job's time budget (lib/deadline.ts) ran out, or the
 * process is shutting down, before the call could go out or be retried.
 */
export type FailureClass = 'UNAVAILABLE' | 'RATE_LIMIT' | 'LOCKOUT' | 'NONCE' | 'NETWORK' | 'DEADLINE';

export type Failure =
  | { kind: 'rejected'; code: RejectCode; krakenError: string | null; message: string }
  /** The exchange answered "not now": the request was not processed. */
  | { kind: 'temporary'; cls: FailureClass; krakenError: string | null; message: string }
  /** No usable answer (timeout, reset, 5xx, dropped reply): a write may have taken effect. */
  | { kind: 'ambiguous'; cls: FailureClass; message: string };

const KRAKEN_REJECTS: Array<[RegExp, RejectCode]> = [
  [/^EOrder:Insufficient funds/, 'INSUFFICIENT_FUNDS'],
  [/^EFunding:Invalid amount/, 'INSUFFICIENT_FUNDS'],
  [/^EOrder:(Order|Cost) minimum not met/, 'BELOW_EXCHANGE_MINIMUM'],
  [/^EOrder:Duplicate order/, 'DUPLICATE_ORDER'],
  [/^EOrder:Unknown order/, 'ORDER_NOT_FOUND'],
  [/^EService:Market in (cancel_only|post_only|limit_only|reduce_only) mode/, 'MARKET_NOT_TRADABLE'],
  [/^EQuery:(Unknown asset pair|Invalid asset pair|Unknown asset)/, 'NOT_SPOT_USD'],
  [/^EGeneral:Permission denied/, 'PERMISSION_DENIED'],
  [/^EAPI:(Invalid key|Invalid signature|Feature disabled)/, 'AUTH'],
  [/^ESession:Invalid session/, 'AUTH'],
  [/^ETrade:User Locked/, 'AUTH'],
  [/^EOrder:/, 'INVALID_ORDER'],
  [/^EGeneral:Invalid arguments/, 'INVALID_ORDER'],
];

const KRAKEN_TEMPORARY: Array<[RegExp, FailureClass]> = [
  [/^EGeneral:Temporary lockout/, 'LOCKOUT'],
  [/^E(API|Order|General):(Rate limit exceeded|Too many requests)/, 'RATE_LIMIT'],
  [/^EAPI:Invalid nonce/, 'NONCE'],
  [/^E(Service:Unavailable|Service:Busy|General:Internal error|Database:Internal error)/, 'UNAVAILABLE'],
];

/** Kraken error strings embedded in a ccxt message (`kraken {"error":["EOrder:…"]}`), or [] when Kraken did not answer. */
export function krakenErrorsOf(message: string): string[] {
  const m = /\{"error":\s*(\[[^\]]*\])/.exec(message);
  if (!m) return [];
  try {
    const parsed: unknown = JSON.parse(m[1]!);
    return Array.isArray(parsed) ? parsed.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return []; // a truncated body is not an answer
  }
}

/** The ccxt class names of `err` and its ancestors ("InvalidNonce", "NetworkError", …). */
function ccxtLineage(err: unknown): string[] {
  const names: string[] = [];
  let p: unknown = err === null || typeof err !== 'object' ? null : Object.getPrototypeOf(err);
  while (p !== null && p !== Object.prototype) {
    const ctor = (p as { constructor?: { name?: string } }).constructor;
    if (ctor?.name) names.push(ctor.name);
    p = Object.getPrototypeOf(p);
  }
  return names;
}

/** Classifies one failure of a Kraken call made through ccxt. */
export function classifyKrakenFailure(err: unknown): Failure {
  const message = err instanceof Error ? err.message : String(err);
  const lineage = ccxtLineage(err);
  for (const code of krakenErrorsOf(message)) {
    // "EService:Deadline elapsed": the engine gave up waiting, the order may still have been placed.
    if (/^EService:Deadline elapsed/.test(code)) return { kind: 'ambiguous', cls: 'UNAVAILABLE', message };
    for (const [re, cls] of KRAKEN_TEMPORARY) if (re.test(code)) return { kind: 'temporary', cls, krakenError: code, message };
    for (const [re, rc] of KRAKEN_REJECTS) if (re.test(code)) return { kind: 'rejected', code: rc, krakenError: code, message };
    return { kind: 'rejected', code: 'EXCHANGE_ERROR', krakenError: code, message };
  }
  // No Kraken answer. HTTP 429 comes from the edge before the request reaches the engine.
  if (lineage.includes('RateLimitExceeded') || lineage.includes('DDoSProtection')) {
    return { kind: 'temporary', cls: 'RATE_LIMIT', krakenError: null, message };
  }
  if (lineage.includes('InvalidNonce')) return { kind: 'temporary', cls: 'NONCE', krakenError: null, message };
  if (lineage.includes('AuthenticationError')) return { kind: 'rejected', code: 'AUTH', krakenError: null, message };
  if (lineage.includes('ExchangeNotAvailable')) return { kind: 'ambiguous', cls: 'UNAVAILABLE', message }; // 5xx / 520
  if (lineage.includes('NetworkError')) return { kind: 'ambiguous', cls: 'NETWORK', message }; // timeout, reset, dropped reply
  if (lineage.includes('BaseError')) return { kind: 'rejected', code: 'EXCHANGE_ERROR', krakenError: null, message };
  // Not a ccxt error at all: a bug on our side, never something to retry or translate.
  throw err;
}

export interface RetryPolicy {
  attempts: number; // total tries including the first
  baseMs: number;
  capMs: number;
}

/**
 * Backoff per class. The attempt counts are high on purpose: with 20–27 % of private calls failing at
 * random, 12 attempts leave a call failing for good with odds of about 0.27^12 ≈ 1e-7. What really
 * ends the retries is the job's time budget (`remainingMs()`): a backoff that would outlast it fails
 * at once. The caps keep a run of faults inside a ~45 s job budget. A lockout is never slept on: it
 * fails fast with its `retryAfterMs` (see KrakenLimiter); DEADLINE is never retried.
 */
export const RETRY_POLICY: Readonly<Record<FailureClass, RetryPolicy>> = {
  UNAVAILABLE: { attempts: 12, baseMs: 200, capMs: 2_000 },
  RATE_LIMIT: { attempts: 12, baseMs: 500, capMs: 4_000 },
  LOCKOUT: { attempts: 1, baseMs: 0, capMs: 0 },
  NONCE: { attempts: 12, baseMs: 50, capMs: 500 },
  NETWORK: { attempts: 12, baseMs: 200, capMs: 2_000 },
  DEADLINE: { attempts: 1, baseMs: 0, capMs: 0 },
};

/** Exponential backoff with equal jitter: half fixed so retries never bunch at zero, half random. */
export function backoffMs(policy: RetryPolicy, retry: number, random: () => number): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, retry));
  return ceiling / 2 + random() * (ceiling / 2);
}

/** The error a caller sees when retries ran out on a call that had no side effect. */
export function toThrown(f: Failure): ExchangeTemporaryError | ExchangeRejectedError {
  if (f.kind === 'rejected') return new ExchangeRejectedError(f.code, f.message);
  return new ExchangeTemporaryError(f.cls, f.message);
}
