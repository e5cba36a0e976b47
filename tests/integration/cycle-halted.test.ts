import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccount, type Account } from '../../lib/accounts/accounts.ts';
import { latestSettings, putSettings, seedAccount } from '../../lib/accounts/settings.ts';
import { withAccount } from '../../lib/db/scope.ts';
import { systemClock, VirtualClock } from '../../lib/clock.ts';
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
 * HALTED end to end (issue 4): three accounts × three pairs through the queues on one UTC day that
 * trades. One account breaches its hard daily drawdown mid-day: from then on it sends no entry
 * while the other two keep entering in the same bars; a fourth account whose settings are
 * corrupted fails its own jobs without holding anybody up.
 */
const PAIRS = ['BTC/USD', 'ETH/USD', 'SOL/USD'];
// The accounts decide every hour (decisionInterval 3600): with the default signal, 2021-10-08 enters
// at 00:00 (BTC) and again at 09:00 (ETH). The first bar's close is the day's first decision.
const FROM = Date.parse('2021-10-07T23:00:00Z');
const TO = Date.parse('2021-10-08T16:00:00Z');
const HALT_AFTER = Date.parse('2021-10-08T05:00:00Z'); // the halted account's loss shows from the next bar on
const WARMUP = 760; // the signal reads 719 closed candles
const HOUR = 3_600_000;

let t: TestDatabase;
let queue: QueueClient;
let accounts: Account[]; // trading: a, b, c (c gets halted)
let broken: Account;
const candles: Record<string, Candle[]> = {};

beforeAll(async () => {
  t = await createTestDatabase();
  queue = await openQueueClient({ databaseUrl: t.url, onError: () => undefined });
  for (const p of PAIRS) {
    candles[p] = repoWindow(p, FROM, TO, WARMUP);
  }
  const made = await t.app.db.transaction(async (tx) => {
    const out: Account[] = [];
    for (const slug of ['h-a', 'h-b', 'h-c', 'h-broken']) {
      const a = await createAccount(tx, { slug, name: slug, kind: 'other' }, null, systemClock);
      await seedAccount(tx, a.id, null, systemClock);
      out.push(a);
    }
    return out;
  });
  accounts = made.slice(0, 3);
  // The default strategy decides once a day; this test needs entries before and after a halt in one day.
  for (const a of accounts)
    await withAccount(t.app.db, a.id, async (tx) => {
      const trading = await latestSettings(tx, a.id, 'trading');
      await putSettings(tx, a.id, 'trading', { ...trading.value, decisionInterval: 3600 }, null, systemClock);
    });
  broken = made[3]!;
  // A risk settings row no schema accepts (e.g. written by hand): every job of that account must fail loudly.
  await t.owner.query(`update settings set value = '{"hardDailyDrawdown": "lots"}'::jsonb where account_id = $1 and kind = 'risk'`, [broken.id]);
});
afterAll(async () => {
  await queue?.close();
  await t?.drop();
});


interface OrderRow {
  account_id: string;
  intent: string;
  decided: number;
}

describe('a HALTED account', () => {
  it('places no entry after its halt while the others keep trading, and a broken account stops nobody', async () => {
    const wall = new VirtualClock(FROM);
    const ctx = testContext(t.app.db, queue, { clock: wall });
    const all = [...accounts, broken];
    const apps = { score: scoreApp(ctx), ...Object.fromEntries(all.map((a) => [`order-${a.slug}`, orderApp(ctx, a.slug)])) };
    const workers = startDispatcher(queue, ['score', 'order'], inProcessInvoker(apps, ctx), ctx.logger, 1);
    const halted = accounts[2]!;
    try {
      for (const p of PAIRS) await upsertCandles(t.app.db, candles[p]!.filter((c) => c.openTime < FROM), 'csv');
      for (let barTime = FROM; barTime <= TO; barTime += HOUR) {
        for (const p of PAIRS) await upsertCandles(t.app.db, candles[p]!.filter((c) => c.openTime === barTime), 'csv');
        wall.set(barTime + HOUR + 60_000); // a minute after the bar closed, as cron runs it
        await queue.enqueue('score', { barTime, pairs: PAIRS }, { jobId: jobId('score', barTime) });
        for (const a of accounts) await waitCompleted(queue, 'order', jobId('order', a.slug, barTime));
        if (barTime === HALT_AFTER) {
          // The day "started" at twice today's equity: the next cycle measures a 50 % daily drawdown.
          const r = await t.owner.query(`update trading_state set day_start_equity_usd = day_start_equity_usd * 2 where account_id = $1 and state = 'ACTIVE' returning day_key`, [halted.id]);
          expect(r.rows).toEqual([{ day_key: '2021-10-08' }]);
        }
      }
      // The broken account's first order job failed (and is being retried) while everyone else finished every bar.
      const job = await queue.queue('order').getJob(jobId('order', broken.slug, FROM));
      expect(job?.attemptsMade).toBeGreaterThanOrEqual(1);
      expect(job?.failedReason).toMatch(/500|hardDailyDrawdown/);
      expect(await queue.queue('order').getJobState(jobId('order', broken.slug, FROM))).not.toBe('completed');
    } finally {
      await Promise.all(workers.map((w) => w.close()));
    }

    const orders: OrderRow[] = (
      await t.owner.query(`select account_id, intent, extract(epoch from decided_at) * 1000 as decided from orders where intent <> 'protective' order by decided_at`)
    ).rows.map((r) => ({ ...r, decided: Number(r.decided) }));
    const haltAt = HALT_AFTER + 2 * HOUR; // decision time (close) of the first bar after the drawdown
    const entries = (a: Account, after: boolean) => orders.filter((o) => o.account_id === a.id && o.intent === 'entry' && (after ? o.decided >= haltAt : o.decided < haltAt));

    // Before the halt all three traded the same way; after it only the other two enter.
    for (const a of accounts) expect(entries(a, false).length, a.slug).toBeGreaterThan(0);
    expect(entries(halted, false).map((o) => o.decided)).toEqual(entries(accounts[0]!, false).map((o) => o.decided));
    expect(entries(halted, true)).toEqual([]);
    const others = [accounts[0]!, accounts[1]!].map((a) => entries(a, true));
    for (const e of others) expect(e.length).toBeGreaterThan(0);
    expect(others[0]!.map((o) => o.decided)).toEqual(others[1]!.map((o) => o.decided)); // same bars
    expect(orders.filter((o) => o.account_id === broken.id)).toEqual([]);

    // The halt is a risk event, an audit row and the persisted state.
    const events = (await t.owner.query(`select code, extract(epoch from ts) * 1000 as ts, detail from risk_events where account_id = $1 and code like 'STATE_%' order by ts`, [halted.id])).rows;
    expect(events.map((e) => e.code)).toContain('STATE_HALTED');
    const halt = events.find((e) => e.code === 'STATE_HALTED')!;
    expect(Number(halt.ts)).toBe(haltAt);
    expect(halt.detail).toMatchObject({ to: 'HALTED', from: 'ACTIVE', flatten: false }); // flattenOnHalt is off by default: stops keep protecting
    const audit = (await t.owner.query(`select details from audit_log where account_id = $1 and action = 'risk.state'`, [halted.id])).rows;
    expect(audit.some((r) => r.details.to === 'HALTED')).toBe(true);
    const state = (await t.owner.query(`select state from trading_state where account_id = $1`, [halted.id])).rows;
    expect(state).toEqual([{ state: 'HALTED' }]);
    for (const a of accounts.slice(0, 2)) {
      const codes = (await t.owner.query(`select code from risk_events where account_id = $1 and code = 'STATE_HALTED'`, [a.id])).rows;
      expect(codes, a.slug).toEqual([]);
    }
  }, 300_000);

  // Issue 9: the cycle trusts the wall clock, not the caller. Runs on the day the test above halted.
  it('stays HALTED when a caller names a future bar: score and order refuse it (422, audited), nothing is stored or queued', async () => {
    const halted = accounts[2]!;
    const wall = new VirtualClock(TO + 2 * HOUR);
    const ctx = testContext(t.app.db, queue, { clock: wall });
    const apps = { score: scoreApp(ctx), ...Object.fromEntries(accounts.map((a) => [`order-${a.slug}`, orderApp(ctx, a.slug)])) };
    const workers = startDispatcher(queue, ['score', 'order'], inProcessInvoker(apps, ctx), ctx.logger, 1);
    const stateRow = async () => (await t.owner.query(`select state, since, day_key, day_start_equity_usd from trading_state where account_id = $1`, [halted.id])).rows[0];
    const before = await stateRow();
    const counts = async () => (await t.owner.query(`select (select count(*) from signals) s, (select count(*) from orders) o, (select count(*) from account_cycles) c`)).rows[0];
    const countsBefore = await counts();
    const future = Date.parse('2030-01-01T00:00:00Z');
    try {
      await queue.enqueue('score', { barTime: future, pairs: PAIRS }, { jobId: jobId('score', future) });
      await queue.enqueue('order', { account: halted.slug, barTime: future }, { jobId: jobId('order', halted.slug, future) });
      await expect(waitCompleted(queue, 'score', jobId('score', future))).rejects.toThrow(/422.*BAR_NOT_CLOSED/);
      await expect(waitCompleted(queue, 'order', jobId('order', halted.slug, future))).rejects.toThrow(/422.*BAR_NOT_CLOSED/);
    } finally {
      await Promise.all(workers.map((w) => w.close()));
    }
    expect(await stateRow()).toEqual(before);
    expect(before.state).toBe('HALTED');
    expect(await counts()).toEqual(countsBefore);
    for (const a of accounts) expect(await queue.queue('order').getJobState(jobId('order', a.slug, future)), a.slug).toBe(a === halted ? 'failed' : 'unknown');
    // The score and order jobs run side by side: their refusals are compared score first, not in the order written.
    const refused = (await t.owner.query(`select account_id, details from audit_log where action = 'cycle.refused' and (details->>'barTime')::bigint = $1 order by account_id nulls first`, [future])).rows;
    expect(refused).toEqual([
      { account_id: null, details: expect.objectContaining({ job: 'score', code: 'BAR_NOT_CLOSED' }) },
      { account_id: halted.id, details: expect.objectContaining({ code: 'BAR_NOT_CLOSED' }) },
    ]);
  }, 60_000);

  it('fails closed on a stored state it could not have written (a later day): HALTED once, audited, then cycles run', async () => {
    const a = accounts[0]!;
    const wall = new VirtualClock(TO + HOUR + 60_000);
    const ctx = testContext(t.app.db, queue, { clock: wall });
    await t.owner.query(`update trading_state set day_key = '2030-01-01', since = '2030-01-01T05:00:00Z' where account_id = $1`, [a.id]);
    const apps = { [`order-${a.slug}`]: orderApp(ctx, a.slug) };
    const workers = startDispatcher(queue, ['order'], inProcessInvoker(apps, ctx), ctx.logger, 1);
    try {
      // The last bar again (its first job completed above): a retry as after a lost acknowledgement.
      await queue.enqueue('order', { account: a.slug, barTime: TO }, { jobId: `${jobId('order', a.slug, TO)}-again` });
      await waitCompleted(queue, 'order', `${jobId('order', a.slug, TO)}-again`);
    } finally {
      await Promise.all(workers.map((w) => w.close()));
    }
    const state = (await t.owner.query(`select state, day_key, reason, extract(epoch from since) * 1000 as since from trading_state where account_id = $1`, [a.id])).rows[0];
    expect(state).toMatchObject({ state: 'HALTED', day_key: '2021-10-08', reason: expect.stringMatching(/inconsistent trading state.*2030-01-01/) });
    expect(Number(state.since)).toBe(TO + HOUR);
    const audit = (await t.owner.query(`select details from audit_log where account_id = $1 and action = 'risk.state' order by id desc limit 1`, [a.id])).rows;
    expect(audit[0]?.details).toMatchObject({ to: 'HALTED' });
  }, 60_000);
});
