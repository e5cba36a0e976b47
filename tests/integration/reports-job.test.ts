import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp as createReportApp } from '../../functions/report/handler.ts';
import type { AetherApp } from '../../lib/http/app.ts';
import { call, expectError, onboard, startApi, type ApiHarness } from '../helpers/api.ts';
import { seedFills, seedSnapshots } from './reports-seed.ts';

/** The `report` job function: daily PnL per account per UTC day, upserted, idempotent, failure-isolated. */
let h: ApiHarness;
let app: AetherApp;
/** Report jobs signed as the dispatcher signs them. */
const report = () => ({ signer: h.ctx, fn: 'report' });
let ids: Record<string, string>;

type Result = { days: string[]; accounts: Array<{ account: string; ok: boolean; days?: string[]; error?: string }>; failed: number };
const dailyRows = async () =>
  (
    await h.testDb.owner.query(
      `select a.slug, d.day, d.start_equity_usd::text as s, d.end_equity_usd::text as e, d.pnl_usd::text as p, d.pnl_pct, d.fees_usd::text as f, d.trades::text as n
       from daily_pnl d join accounts a on a.id = d.account_id order by a.slug, d.day`,
    )
  ).rows;

beforeAll(async () => {
  h = await startApi();
  ({ accounts: ids } = await onboard(h));
  app = createReportApp(h.ctx);
  const snap = (ts: string, equity: number) => ({ ts, equity, cash: equity, positions: 0, hedgeRatio: 1 });
  await seedSnapshots(h.testDb.owner, ids.company!, [snap('2026-01-04T00:00:00Z', 1000), snap('2026-01-04T20:00:00Z', 1010), snap('2026-01-05T09:00:00Z', 1001)]);
  await seedSnapshots(h.testDb.owner, ids['director-1']!, [snap('2026-01-04T03:00:00Z', 200), snap('2026-01-05T03:00:00Z', 220)]);
  await seedFills(h.testDb.owner, ids.company!, [
    { ts: '2026-01-05T01:00:00Z', clientId: 'job-1', pair: 'BTC/USD', side: 'buy', price: '40000', qty: '0.001', fee: '0.1', realizedPnl: '0', intent: 'entry', reason: null, modelVersion: null },
    { ts: '2026-01-05T02:00:00Z', clientId: 'job-2', pair: 'BTC/USD', side: 'sell', price: '40100', qty: '0.001', fee: '0.2', realizedPnl: '0.1', intent: 'exit', reason: null, modelVersion: null },
  ]);
}, 60_000);
afterAll(async () => {
  await h?.close();
});

describe('the report function', () => {
  it('with no day, closes yesterday and today so far (by the clock) for every account', async () => {
    expect(new Date(h.clock.now()).toISOString().slice(0, 10)).toBe('2026-01-05');
    const r = await call(app, 'POST', '/', { json: {}, signAs: report() });
    expect(r.status, r.text).toBe(200);
    const body = r.body as Result;
    expect(body.days).toEqual(['2026-01-04', '2026-01-05']);
    expect(body.failed).toBe(0);
    expect(body.accounts).toEqual([
      { account: 'company', ok: true, days: ['2026-01-04', '2026-01-05'] },
      { account: 'director-1', ok: true, days: ['2026-01-04', '2026-01-05'] },
      { account: 'director-2', ok: true, days: [] }, // no snapshots: no row
    ]);
    expect(await dailyRows()).toEqual([
      { slug: 'company', day: '2026-01-04', s: '1000', e: '1010', p: '10', pnl_pct: expect.closeTo(0.01, 6), f: '0', n: '0' },
      { slug: 'company', day: '2026-01-05', s: '1010', e: '1001', p: '-9', pnl_pct: expect.closeTo(-9 / 1010, 6), f: '0.3', n: '2' },
      { slug: 'director-1', day: '2026-01-04', s: '200', e: '200', p: '0', pnl_pct: 0, f: '0', n: '0' },
      { slug: 'director-1', day: '2026-01-05', s: '200', e: '220', p: '20', pnl_pct: expect.closeTo(0.1, 6), f: '0', n: '0' },
    ]);
  });

  it('is idempotent: running again leaves the same rows, no duplicates', async () => {
    const before = await dailyRows();
    for (let i = 0; i < 2; i++) expect((await call(app, 'POST', '/', { json: {}, signAs: report() })).status).toBe(200);
    expect(await dailyRows()).toEqual(before);
    expect(await call(app, 'POST', '/', { json: { day: '2026-01-05' }, signAs: report() }).then((r) => r.status)).toBe(200);
    expect(await dailyRows()).toEqual(before);
  });

  it('a rerun after new snapshots rewrites today’s row in place', async () => {
    await seedSnapshots(h.testDb.owner, ids.company!, [{ ts: '2026-01-05T11:00:00Z', equity: 1020, cash: 1020, positions: 0, hedgeRatio: 1 }]);
    expect((await call(app, 'POST', '/', { json: { day: '2026-01-05' }, signAs: report() })).status).toBe(200);
    const rows = (await dailyRows()).filter((r) => r.slug === 'company');
    expect(rows).toHaveLength(2);
    expect(rows[1]).toMatchObject({ day: '2026-01-05', s: '1010', e: '1020', p: '10' });
  });

  it('one account failing does not stop the others, and is reported', async () => {
    await h.testDb.owner.query('delete from daily_pnl');
    await h.testDb.owner.query(`create function fail_director_1() returns trigger language plpgsql as $$
      begin if new.account_id = '${ids['director-1']}' then raise exception 'disk full (test)'; end if; return new; end $$`);
    await h.testDb.owner.query('create trigger fail_director_1 before insert or update on daily_pnl for each row execute function fail_director_1()');
    try {
      const r = await call(app, 'POST', '/', { json: { day: '2026-01-04' }, signAs: report() });
      expect(r.status, r.text).toBe(200);
      const body = r.body as Result;
      expect(body.failed).toBe(1);
      expect(body.accounts.find((a) => a.account === 'director-1')).toMatchObject({ ok: false, error: expect.any(String) });
      expect(body.accounts.filter((a) => a.ok).map((a) => a.account)).toEqual(['company', 'director-2']);
      expect((await dailyRows()).map((x) => `${x.slug} ${x.day}`)).toEqual(['company 2026-01-04']);
    } finally {
      await h.testDb.owner.query('drop trigger fail_director_1 on daily_pnl; drop function fail_director_1()');
    }
  });

  it.each([{ day: '2026-02-30' }, { day: '2026-1-5' }, { day: '2026-01-05', extra: 1 }])('refuses %j with a 400', async (json) => {
    const r = await call(app, 'POST', '/', { json, signAs: report() });
    expect(r.status, r.text).toBe(400);
    expectError(r, 400);
  });
});
