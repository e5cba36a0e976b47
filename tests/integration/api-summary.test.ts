import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { latestSettings, putSettings } from '../../lib/accounts/settings.ts';
import { VirtualClock } from '../../lib/clock.ts';
import { parseConfig } from '../../lib/config.ts';
import { cycleOutcomes } from '../../lib/cycle/cycle-now.ts';
import { saveBalances } from '../../lib/cycle/live-store.ts';
import { withAccount } from '../../lib/db/scope.ts';
import { inProcessInvoker, startDispatcher } from '../../lib/queue/dispatcher.ts';
import { createApp as orderApp } from '../../functions/order/handler.ts';
import { createApp as scoreApp } from '../../functions/score/handler.ts';
import { createApp as tickApp } from '../../functions/tick/handler.ts';
import { call, expectError, login, onboard, startApi, writesNothing, type ApiHarness } from '../helpers/api.ts';
import { startKrakenEmulator, type KrakenEmulator } from '../kraken-emulator/index.ts';

/**
 * The account summary API (issue 12): what the dashboard and `aether status` read. Before the first
 * cycle a simulation's equity is its starting balance; a cycle run now (POST /cycle, admin only,
 * audited, once per bar) moves it; totals never add simulated and live money; viewers see only
 * their accounts.
 */
interface AccountSummary {
  slug: string;
  mode: string;
  equityUsd: number | null;
  cashUsd: number | null;
  equityAt: string | null;
  startingBalanceUsd: number | null;
  holdings: Array<{ asset: string; amount: number; valueUsd: number | null }>;
  tradingState: { state: string; reason: string | null; since: string };
  hedge: { target: number | null; actual: number | null };
  lastCycle: { barTime: string; outcome: string } | null;
  nextCycleAt: string;
  drawdown: { daily: number; softLimit: number; hardLimit: number };
}
interface Totals {
  accounts: number;
  equityUsd: number;
  unvalued: number;
}
interface Summary {
  accounts: AccountSummary[];
  totals: { simulation: Totals; live: Totals };
}

const HOUR = 3_600_000;
let h: ApiHarness;
let emu: KrakenEmulator;
let clock: VirtualClock;
let admin: string;
let viewer: string;

const cursorTime = (): number => emu.exchange.path.timeline[emu.exchange.cursor]!;
const summaryOf = async (slug: string, token = admin): Promise<AccountSummary> => {
  const r = await call(h.app, 'GET', `/accounts/${slug}/summary`, { token });
  expect(r.status, r.text).toBe(200);
  return r.body as AccountSummary;
};
const auditCount = async (action: string): Promise<number> => (await h.testDb.owner.query(`select count(*)::int n from audit_log where action = $1`, [action])).rows[0].n;

beforeAll(async () => {
  emu = await startKrakenEmulator({});
  clock = new VirtualClock(cursorTime() + 60_000); // a minute after the newest bar closed, as cron runs tick
  h = await startApi(() => ({ clock, config: { ...parseConfig({ AETHER_HOME: '/nonexistent', TRUSTED_PROXY_HOPS: '1' }), KRAKEN_API_URL: emu.url } }));
  const o = await onboard(h);
  admin = o.token;
  const r = await call(h.app, 'POST', '/users', { token: admin, json: { email: 'viewer@example.com', name: 'Viewer', role: 'viewer', password: 'viewer password long enough', accountIds: [o.accounts.company] } });
  expect(r.status, r.text).toBe(201);
  viewer = await login(h, 'viewer@example.com', 'viewer password long enough');
}, 60_000);
afterAll(async () => {
  await h?.close();
  await emu?.close();
});

describe('before the first cycle', () => {
  it('a simulation shows its starting balance as equity and cash, ACTIVE, no cycle yet, the next one at :01', async () => {
    const s = await summaryOf('company');
    expect(s).toMatchObject({ slug: 'company', mode: 'simulation', equityUsd: 10_000, cashUsd: 10_000, equityAt: null, startingBalanceUsd: 10_000, lastCycle: null });
    expect(s.holdings).toEqual([{ asset: 'USD', amount: 10_000, priceUsd: 1, valueUsd: 10_000 }]);
    expect(s.tradingState.state).toBe('ACTIVE');
    expect(s.drawdown).toMatchObject({ daily: 0, softLimit: 0.03, hardLimit: 0.05 });
    const next = Date.parse(s.nextCycleAt);
    expect(next).toBeGreaterThan(clock.now());
    expect(next - clock.now()).toBeLessThanOrEqual(HOUR);
    expect(new Date(next).getUTCMinutes()).toBe(1);
  });

  it('an admin sets the simulated starting balance (audited, versioned); the same value again is a no-op', async () => {
    const before = await auditCount('settings.simulation');
    const r = await call(h.app, 'PUT', '/accounts/director-1/starting-balance', { token: admin, json: { usd: 25_000 } });
    expect(r.status, r.text).toBe(200);
    expect(r.body).toMatchObject({ usd: 25_000, changed: true });
    expect(await auditCount('settings.simulation')).toBe(before + 1);
    expect((await summaryOf('director-1')).equityUsd).toBe(25_000);
    await writesNothing(h, async () => {
      const again = await call(h.app, 'PUT', '/accounts/director-1/starting-balance', { token: admin, json: { usd: 25_000 } });
      expect(again.status, again.text).toBe(200);
      expect(again.body).toMatchObject({ usd: 25_000, changed: false, version: (r.body as { version: number }).version });
    });
  });

  it.each([[{ usd: -5 }], [{ usd: 0 }], [{ usd: 2e9 }], [{ usd: '100' }], [{}], [{ usd: 100, extra: 1 }], [null]])('a bad starting balance %j → 400 and nothing written', async (json) => {
    await writesNothing(h, async () => void expectError(await call(h.app, 'PUT', '/accounts/company/starting-balance', { token: admin, json }), 400));
  });

  it('a viewer may not set it (403), an unknown account is 404, without a session 401', async () => {
    await writesNothing(h, async () => {
      expectError(await call(h.app, 'PUT', '/accounts/company/starting-balance', { token: viewer, json: { usd: 1000 } }), 403, 'FORBIDDEN');
      expectError(await call(h.app, 'PUT', '/accounts/nope/starting-balance', { token: admin, json: { usd: 1000 } }), 404, 'ACCOUNT_NOT_FOUND');
      expectError(await call(h.app, 'PUT', '/accounts/company/starting-balance', { json: { usd: 1000 } }), 401);
    });
  });
});

describe('RBAC', () => {
  it('a viewer sees only their account, in /summary and by slug; others are 403; no session is 401', async () => {
    const r = await call(h.app, 'GET', '/summary', { token: viewer });
    expect(r.status, r.text).toBe(200);
    expect((r.body as Summary).accounts.map((a) => a.slug)).toEqual(['company']);
    expect((r.body as Summary).totals.simulation).toMatchObject({ accounts: 1, equityUsd: 10_000 });
    expect((await summaryOf('company', viewer)).slug).toBe('company');
    expectError(await call(h.app, 'GET', '/accounts/director-1/summary', { token: viewer }), 403, 'FORBIDDEN');
    expectError(await call(h.app, 'GET', '/accounts/nope/summary', { token: admin }), 404, 'ACCOUNT_NOT_FOUND');
    expectError(await call(h.app, 'GET', '/accounts/BAD_SLUG!/summary', { token: admin }), 400);
    expectError(await call(h.app, 'GET', '/summary'), 401, 'UNAUTHENTICATED');
    expectError(await call(h.app, 'GET', '/accounts/company/summary'), 401, 'UNAUTHENTICATED');
    const all = await call(h.app, 'GET', '/summary', { token: admin });
    expect((all.body as Summary).accounts.map((a) => a.slug)).toEqual(['company', 'director-1', 'director-2']);
  });

  it('the routes are in the OpenAPI document', async () => {
    const doc = (await call(h.app, 'GET', '/openapi.json')).body as { paths: Record<string, unknown>; components: { schemas: Record<string, unknown> } };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/summary', '/accounts/{account}/summary', '/accounts/{account}/starting-balance']));
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['Summary', 'AccountSummary', 'ModeTotals']));
  });
});

describe('cycle now, then the summary moves', () => {
  let barTime: number;

  it('POST /cycle is for admins only (403 for a viewer, 401 without a session) and they write nothing', async () => {
    await writesNothing(h, async () => {
      expectError(await call(h.app, 'POST', '/cycle', { token: viewer }), 403, 'FORBIDDEN');
      expectError(await call(h.app, 'POST', '/cycle'), 401, 'UNAUTHENTICATED');
    });
  });

  it("an admin's POST /cycle runs the scheduled cycle for the newest closed bar (audited); the summary shows it", async () => {
    const before = await auditCount('cycle.requested');
    const r = await call(h.app, 'POST', '/cycle', { token: admin });
    expect(r.status, r.text).toBe(202);
    barTime = Date.parse((r.body as { barTime: string }).barTime);
    expect(barTime).toBe(cursorTime() - HOUR);
    expect(r.body).toMatchObject({ queued: true });
    expect(await auditCount('cycle.requested')).toBe(before + 1);

    const accounts = (await h.testDb.owner.query<{ id: string; slug: string }>(`select id, slug from accounts order by slug`)).rows;
    const apps = { tick: tickApp(h.ctx), score: scoreApp(h.ctx), ...Object.fromEntries(accounts.map((a) => [`order-${a.slug}`, orderApp(h.ctx, a.slug)])) };
    const workers = startDispatcher(h.queue, ['tick', 'score', 'order'], inProcessInvoker(apps, h.ctx), h.ctx.logger, 1);
    try {
      const outcomes = await until(async () => {
        const done = await cycleOutcomes(h.ctx, accounts, barTime);
        return done.every((o) => o.outcome !== null) ? done : null;
      });
      expect(outcomes.map((o) => o.outcome)).toEqual(['done', 'done', 'done']);
    } finally {
      await Promise.all(workers.map((w) => w.close()));
    }

    const s = await summaryOf('company');
    expect(s.lastCycle).toMatchObject({ barTime: new Date(barTime).toISOString(), outcome: 'done' });
    expect(s.equityAt).toBe(new Date(barTime + HOUR).toISOString());
    expect(s.tradingState.reason).not.toBe('no cycle has run yet');
    expect(s.hedge.target).not.toBeNull();
    const snap = (await h.testDb.owner.query(`select equity_usd::float8 e, cash_usd::float8 c from equity_snapshots where account_id = (select id from accounts where slug = 'company')`)).rows;
    expect(snap).toHaveLength(1);
    expect(s.equityUsd).toBeCloseTo(snap[0].e, 2);
    expect(s.cashUsd).toBeCloseTo(snap[0].c, 2);
    expect(s.holdings.reduce((x, hd) => x + (hd.valueUsd ?? 0), 0)).toBeCloseTo(s.equityUsd!, 0);
    expect((await summaryOf('director-1')).equityUsd).toBeGreaterThan(20_000); // its own starting balance, 25 000, marked

    // The cycle is visible: one info line per phase and account, with a readable msg.
    const lines = h.logs.map((l) => JSON.parse(l) as { level: number; phase?: string; account?: string; bar?: string; msg: string }).filter((l) => l.phase && l.level === 30);
    for (const a of accounts)
      expect(lines.filter((l) => l.account === a.slug).map((l) => l.phase)).toEqual(['bar', 'signal', 'decisions', 'orders', 'fills', 'hedge', 'equity']);
    const equityLine = lines.find((l) => l.account === 'company' && l.phase === 'equity')!;
    expect(equityLine.msg).toMatch(/^company: equity [\d.]+ USD \(cash [\d.]+\), drawdown from peak [\d.]+%, ACTIVE$/);
    expect(lines.find((l) => l.account === 'company' && l.phase === 'signal')!.msg).toMatch(/^company: signals BTC\/USD p=0\.\d\d (bull|bear|sideways) \(/);
  }, 120_000);

  it('asking again for the same bar queues and audits nothing', async () => {
    const before = await auditCount('cycle.requested');
    const r = await call(h.app, 'POST', '/cycle', { token: admin });
    expect(r.status, r.text).toBe(202);
    expect(r.body).toMatchObject({ barTime: new Date(barTime).toISOString(), queued: false });
    expect(await auditCount('cycle.requested')).toBe(before);
  });

  it('a simulation that has traded keeps its starting balance (409, nothing written)', async () => {
    await writesNothing(h, async () => void expectError(await call(h.app, 'PUT', '/accounts/company/starting-balance', { token: admin, json: { usd: 1234 } }), 409, 'SIMULATION_STARTED'));
  });
});

describe('simulated and live money', () => {
  it('totals are per mode, a live account shows its own balances, and its starting balance is not a setting', async () => {
    const created = await call(h.app, 'POST', '/accounts', { token: admin, json: { slug: 'live-one', name: 'Live One', kind: 'other' } });
    expect(created.status, created.text).toBe(201);
    const id = (created.body as { id: string }).id;
    await withAccount(h.ctx.db, id, async (tx) => {
      const sim = await latestSettings(tx, id, 'simulation');
      await putSettings(tx, id, 'simulation', { ...sim.value, enabled: false }, null, h.clock);
    });
    expect((await summaryOf('live-one')).equityUsd).toBeNull(); // nothing read from Kraken yet: unknown, not zero
    await withAccount(h.ctx.db, id, (tx) => saveBalances(tx, id, 'opening', h.clock.now(), { USD: { total: 5_000, hold: 0 } }));
    const live = await summaryOf('live-one');
    expect(live).toMatchObject({ mode: 'live', equityUsd: 5_000, cashUsd: 5_000, startingBalanceUsd: null });

    const r = await call(h.app, 'GET', '/summary', { token: admin });
    const sum = r.body as Summary;
    const sims = sum.accounts.filter((a) => a.mode === 'simulation');
    expect(sims.map((a) => a.slug)).toEqual(['company', 'director-1', 'director-2']);
    expect(sum.totals.live).toMatchObject({ accounts: 1, equityUsd: 5_000, unvalued: 0 });
    expect(sum.totals.simulation.accounts).toBe(3);
    expect(sum.totals.simulation.equityUsd).toBeCloseTo(sims.reduce((x, a) => x + a.equityUsd!, 0), 1);

    await writesNothing(h, async () => void expectError(await call(h.app, 'PUT', '/accounts/live-one/starting-balance', { token: admin, json: { usd: 1000 } }), 409, 'LIVE_ACCOUNT'));
  });
});

/** Polls `f` until it gives a value (every 100 ms, for at most `ms`). */
async function until<T>(f: () => Promise<T | null>, ms = 60_000): Promise<T> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) {
    const v = await f();
    if (v !== null) return v;
  }
  throw new Error(`nothing within ${ms} ms`);
}
