import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccount, type Account } from '../../lib/accounts/accounts.ts';
import { EncryptedSecretStore, saveCredentials } from '../../lib/accounts/credentials.ts';
import { latestSettings, putSettings, seedAccount } from '../../lib/accounts/settings.ts';
import { systemClock, VirtualClock } from '../../lib/clock.ts';
import { parseConfig } from '../../lib/config.ts';
import type { AppContext } from '../../lib/context.ts';
import { withAccount } from '../../lib/db/scope.ts';
import { brokerForAccount } from '../../lib/exchange/broker-factory.ts';
import { SimBroker } from '../../lib/exchange/sim-broker.ts';
import { openQueueClient, type QueueClient } from '../../lib/queue/client.ts';
import { inProcessInvoker, startDispatcher } from '../../lib/queue/dispatcher.ts';
import { jobId } from '../../lib/queue/jobs.ts';
import { createApp as orderApp } from '../../functions/order/handler.ts';
import { createApp as scoreApp } from '../../functions/score/handler.ts';
import { createApp as tickApp } from '../../functions/tick/handler.ts';
import { testContext } from '../helpers/context.ts';
import { waitCompleted } from '../helpers/queues.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { generateKey, startKrakenEmulator, type KrakenEmulator } from '../kraken-emulator/index.ts';

/**
 * Simulation safety (issue 4): accounts in simulation — one of them with Kraken keys stored — run
 * full cycles (tick from the emulator → score → order with its hedge phase, through the queues) and the
 * emulator sees public market-data calls only, never a private one.
 */
const BARS = 6;
let t: TestDatabase;
let queue: QueueClient;
let emu: KrakenEmulator;
let ctx: AppContext;
let clock: VirtualClock;
let accounts: Account[];
const key = generateKey();

/** Decision time at the emulator's cursor: the open of the still-open candle is the close of the newest closed one. */
const cursorTime = (): number => emu.exchange.path.timeline[emu.exchange.cursor]!;

beforeAll(async () => {
  t = await createTestDatabase();
  queue = await openQueueClient({ databaseUrl: t.url, onError: () => undefined });
  emu = await startKrakenEmulator({ keys: [{ key: key.key, secret: key.secret, balances: { USD: 10_000 } }] });
  clock = new VirtualClock(cursorTime());
  ctx = testContext(t.app.db, queue, { clock, config: { ...parseConfig({ AETHER_HOME: '/nonexistent' }), KRAKEN_API_URL: emu.url } });
  accounts = await t.app.db.transaction(async (tx) => {
    const out: Account[] = [];
    for (const slug of ['sim-a', 'sim-b']) {
      const a = await createAccount(tx, { slug, name: slug, kind: 'other' }, null, systemClock);
      await seedAccount(tx, a.id, null, systemClock);
      out.push(a);
    }
    return out;
  });
  // Six bars from 01:00 UTC: the accounts decide every hour (the default decides once a day, at 00:00).
  for (const a of accounts)
    await withAccount(t.app.db, a.id, async (tx) => {
      const trading = await latestSettings(tx, a.id, 'trading');
      await putSettings(tx, a.id, 'trading', { ...trading.value, decisionInterval: 3600 }, null, systemClock);
    });
  await withAccount(t.app.db, accounts[0]!.id, (tx) =>
    saveCredentials(tx, accounts[0]!, { apiKey: key.key, apiSecret: key.secret }, new EncryptedSecretStore(ctx.masterKey), null, systemClock),
  );
});
afterAll(async () => {
  await queue?.close();
  await emu?.close();
  await t?.drop();
});


describe('an account in simulation', () => {
  it('runs full cycles from the emulator and the emulator records 0 private calls', async () => {
    const apps = { tick: tickApp(ctx), score: scoreApp(ctx), ...Object.fromEntries(accounts.map((a) => [`order-${a.slug}`, orderApp(ctx, a.slug)])) };
    const workers = startDispatcher(queue, ['tick', 'score', 'order'], inProcessInvoker(apps, ctx), ctx.logger, 1);
    try {
      for (let bar = 0; bar < BARS; bar++) {
        if (bar > 0) emu.advance(1);
        clock.set(cursorTime() + 60_000); // a minute after the bar closed, as cron runs tick
        const barTime = cursorTime() - 3_600_000; // the newest closed bar
        await queue.enqueue('tick', {}, { jobId: jobId('tick', bar) });
        const tick = (await waitCompleted(queue, 'tick', jobId('tick', bar))) as { scored: number | null };
        expect(tick.scored).toBe(barTime);
        for (const a of accounts) {
          const order = (await waitCompleted(queue, 'order', jobId('order', a.slug, barTime))) as { mode: string };
          expect(order.mode).toBe('sim');
        }
      }
    } finally {
      await Promise.all(workers.map((w) => w.close()));
    }

    const candles = await t.owner.query(`select pair, count(*)::int as n from candles group by pair order by pair`);
    expect(candles.rows.map((r) => r.pair)).toEqual(['BTC/USD', 'ETH/USD', 'SOL/USD']);
    const orders = await t.owner.query(`select account_id, mode, status from orders`);
    expect(orders.rows.length).toBeGreaterThan(0); // the simulated accounts really trade
    expect(orders.rows.every((r) => r.mode === 'sim')).toBe(true);
    const snapshots = await t.owner.query(`select count(*)::int as n from equity_snapshots`);
    expect(snapshots.rows[0].n).toBe(BARS * accounts.length);

    expect(emu.calls('OHLC').length).toBeGreaterThanOrEqual(BARS * 3);
    expect(emu.privateCalls()).toBe(0);
    expect(emu.privateCalls(key.key)).toBe(0);
    expect(emu.internalErrors).toEqual([]);
  }, 240_000);
});

describe('brokerForAccount', () => {
  const deps = () => ({ db: t.app.db, clocks: { market: clock, wall: systemClock }, config: ctx.config, masterKey: ctx.masterKey, logger: ctx.logger, prices: { quote: () => null, candle: () => null } });

  it('gives a SimBroker to an account in simulation even with keys stored, and a KrakenBroker at the emulator once switched to live', async () => {
    const a = accounts[0]!;
    const before = emu.privateCalls(key.key);
    const sim = await brokerForAccount(deps(), a);
    expect(sim.mode).toBe('sim');
    expect(sim.broker).toBeInstanceOf(SimBroker);
    expect(emu.privateCalls()).toBe(before);

    await withAccount(t.app.db, a.id, async (tx) => {
      const s = await latestSettings(tx, a.id, 'simulation');
      await putSettings(tx, a.id, 'simulation', { ...s.value, enabled: false }, null, systemClock);
    });
    const live = await brokerForAccount(deps(), a);
    expect(live.mode).toBe('live');
    expect(live.broker).not.toBeInstanceOf(SimBroker);
    const balances = await live.broker.balances();
    expect(balances.USD?.total).toBe(10_000);
    expect(emu.privateCalls(key.key)).toBeGreaterThan(before); // it went to the emulator, with the stored key

    // The other account, still in simulation and without keys, keeps its SimBroker.
    expect((await brokerForAccount(deps(), accounts[1]!)).mode).toBe('sim');
  }, 60_000);
});
