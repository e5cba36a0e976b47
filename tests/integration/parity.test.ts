import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccount, type Account } from '../../lib/accounts/accounts.ts';
import { latestSettings, putSettings, seedAccount } from '../../lib/accounts/settings.ts';
import { systemClock, VirtualClock } from '../../lib/clock.ts';
import { runBacktest } from '../../lib/cycle/backtest.ts';
import { baselineProvider } from '../../lib/cycle/signals.ts';
import type { AccountSettingsSet } from '../../lib/cycle/types.ts';
import { withAccount } from '../../lib/db/scope.ts';
import { registry } from '../../lib/http/metrics.ts';
import { USD_MARKETS } from '../../lib/exchange/usd-markets.ts';
import type { Candle } from '../../lib/market/candle.ts';
import { repoWindow } from '../helpers/candles.ts';
import { upsertCandles } from '../../lib/market/store.ts';
import { openQueueClient, type QueueClient } from '../../lib/queue/client.ts';
import { inProcessInvoker, startDispatcher } from '../../lib/queue/dispatcher.ts';
import { jobId } from '../../lib/queue/jobs.ts';
import { createApp as orderApp } from '../../functions/order/handler.ts';
import { createApp as scoreApp } from '../../functions/score/handler.ts';
import { testContext } from '../helpers/context.ts';
import { waitCompleted } from '../helpers/queues.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

/**
 * Backtest/live parity: the same candles replayed through the live path — queues, the score and
 * order functions (the hedge is a phase of the order job), PostgreSQL, the persisted SimBroker — and
 * through `runBacktest` give the same orders and fills, bar for bar.
 */
const PAIRS = ['BTC/USD', 'ETH/USD', 'SOL/USD'];
// The default strategy decides once a day at 00:00 UTC: these four days hold entries in all three
// pairs (ETH and SOL on the 17th, BTC on the 19th) and the second account's hedge sales.
const FROM = Date.parse('2022-07-16T00:00:00Z');
const TO = Date.parse('2022-07-20T00:00:00Z');
// The signal reads 719 closed candles (Kraken's OHLC limit): the store must hold them before the first bar.
const WARMUP = 760;

let t: TestDatabase;
let queue: QueueClient;
let accounts: Account[];
const candles: Record<string, Candle[]> = {};

beforeAll(async () => {
  t = await createTestDatabase();
  queue = await openQueueClient({ databaseUrl: t.url, onError: () => undefined });
  for (const p of PAIRS) {
    candles[p] = repoWindow(p, FROM, TO, WARMUP);
  }
  accounts = await t.app.db.transaction(async (tx) => {
    const a = await createAccount(tx, { slug: 'p-one', name: 'One', kind: 'other' }, null, systemClock);
    const b = await createAccount(tx, { slug: 'p-two', name: 'Two', kind: 'other' }, null, systemClock);
    await seedAccount(tx, a.id, null, systemClock);
    await seedAccount(tx, b.id, null, systemClock);
    return [a, b];
  });
  // The second account holds at least 40 % in USD by an admin's manual hedge: the hedge phase trades too.
  await withAccount(t.app.db, accounts[1]!.id, async (tx) => {
    const h = await latestSettings(tx, accounts[1]!.id, 'hedge');
    await putSettings(tx, accounts[1]!.id, 'hedge', { ...h.value, mode: 'manual', manualRatio: 0.4 }, null, systemClock);
  });
});
afterAll(async () => {
  await queue?.close();
  await t?.drop();
});


describe('backtest and live path parity', () => {
  it('gives identical orders and fills for the same candles', async () => {
    // Wall time steps with the replay: each bar is traded a minute after it closed, as cron would.
    const wall = new VirtualClock(FROM);
    const ctx = testContext(t.app.db, queue, { clock: wall });
    const apps = { score: scoreApp(ctx), ...Object.fromEntries(accounts.map((a) => [`order-${a.slug}`, orderApp(ctx, a.slug)])) };
    const workers = startDispatcher(queue, ['score', 'order'], inProcessInvoker(apps, ctx), ctx.logger, 1);

    const before = Object.fromEntries(PAIRS.map((p) => [p, candles[p]!.filter((c) => c.openTime < FROM)]));
    for (const p of PAIRS) await upsertCandles(t.app.db, before[p]!, 'csv');
    const times = [...new Set(PAIRS.flatMap((p) => candles[p]!.filter((c) => c.openTime >= FROM).map((c) => c.openTime)))].sort((a, b) => a - b);
    for (const barTime of times) {
      for (const p of PAIRS) {
        const bar = candles[p]!.find((c) => c.openTime === barTime);
        if (bar) await upsertCandles(t.app.db, [bar], 'csv');
      }
      wall.set(barTime + 3_660_000);
      await queue.enqueue('score', { barTime, pairs: PAIRS }, { jobId: jobId('score', barTime) });
      for (const a of accounts) await waitCompleted(queue, 'order', jobId('order', a.slug, barTime));
    }
    await Promise.all(workers.map((w) => w.close()));

    const settings = await Promise.all(
      accounts.map((a) =>
        withAccount(t.app.db, a.id, async (tx) => ({
          trading: (await latestSettings(tx, a.id, 'trading')).value,
          risk: (await latestSettings(tx, a.id, 'risk')).value,
          hedge: (await latestSettings(tx, a.id, 'hedge')).value,
        })),
      ),
    );
    const bt = await runBacktest({
      candles,
      markets: USD_MARKETS,
      accounts: accounts.map((a, i) => ({ id: a.id, initialUsd: 10_000, settings: settings[i] as AccountSettingsSet })),
      signals: baselineProvider,
      from: FROM,
      to: TO,
    });

    const liveFills = (
      await t.owner.query(
        `select account_id, pair, side, qty::float8 as qty, price::float8 as price, fee::float8 as fee, extract(epoch from ts) * 1000 as ts, client_id, cause
         from fills order by ts, account_id, pair, side, trade_id`,
      )
    ).rows.map((r) => ({ account: r.account_id, pair: r.pair, side: r.side, qty: r.qty, price: r.price, fee: r.fee, time: Number(r.ts), clientId: r.client_id ?? '', cause: r.cause }));
    const btFills = bt.trades
      .map((f) => ({ account: f.account, pair: f.pair, side: f.side, qty: f.qty, price: f.price, fee: f.feeUsd, time: f.time, clientId: f.clientId, cause: f.cause }))
      .sort((a, b) => a.time - b.time || a.account.localeCompare(b.account) || a.pair.localeCompare(b.pair) || a.side.localeCompare(b.side));
    expect(btFills.length).toBeGreaterThan(5); // the window really trades
    expect(new Set(btFills.map((f) => f.account)).size).toBe(2);
    expect(liveFills).toHaveLength(btFills.length);
    for (let i = 0; i < btFills.length; i++) {
      const [l, b] = [liveFills[i]!, btFills[i]!];
      expect({ ...l, qty: l.qty.toFixed(8), price: l.price.toFixed(6), fee: l.fee.toFixed(6) }, `fill ${i}`).toEqual({ ...b, qty: b.qty.toFixed(8), price: b.price.toFixed(6), fee: b.fee.toFixed(6) });
    }

    const liveOrders = (await t.owner.query(`select account_id, client_id, pair, side, type, amount::float8 as amount from orders where intent <> 'protective' order by account_id, client_id`)).rows;
    const sent = new Set(btFills.filter((f) => f.clientId).map((f) => `${f.account} ${f.clientId}`));
    for (const k of sent) expect(liveOrders.some((o) => `${o.account_id} ${o.client_id}` === k), k).toBe(true);

    const liveEquity = (await t.owner.query(`select account_id, extract(epoch from ts) * 1000 as ts, equity_usd::float8 as e from equity_snapshots order by ts, account_id`)).rows;
    const btEquity = [...bt.equity].sort((a, b) => a.ts - b.ts || a.account.localeCompare(b.account));
    expect(liveEquity).toHaveLength(btEquity.length);
    liveEquity.forEach((r, i) => expect(r.e, `equity ${i}`).toBeCloseTo(btEquity[i]!.equityUsd, 6));

    // The live path exports the trading series the dashboards and alerts read.
    const metrics = await registry.metrics();
    for (const a of accounts) {
      expect(metrics).toMatch(new RegExp(`aether_orders_total\\{account="${a.slug}",status="accepted"\\} \\d+`));
      expect(metrics).toMatch(new RegExp(`aether_equity_usd\\{account="${a.slug}"\\} \\d`));
      expect(metrics).toContain(`aether_account_halted{account="${a.slug}"} 0`);
    }
  }, 240_000);
});
