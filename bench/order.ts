/**
 * Order path latency: intent → pending row → KrakenBroker.submit (real ccxt client) → Kraken
 * emulator (no injected latency) → the fill read back (TradesHistory) → order and fill rows
 * persisted in a fresh PostgreSQL database (dropped afterwards), over 1,000 market orders, each
 * inside a 45 s job budget as the order function runs it. Nonces follow wall time; the persisted
 * store is read at the first call after an idle spell (here: every order, the clock jumps a minute)
 * and written in the background. Target p99 < 50 ms.
 *
 * Decisions are spaced one virtual minute apart (emulator and broker share a VirtualClock), so
 * Kraken's counters never make the broker wait: the figure is the platform's own path, not the
 * rate limit.
 */
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { VirtualClock } from '../lib/clock.ts';
import { openDatabase } from '../lib/db/client.ts';
import { withAccount } from '../lib/db/scope.ts';
import { withDeadline } from '../lib/deadline.ts';
import { createKrakenBroker } from '../lib/exchange/kraken-broker.ts';
import { PgNonceStore } from '../lib/exchange/kraken-nonce.ts';
import { clientId } from '../lib/strategy/clientId.ts';
import { kindCause, type OrderIntent } from '../lib/strategy/intent.ts';
import { tradeCause } from '../lib/strategy/trade-cause.ts';
import { orders } from '../schema/orders.ts';
import { withFreshDatabase } from './support.ts';
import { generateKey, startKrakenEmulator } from '../tests/kraken-emulator/index.ts';

const N = Number(process.env.BENCH_ORDER_ORDERS ?? 1000);
const WARMUP = 20;


const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;

await withFreshDatabase(async (url) => {
  const database = await openDatabase({ url, driver: 'pg', max: 4 });
  const db = database.db;
  const owner = new pg.Client({ connectionString: url });
  await owner.connect();
  const accountId = (await owner.query<{ id: string }>(`insert into accounts (slug, name, kind) values ('bench-order', 'bench', 'company') returning id`)).rows[0]!.id;

  const clock = new VirtualClock(Date.now());
  const key = generateKey();
  const emu = await startKrakenEmulator({ now: () => clock.now(), keys: [{ ...key, tier: 'pro', balances: { USD: 10_000_000, BTC: 10 } }] });
  const broker = await createKrakenBroker({
    accountId,
    credentials: { apiKey: key.key, apiSecret: key.secret },
    apiUrl: emu.url,
    nonceStore: new PgNonceStore(db),
    clock,
    tier: 'pro',
    timeoutMs: 5_000,
  });
  await broker.loadMarkets();

  let position = 0;
  let avgCost = 0;
  const timings: number[] = [];
  for (let i = 0; i < N + WARMUP; i++) {
    clock.advance(60_000);
    const buy = i % 2 === 0;
    const decisionTime = clock.now();
    const pair = 'BTC/USD';
    const kind = buy ? 'entry' : 'exit';
    const intent: OrderIntent = {
      kind,
      cause: kindCause(kind),
      accountId,
      decisionTime,
      order: { clientId: clientId(accountId, pair, decisionTime, kind), pair, side: buy ? 'buy' : 'sell', type: 'market', amount: 0.001 },
      reason: 'bench',
      signal: null,
      expectedEdge: 0.01,
    };
    const t = performance.now();
    await withDeadline(45_000, async () => {
      const orderRow = await withAccount(db, accountId, async (tx) =>
        (
          await tx
            .insert(orders)
            .values({ accountId, clientId: intent.order.clientId, mode: 'live', pair, side: intent.order.side, type: 'market', intent: kind, cause: intent.cause, amount: String(intent.order.amount), status: 'pending', decidedAt: new Date(decisionTime) })
            .returning({ id: orders.id })
        )[0]!,
      );
      const r = await broker.submit(intent.order);
      if (r.status !== 'accepted') throw new Error(`order ${i} rejected: ${r.code} ${r.reason}`);
      const got = (await broker.fills(decisionTime)).filter((f) => f.orderId === r.order.id);
      if (got.length !== 1) throw new Error(`order ${i}: expected one fill, got ${got.length}`);
      const f = got[0]!;
      let pnl = 0;
      if (f.side === 'buy') {
        avgCost = (avgCost * position + f.price * f.amount + f.fee) / (position + f.amount);
        position += f.amount;
      } else {
        pnl = (f.price - avgCost) * f.amount - f.fee;
        position -= f.amount;
      }
      // One statement: the order's final state and its fill, atomically.
      await withAccount(db, accountId, (tx) =>
        tx.execute(sql`
          with o as (
            update orders set exchange_id = ${r.order.id}, status = 'closed', filled = ${String(f.amount)}, avg_price = ${String(f.price)},
              fee = ${String(f.fee)}, updated_at = ${new Date(clock.now()).toISOString()}
            where id = ${orderRow.id} returning id
          )
          insert into fills (account_id, order_id, trade_id, client_id, pair, side, price, qty, fee, realized_pnl, liquidity, cause, ts)
          select ${accountId}, o.id, ${f.id}, ${f.clientId}, ${pair}, ${f.side}, ${String(f.price)}, ${String(f.amount)}, ${String(f.fee)},
            ${pnl.toFixed(8)}, ${f.liquidity}, ${tradeCause(intent.cause)}, ${new Date(f.time).toISOString()} from o`),
      );
    });
    if (i >= WARMUP) timings.push(performance.now() - t);
  }

  const persisted = (await owner.query<{ n: string }>('select count(*) as n from fills')).rows[0]!.n;
  if (Number(persisted) !== N + WARMUP) throw new Error(`expected ${N + WARMUP} fill rows, found ${persisted}`);
  await owner.end();
  await emu.close();
  await database.close();
  const sorted = [...timings].sort((a, b) => a - b);
  const mean = timings.reduce((s, x) => s + x, 0) / timings.length;
  console.log(`${N} market orders (after ${WARMUP} warm-up): mean ${mean.toFixed(2)} ms, p90 ${quantile(sorted, 0.9).toFixed(2)} ms, max ${sorted[sorted.length - 1]!.toFixed(2)} ms; ${persisted} fill rows persisted`);
  console.log(`bench order: p50_ms=${quantile(sorted, 0.5).toFixed(2)} p99_ms=${quantile(sorted, 0.99).toFixed(2)} orders=${N}`);
});
