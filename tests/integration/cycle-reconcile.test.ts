import ccxt from 'ccxt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccount, type Account } from '../../lib/accounts/accounts.ts';
import { EncryptedSecretStore, saveCredentials } from '../../lib/accounts/credentials.ts';
import { latestSettings, putSettings, seedAccount } from '../../lib/accounts/settings.ts';
import { systemClock } from '../../lib/clock.ts';
import { parseConfig } from '../../lib/config.ts';
import type { AppContext } from '../../lib/context.ts';
import { runOrderJob } from '../../lib/cycle/order-job.ts';
import { SteppedClock } from '../helpers/clock.ts';
import { withAccount } from '../../lib/db/scope.ts';
import { repoCandles } from '../helpers/candles.ts';
import { upsertCandles } from '../../lib/market/store.ts';
import { openQueueClient, type QueueClient } from '../../lib/queue/client.ts';
import { testContext } from '../helpers/context.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { generateKey, startKrakenEmulator, type KrakenEmulator } from '../kraken-emulator/index.ts';

/**
 * A live account is reconciled with Kraken at the start of every cycle: an order on the exchange
 * that nobody here decided halts the account (fail closed) with a risk event and audit rows, and
 * nothing is sent; a clean account trades on.
 */
let t: TestDatabase;
let queue: QueueClient;
let emu: KrakenEmulator;
let ctx: AppContext;
const clean = generateKey();
const tampered = generateKey();
let barTime = 0;

async function liveAccount(slug: string, key: { key: string; secret: string }): Promise<Account> {
  const a = await t.app.db.transaction(async (tx) => {
    const acc = await createAccount(tx, { slug, name: slug, kind: 'other' }, null, systemClock);
    await seedAccount(tx, acc.id, null, systemClock);
    return acc;
  });
  await withAccount(t.app.db, a.id, async (tx) => {
    await saveCredentials(tx, a, { apiKey: key.key, apiSecret: key.secret }, new EncryptedSecretStore(ctx.masterKey), null, systemClock);
    const sim = await latestSettings(tx, a.id, 'simulation');
    await putSettings(tx, a.id, 'simulation', { ...sim.value, enabled: false }, null, systemClock);
  });
  return a;
}

beforeAll(async () => {
  t = await createTestDatabase();
  queue = await openQueueClient({ databaseUrl: t.url, onError: () => undefined });
  for (const pair of ['BTC/USD', 'ETH/USD', 'SOL/USD']) {
    const cs = repoCandles(pair).filter((c) => c.openTime <= Date.parse('2022-03-01T00:00:00Z'));
    await upsertCandles(t.app.db, cs.slice(-400), 'csv');
    barTime = cs.at(-1)!.openTime;
  }
  // Wall time a minute after the bar closed: the order job trades only the newest closed bar.
  const wall = new SteppedClock(barTime + 3_660_000);
  emu = await startKrakenEmulator({ now: () => wall.now(), keys: [clean, tampered].map((k) => ({ ...k, tier: 'pro' as const, balances: { USD: 10_000 } })) });
  ctx = testContext(t.app.db, queue, { clock: wall, config: { ...parseConfig({ AETHER_HOME: '/nonexistent' }), KRAKEN_API_URL: emu.url } });
});
afterAll(async () => {
  await queue?.close();
  await emu?.close();
  await t?.drop();
});

describe('live reconciliation', () => {
  it('a clean live account passes reconciliation and stays ACTIVE', async () => {
    await liveAccount('live-clean', clean);
    const r = await runOrderJob(ctx, 'live-clean', barTime);
    expect(r).toMatchObject({ mode: 'live', state: 'ACTIVE' });
    expect(emu.privateCalls(clean.key)).toBeGreaterThan(0); // it really talked to Kraken
  });

  it('an order placed behind the platform halts the account, audited, and nothing is sent', async () => {
    // Someone trades the key by hand before the cycle runs.
    const outsider = new ccxt.kraken({ apiKey: tampered.key, secret: tampered.secret, urls: { api: { public: emu.url, private: emu.url } } });
    await outsider.createOrder('BTC/USD', 'limit', 'buy', 0.001, 20_000);
    const a = await liveAccount('live-tampered', tampered);
    const addOrdersBefore = emu.calls('AddOrder', tampered.key).length;

    const r = await runOrderJob(ctx, 'live-tampered', barTime);
    expect(r).toMatchObject({ state: 'HALTED', halted: 'reconciliation' });
    expect(emu.calls('AddOrder', tampered.key).length).toBe(addOrdersBefore);

    const state = await t.owner.query('select state, reason from trading_state where account_id = $1', [a.id]);
    expect(state.rows[0]).toMatchObject({ state: 'HALTED', reason: expect.stringMatching(/reconciliation/) });
    const events = await t.owner.query("select code from risk_events where account_id = $1 and code in ('RECONCILIATION_MISMATCH', 'STATE_HALTED')", [a.id]);
    expect(events.rows.map((e) => e.code).sort()).toEqual(['RECONCILIATION_MISMATCH', 'STATE_HALTED']);
    const audit = await t.owner.query("select action, details from audit_log where account_id = $1 and action in ('reconcile.mismatch', 'risk.state')", [a.id]);
    expect(audit.rows.map((x) => x.action).sort()).toEqual(['reconcile.mismatch', 'risk.state']);
    expect(JSON.stringify(audit.rows)).toContain('unknown_order');
  });
});
