import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit } from '../../lib/audit/index.ts';
import { scoreBar, SIM_AFTER_LIVE_MS } from '../../lib/cycle/live.ts';
import { baselineProvider } from '../../lib/cycle/signals.ts';
import { jobId } from '../../lib/queue/jobs.ts';
import { HOUR, startLiveHarness, type LiveHarness } from '../helpers/live.ts';

/**
 * The live order job against the Kraken emulator as strict as Kraken (nonces, counters), one test
 * per defect the live-trading issue found: the two clocks, fills booked once, fresh bars only.
 */
let h: LiveHarness;

beforeAll(async () => {
  h = await startLiveHarness();
});
afterAll(async () => {
  await h?.close();
});

const rows = async (sql: string, params: unknown[] = []) => (await h.t.owner.query(sql, params)).rows;

describe('the two clocks', () => {
  it('a live job after the key check trades with nonces above the check’s and never hangs on the bar clock', async () => {
    const { account, key } = await h.liveAccount('clocks');
    await h.signal('BTC/USD', 0.9);
    const started = performance.now();
    const r = await h.cycle('clocks');
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(r.body).toMatchObject({ mode: 'live', state: 'ACTIVE' });
    const mine = h.emu.requests.filter((q) => q.key === key.key && q.api === 'private');
    expect(mine.filter((q) => q.errors.includes('EAPI:Invalid nonce'))).toEqual([]);
    const nonces = mine.map((q) => BigInt(q.params.nonce as string));
    for (let i = 1; i < nonces.length; i++) expect(nonces[i]! > nonces[i - 1]!).toBe(true);
    // The entry went out, with its stop resting on the exchange.
    const placed = h.emu.orders(key.key).filter((o) => o.clOrdId !== null);
    expect(placed.length).toBeGreaterThan(0);
    const cycles = await rows('select outcome, mode from account_cycles where account_id = $1', [account.id]);
    expect(cycles).toEqual([{ outcome: 'done', mode: 'live' }]);
  });
});

describe('fresh decisions only', () => {
  it('skips a bar a newer one has replaced, records it, and sends nothing', async () => {
    const { account, key } = await h.liveAccount('stale');
    const old = h.bar() - 5 * HOUR;
    const calls = h.emu.privateCalls(key.key);
    const r = await h.cycle('stale', old);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ skipped: 'stale' });
    expect(h.emu.privateCalls(key.key)).toBe(calls);
    expect(await rows('select outcome from account_cycles where account_id = $1', [account.id])).toEqual([{ outcome: 'skipped' }]);
    expect(await rows(`select action from audit_log where account_id = $1 and action = 'cycle.skipped'`, [account.id])).toHaveLength(1);
  });

  it('refuses a bar that has not closed (422, audited) and changes nothing', async () => {
    const { account, key } = await h.liveAccount('future');
    const calls = h.emu.privateCalls(key.key);
    const r = await h.cycle('future', h.bar() + 10 * HOUR);
    expect(r.status).toBe(422);
    expect(r.body).toMatchObject({ code: 'BAR_NOT_CLOSED' });
    expect(h.emu.privateCalls(key.key)).toBe(calls);
    expect(await rows('select * from trading_state where account_id = $1', [account.id])).toEqual([]);
    expect(await rows('select * from orders where account_id = $1', [account.id])).toEqual([]);
    expect(await rows(`select action from audit_log where account_id = $1 and action = 'cycle.refused'`, [account.id])).toHaveLength(1);
    expect((await h.cycle('future', h.bar() + 1)).status).toBe(422); // off the hourly grid
  });
});

describe('one job per account at a time', () => {
  it('a second job of the account while one runs answers 409 ACCOUNT_BUSY and changes nothing', async () => {
    const { account } = await h.liveAccount('busy');
    await h.signal('BTC/USD', 0.9);
    const [a, b] = await Promise.all([h.cycle('busy'), h.cycle('busy')]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    expect((a.status === 409 ? a : b).body).toMatchObject({ code: 'ACCOUNT_BUSY' });
    expect(await rows('select outcome from account_cycles where account_id = $1', [account.id])).toEqual([{ outcome: 'done' }]);
    expect((await h.cycle('busy')).status).toBe(200); // the lock is released after a job
  });
});

describe('books that match the exchange', () => {
  it('books a fill found by the lookup after a dropped reply once, and the next reconciliation agrees', async () => {
    const { account, key } = await h.liveAccount('once');
    await h.signal('ETH/USD', 0.9);
    h.emu.faults.add({ method: 'AddOrder', key: key.key, kind: 'accept-then-drop', count: 1 });
    const r = await h.cycle('once');
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const trades = h.emu.trades(key.key);
    expect(trades.length).toBeGreaterThan(0);
    const booked = await rows('select trade_id, qty::float8 as qty, fee::float8 as fee from fills where account_id = $1 order by trade_id', [account.id]);
    expect(booked.map((f) => f.trade_id).sort()).toEqual(trades.map((t) => t.id).sort());
    // filled and fee of each order are those of its fills, exactly once.
    const orders = await rows(
      `select o.client_id, o.status, o.filled::float8 as filled, o.fee::float8 as fee, coalesce(sum(f.qty), 0)::float8 as q, coalesce(sum(f.fee), 0)::float8 as f
       from orders o left join fills f on f.order_id = o.id where o.account_id = $1 group by o.id`,
      [account.id],
    );
    for (const o of orders) {
      expect(o.filled, o.client_id).toBeCloseTo(o.q, 10);
      expect(o.fee, o.client_id).toBeCloseTo(o.f, 10);
    }
    const entry = orders.find((o) => o.status === 'closed' && o.filled > 0);
    expect(entry).toBeDefined();
    // The next hour reconciles first: nothing unexplained, still ACTIVE.
    await h.advance();
    const next = await h.cycle('once');
    expect(next.status, JSON.stringify(next.body)).toBe(200);
    expect(next.body).toMatchObject({ state: 'ACTIVE' });
    expect(await rows(`select code from risk_events where account_id = $1 and code = 'RECONCILIATION_MISMATCH'`, [account.id])).toEqual([]);
    const again = await rows('select count(*)::int as n from fills where account_id = $1', [account.id]);
    expect(again[0].n).toBe(h.emu.trades(key.key).length);
  });
});

describe('every fill in the books', () => {
  it('a hedge sale in the same cycle as the entry (same fill time) gets its own fill row and its cause', async () => {
    const a = await h.simAccount('hedged', 50_000);
    await h.t.owner.query(`update settings set value = value || '{"mode": "manual", "manualRatio": 0.95}'::jsonb where account_id = $1 and kind = 'hedge'`, [a.id]);
    await h.signal('BTC/USD', 0.9);
    const r = await h.cycle('hedged');
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const booked = await rows(`select o.intent, f.ts from fills f join orders o on o.id = f.order_id where f.account_id = $1 order by f.ts, o.intent`, [a.id]);
    expect(booked.map((f) => f.intent)).toEqual(['entry', 'hedge']);
    expect(booked[0].ts.getTime()).toBe(booked[1].ts.getTime()); // the case that used to lose the hedge fill
    const sim = await rows(`select jsonb_array_length(state->'fills') as n from sim_state where account_id = $1`, [a.id]);
    expect(sim[0]?.n ?? booked.length).toBe(booked.length);
  });
});

describe('reconciliation', () => {
  it('a stop resting for hours (older than the window read again) is ours: no halt, cycle after cycle', async () => {
    const { account, key } = await h.liveAccount('old-stop');
    await h.signal('BTC/USD', 0.9, { atrPct: 0.2 });
    expect((await h.cycle('old-stop')).status).toBe(200);
    const stops = () => h.emu.orders(key.key).filter((o) => o.status === 'open' && o.ordertype === 'stop-loss');
    expect(stops()).toHaveLength(1);
    for (let i = 0; i < 4; i++) {
      await h.advance();
      await h.signal('BTC/USD', 0.55);
      const r = await h.cycle('old-stop');
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.state).toBe('ACTIVE');
    }
    expect(stops()).toHaveLength(1);
    expect(await rows(`select code from risk_events where account_id = $1 and code = 'RECONCILIATION_MISMATCH'`, [account.id])).toEqual([]);
    // The books' balances equal the exchange's.
    const books = await rows(`select asset, total::float8 as total from balance_snapshots where account_id = $1 and kind = 'books' and ts = (select max(ts) from balance_snapshots where account_id = $1 and kind = 'books')`, [account.id]);
    const exchange = h.emu.balances(key.key);
    const unified: Record<string, string> = { ZUSD: 'USD', XXBT: 'BTC' };
    // Kraken shows balances to the asset's decimals (USD 4): the books agree to that precision.
    for (const [asset, b] of Object.entries(exchange)) expect(books.find((r) => r.asset === unified[asset])?.total ?? 0, asset).toBeCloseTo(b.total, 4);
  });

  it('reads the order history only when the exchange changed since the last job', async () => {
    const { key } = await h.liveAccount('histories');
    await h.signal('BTC/USD', 0.9, { atrPct: 0.2 });
    expect((await h.cycle('histories')).status).toBe(200);
    const closedReads = () => h.emu.calls('ClosedOrders', key.key).length;
    // Nothing happened on the exchange since: the open orders and balances agree with the books.
    await h.advance();
    await h.signal('BTC/USD', 0.55);
    let before = closedReads();
    expect((await h.cycle('histories')).body.state).toBe('ACTIVE');
    expect(closedReads()).toBe(before);
    // A deposit nobody booked: the histories are read (twice: a balance difference is read again) — and it halts.
    await h.advance();
    h.emu.setBalance(key.key, 'ZUSD', h.emu.balances(key.key).ZUSD!.total + 250);
    before = closedReads();
    const r = await h.cycle('histories');
    expect(r.body).toMatchObject({ state: 'HALTED', halted: 'reconciliation' });
    expect(closedReads()).toBe(before + 2);
  });

  /** The account's resting stop of `pair` (its protection), made to trigger at the next bar's open. */
  const fireStop = (key: string, pair: string) => {
    const stop = h.emu.orders(key).find((o) => o.status === 'open' && o.ordertype === 'stop-loss' && o.pair.symbol === pair);
    if (!stop) throw new Error(`no resting ${pair} stop`);
    stop.price = h.emu.exchange.last(stop.pair) * 2; // a sell stop above the market: hit by any candle
    return stop;
  };

  it('a stop that filled since the last job: the next order goes out before the histories are read, and the same job books the fill', async () => {
    const { account, key } = await h.liveAccount('stopped-out');
    await h.signal('BTC/USD', 0.9, { atrPct: 0.05 });
    expect((await h.cycle('stopped-out')).body.state).toBe('ACTIVE');
    const stop = fireStop(key.key, 'BTC/USD');
    await h.advance();
    expect(h.emu.orders(key.key).find((o) => o.txid === stop.txid)?.status).toBe('closed');
    await h.signal('BTC/USD', 0.9, { atrPct: 0.05 });
    const from = h.emu.requests.length;
    const r = await h.cycle('stopped-out');
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.state).toBe('ACTIVE');
    const calls = h.emu.requests.slice(from).filter((q) => q.key === key.key).map((q) => q.name);
    expect(calls.indexOf('AddOrder'), calls.join()).toBeGreaterThan(-1);
    expect(calls.indexOf('AddOrder'), calls.join()).toBeLessThan(calls.indexOf('ClosedOrders'));
    // Booked once, in this job: every trade of the key, the stop's among them, and the stop's row closed.
    const booked = await rows('select trade_id from fills where account_id = $1', [account.id]);
    expect(booked.map((f) => f.trade_id).sort()).toEqual(h.emu.trades(key.key).map((t) => t.id).sort());
    expect(await rows('select status from orders where account_id = $1 and exchange_id = $2', [account.id, stop.txid])).toEqual([{ status: 'closed' }]);
    // The next job finds the books and the exchange agreeing: no history read, nothing unexplained.
    await h.advance();
    await h.signal('BTC/USD', 0.55);
    const closedBefore = h.emu.calls('ClosedOrders', key.key).length;
    expect((await h.cycle('stopped-out')).body.state).toBe('ACTIVE');
    expect(h.emu.calls('ClosedOrders', key.key).length).toBe(closedBefore);
    expect(await rows(`select code from risk_events where account_id = $1 and code = 'RECONCILIATION_MISMATCH'`, [account.id])).toEqual([]);
  });

  it('a deposit beside a stop fill, found after the orders, halts the account at the next job before it sends anything', async () => {
    const { account, key } = await h.liveAccount('deposit-late');
    await h.signal('ETH/USD', 0.9, { atrPct: 0.05 });
    expect((await h.cycle('deposit-late')).body.state).toBe('ACTIVE');
    fireStop(key.key, 'ETH/USD');
    await h.advance();
    h.emu.setBalance(key.key, 'ZUSD', h.emu.balances(key.key).ZUSD!.total + 100); // up, as the sale moved it: not caught before trading
    await h.signal('ETH/USD', 0.9, { atrPct: 0.05 });
    const first = h.emu.requests.length;
    const r = await h.cycle('deposit-late');
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const calls = h.emu.requests.slice(first).filter((q) => q.key === key.key).map((q) => q.name);
    expect(calls.indexOf('AddOrder'), calls.join()).toBeGreaterThan(-1);
    expect(calls.indexOf('AddOrder'), calls.join()).toBeLessThan(calls.indexOf('ClosedOrders')); // traded, then compared
    // Right after the orders a difference is not judged (Kraken's histories may lag its balances)…
    expect(r.body.state).toBe('ACTIVE');
    const mismatches = () => rows(`select details from audit_log where account_id = $1 and action = 'reconcile.mismatch'`, [account.id]);
    expect(await mismatches()).toEqual([]);
    // …the next job compares before it trades: the deposit is still unexplained, so it halts, audited, and sends no order.
    await h.advance();
    await h.signal('ETH/USD', 0.9, { atrPct: 0.05 });
    const next = h.emu.requests.length;
    expect((await h.cycle('deposit-late')).body).toMatchObject({ state: 'HALTED', halted: 'reconciliation' });
    expect(JSON.stringify(await mismatches())).toContain('balance_mismatch');
    expect(h.emu.requests.slice(next).filter((q) => q.key === key.key && q.name === 'AddOrder' && q.params.ordertype === 'market')).toEqual([]);
  });

  it('a balance the fills do not explain (a withdrawal) halts the account, audited; an admin reset starts the books again', async () => {
    const { account, key } = await h.liveAccount('withdrawn');
    expect((await h.cycle('withdrawn')).status).toBe(200);
    await h.advance();
    h.emu.setBalance(key.key, 'ZUSD', h.emu.balances(key.key).ZUSD!.total - 1_000);
    const r = await h.cycle('withdrawn');
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toMatchObject({ state: 'HALTED', halted: 'reconciliation' });
    const audit = await rows(`select details from audit_log where account_id = $1 and action = 'reconcile.mismatch'`, [account.id]);
    expect(JSON.stringify(audit)).toContain('balance_mismatch');
    // Still halted next hour: the difference is still there.
    await h.advance();
    expect((await h.cycle('withdrawn')).body).toMatchObject({ state: 'HALTED' });
    // An admin looks, accepts the exchange's balances and resets the halt (as POST …/trading-state/reset does).
    await h.t.owner.query(`update trading_state set state = 'ACTIVE', reason = 'admin reset' where account_id = $1`, [account.id]);
    await h.t.app.db.transaction((tx) => appendAudit(tx, { action: 'risk.reset', accountId: account.id, details: {} }, h.wall));
    await h.advance();
    const after = await h.cycle('withdrawn');
    expect(after.status, JSON.stringify(after.body)).toBe(200);
    expect(after.body.state).toBe('ACTIVE');
  });
});

describe('live orders first', () => {
  it("score queues a live account's order job at once and a simulated one's a moment later", async () => {
    const { account: live } = await h.liveAccount('first-live');
    const sim = await h.simAccount('first-sim');
    const bar = h.bar();
    await scoreBar(h.ctx, baselineProvider, ['BTC/USD'], bar);
    const delay = async (slug: string) => (await h.queue.queue('order').getJob(jobId('order', slug, bar)))?.opts.delay ?? 0;
    expect(await delay(live.slug)).toBe(0);
    expect(await delay(sim.slug)).toBe(SIM_AFTER_LIVE_MS);
  });
});
