import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp as createReportApp } from '../../functions/report/handler.ts';
import { withAccount } from '../../lib/db/scope.ts';
import { hedgeReportFromSnapshots } from '../../lib/reports/hedge-report.ts';
import { riskReport } from '../../lib/reports/metrics.ts';
import { tradesPage } from '../../lib/reports/queries.ts';
import { call, expectError, login, onboard, startApi, type ApiHarness } from '../helpers/api.ts';
import { parseCsv } from '../unit/reports/rfc4180.ts';
import { seedBulkFills, seedFills, seedSnapshots, type FillSeed, type SnapshotSeed } from './reports-seed.ts';

let h: ApiHarness;
let admin: string;
let viewer: string;
let ids: Record<string, string>;
const VIEWER = { email: 'reports.viewer@example.com', name: 'Reports Viewer', role: 'viewer', password: 'reports viewer password' } as const;
const BULK = 20_000;

const COMPANY_SNAPS: SnapshotSeed[] = [
  { ts: '2026-01-03T00:00:00.000Z', equity: 1000, cash: 500, positions: 500, hedgeRatio: 0.5 },
  { ts: '2026-01-03T12:00:00.000Z', equity: 1100, cash: 500, positions: 600, hedgeRatio: 0.45 },
  { ts: '2026-01-03T23:00:00.000Z', equity: 1050, cash: 500, positions: 550, hedgeRatio: 0.48 },
  { ts: '2026-01-04T06:00:00.000Z', equity: 990, cash: 500, positions: 490, hedgeRatio: 0.5 },
  { ts: '2026-01-04T23:59:59.999Z', equity: 1020, cash: 500, positions: 520, hedgeRatio: 0.49 },
  { ts: '2026-01-05T01:00:00.000Z', equity: 1020.5, cash: 1020.5, positions: 0, hedgeRatio: 1 },
];
const DIRECTOR_SNAPS: SnapshotSeed[] = [
  { ts: '2026-01-04T00:00:00.000Z', equity: 5555.55, cash: 5555.55, positions: 0, hedgeRatio: 1 },
  { ts: '2026-01-04T10:00:00.000Z', equity: 4444.44, cash: 1111.11, positions: 3333.33, hedgeRatio: 0.25 },
];
const fill = (o: Partial<FillSeed> & Pick<FillSeed, 'ts' | 'clientId'>): FillSeed => ({
  pair: 'BTC/USD',
  side: 'buy',
  price: '42000.5',
  qty: '0.01',
  fee: '1.1',
  realizedPnl: '0',
  intent: 'entry',
  reason: 'signal',
  modelVersion: 'm-1',
  ...o,
});
const COMPANY_FILLS: FillSeed[] = [
  fill({ ts: '2026-01-03T01:00:00.000Z', clientId: 'co-1', fee: '1.25' }),
  fill({ ts: '2026-01-03T23:59:59.999Z', clientId: 'co-2', side: 'sell', pair: 'ETH/USD', fee: '0.75', realizedPnl: '12.5', intent: 'exit', cause: 'take-profit', reason: 'take profit, "full"\r\nexit' }),
  fill({ ts: '2026-01-04T00:00:00.000Z', clientId: 'co-3', fee: '2', reason: null, modelVersion: null }),
  fill({ ts: '2026-01-04T08:00:00.000Z', clientId: 'co-4', side: 'sell', fee: '0.5', realizedPnl: '-3.25', intent: 'protective', reason: 'stop' }),
];
const DIRECTOR_FILLS: FillSeed[] = [fill({ ts: '2026-01-04T09:00:00.000Z', clientId: 'd1-secret-trade', pair: 'SOL/USD', fee: '9' })];

beforeAll(async () => {
  h = await startApi();
  ({ token: admin, accounts: ids } = await onboard(h));
  const r = await call(h.app, 'POST', '/users', { token: admin, json: { ...VIEWER, accountIds: [ids.company] } });
  expect(r.status, r.text).toBe(201);
  viewer = await login(h, VIEWER.email, VIEWER.password);
  await seedSnapshots(h.testDb.owner, ids.company!, COMPANY_SNAPS);
  await seedSnapshots(h.testDb.owner, ids['director-1']!, DIRECTOR_SNAPS);
  await seedFills(h.testDb.owner, ids.company!, COMPANY_FILLS);
  await seedFills(h.testDb.owner, ids['director-1']!, DIRECTOR_FILLS);
  await seedBulkFills(h.testDb.owner, ids['director-2']!, BULK);
  await h.testDb.owner.query(
    `insert into hedge_state (account_id, mode, target, actual, manual_ratio, manual_expires_at, reason, updated_at)
     values ($1, 'manual', 0.5, 0.49, 0.5, '2026-01-10T00:00:00Z', 'director override', '2026-01-04T12:00:00Z'),
            ($2, 'auto', 0.25, 0.25, null, null, 'd1 auto', '2026-01-04T12:00:00Z')`,
    [ids.company, ids['director-1']],
  );
  await h.testDb.owner.query(
    `insert into hedge_history (account_id, ts, mode, target, actual, reason)
     values ($1, '2026-01-03T00:00:00Z', 'auto', 0.5, 0.5, 'volatility up'), ($1, '2026-01-04T12:00:00Z', 'manual', 0.5, 0.49, 'director override'),
            ($2, '2026-01-04T00:00:00Z', 'auto', 0.25, 0.25, 'd1 history')`,
    [ids.company, ids['director-1']],
  );
  // Days the routes read: computed by the report function itself.
  const reportApp = createReportApp(h.ctx);
  for (const day of ['2026-01-03', '2026-01-04', '2026-01-05']) expect((await call(reportApp, 'POST', '/', { json: { day }, signAs: { signer: h.ctx, fn: 'report' } })).status).toBe(200);
}, 120_000);
afterAll(async () => {
  await h?.close();
});

const ROUTES = ['reports/daily-pnl', 'trades', 'trades.csv', 'reports/risk', 'reports/equity', 'reports/hedge'];

describe('access', () => {
  it.each(ROUTES)('a viewer of company reads company /%s and is refused the directors’', async (route) => {
    expect((await call(h.app, 'GET', `/accounts/company/${route}`, { token: viewer })).status).toBe(200);
    expectError(await call(h.app, 'GET', `/accounts/director-1/${route}`, { token: viewer }), 403, 'FORBIDDEN');
    expectError(await call(h.app, 'GET', `/accounts/${ids['director-2']}/${route}`, { token: viewer }), 403, 'FORBIDDEN');
    expectError(await call(h.app, 'GET', `/accounts/company/${route}`), 401, 'UNAUTHENTICATED');
    expectError(await call(h.app, 'GET', `/accounts/nope/${route}`, { token: admin }), 404, 'ACCOUNT_NOT_FOUND');
  });

  it.each(ROUTES)('/%s never shows another account’s rows (the director’s distinctive values are absent)', async (route) => {
    const r = await call(h.app, 'GET', `/accounts/company/${route}`, { token: admin });
    expect(r.status).toBe(200);
    for (const marker of ['d1-secret-trade', 'SOL/USD', 'd1 auto', 'd1 history', 'bulk-order', '5555.55', '4444.44', '3333.33']) expect(r.text).not.toContain(marker);
  });

  it('row-level security hides a foreign account’s rows even when the query names that account', async () => {
    const rows = await withAccount(h.ctx.db, ids.company!, (tx) => tradesPage(tx, ids['director-1']!, {}, { limit: 10, direction: 'desc' }));
    expect(rows).toEqual([]);
    const own = await withAccount(h.ctx.db, ids['director-1']!, (tx) => tradesPage(tx, ids['director-1']!, {}, { limit: 10, direction: 'desc' }));
    expect(own.map((t) => t.clientId)).toEqual(['d1-secret-trade']);
  });
});

describe('GET /accounts/{account}/reports/daily-pnl', () => {
  it('UTC days, opening at the previous close, net of fees, with fees and trade counts', async () => {
    const r = await call(h.app, 'GET', '/accounts/company/reports/daily-pnl', { token: viewer });
    expect(r.status, r.text).toBe(200);
    const days = (r.body as { days: Array<Record<string, number | string>> }).days;
    expect(days.map((d) => d.day)).toEqual(['2026-01-03', '2026-01-04', '2026-01-05']);
    expect(days[0]).toMatchObject({ startEquityUsd: 1000, endEquityUsd: 1050, pnlUsd: 50, feesUsd: 2, trades: 2 });
    expect(days[0]!.pnlPct).toBeCloseTo(0.05, 6);
    expect(days[1]).toMatchObject({ startEquityUsd: 1050, endEquityUsd: 1020, pnlUsd: -30, feesUsd: 2.5, trades: 2 });
    expect(days[1]!.pnlPct).toBeCloseTo(-30 / 1050, 6);
    expect(days[2]).toMatchObject({ startEquityUsd: 1020, endEquityUsd: 1020.5, pnlUsd: 0.5, feesUsd: 0, trades: 0 });
  });

  it('filters by from/to (inclusive) and refuses an inverted range', async () => {
    const r = await call(h.app, 'GET', '/accounts/company/reports/daily-pnl?from=2026-01-04&to=2026-01-04', { token: viewer });
    expect((r.body as { days: Array<{ day: string }> }).days.map((d) => d.day)).toEqual(['2026-01-04']);
    expectError(await call(h.app, 'GET', '/accounts/company/reports/daily-pnl?from=2026-01-05&to=2026-01-04', { token: viewer }), 400, 'BAD_RANGE');
    expectError(await call(h.app, 'GET', '/accounts/company/reports/daily-pnl?from=2026-02-30', { token: viewer }), 400, 'VALIDATION_FAILED');
  });

  it('the director’s first day opens at its own first snapshot', async () => {
    const r = await call(h.app, 'GET', '/accounts/director-1/reports/daily-pnl', { token: admin });
    expect((r.body as { days: unknown[] }).days).toEqual([{ day: '2026-01-04', startEquityUsd: 5555.55, endEquityUsd: 4444.44, pnlUsd: expect.closeTo(-1111.11, 6), pnlPct: expect.closeTo(-0.2, 6), feesUsd: 9, trades: 1 }]);
  });
});

describe('GET /accounts/{account}/trades', () => {
  type Page = { trades: Array<Record<string, string | null>>; nextBefore: string | null };

  it('newest first, with the order’s client id, cause, intent, reason and model version', async () => {
    const r = await call(h.app, 'GET', '/accounts/company/trades', { token: viewer });
    expect(r.status, r.text).toBe(200);
    const page = r.body as Page;
    expect(page.trades.map((t) => t.clientId)).toEqual(['co-4', 'co-3', 'co-2', 'co-1']);
    expect(page.nextBefore).toBeNull();
    expect(page.trades[2]).toEqual({
      time: '2026-01-03T23:59:59.999Z',
      pair: 'ETH/USD',
      side: 'sell',
      qty: '0.01',
      price: '42000.5',
      feeUsd: '0.75',
      realizedPnlUsd: '12.5',
      clientId: 'co-2',
      cause: 'take-profit',
      intent: 'exit',
      reason: 'take profit, "full"\r\nexit',
      modelVersion: 'm-1',
    });
    expect(page.trades[1]).toMatchObject({ reason: null, modelVersion: null });
    expect(page.trades.map((t) => t.cause)).toEqual(['stop', 'entry', 'take-profit', 'entry']); // co-4 is a resting stop that fired
  });

  it.each([
    ['pair=ETH/USD', ['co-2']],
    ['side=sell', ['co-4', 'co-2']],
    ['from=2026-01-04T00:00:00Z', ['co-4', 'co-3']],
    ['to=2026-01-04T00:00:00Z', ['co-2', 'co-1']],
    ['from=2026-01-03T12:00:00Z&to=2026-01-04T06:00:00Z&side=buy', ['co-3']],
  ])('filter %s', async (q, expected) => {
    const r = await call(h.app, 'GET', `/accounts/company/trades?${q.replace('/', '%2F')}`, { token: viewer });
    expect(r.status, r.text).toBe(200);
    expect((r.body as Page).trades.map((t) => t.clientId)).toEqual(expected);
  });

  it('keyset pages cover 20,000 fills exactly once, ties on time broken by id', async () => {
    const seen = new Set<string>();
    let before: string | null = null;
    let pages = 0;
    let prevTime = Infinity;
    do {
      const r = await call(h.app, 'GET', `/accounts/director-2/trades?limit=1000${before ? `&before=${before}` : ''}`, { token: admin });
      expect(r.status, r.text).toBe(200);
      const page = r.body as Page;
      for (const t of page.trades) {
        expect(seen.has(t.price!), `duplicate ${t.price}`).toBe(false);
        seen.add(t.price!);
        const ms = Date.parse(t.time!);
        expect(ms).toBeLessThanOrEqual(prevTime);
        prevTime = ms;
      }
      before = page.nextBefore;
      pages++;
    } while (before);
    expect(pages).toBe(BULK / 1000);
    expect(seen.size).toBe(BULK);
  });

  it('a small page carries a cursor that continues where it stopped', async () => {
    const first = (await call(h.app, 'GET', '/accounts/company/trades?limit=3', { token: viewer })).body as Page;
    expect(first.trades.map((t) => t.clientId)).toEqual(['co-4', 'co-3', 'co-2']);
    const second = (await call(h.app, 'GET', `/accounts/company/trades?limit=3&before=${first.nextBefore}`, { token: viewer })).body as Page;
    expect(second.trades.map((t) => t.clientId)).toEqual(['co-1']);
    expect(second.nextBefore).toBeNull();
  });
});

describe('GET /accounts/{account}/trades.csv', () => {
  const HEADER = ['time', 'pair', 'side', 'qty', 'price', 'fee_usd', 'realized_pnl_usd', 'client_id', 'cause', 'intent', 'reason', 'model_version'];

  it('is RFC 4180 with the documented header, oldest first, quoting what needs it', async () => {
    const r = await call(h.app, 'GET', '/accounts/company/trades.csv', { token: viewer });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(r.headers.get('content-disposition')).toMatch(/^attachment; filename="trades-company-\d{4}-\d{2}-\d{2}\.csv"$/);
    expect(r.text).toContain('"take profit, ""full""\r\nexit"');
    const rows = parseCsv(r.text);
    expect(rows[0]).toEqual(HEADER);
    expect(rows.slice(1).map((x) => x[7])).toEqual(['co-1', 'co-2', 'co-3', 'co-4']);
    // qty at ETH/USD's lot decimals (8), price at its price decimals (2), the fee at Kraken's USD ledger precision (4), PnL at cents.
    expect(rows[2]).toEqual(['2026-01-03T23:59:59.999Z', 'ETH/USD', 'sell', '0.01000000', '42000.50', '0.7500', '12.50', 'co-2', 'take-profit', 'exit', 'take profit, "full"\r\nexit', 'm-1']);
    expect(rows[3]![10]).toBe('');
  });

  it('applies the same filters', async () => {
    const r = await call(h.app, 'GET', '/accounts/company/trades.csv?side=sell', { token: viewer });
    expect(parseCsv(r.text).slice(1).map((x) => x[7])).toEqual(['co-2', 'co-4']);
  });

  it('streams 20,000 fills in batches: a ReadableStream of many chunks, every row once', async () => {
    const res = await h.app.request(`/accounts/director-2/trades.csv`, { headers: { authorization: `Bearer ${admin}` } });
    expect(res.status).toBe(200);
    expect(res.body).toBeInstanceOf(ReadableStream);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let chunks = 0;
    let text = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks++;
      text += decoder.decode(value, { stream: true });
    }
    text += decoder.decode();
    // header + one chunk per batch of 1000: the file was never assembled in one piece
    expect(chunks).toBeGreaterThanOrEqual(1 + BULK / 1000);
    const rows = parseCsv(text);
    expect(rows[0]).toEqual(HEADER);
    expect(rows.length - 1).toBe(BULK);
    const prices = rows.slice(1).map((x) => Number(x[4]));
    expect(new Set(prices).size).toBe(BULK);
    // within one timestamp the order is by id (random), so the first two rows are fills 1 and 2 in either order
    expect(prices.slice(0, 2).sort()).toEqual([1001, 1002]);
    expect(Math.min(...prices)).toBe(1001);
    expect(Math.max(...prices)).toBe(1000 + BULK);
    const times = rows.slice(1).map((x) => Date.parse(x[0]!));
    expect(times.every((t, i) => i === 0 || t >= times[i - 1]!)).toBe(true);
    expect(rows[1]![10]).toBe('bulk, "seeded"');
  });

  it('a database failure mid-stream aborts the body: never a short file that looks complete', async () => {
    const res = await h.app.request(`/accounts/director-2/trades.csv`, { headers: { authorization: `Bearer ${admin}` } });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    for (let i = 0; i < 3; i++) expect((await reader.read()).done).toBe(false);
    // Between two batches (each its own transaction) the table goes away.
    await h.testDb.owner.query('alter table fills rename to fills_gone');
    try {
      let chunks = 3;
      const drain = async () => {
        for (;;) {
          const { done } = await reader.read();
          if (done) return 'complete';
          chunks++;
        }
      };
      await expect(drain()).rejects.toThrow();
      expect(chunks).toBeLessThan(1 + BULK / 1000);
    } finally {
      await h.testDb.owner.query('alter table fills_gone rename to fills');
    }
  });
});

const points = (s: SnapshotSeed[]) => s.map((x) => ({ ts: Date.parse(x.ts), equity: x.equity, positionsUsd: x.positions }));

describe('GET /accounts/{account}/reports/risk', () => {
  it('drawdown, exposure and volatility over every snapshot', async () => {
    const r = await call(h.app, 'GET', '/accounts/company/reports/risk', { token: viewer });
    expect(r.status, r.text).toBe(200);
    const body = r.body as ReturnType<typeof riskReport>;
    expect(body.points).toBe(6);
    expect(body.maxDrawdown).toBeCloseTo(0.1, 9); // 1100 → 990
    expect(body.currentDrawdown).toBeCloseTo((1100 - 1020.5) / 1100, 9);
    expect(body.exposure).toBe(0);
    expect(body.averageExposure).toBeCloseTo((0.5 + 600 / 1100 + 550 / 1050 + 490 / 990 + 520 / 1020 + 0) / 6, 9);
    expect(body.volatilityAnnual).toBeCloseTo(riskReport(points(COMPANY_SNAPS)).volatilityAnnual, 9);
    expect(body.volatilityAnnual).toBeGreaterThan(0);
  });

  it('over a range [from, to)', async () => {
    const r = await call(h.app, 'GET', '/accounts/company/reports/risk?from=2026-01-04T00:00:00Z&to=2026-01-05T01:00:00Z', { token: viewer });
    const body = r.body as ReturnType<typeof riskReport>;
    expect(body.points).toBe(2);
    expect(body.equityUsd).toBe(1020);
    expect(body.maxDrawdown).toBe(0);
  });
});

describe('GET /accounts/{account}/reports/equity', () => {
  type Pt = { time: string; equityUsd: number; cashUsd: number; positionsUsd: number; hedgeRatio: number; returnSinceStart: number };

  it('every snapshot, with the return since the first', async () => {
    const r = await call(h.app, 'GET', '/accounts/company/reports/equity', { token: viewer });
    const pts = (r.body as { points: Pt[] }).points;
    expect(pts).toHaveLength(6);
    expect(pts[0]).toEqual({ time: '2026-01-03T00:00:00.000Z', equityUsd: 1000, cashUsd: 500, positionsUsd: 500, hedgeRatio: 0.5, returnSinceStart: 0 });
    expect(pts[1]!.returnSinceStart).toBeCloseTo(0.1, 9);
    expect(pts[1]!.hedgeRatio).toBeCloseTo(0.45, 6);
  });

  it('every=day keeps each UTC day’s last snapshot', async () => {
    const r = await call(h.app, 'GET', '/accounts/company/reports/equity?every=day', { token: viewer });
    const pts = (r.body as { points: Pt[] }).points;
    expect(pts.map((p) => [p.time, p.equityUsd])).toEqual([
      ['2026-01-03T23:00:00.000Z', 1050],
      ['2026-01-04T23:59:59.999Z', 1020],
      ['2026-01-05T01:00:00.000Z', 1020.5],
    ]);
    expect(pts[1]!.returnSinceStart).toBeCloseTo(1020 / 1050 - 1, 9);
  });

  it('every=hour keeps one point per hour; with from/to only that window', async () => {
    const r = await call(h.app, 'GET', '/accounts/company/reports/equity?every=hour', { token: viewer });
    expect((r.body as { points: Pt[] }).points).toHaveLength(6);
    const w = await call(h.app, 'GET', '/accounts/company/reports/equity?every=hour&from=2026-01-03T12:00:00Z&to=2026-01-04T06:00:00Z', { token: viewer });
    expect((w.body as { points: Pt[] }).points.map((p) => p.equityUsd)).toEqual([1100, 1050]);
    expectError(await call(h.app, 'GET', '/accounts/company/reports/equity?every=week', { token: viewer }), 400, 'VALIDATION_FAILED');
  });
});

describe('GET /accounts/{account}/reports/hedge', () => {
  // A hedge sale before the first snapshot (seeded here: the trades tests above list the company's other fills).
  const HEDGE_SALE = fill({ ts: '2026-01-02T23:00:00.000Z', clientId: 'co-hedge', side: 'sell', price: '40100', qty: '0.01', fee: '1', intent: 'hedge', reason: 'hedge rebalance' });

  it('current hedge, history, and what it saved against the unhedged portfolio (the USD its own sales raised)', async () => {
    await seedFills(h.testDb.owner, ids.company!, [HEDGE_SALE]);
    const r = await call(h.app, 'GET', '/accounts/company/reports/hedge', { token: viewer });
    expect(r.status, r.text).toBe(200);
    const body = r.body as {
      current: Record<string, unknown>;
      history: Array<{ reason: string }>;
      performance: { savedUsd: number; unhedgedEquityUsd: number; hedgedEquityUsd: number; points: number };
    };
    expect(body.current).toEqual({
      mode: 'manual',
      target: 0.5,
      actual: 0.49,
      manualRatio: 0.5,
      manualExpiresAt: '2026-01-10T00:00:00.000Z',
      reason: 'director override',
      updatedAt: '2026-01-04T12:00:00.000Z',
    });
    expect(body.history.map((x) => x.reason)).toEqual(['volatility up', 'director override']);
    const snaps = COMPANY_SNAPS.map((s) => ({ ts: Date.parse(s.ts), equity: s.equity, cash: s.cash, positions: s.positions }));
    const expected = hedgeReportFromSnapshots(snaps, [{ time: Date.parse(HEDGE_SALE.ts), usd: 0.01 * 40_100 - 1 }])!;
    // Only the 400 USD the hedge sale raised is hedged, not the account's 500 USD of cash.
    expect(expected.unhedgedEquity).not.toBeCloseTo(hedgeReportFromSnapshots(snaps, [{ time: 0, usd: 500 }])!.unhedgedEquity, 3);
    expect(Math.abs(expected.savedUsd)).toBeGreaterThan(1);
    expect(body.performance.points).toBe(6);
    expect(body.performance.hedgedEquityUsd).toBe(1020.5);
    expect(body.performance.unhedgedEquityUsd).toBeCloseTo(expected.unhedgedEquity, 3);
    expect(body.performance.savedUsd).toBeCloseTo(expected.savedUsd, 3);
  });

  it('the director’s drop: a 25 % hedge from all-USD — first step holds nothing, so nothing saved', async () => {
    const r = await call(h.app, 'GET', '/accounts/director-1/reports/hedge', { token: admin });
    const body = r.body as { current: { mode: string }; performance: { savedUsd: number } };
    expect(body.current.mode).toBe('auto');
    expect(body.performance.savedUsd).toBe(0);
  });

  it('an account with no hedge yet: null current and performance', async () => {
    const r = await call(h.app, 'GET', '/accounts/director-2/reports/hedge', { token: admin });
    expect(r.body).toEqual({ current: null, history: [], performance: null });
  });
});
