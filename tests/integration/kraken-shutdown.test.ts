/**
 * Shutdown with Kraken calls in flight (its own file: abortAllBudgets ends every budget of the
 * process for good). A call waiting on a reply, one waiting for the key, one in a backoff sleep and
 * one in a limiter wait all end within a moment — not after their HTTP timeouts, waits or retries.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { abortAllBudgets, withDeadline } from '../../lib/deadline.ts';
import { krakenBrokerFor } from '../../lib/exchange/kraken-broker.ts';
import { PgNonceStore } from '../../lib/exchange/kraken-nonce.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { generateKey, startKrakenEmulator, type KrakenEmulator } from '../kraken-emulator/index.ts';

let db: TestDatabase;
let emu: KrakenEmulator;

beforeAll(async () => {
  db = await createTestDatabase();
  emu = await startKrakenEmulator();
});

afterAll(async () => {
  await emu?.close();
  await db?.drop();
});

describe('shutdown', () => {
  it('abortAllBudgets ends in-flight, queued, backing-off and rate-limited Kraken calls at once', async () => {
    const accountId = (await db.owner.query<{ id: string }>(`insert into accounts (slug, name, kind) values ($1, $1, 'company') returning id`, [`shutdown-${randomUUID().slice(0, 8)}`])).rows[0]!.id;
    const slow = generateKey();
    const busy = generateKey();
    const limited = generateKey();
    for (const k of [slow, busy, limited]) emu.addKey({ ...k, tier: 'starter', balances: { USD: 1_000 } });
    const make = (k: { key: string; secret: string }) =>
      krakenBrokerFor({ accountId, credentials: { apiKey: k.key, apiSecret: k.secret }, apiUrl: emu.url, nonceStore: new PgNonceStore(db.app.db), tier: 'starter', timeoutMs: 10_000 });
    const [a, b, c] = await Promise.all([make(slow), make(busy), make(limited)]);
    await a.loadMarkets();
    emu.faults.add({ method: 'BalanceEx', key: slow.key, kind: 'timeout' }); // in flight for 10 s
    emu.faults.add({ method: 'BalanceEx', key: busy.key, kind: 'error', error: 'EService:Unavailable', count: 100 }); // backoff after backoff
    emu.faults.add({ method: 'BalanceEx', key: limited.key, kind: 'error', error: 'EAPI:Rate limit exceeded' }); // then a ~6 s limiter wait

    const t = performance.now();
    const calls = [
      withDeadline(60_000, () => a.balances()), // waiting for the reply
      withDeadline(60_000, () => a.openOrders()), // waiting for the key
      withDeadline(60_000, () => b.balances()),
      withDeadline(60_000, () => c.balances()),
    ].map((p) => p.then(() => performance.now() - t, () => performance.now() - t));
    await new Promise((r) => setTimeout(r, 800));
    const abortedAt = performance.now() - t;
    abortAllBudgets('test shutdown');
    const ended = await Promise.all(calls);
    for (const ms of ended) expect(ms - abortedAt).toBeLessThan(500); // not the 10 s timeout, the backoffs or the ~6 s limiter wait
  });
});
