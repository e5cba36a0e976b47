/**
 * The per-key Kraken session (krakenBrokerFor) against the emulator through the real ccxt client:
 * one limiter and nonce sequence per key shared by concurrent jobs, the key check on the same
 * session, lockouts and budgets that fail fast instead of hanging, and a frozen clock detected.
 * Where the point is "does not hang", the emulator and the broker run on real time with small budgets.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { VirtualClock, systemClock } from '../../lib/clock.ts';
import { withDeadline } from '../../lib/deadline.ts';
import { createKrakenBroker, forgetKrakenBrokers, krakenBrokerFor, prepareKrakenSessions, type KrakenBrokerOptions } from '../../lib/exchange/kraken-broker.ts';
import { checkKrakenCredentials } from '../../lib/exchange/kraken-credentials.ts';
import { NONCE_RESYNC_IDLE_MS, PgNonceStore, type NonceStore } from '../../lib/exchange/kraken-nonce.ts';
import { krakenLimiterWaitsTotal, krakenLockedOut, krakenLockoutsTotal } from '../../lib/http/metrics.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { generateKey, startKrakenEmulator, type KrakenEmulator } from '../kraken-emulator/index.ts';

let db: TestDatabase;
let store: PgNonceStore;
/** Real time: lockouts, budgets and timeouts behave as they do live. */
let live: KrakenEmulator;
/** Virtual time shared with the brokers (their sleeps advance it): counters are exact and waits instant. */
let virt: KrakenEmulator;
const vclock = new VirtualClock(Date.now());
const vsleep = async (ms: number) => vclock.advance(Math.ceil(ms));

async function newAccount(): Promise<{ id: string; slug: string }> {
  const slug = `session-${randomUUID().slice(0, 8)}`;
  const r = await db.owner.query<{ id: string }>(`insert into accounts (slug, name, kind) values ($1, $1, 'company') returning id`, [slug]);
  return { id: r.rows[0]!.id, slug };
}

async function setup(emu: KrakenEmulator, tier: 'starter' | 'pro' = 'pro') {
  const key = generateKey();
  emu.addKey({ ...key, tier, balances: { USD: 100_000, BTC: 2 } });
  const account = await newAccount();
  const opts = (more: Partial<KrakenBrokerOptions> = {}): KrakenBrokerOptions => ({
    accountId: account.id,
    accountSlug: account.slug,
    credentials: { apiKey: key.key, apiSecret: key.secret },
    apiUrl: emu.url,
    nonceStore: store,
    tier,
    timeoutMs: 1_000,
    ...more,
  });
  return { key, account, opts };
}

const errorsOf = (emu: KrakenEmulator, key: string) => emu.requests.filter((r) => r.key === key).flatMap((r) => r.errors);
const noncesOf = (emu: KrakenEmulator, key: string) => emu.requests.filter((r) => r.api === 'private' && r.key === key).map((r) => BigInt(r.params.nonce as string));
const increasing = (xs: bigint[]) => xs.every((x, i) => i === 0 || x > xs[i - 1]!);
const gauge = async (slug: string) => (await krakenLockedOut.get()).values.find((v) => v.labels.account === slug)?.value;
const counter = async (c: typeof krakenLockoutsTotal | typeof krakenLimiterWaitsTotal, labels: Record<string, string>) =>
  (await c.get()).values.filter((v) => Object.entries(labels).every(([k, x]) => (v.labels as Record<string, unknown>)[k] === x)).reduce((s, v) => s + v.value, 0);

async function elapsed<T>(p: Promise<T>): Promise<{ ms: number; result: PromiseSettledResult<T> }> {
  const t = performance.now();
  const [result] = await Promise.allSettled([p]);
  return { ms: performance.now() - t, result: result! };
}

beforeAll(async () => {
  db = await createTestDatabase();
  store = new PgNonceStore(db.app.db);
  live = await startKrakenEmulator();
  virt = await startKrakenEmulator({ now: () => vclock.now() });
});

afterAll(async () => {
  await live?.close();
  await virt?.close();
  await db?.drop();
});

beforeEach(() => forgetKrakenBrokers());

describe('one broker per key per process', () => {
  it('krakenBrokerFor gives every caller of a key the same broker; a new secret replaces it and keeps the counters', async () => {
    const { opts, key } = await setup(live);
    const a = await krakenBrokerFor(opts());
    const b = await krakenBrokerFor(opts({ timeoutMs: 9_999 }));
    expect(b).toBe(a);
    const other = await setup(live);
    expect(await krakenBrokerFor(other.opts())).not.toBe(a);
    const rotated = await krakenBrokerFor(opts({ credentials: { apiKey: key.key, apiSecret: generateKey().secret } }));
    expect(rotated).not.toBe(a);
    expect(rotated.limiter).toBe(a.limiter);
    expect(await krakenBrokerFor(opts({ credentials: { apiKey: key.key, apiSecret: generateKey().secret } }))).not.toBe(rotated);
  });

  it("a starting job gets the account's broker in step with the nonce store before its first call (after an idle spell)", async () => {
    const reserves: string[] = [];
    const counting: NonceStore = { reserve: (id, floor, size) => (reserves.push(id), store.reserve(id, floor, size)) };
    const { opts, account } = await setup(virt);
    const broker = await krakenBrokerFor(opts({ clock: vclock, sleep: vsleep, nonceStore: counting }));
    await broker.balances();
    await broker.flushNonces();
    vclock.advance(NONCE_RESYNC_IDLE_MS + 1);
    const before = reserves.length;
    prepareKrakenSessions((await newAccount()).id); // another account's job: not this broker
    prepareKrakenSessions(account.id);
    await new Promise((r) => setTimeout(r, 50));
    expect(reserves.slice(before)).toEqual([account.id]);
    await broker.balances(); // in step already: no synchronisation on the call's path (only the background record of its nonce)
    await broker.flushNonces();
    expect(reserves.slice(before)).toEqual([account.id, account.id]);
  });

  it('two jobs on one key share one limiter and nonce sequence: concurrent use never overruns Kraken\'s counter', async () => {
    const { opts, key } = await setup(virt, 'starter');
    const job = () =>
      withDeadline(45_000, async () => {
        const broker = await krakenBrokerFor(opts({ clock: vclock, sleep: vsleep })); // each job "builds" its broker
        for (let i = 0; i < 12; i++) {
          await broker.balances();
          await broker.openOrders();
          if (i % 4 === 0) await broker.fills(vclock.now() - 3_600_000);
        }
      });
    await Promise.all([job(), job()]);
    expect(errorsOf(virt, key.key)).toEqual([]);
    expect(increasing(noncesOf(virt, key.key))).toBe(true);
    expect(virt.privateCalls(key.key)).toBe(2 * (24 + 3));
  });

  it('for contrast: two isolated brokers on one key (the old per-job broker) overrun it', async () => {
    const { opts, key } = await setup(virt, 'starter');
    const isolated = () => createKrakenBroker(opts({ clock: vclock, sleep: vsleep }));
    const [a, b] = await Promise.all([isolated(), isolated()]);
    await Promise.allSettled(Array.from({ length: 14 }, (_, i) => (i % 2 === 0 ? a : b).balances()));
    await Promise.allSettled(Array.from({ length: 14 }, (_, i) => (i % 2 === 0 ? a : b).balances()));
    expect(errorsOf(virt, key.key).filter((e) => /Rate limit|lockout/.test(e)).length).toBeGreaterThan(0);
  });
});

describe('key check and live calls on one key (strict nonces)', () => {
  it('the key check, before and after live calls, in this process or another, never causes EAPI:Invalid nonce', async () => {
    const { opts, key, account } = await setup(live);
    const creds = { apiKey: key.key, apiSecret: key.secret };
    // Upload: no session in the process yet; the check knows the account and persists its nonces.
    expect(await checkKrakenCredentials(live.url, creds, { accountId: account.id, db: db.app.db })).toEqual({ ok: true });
    const mark = await db.owner.query<{ last_nonce: string }>('select last_nonce from kraken_nonces where account_id = $1', [account.id]);
    expect(BigInt(mark.rows[0]!.last_nonce)).toBeGreaterThanOrEqual(noncesOf(live, key.key).at(-1)!); // persisted for the account
    const broker = await krakenBrokerFor(opts());
    await broker.balances();
    // Going live while the order worker holds the session: the check runs through it.
    expect(await checkKrakenCredentials(live.url, creds, { accountId: account.id, db: db.app.db })).toEqual({ ok: true });
    await broker.openOrders();
    // The api function in another process (no session there): its check still goes above the worker's nonces ...
    const otherProcess = await createKrakenBroker(opts());
    expect(await otherProcess.checkCredentials()).toMatchObject({ ok: true });
    // ... and the worker's next call goes above the check's.
    await broker.balances();
    // Even a broker whose clock is an old bar time (the original defect) stays above, through the store.
    const barClock = new VirtualClock(Date.now() - 2 * 3_600_000);
    const stale = await createKrakenBroker(opts({ clock: barClock }));
    await stale.balances();
    expect(await checkKrakenCredentials(live.url, creds, { accountId: account.id, db: db.app.db })).toEqual({ ok: true });
    await broker.balances();
    // The expected answers of the key check's probes: the validate-only order and the withdrawal probe.
    const probes = new Set(['EOrder:Insufficient funds', 'EGeneral:Permission denied']);
    expect(errorsOf(live, key.key).filter((e) => !probes.has(e))).toEqual([]);
    expect(increasing(noncesOf(live, key.key))).toBe(true);
  });
});

describe('never a hang', () => {
  it('a locked-out key fails fast with LOCKOUT and a retryAfter, sends nothing, raises the gauge, and recovers after the lockout', async () => {
    const { opts, key, account } = await setup(live);
    const broker = await krakenBrokerFor(opts({ lockoutMs: 1_200 }));
    const lockoutsBefore = await counter(krakenLockoutsTotal, { account: account.slug });
    live.faults.add({ method: 'BalanceEx', key: key.key, kind: 'error', error: 'EGeneral:Temporary lockout' });
    await withDeadline(10_000, async () => {
      const first = await elapsed(broker.balances());
      expect(first.result).toMatchObject({ status: 'rejected', reason: { name: 'ExchangeTemporaryError', code: 'LOCKOUT' } });
      const retryAfter = (first.result as PromiseRejectedResult).reason.retryAfterMs as number;
      expect(retryAfter).toBeGreaterThan(900);
      expect(retryAfter).toBeLessThanOrEqual(1_200);
      expect(first.ms).toBeLessThan(1_000); // one HTTP round trip, no sleep
      expect(await gauge(account.slug)).toBe(1);
      expect(await counter(krakenLockoutsTotal, { account: account.slug })).toBe(lockoutsBefore + 1);
      const sent = live.privateCalls(key.key);
      for (const call of [() => broker.openOrders() as Promise<unknown>, () => broker.submit({ clientId: randomUUID(), pair: 'BTC/USD', side: 'buy', type: 'market', amount: 0.001 })]) {
        const r = await elapsed<unknown>(call());
        expect(r.result).toMatchObject({ status: 'rejected', reason: { code: 'LOCKOUT', retryAfterMs: expect.any(Number) } });
        expect(r.ms).toBeLessThan(250); // nothing sent
      }
      expect(live.privateCalls(key.key)).toBe(sent);
    });
    await new Promise((r) => setTimeout(r, 1_300));
    await withDeadline(5_000, async () => expect((await broker.balances()).USD?.total).toBe(100_000));
    expect(await gauge(account.slug)).toBe(0);
  });

  it('a limiter wait longer than the budget fails at once with RATE_LIMIT and its retryAfter', async () => {
    const { opts, key, account } = await setup(live, 'starter');
    const broker = await krakenBrokerFor(opts());
    live.faults.add({ method: 'BalanceEx', key: key.key, kind: 'error', error: 'EAPI:Rate limit exceeded' });
    const refusedBefore = await counter(krakenLimiterWaitsTotal, { account: account.slug, outcome: 'refused' });
    const r = await elapsed(withDeadline(2_000, () => broker.balances()));
    // The counter is full: one point needs (15 + 1 - 14) / 0.33 s ≈ 6 s, more than the 2 s budget.
    expect(r.result).toMatchObject({ status: 'rejected', reason: { name: 'ExchangeTemporaryError', retryAfterMs: expect.any(Number) } });
    expect(r.ms).toBeLessThan(1_500);
    expect(await counter(krakenLimiterWaitsTotal, { account: account.slug, outcome: 'refused' })).toBeGreaterThan(refusedBefore);
  });

  it('a frozen VirtualClock handed as the wall clock cannot make it hang: a second of limiter waiting notices and fails', async () => {
    const { opts } = await setup(live);
    const frozen = new VirtualClock(Date.now());
    const broker = await krakenBrokerFor(opts({ clock: frozen }));
    const r = await elapsed(
      withDeadline(30_000, async () => {
        for (let i = 0; i < 40; i++) await broker.balances();
      }),
    );
    expect(r.result).toMatchObject({ status: 'rejected', reason: { message: expect.stringMatching(/wall clock/) } });
    expect(r.ms).toBeLessThan(3_000);
    // with a short budget it does not even sleep: the wait it would need is refused at once
    const quick = await elapsed(withDeadline(300, () => broker.balances()));
    expect(quick.result).toMatchObject({ status: 'rejected', reason: { code: 'RATE_LIMIT' } });
    expect(quick.ms).toBeLessThan(400);
  });

  it('a call in flight when its budget is aborted ends at once (well within one HTTP timeout); the key is free again after that timeout', async () => {
    const { opts, key } = await setup(live);
    const broker = await krakenBrokerFor(opts({ timeoutMs: 2_000 }));
    await broker.loadMarkets();
    live.faults.add({ method: 'BalanceEx', key: key.key, kind: 'timeout' });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 150);
    const r = await elapsed(withDeadline(30_000, () => broker.balances(), ac.signal));
    expect(r.result).toMatchObject({ status: 'rejected', reason: { name: 'ExchangeTemporaryError', code: 'DEADLINE' } });
    expect(r.ms).toBeLessThan(1_000); // aborted at 150 ms; the HTTP timeout is 2 s
    const next = await elapsed(withDeadline(5_000, () => broker.balances()));
    expect(next.result.status).toBe('fulfilled');
    expect(next.ms).toBeLessThan(3_000);
  });

  it('a job with less budget left than the submit reserve sends no new order: refused NO_TIME_LEFT, nothing reaches Kraken', async () => {
    const { opts, key } = await setup(live);
    const broker = await krakenBrokerFor(opts({ submitReserveMs: 30_000 }));
    await broker.loadMarkets();
    const before = live.privateCalls(key.key, 'AddOrder');
    const r = await withDeadline(10_000, () => broker.submit({ clientId: randomUUID(), pair: 'BTC/USD', side: 'buy', type: 'market', amount: 0.001 }));
    expect(r).toMatchObject({ status: 'rejected', code: 'NO_TIME_LEFT' });
    expect(live.privateCalls(key.key, 'AddOrder')).toBe(before);
    // Protection is never held back: a stop-loss sell goes out whatever is left (here refused by Kraken for want of BTC).
    const stop = await withDeadline(10_000, () => broker.submit({ clientId: randomUUID(), pair: 'BTC/USD', side: 'sell', type: 'stop-loss', price: 1_000, amount: 0.001 }));
    expect(stop).not.toMatchObject({ code: 'NO_TIME_LEFT' });
    expect(live.privateCalls(key.key, 'AddOrder')).toBe(before + 1);
    const placed = await withDeadline(40_000, () => broker.submit({ clientId: randomUUID(), pair: 'BTC/USD', side: 'buy', type: 'market', amount: 0.001 }));
    expect(placed.status).toBe('accepted');
  });

  it('an AddOrder in flight when the budget ends is reported as unknown, not as "not placed"', async () => {
    const { opts, key } = await setup(live);
    const broker = await krakenBrokerFor(opts({ timeoutMs: 5_000 }));
    await broker.loadMarkets();
    live.faults.add({ method: 'AddOrder', key: key.key, kind: 'timeout' });
    const clientId = randomUUID();
    const r = await elapsed(withDeadline(1_500, () => broker.submit({ clientId, pair: 'BTC/USD', side: 'buy', type: 'market', amount: 0.001 })));
    expect(r.result).toMatchObject({ status: 'rejected', reason: { name: 'OrderStateUnknownError', clientId } });
    expect(r.ms).toBeLessThan(2_500); // the per-request timeout was the budget left, not the 5 s timeoutMs
  });

  it('the HTTP timeout of a request is what is left of the budget when that is shorter', async () => {
    const { opts, key } = await setup(live);
    const broker = await krakenBrokerFor(opts({ timeoutMs: 10_000 }));
    await broker.loadMarkets();
    live.faults.add({ method: 'OpenOrders', key: key.key, kind: 'timeout', count: 50 });
    const r = await elapsed(withDeadline(800, () => broker.openOrders()));
    expect(r.result).toMatchObject({ status: 'rejected', reason: { name: 'ExchangeTemporaryError' } });
    expect(r.ms).toBeLessThan(1_800); // not the 10 s timeoutMs
    live.faults.clear();
  });

  it('jobs queued behind a busy key give up when their own budget ends', async () => {
    const { opts, key } = await setup(live);
    const broker = await krakenBrokerFor(opts({ timeoutMs: 2_000 }));
    await broker.loadMarkets();
    live.faults.add({ method: 'BalanceEx', key: key.key, kind: 'timeout' });
    const holder = withDeadline(10_000, () => broker.balances()); // holds the key ~2 s
    await new Promise((r) => setTimeout(r, 50));
    const waiter = await elapsed(withDeadline(400, () => broker.openOrders()));
    expect(waiter.result).toMatchObject({ status: 'rejected', reason: { code: 'DEADLINE' } });
    expect(waiter.ms).toBeLessThan(1_200); // not the ~2 s the holder takes
    await expect(holder).resolves.toBeDefined(); // the timed-out read was retried and succeeded
  });
});

describe('the system clock is the default', () => {
  it('a broker built without a clock runs on wall time', async () => {
    const { opts, key } = await setup(live);
    const { clock: _c, ...rest } = opts();
    const broker = await krakenBrokerFor(rest);
    await broker.balances();
    const n = noncesOf(live, key.key).at(-1)!;
    expect(Number(n / 1000n)).toBeGreaterThanOrEqual(systemClock.now() - 5_000);
  });
});
