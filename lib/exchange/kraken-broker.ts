/**
 * KrakenBroker: the Broker of lib/exchange/types.ts on Kraken spot, through ccxt's `kraken` class
 * (signing, HTTP, error mapping, implicit endpoints). What ccxt does not do for us lives here:
 * USD-spot filtering, rounding and minimums before anything is sent, the real fee tier, fees in USD,
 * deterministic `cl_ord_id` with lookup-before-resend, per-class retry with backoff inside the job's
 * time budget, a client-side model of Kraken's counters, per-key serialisation, persisted strictly
 * increasing nonces, and AmendOrder.
 *
 * Per-key state is process-wide: `krakenBrokerFor` hands every job of the process the same broker
 * for a key (one limiter, one nonce sequence, one markets / fee cache, one lock), because Kraken
 * counts per key, not per job. Everything here runs on the WALL clock (DESIGN.md §1) and inside the
 * caller's time budget (lib/deadline.ts): no wait, retry or HTTP request outlives `remainingMs()`,
 * and `abortAllBudgets()` (shutdown) ends waits and in-flight calls at once.
 */
import { createHash } from 'node:crypto';
import type { kraken } from 'ccxt';
import type { Logger } from 'pino';
import { z } from 'zod';
import { systemClock, type Clock } from '../clock.ts';
import { DeadlineExceededError, checkDeadline, remainingMs, sleepWithin } from '../deadline.ts';
import { krakenCallFailuresTotal, krakenLimiterWaitSeconds, krakenLimiterWaitsTotal, krakenLockedOut, krakenLockoutsTotal, krakenRestHeadroom } from '../http/metrics.ts';
import { loadKrakenClass } from './ccxt-kraken.ts';
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
  type RejectCode,
} from './kraken-errors.ts';
import { KrakenLimiter, amendCost, cancelPenalty, type KrakenTier } from './kraken-limiter.ts';
import {
  MARGIN_PARAMS,
  MarketIndex,
  amendReached,
  parseTradeVolume,
  prepareAddOrder,
  prepareAmendOrder,
  tradeVolumeSchema,
  withFeeTier,
  type FeeTier,
} from './kraken-markets.ts';
import { NonceSequence, type NonceStore } from './kraken-nonce.ts';
import {
  addOrderSchema,
  amendOrderSchema,
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
import type { AmendChange, AmendResult, Balances, Broker, BrokerOrder, Fill, MarketSpec, OrderRequest, SubmitResult } from './types.ts';

export interface KrakenBrokerOptions {
  accountId: string;
  /** How the account appears in metrics (`account` label) — its slug; default the account id. */
  accountSlug?: string;
  credentials: { apiKey: string; apiSecret: string };
  /** KRAKEN_API_URL: a bare origin, ccxt appends /0/public/… and /0/private/…. */
  apiUrl: string;
  /** Where nonces are persisted per account: PgNonceStore in every process that can reach the database. */
  nonceStore: NonceStore;
  /**
   * The WALL clock (default: system time), never the cycle's market clock: it drives nonces, the
   * limiter's decay, lockout ends and the markets / fee caches. A replay or bench may pass its offset
   * wall clock (OffsetFileClock); tests may pass a VirtualClock together with a `sleep` that advances
   * it. A clock that does not move while the broker sleeps is detected and fails the call at once.
   */
  clock?: Clock;
  logger?: Logger;
  tier?: KrakenTier; // default starter: the most conservative counters
  /** Per HTTP request (default 5 s); each request gets min(timeoutMs, what is left of the job's budget). */
  timeoutMs?: number;
  /** The longest limiter wait the broker sleeps on (default 20 s), also capped by the job's budget; longer ones fail at once with RATE_LIMIT. */
  maxWaitMs?: number;
  /** How the broker waits (backoff, limiter): tests and benches pass one that advances a VirtualClock. Still bounded by the job's budget. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number; // jitter source
  lockoutMs?: number; // how long a key is treated as locked out after EGeneral:Temporary lockout (default 15 min)
  feeTtlMs?: number; // fee tier cache (default 1 h)
  /** How long an AssetPairs read is fresh (default 1 h): refreshDue() reads a staler one, after the job's orders. */
  marketsTtlMs?: number;
  /**
   * How old an AssetPairs read a decision (loadMarkets, submit, amend) may use before it waits for a
   * new one (default marketsTtlMs). Longer than the TTL, a job decides on the read its predecessor
   * made after its orders, and AssetPairs is no read before an order: see marketIndex().
   */
  marketsMaxAgeMs?: number;
  /** After an ambiguous AddOrder finds nothing, wait this long and look once more before resending (default 500 ms). */
  lookupSettleMs?: number;
  /**
   * A new order goes out only with at least this much of the job's budget left (default 0: any),
   * so that a lost reply can still be resolved by looking the order up: with less, it is refused as
   * `NO_TIME_LEFT` before anything is sent — the cycle goes on, and the next bar decides again —
   * instead of ending the job with an order whose outcome it could not learn. Stop-loss sells (the
   * protection) are always sent.
   */
  submitReserveMs?: number;
}

/** `KEY_CAN_WITHDRAW`: Kraken accepted the key, but it may withdraw funds, which Aether never needs. */
export type CredentialCheck = { ok: true; balances: Balances } | { ok: false; reason: string; code?: 'KEY_CAN_WITHDRAW' };

/** Thrown inside the broker for one failed HTTP call; never escapes it. */
class CallFailure extends Error {
  constructor(readonly failure: Failure) {
    super(failure.message);
  }
}

const DEFAULT_TIMEOUT_MS = 5_000;
const DEFAULT_MAX_WAIT_MS = 20_000;
/** A call is only sent with at least this much budget left (a write also needs room for the lookup after it). */
const MIN_READ_BUDGET_MS = 100;
const MIN_WRITE_BUDGET_MS = 1_000;
/** How often a wait for the key or for a reply looks at the budget (abort on shutdown). */
const BUDGET_POLL_MS = 25;
const KNOWN_ORDERS_MAX = 20_000;
/** How long an order read from the exchange is good enough to amend from without reading it again. */
const SEEN_FRESH_MS = 60_000;
/** Limiter waits are slept in slices of at most this, so a clock that does not move is noticed quickly. */
const WAIT_SLICE_MS = 1_000;

/** Waits for `p` while the caller's budget lasts: DeadlineExceededError when it ends (or shutdown aborts it) first. */
function withinBudget<T>(p: Promise<T>, what: string): Promise<T> {
  checkDeadline(what);
  return new Promise<T>((resolve, reject) => {
    const timer = setInterval(() => {
      if (remainingMs() > 0) return;
      clearInterval(timer);
      reject(new DeadlineExceededError(`${what}: time budget spent or shutting down`));
    }, BUDGET_POLL_MS);
    p.then(
      (v) => {
        clearInterval(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearInterval(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/**
 * Private calls of one key run one at a time, process-wide, whatever the number of broker
 * instances: nonces must reach Kraken in the order they were taken. Waiting for the key's turn is
 * bounded by the caller's budget; a caller that gives up leaves the queue intact.
 */
class KeyLock {
  private tail: Promise<void> = Promise.resolve();

  async acquire(what: string): Promise<() => void> {
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const prev = this.tail;
    this.tail = prev.then(() => mine);
    try {
      await withinBudget(prev, `${what}: waiting for the key`);
    } catch (e) {
      void prev.then(release); // our turn passes straight on
      throw e;
    }
    return release;
  }
}
const keyLocks = new Map<string, KeyLock>();
const sessionKey = (apiUrl: string, apiKey: string): string => `${apiUrl.replace(/\/+$/, '')} ${apiKey}`;
function keyLock(apiUrl: string, apiKey: string): KeyLock {
  const k = sessionKey(apiUrl, apiKey);
  let l = keyLocks.get(k);
  if (!l) keyLocks.set(k, (l = new KeyLock()));
  return l;
}

type Implicit = (params?: Record<string, string>) => Promise<unknown>;
type CcxtKraken = kraken;

/** What we learnt about our orders: txid → client id, pair key, and when it was placed or last amended (for the trading-counter penalties). */
interface KnownOrder {
  clientId: string | null;
  krakenPair: string;
  touchedAt: number;
}

const temporary = (cls: FailureClass, message: string, retryAfterMs?: number, cause?: unknown) => new ExchangeTemporaryError(cls, message, retryAfterMs, cause === undefined ? undefined : { cause });

export class KrakenBroker implements Broker {
  readonly kind = 'kraken' as const;
  readonly limiter: KrakenLimiter;
  private readonly nonces: NonceSequence;
  private readonly random: () => number;
  private readonly clock: Clock;
  private readonly apiKey: string;
  private readonly lock: KeyLock;
  private readonly timeoutMs: number;
  private readonly maxWaitMs: number;
  private readonly label: string;
  private markets: { index: MarketIndex; at: number } | null = null;
  private fee: FeeTier | null = null;
  private readonly known = new Map<string, KnownOrder>();
  /** The newest state read of each order (open orders, lookups): what an amend starts from. */
  private readonly lastSeen = new Map<string, { order: KrakenOrder; at: number }>();
  private marketsRead: Promise<MarketIndex> | null = null;
  private lockoutGauge = false;

  /**
   * @param ex ccxt instance for private calls (its `timeout` is set per call, under the key lock)
   * @param publicEx ccxt instance for public calls (default `ex`)
   * @param limiter an existing limiter of the same key to carry over (a new secret for a key in use)
   */
  constructor(
    private readonly ex: CcxtKraken,
    private readonly opts: KrakenBrokerOptions,
    private readonly publicEx: CcxtKraken = ex,
    limiter?: KrakenLimiter,
  ) {
    this.clock = opts.clock ?? systemClock;
    this.apiKey = opts.credentials.apiKey;
    this.random = opts.random ?? Math.random;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxWaitMs = opts.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
    this.label = opts.accountSlug ?? opts.accountId;
    this.lock = keyLock(opts.apiUrl, opts.credentials.apiKey);
    this.limiter = limiter ?? new KrakenLimiter({ tier: opts.tier ?? 'starter', clock: this.clock, ...(opts.lockoutMs !== undefined ? { lockoutMs: opts.lockoutMs } : {}) });
    this.nonces = new NonceSequence(opts.nonceStore, opts.accountId, this.clock, (err) => opts.logger?.warn({ err: (err as Error).message }, 'could not record a Kraken nonce in the nonce store'));
    // ccxt's nonce is the current millisecond and collides; ours is reserved ahead (see call()).
    ex.nonce = () => this.nonces.take();
    // The series exist (0) before any lockout, so an alert's increase() sees the first one.
    krakenLockedOut.set({ account: this.label }, 0);
    krakenLockoutsTotal.inc({ account: this.label }, 0);
  }

  // ---- waiting inside the budget ----

  /** Sleeps `ms` within the job's budget (the injected sleep, if any, is still bounded by it). */
  private async pause(ms: number, what: string): Promise<void> {
    if (!this.opts.sleep) return sleepWithin(ms, what);
    checkDeadline(what);
    if (ms >= remainingMs()) throw new DeadlineExceededError(`${what}: ${Math.ceil(ms)} ms would outlast the time budget (${Math.floor(remainingMs())} ms left)`);
    await this.opts.sleep(ms);
    checkDeadline(what);
  }

  /** A backoff before retry number `retry + 1`; fails with the failure's class when it cannot fit in the budget. */
  private async backoff(f: Failure & { cls: FailureClass }, retry: number, what: string): Promise<void> {
    const ms = backoffMs(RETRY_POLICY[f.cls], retry, this.random);
    if (ms >= remainingMs()) throw temporary(f.cls, `${what}: ${f.message} (retrying would outlast the time budget: ${Math.floor(remainingMs())} ms left)`, ms);
    try {
      await this.pause(ms, what);
    } catch (e) {
      if (e instanceof DeadlineExceededError) throw temporary('DEADLINE', `${what}: ${f.message}; ${e.message}`, undefined, e);
      throw e;
    }
  }

  private setLockoutGauge(on: boolean): void {
    if (on === this.lockoutGauge) return;
    this.lockoutGauge = on;
    krakenLockedOut.set({ account: this.label }, on ? 1 : 0);
    if (!on) return;
    // Clear the gauge when the lockout ends even if no call comes to notice it.
    const check = () => {
      const left = this.limiter.lockoutLeftMs();
      if (left <= 0) this.setLockoutGauge(false);
      else setTimeout(check, Math.max(1_000, left)).unref();
    };
    setTimeout(check, Math.max(1_000, this.limiter.lockoutLeftMs())).unref();
  }

  private lockoutError(method: string): ExchangeTemporaryError {
    const left = this.limiter.lockoutLeftMs();
    return temporary('LOCKOUT', `kraken ${method}: the key is in a Kraken temporary lockout for another ${Math.ceil(left / 1000)} s`, left);
  }

  /**
   * Waits until Kraken's counters (as modelled) let this call go out. A lockout fails at once; a wait
   * longer than min(maxWaitMs, what is left of the budget) fails at once with RATE_LIMIT and its
   * `retryAfterMs` — never a sleep that cannot end in time.
   */
  private async admit(method: string, trade?: { pair: string; cost: number }): Promise<void> {
    let slept = 0;
    // A frozen clock never lets the counters drain: judged over a second of real waiting (the wall
    // clock's millisecond steps can stand still across one short slice).
    const waitStart = { clock: this.clock.now(), real: performance.now() };
    for (;;) {
      const h = this.limiter.hold(method, trade);
      if (h.ms <= 0) {
        this.setLockoutGauge(false);
        krakenRestHeadroom.set({ account: this.label }, 1 - this.limiter.rest.level() / this.limiter.rest.max);
        return;
      }
      if (h.reason === 'lockout') {
        this.setLockoutGauge(true);
        krakenLimiterWaitsTotal.inc({ account: this.label, counter: 'lockout', outcome: 'refused' });
        throw this.lockoutError(method);
      }
      const allowed = Math.min(this.maxWaitMs - slept, remainingMs() - MIN_READ_BUDGET_MS);
      if (h.ms > allowed) {
        krakenLimiterWaitsTotal.inc({ account: this.label, counter: h.reason ?? 'rest', outcome: 'refused' });
        this.opts.logger?.warn({ method, counter: h.reason, waitMs: h.ms, allowedMs: Math.max(0, Math.floor(allowed)) }, `kraken ${method}: Kraken's ${h.reason} counter needs a ${h.ms} ms wait, more than this job can spend; failing now`);
        throw temporary('RATE_LIMIT', `kraken ${method}: the ${h.reason} counter needs a ${h.ms} ms wait, longer than the ${Math.max(0, Math.floor(allowed))} ms this call may wait`, h.ms);
      }
      if (slept === 0) krakenLimiterWaitsTotal.inc({ account: this.label, counter: h.reason ?? 'rest', outcome: 'waited' });
      const slice = this.opts.sleep ? h.ms : Math.min(h.ms, WAIT_SLICE_MS);
      try {
        await this.pause(slice, `kraken ${method}: ${h.reason} counter`);
      } catch (e) {
        if (e instanceof DeadlineExceededError) throw temporary('DEADLINE', e.message, h.ms, e);
        throw e;
      }
      slept += slice;
      krakenLimiterWaitSeconds.inc({ account: this.label }, slice / 1000);
      const real = performance.now() - waitStart.real;
      if (!this.opts.sleep && real >= 1_000 && this.clock.now() - waitStart.clock < real / 2) {
        throw new Error(`KrakenBroker: its clock moved ${this.clock.now() - waitStart.clock} ms during a ${Math.round(real)} ms wait: it must be the wall clock, not a market or frozen clock`);
      }
    }
  }

  // ---- transport ----

  private implicit(ex: CcxtKraken, name: string): Implicit {
    const fn = (ex as unknown as Record<string, unknown>)[name];
    if (typeof fn !== 'function') throw new Error(`ccxt kraken has no implicit method ${name}`);
    return (fn as Implicit).bind(ex);
  }

  /**
   * One private call: the key's turn, then the limiter, then a nonce, then the request with
   * min(timeoutMs, budget left) as its timeout. Kraken's and the link's failures come out as
   * CallFailure; the budget, a lockout or a refused limiter wait before sending as ExchangeTemporaryError
   * (nothing was sent). A budget that ends (or a shutdown) while the request is in flight ends the
   * call at once as an ambiguous DEADLINE failure; the key stays held until the request settles.
   */
  private async call<S extends z.ZodType>(method: string, params: Record<string, string>, schema: S, o: { trade?: { pair: string; cost: number }; write?: boolean } = {}): Promise<z.output<S>> {
    if (this.limiter.lockoutLeftMs() > 0) {
      // Fail fast even while another call holds the key.
      this.setLockoutGauge(true);
      krakenLimiterWaitsTotal.inc({ account: this.label, counter: 'lockout', outcome: 'refused' });
      throw this.lockoutError(method);
    }
    let release: () => void;
    try {
      release = await this.lock.acquire(`kraken ${method}`);
    } catch (e) {
      if (e instanceof DeadlineExceededError) throw temporary('DEADLINE', e.message, undefined, e);
      throw e;
    }
    let inFlight: Promise<unknown> | null = null;
    try {
      await this.admit(method, o.trade);
      try {
        await withinBudget(this.nonces.ensure(), `kraken ${method}: nonce store`); // the database is outside too
      } catch (e) {
        if (e instanceof DeadlineExceededError) throw temporary('DEADLINE', e.message, undefined, e);
        throw e;
      }
      const left = remainingMs();
      if (left < (o.write ? MIN_WRITE_BUDGET_MS : MIN_READ_BUDGET_MS)) throw temporary('DEADLINE', `kraken ${method}: not sent, only ${Math.floor(left)} ms of the time budget left`);
      this.ex.timeout = Math.max(1, Math.floor(Math.min(this.timeoutMs, left)));
      this.limiter.record(method, o.trade);
      const req = this.implicit(this.ex, `privatePost${method}`)(params);
      inFlight = req.then(
        () => undefined,
        () => undefined,
      );
      let raw: unknown;
      try {
        raw = await withinBudget(req, `kraken ${method}`);
      } catch (e) {
        if (e instanceof DeadlineExceededError) {
          krakenCallFailuresTotal.inc({ account: this.label, method, class: 'DEADLINE' });
          throw new CallFailure({ kind: 'ambiguous', cls: 'DEADLINE', message: `kraken ${method}: ${e.message}` });
        }
        throw new CallFailure(this.failed(method, e, o.trade?.pair));
      }
      this.nonces.accepted();
      return schema.parse((raw as { result?: unknown }).result);
    } finally {
      if (inFlight) void inFlight.then(release);
      else release();
    }
  }

  /** Classifies a failed call and updates the key's state (lockout, counters, nonces). */
  private failed(method: string, e: unknown, pair?: string): Failure {
    const f = classifyKrakenFailure(e);
    krakenCallFailuresTotal.inc({ account: this.label, method, class: f.kind === 'rejected' ? 'rejected' : f.cls });
    if (f.kind === 'rejected') this.nonces.accepted();
    if (f.kind === 'temporary' && f.cls === 'LOCKOUT') {
      const until = this.limiter.lockedOut();
      krakenLockoutsTotal.inc({ account: this.label });
      this.setLockoutGauge(true);
      this.opts.logger?.warn({ method, lockedUntil: new Date(until).toISOString() }, `kraken ${method}: Kraken locked the key out (${f.krakenError ?? f.message}); every call fails fast until ${new Date(until).toISOString()}`);
      return f;
    }
    if (f.kind === 'temporary' && f.cls === 'RATE_LIMIT' && f.krakenError !== null) this.limiter.rateLimited(/^EOrder:/.test(f.krakenError) ? 'trading' : 'rest', pair);
    if (f.kind === 'temporary' && f.cls === 'NONCE') this.nonces.invalidate();
    this.opts.logger?.warn({ method, failure: f.kind, cls: f.kind === 'rejected' ? f.code : f.cls }, `kraken ${method} failed: ${f.message}`);
    return f;
  }

  /** A call without side effects: retried per class inside the budget; rejections and exhausted retries throw our classes. */
  private async read<S extends z.ZodType>(method: string, params: Record<string, string>, schema: S): Promise<z.output<S>> {
    for (let retry = 0; ; retry++) {
      try {
        return await this.call(method, params, schema);
      } catch (e) {
        if (!(e instanceof CallFailure)) throw e;
        const f = e.failure;
        if (f.kind === 'rejected') throw toThrown(f);
        if (f.cls === 'LOCKOUT') throw this.lockoutError(method);
        if (retry + 1 >= RETRY_POLICY[f.cls].attempts) throw temporary(f.cls, `${method}: ${f.message} (after ${retry + 1} attempts)`);
        await this.backoff(f, retry, `kraken ${method}`);
      }
    }
  }

  private async publicRead(name: string, what: string, params?: Record<string, string>): Promise<unknown> {
    for (let retry = 0; ; retry++) {
      let f: Failure;
      try {
        checkDeadline(what);
        return await withinBudget(this.implicit(this.publicEx, name)(params), what);
      } catch (e) {
        if (e instanceof DeadlineExceededError) throw temporary('DEADLINE', e.message, undefined, e);
        f = classifyKrakenFailure(e);
      }
      if (f.kind === 'rejected') throw toThrown(f);
      if (f.cls === 'LOCKOUT') throw temporary('LOCKOUT', `${what}: ${f.message}`, this.limiter.lockoutMs);
      if (retry + 1 >= RETRY_POLICY[f.cls].attempts) throw temporary(f.cls, `${what}: ${f.message} (after ${retry + 1} attempts)`);
      await this.backoff(f, retry, what);
    }
  }

  // ---- markets and fees ----

  /**
   * The market index a decision uses: the last AssetPairs read while it is younger than
   * marketsMaxAgeMs, else a new read, waited for. Kraken changes a market's status (limit_only,
   * cancel_only during an incident), minimums or decimals rarely and announces them; what a read up
   * to that age misses costs one order Kraken refuses — and a refusal of an order drops the read
   * (refusedBy), so the next decision reads AssetPairs first.
   */
  private marketIndex(): Promise<MarketIndex> {
    const maxAge = this.opts.marketsMaxAgeMs ?? this.opts.marketsTtlMs ?? 3_600_000;
    if (this.markets && this.clock.now() - this.markets.at < maxAge) return Promise.resolve(this.markets.index);
    return this.readMarkets();
  }

  /** AssetPairs read now; callers asking at once (loading markets beside a reconciliation) share one read. */
  private readMarkets(): Promise<MarketIndex> {
    this.marketsRead ??= (async () => {
      try {
        const raw = await this.publicRead('publicGetAssetPairs', 'kraken AssetPairs');
        const index = new MarketIndex(marketsFromAssetPairs((raw as { result?: unknown }).result));
        this.markets = { index, at: this.clock.now() };
        return index;
      } finally {
        this.marketsRead = null;
      }
    })();
    return this.marketsRead;
  }

  /**
   * The market index to read answers with (order and trade lists): any one already loaded — pair
   * names do not change with a market's status. Not a reason to read AssetPairs beside the job's
   * first calls: decisions (marketIndex) and refreshDue say when it is read.
   */
  private parsingIndex(): Promise<MarketIndex> {
    return this.markets ? Promise.resolve(this.markets.index) : this.marketIndex();
  }

  /** No AssetPairs read yet, or the last one is older than marketsTtlMs. */
  private marketsDue(): boolean {
    return !this.markets || this.clock.now() - this.markets.at >= (this.opts.marketsTtlMs ?? 3_600_000);
  }

  /** Kraken refused an order for what a market's listing governs (status, minimums, decimals): the next decision reads AssetPairs first. */
  private refusedBy(code: RejectCode): void {
    if (this.markets && LISTING_REFUSALS.has(code)) this.markets = { ...this.markets, at: -Infinity };
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

  /**
   * Reads what is due but was not waited for: AssetPairs once older than marketsTtlMs, the fee tier
   * once older than feeTtlMs. An order job calls it after its orders are out; until then what it has
   * serves (within marketsMaxAgeMs; the tier follows 30-day volume), so neither read stands between
   * a job's start and its first order.
   */
  async refreshDue(): Promise<void> {
    if (this.marketsDue()) await this.readMarkets();
    await this.feeTier();
  }

  /** The USD-spot markets, whatever their status, with the account's own fee rates (the tier last read, see refreshDue). */
  async loadMarkets(): Promise<MarketSpec[]> {
    const index = await this.marketIndex();
    const tier = this.fee ?? (await this.feeTier());
    // Every USD spot market with its status: a position in a market gone limit_only or cancel_only
    // still needs its exits judged and its stops kept (the risk engine reads the status).
    return index.all.map((m) => withFeeTier(m, tier));
  }

  /**
   * The pair's listing (USD spot) with the account's fee rates, from an AssetPairs read younger than
   * marketsTtlMs. When the last one is older, the pair's own listing is read now (`AssetPairs?pair=`):
   * an exit an hour after the last full read waits for one small answer, not Kraken's whole list
   * (a pair the last read did not list brings the whole list). Unlisted: null.
   */
  async market(pair: string): Promise<MarketSpec | null> {
    const known = this.markets?.index.all.find((m) => m.symbol === pair);
    const spec = !this.marketsDue() ? known : known ? await this.listing(known.krakenPair, pair) : (await this.readMarkets()).all.find((m) => m.symbol === pair);
    return spec ? withFeeTier(spec, this.fee ?? (await this.feeTier())) : null;
  }

  /** One pair's AssetPairs entry now; undefined when Kraken no longer lists it (or not as USD spot). */
  private async listing(krakenPair: string, pair: string): Promise<MarketSpec | undefined> {
    try {
      const raw = await this.publicRead('publicGetAssetPairs', `kraken AssetPairs ${krakenPair}`, { pair: krakenPair });
      return marketsFromAssetPairs((raw as { result?: unknown }).result).find((m) => m.symbol === pair);
    } catch (e) {
      if (e instanceof ExchangeRejectedError && e.code === 'NOT_SPOT_USD') return undefined; // EQuery:Unknown asset pair
      throw e;
    }
  }

  // ---- reads ----

  /**
   * Gets the key's nonce sequence in step with the store now (after an idle spell it resynchronises
   * before the next call), so a job that is about to call does not wait for it on its first call.
   * (Kraken's markets are not read here: at a job's start their answer would hold back the
   * settings read; the job's first reads start the refresh beside them.)
   */
  async prepare(): Promise<void> {
    await this.nonces.ensure();
  }

  async balances(): Promise<Balances> {
    return parseBalanceEx(await this.read('BalanceEx', {}, balanceExSchema));
  }

  private remember(orders: KrakenOrder[], index: MarketIndex): void {
    const at = this.clock.now();
    for (const o of orders) {
      this.lastSeen.set(o.id, { order: o, at });
      if (this.lastSeen.size > KNOWN_ORDERS_MAX) this.lastSeen.delete(this.lastSeen.keys().next().value!);
      if (this.known.has(o.id)) continue;
      this.know(o.id, { clientId: o.clientId, krakenPair: index.byKraken(o.krakenPair)?.krakenPair ?? o.krakenPair, touchedAt: o.createdAt });
    }
  }

  /** The broker lives as long as the process: keep the newest KNOWN_ORDERS_MAX orders (insertion order). */
  private know(txid: string, info: KnownOrder): void {
    this.known.set(txid, info);
    if (this.known.size > KNOWN_ORDERS_MAX) this.known.delete(this.known.keys().next().value!);
  }

  async openOrders(): Promise<KrakenOrder[]> {
    const index = await this.parsingIndex();
    const r = await this.read('OpenOrders', {}, openOrdersSchema);
    const orders = parseOrders(r.open, index);
    this.remember(orders, index);
    return orders;
  }

  /** Closed orders (closed, canceled, expired) closing after `since` (epoch ms), every page. */
  async closedOrders(since: number): Promise<KrakenOrder[]> {
    const index = await this.parsingIndex();
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
    const index = await this.parsingIndex();
    const open = parseOrders((await this.read('OpenOrders', { cl_ord_id: clientId }, openOrdersSchema)).open, index);
    const closed = open.length > 0 ? [] : parseOrders((await this.read('ClosedOrders', { cl_ord_id: clientId }, closedOrdersSchema)).closed, index);
    const hits = [...open, ...closed].filter((o) => o.clientId === clientId);
    this.remember(hits, index);
    if (hits.length > 1) this.opts.logger?.error({ clientId, ids: hits.map((o) => o.id) }, 'more than one Kraken order carries this cl_ord_id');
    return hits[0] ?? null;
  }

  /** Orders by txid (QueryOrders, up to 50 per call); unknown ids are left out. */
  async ordersById(txids: readonly string[]): Promise<KrakenOrder[]> {
    const index = await this.parsingIndex();
    const out: KrakenOrder[] = [];
    for (let i = 0; i < txids.length; i += 50) {
      const ids = txids.slice(i, i + 50);
      const orders = parseOrders(await this.read('QueryOrders', { txid: ids.join(',') }, queryOrdersSchema), index);
      this.remember(orders, index);
      out.push(...orders.filter((o) => ids.includes(o.id)));
    }
    return out;
  }

  async fills(since: number): Promise<Fill[]> {
    const index = await this.parsingIndex();
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
   * ambiguous failure (timeout, reset, 5xx, dropped or late reply, HTTP 429 without Kraken's answer,
   * budget ending in flight) it looks the order up by cl_ord_id and only re-sends when the exchange
   * confirms, twice a settle time apart, that it does not have it. Rejections are values; a call that
   * could not be made or retried within the budget throws ExchangeTemporaryError (not placed);
   * OrderStateUnknownError when it may have been placed and the lookup could not tell.
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
    // A protective stop always goes out: a holding left uncovered is worse than a stop whose reply is lost.
    const left = remainingMs();
    const reserve = req.side === 'sell' && req.type === 'stop-loss' ? 0 : (this.opts.submitReserveMs ?? 0);
    if (left < reserve) return { status: 'rejected', code: 'NO_TIME_LEFT', reason: `not sent: ${Math.floor(left)} ms left in the job's budget, less than the ${reserve} ms it keeps to learn the outcome of a lost reply` };
    for (const k of MARGIN_PARAMS) if (k in prep.params) throw new Error(`bug: margin parameter ${k} in an AddOrder`);

    let sent = false; // an unanswered attempt was not found: it may still land, so giving up is "unknown"
    const giveUp = (e: ExchangeTemporaryError): Error =>
      sent ? new OrderStateUnknownError(req.clientId, `AddOrder ${req.clientId}: an unanswered attempt was not found but may still land; ${e.message}`, { cause: e }) : e;
    for (let retry = 0; ; retry++) {
      let f: Failure;
      try {
        const r = await this.call('AddOrder', prep.params, addOrderSchema, { trade: { pair: spec.krakenPair, cost: 1 }, write: true });
        const txid = r.txid?.[0];
        if (txid === undefined) throw new Error(`AddOrder for ${req.clientId} answered without a txid`);
        const openedAt = this.clock.now();
        this.know(txid, { clientId: req.clientId, krakenPair: spec.krakenPair, touchedAt: openedAt });
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
        if (e instanceof ExchangeTemporaryError) throw giveUp(e); // not sent this time (lockout, limiter, budget)
        if (!(e instanceof CallFailure)) throw e;
        f = e.failure;
      }
      if (f.kind === 'rejected') {
        // cl_ord_id is unique among open orders: "duplicate" means an earlier attempt did land.
        if (f.code === 'DUPLICATE_ORDER') {
          const found = await this.lookupForSubmit(req.clientId);
          if (found) return { status: 'accepted', order: found };
        }
        this.refusedBy(f.code);
        return { status: 'rejected', code: f.code, reason: f.krakenError ?? f.message };
      }
      // No answer from Kraken itself (timeouts, resets, 5xx, an edge 429): the order may be there.
      const ambiguous = f.kind === 'ambiguous' || f.krakenError === null;
      if (ambiguous) {
        sent = true;
        const found = await this.resolveAmbiguous(req.clientId);
        if (found) return { status: 'accepted', order: found };
      }
      if (f.cls === 'LOCKOUT') throw giveUp(this.lockoutError('AddOrder'));
      if (f.cls === 'DEADLINE' || retry + 1 >= RETRY_POLICY[f.cls].attempts) throw giveUp(temporary(f.cls, `AddOrder ${req.clientId} not placed after ${retry + 1} attempts: ${f.message}`));
      try {
        await this.backoff(f, retry, `kraken AddOrder ${req.clientId}`);
      } catch (e) {
        throw e instanceof ExchangeTemporaryError ? giveUp(e) : e;
      }
    }
  }

  private async lookupForSubmit(clientId: string): Promise<KrakenOrder | null> {
    try {
      return await this.orderByClientId(clientId);
    } catch (e) {
      if (e instanceof ExchangeTemporaryError || e instanceof ExchangeRejectedError || e instanceof DeadlineExceededError) {
        throw new OrderStateUnknownError(clientId, `AddOrder ${clientId} outcome unknown and the lookup failed: ${e.message}`);
      }
      throw e;
    }
  }

  /** After an ambiguous AddOrder: the order if it landed, null once two lookups a settle time apart find nothing. */
  private async resolveAmbiguous(clientId: string): Promise<KrakenOrder | null> {
    const first = await this.lookupForSubmit(clientId);
    if (first) return first;
    try {
      await this.pause(this.opts.lookupSettleMs ?? 500, `AddOrder ${clientId}: settling before the second lookup`);
    } catch (e) {
      if (e instanceof DeadlineExceededError) throw new OrderStateUnknownError(clientId, `AddOrder ${clientId} not found yet and no time left to look again: ${e.message}`);
      throw e;
    }
    return this.lookupForSubmit(clientId);
  }

  private async orderById(txid: string): Promise<KrakenOrder | null> {
    return (await this.ordersById([txid]))[0] ?? null;
  }

  /** Cancels an open order by txid; an ambiguous failure is settled by querying the order. */
  async cancel(orderId: string): Promise<void> {
    let info = this.known.get(orderId);
    if (!info) {
      const o = await this.orderById(orderId);
      if (!o) throw new ExchangeRejectedError('ORDER_NOT_FOUND', `no Kraken order ${orderId}`);
      info = this.known.get(orderId)!;
    }
    const trade = { pair: info.krakenPair, cost: cancelPenalty(this.clock.now() - info.touchedAt) };
    for (let retry = 0; ; retry++) {
      let f: Failure;
      try {
        await this.call('CancelOrder', { txid: orderId }, cancelResult, { trade });
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
      if (f.cls === 'LOCKOUT') throw this.lockoutError('CancelOrder');
      if (retry + 1 >= RETRY_POLICY[f.cls].attempts) throw temporary(f.cls, `CancelOrder ${orderId}: ${f.message} (after ${retry + 1} attempts)`);
      await this.backoff(f, retry, `kraken CancelOrder ${orderId}`);
    }
  }

  /**
   * Amends a resting order in place (Kraken AmendOrder: txid, queue priority and cl_ord_id stay):
   * `change.price` is the limit price of a limit order and the trigger price of a stop-loss /
   * take-profit (plain or -limit), `change.price2` the limit price of a -limit order,
   * `change.amount` the new total quantity; rounded to the pair's precision (quantity down) and
   * checked against the minimums first. An amend sets absolute values, so it is idempotent: an
   * ambiguous failure is settled by querying the order and comparing it with the target, and
   * retried if it is not there yet. Rejections are values (ORDER_NOT_FOUND for an unknown or no
   * longer open order, INSUFFICIENT_FUNDS, BELOW_EXCHANGE_MINIMUM, INVALID_ORDER); the result is
   * the order as the exchange shows it afterwards. OrderStateUnknownError when it could not tell.
   */
  async amend(orderId: string, change: AmendChange): Promise<AmendResult> {
    const index = await this.marketIndex();
    // The order as read a moment ago (the cycle reads open orders before it amends): no query, one
    // counter point fewer; a stale read only costs a rejection (the order is no longer open).
    const seen = this.lastSeen.get(orderId);
    const current = seen && this.clock.now() - seen.at < SEEN_FRESH_MS ? seen.order : await this.orderById(orderId);
    if (!current || (current.status !== 'open' && current.status !== 'pending')) {
      return { status: 'rejected', code: 'ORDER_NOT_FOUND', reason: `order ${orderId} is ${current?.status ?? 'unknown'}, not open` };
    }
    const spec = index.byKraken(current.krakenPair) ?? index.bySymbolName(current.pair);
    if (!spec) return { status: 'rejected', code: 'NOT_SPOT_USD', reason: `order ${orderId} is on ${current.pair}, not a USD spot pair` };
    const prep = prepareAmendOrder(current, change, spec);
    if (!prep.ok) return { status: 'rejected', code: prep.code, reason: prep.reason };
    if (prep.noop) return { status: 'amended', order: current };
    const params = { txid: orderId, ...prep.params };
    const ref = current.clientId ?? orderId;

    let sent = false; // an attempt may have applied without our hearing it
    for (let retry = 0; ; retry++) {
      const info = this.known.get(orderId);
      const trade = { pair: spec.krakenPair, cost: amendCost(this.clock.now() - (info?.touchedAt ?? current.createdAt)) };
      let f: Failure;
      try {
        await this.call('AmendOrder', params, amendOrderSchema, { trade, write: true });
        if (info) info.touchedAt = this.clock.now();
        // Kraken applied exactly these values: the order is what it was, amended (no read-back call).
        const amended: KrakenOrder = { ...current, amount: prep.target.amount, price: prep.target.price, price2: prep.target.price2 };
        this.lastSeen.set(orderId, { order: amended, at: this.clock.now() });
        return { status: 'amended', order: amended };
      } catch (e) {
        if (!(e instanceof CallFailure)) throw e;
        f = e.failure;
      }
      if (f.kind === 'rejected' && !sent) {
        this.refusedBy(f.code);
        return { status: 'rejected', code: f.code, reason: f.krakenError ?? f.message };
      }
      // No answer from Kraken itself: the amend may have applied.
      const ambiguous = f.kind === 'ambiguous' || f.krakenError === null;
      sent ||= ambiguous;
      if (f.kind === 'rejected' || ambiguous) {
        // Did this (or an earlier) attempt apply? The exchange's order says.
        let now: KrakenOrder | null;
        try {
          now = await this.orderById(orderId);
        } catch (e) {
          if (e instanceof ExchangeTemporaryError || e instanceof ExchangeRejectedError) throw new OrderStateUnknownError(ref, `AmendOrder ${orderId} outcome unknown and the query failed: ${e.message}`);
          throw e;
        }
        if (now && amendReached(now, prep.target, spec)) {
          if (info) info.touchedAt = this.clock.now();
          return { status: 'amended', order: now };
        }
        if (!now || (now.status !== 'open' && now.status !== 'pending')) return { status: 'rejected', code: 'ORDER_NOT_FOUND', reason: `order ${orderId} is ${now?.status ?? 'unknown'}, not open` };
        if (f.kind === 'rejected') return { status: 'rejected', code: f.code, reason: f.krakenError ?? f.message };
      }
      if (f.cls === 'LOCKOUT') throw this.lockoutError('AmendOrder');
      // Not applied as of the query above; an amend to absolute values is safe to send again.
      if (f.cls === 'DEADLINE' || retry + 1 >= RETRY_POLICY[f.cls].attempts) throw temporary(f.cls, `AmendOrder ${orderId} not applied after ${retry + 1} attempts: ${f.message}`);
      await this.backoff(f, retry, `kraken AmendOrder ${orderId}`);
    }
  }

  // ---- key upload ----

  /**
   * Used when keys are uploaded or an account goes live: a Balance call proves the key and
   * signature, the withdrawal probe (`canWithdraw`) refuses a key that could move funds off the
   * exchange, and a `validate=true` order proves trading permission without placing anything. Lack of
   * funds does not fail the check.
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
    if (await this.canWithdraw())
      return { ok: false, code: 'KEY_CAN_WITHDRAW', reason: 'this key has the Withdraw Funds permission: create a key without the Withdraw Funds permission (Aether only queries and trades)' };
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
      if (f.cls === 'LOCKOUT') throw this.lockoutError('AddOrder (validate)');
      // validate=true never places an order, so even an ambiguous failure is safe to retry.
      if (f.cls === 'DEADLINE' || retry + 1 >= RETRY_POLICY[f.cls].attempts) throw temporary(f.cls, `validate order: ${f.message}`);
      await this.backoff(f, retry, 'kraken AddOrder (validate)');
    }
  }

  /**
   * Whether the key may withdraw funds. Asks Kraken's WithdrawMethods — a list of withdrawal methods,
   * never a withdrawal — which needs the Query Funds and Withdraw Funds permissions: a key without
   * Withdraw Funds is answered `EGeneral:Permission denied`. Call after a successful Balance (which
   * proves Query Funds), so a denial can only mean the missing Withdraw Funds permission.
   */
  async canWithdraw(): Promise<boolean> {
    try {
      await this.read('WithdrawMethods', {}, z.unknown());
      return true;
    } catch (e) {
      if (e instanceof ExchangeRejectedError && e.code === 'PERMISSION_DENIED') return false;
      throw e;
    }
  }

  /** Resolves once every nonce used so far is recorded in the nonce store (tests, orderly shutdown). */
  flushNonces(): Promise<void> {
    return this.nonces.flushed();
  }

  /** The limiter's lockout deadline (epoch ms on the broker's clock; 0 when none). */
  lockedUntil(): number {
    return this.limiter.lockedUntilMs();
  }
}

const cancelResult = z.object({ count: z.number() });

/** Refusals a change in a market's listing can explain: the AssetPairs read the order was checked against may be out of date. */
const LISTING_REFUSALS: ReadonlySet<RejectCode> = new Set(['MARKET_NOT_TRADABLE', 'BELOW_EXCHANGE_MINIMUM', 'INVALID_ORDER', 'NOT_SPOT_USD']);

/**
 * Builds an isolated KrakenBroker: its own limiter and nonce sequence (the key lock is still
 * process-wide). For tests and benches that want one on a VirtualClock; everything else uses
 * `krakenBrokerFor`. ccxt's Kraken class is imported here, lazily (lib/exchange/ccxt-kraken.ts).
 */
export async function createKrakenBroker(opts: KrakenBrokerOptions, carry?: { limiter?: KrakenLimiter }): Promise<KrakenBroker> {
  const Kraken = await loadKrakenClass();
  const make = () =>
    new Kraken({
      apiKey: opts.credentials.apiKey,
      secret: opts.credentials.apiSecret,
      enableRateLimit: false, // our limiter models Kraken's counters; ccxt's is a flat delay
      timeout: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      urls: { api: { public: opts.apiUrl, private: opts.apiUrl } },
    });
  // Two ccxt instances: the private one's timeout is set per call under the key lock.
  return new KrakenBroker(make(), opts, make(), carry?.limiter);
}

// ---- one broker per key per process ----

interface Session {
  secretHash: string;
  accountId: string;
  broker: Promise<KrakenBroker>;
}
const sessions = new Map<string, Session>();
const hashSecret = (s: string): string => createHash('sha256').update(s).digest('hex');

/**
 * The process's KrakenBroker for a key: one per (apiUrl, apiKey), shared by every job and function
 * in the process, so that they share one model of Kraken's counters, one nonce sequence, one
 * markets / fee cache and one lock. The first call's options build it; later calls with the same
 * secret and account get the same instance (their other options are ignored). A new secret (or a
 * different account) for the key replaces it, carrying the counters over. `clock` defaults to the
 * system wall clock; pass the process's wall clock (ctx.clock), never the cycle's market clock.
 */
export function krakenBrokerFor(opts: KrakenBrokerOptions): Promise<KrakenBroker> {
  const k = sessionKey(opts.apiUrl, opts.credentials.apiKey);
  const secretHash = hashSecret(opts.credentials.apiSecret);
  const cur = sessions.get(k);
  if (cur && cur.secretHash === secretHash && cur.accountId === opts.accountId) return cur.broker;
  const broker = (async () => {
    const previous = cur ? await cur.broker.catch(() => null) : null;
    return createKrakenBroker(opts, previous ? { limiter: previous.limiter } : undefined);
  })();
  const session: Session = { secretHash, accountId: opts.accountId, broker };
  sessions.set(k, session);
  broker.catch(() => {
    if (sessions.get(k) === session) sessions.delete(k);
  });
  return broker;
}

/** Starts `prepare()` on this process's broker(s) of the account, if it has one; failures are left to the calls. */
export function prepareKrakenSessions(accountId: string): void {
  for (const s of sessions.values()) if (s.accountId === accountId) void s.broker.then((b) => b.prepare()).catch(() => undefined);
}

/** The process's broker for a key if one exists and has the same secret (the key check reuses it). */
export function existingKrakenBroker(apiUrl: string, credentials: { apiKey: string; apiSecret: string }): Promise<KrakenBroker> | null {
  const s = sessions.get(sessionKey(apiUrl, credentials.apiKey));
  return s && s.secretHash === hashSecret(credentials.apiSecret) ? s.broker : null;
}

/** Forgets every shared broker (tests; the key locks stay, they hold no state between calls). */
export function forgetKrakenBrokers(): void {
  sessions.clear();
}
