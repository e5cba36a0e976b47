import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hedgeSettingsSchema, hedgeTarget } from '../../lib/hedge/index.ts';
import { recordSystemEvents } from '../../lib/system/events.ts';
import { call, expectError, login, onboard, stepUp, writesNothing, type Admin, type ApiHarness, startApi } from '../helpers/api.ts';
import { parseCsv } from '../unit/reports/rfc4180.ts';
import { auditOf } from './account-config-harness.ts';
import { seedFills, seedSnapshots } from './reports-seed.ts';

/**
 * The API speaks one language (issue 12 items 5–6) and serves what the UI needs (issue 11): accounts
 * by slug or id everywhere, ISO 8601 in and out, audit rows with slugs and emails, CSV at the pair's
 * precision, no-op changes that write nothing, the settings history, the kill switch, viewer
 * assignment and the system log.
 */
let h: ApiHarness;
let admin: string;
let adminUser: Admin;
let viewer: string;
let viewerId: string;
let ids: Record<string, string>;
const VIEWER = { email: 'consistency.viewer@example.com', name: 'Consistency Viewer', role: 'viewer', password: 'consistency viewer password' } as const;

beforeAll(async () => {
  h = await startApi();
  const o = await onboard(h);
  ({ token: admin, accounts: ids, admin: adminUser } = o);
  // A viewer assigned by slug.
  const r = await call(h.app, 'POST', '/users', { token: admin, json: { ...VIEWER, accountIds: ['company'] } });
  expect(r.status, r.text).toBe(201);
  viewerId = (r.body as { user: { id: string } }).user.id;
  viewer = await login(h, VIEWER.email, VIEWER.password);
}, 60_000);
afterAll(async () => {
  await h?.close();
});

describe('accounts by slug or id, everywhere', () => {
  it('POST /users took the slug; GET /users lists each viewer’s accounts by slug', async () => {
    const r = await call(h.app, 'GET', '/users', { token: admin });
    const users = (r.body as { users: Array<{ id: string; accounts: string[]; role: string }> }).users;
    expect(users.find((u) => u.id === viewerId)!.accounts).toEqual(['company']);
    expect(users.find((u) => u.role === 'admin')!.accounts).toEqual([]);
  });

  it('PUT /users/{id}/accounts assigns by slug and id alike; the same set again changes nothing', async () => {
    const r = await call(h.app, 'PUT', `/users/${viewerId}/accounts`, { token: admin, json: { accountIds: ['director-1', ids.company] } });
    expect(r.status, r.text).toBe(200);
    expect(r.body).toEqual({ accountIds: [ids.company, ids['director-1']].sort(), accounts: ['company', 'director-1'] });
    const seen = await call(h.app, 'GET', '/accounts', { token: viewer });
    expect((seen.body as { accounts: Array<{ slug: string }> }).accounts.map((a) => a.slug).sort()).toEqual(['company', 'director-1']);
    await writesNothing(h, async () => {
      const again = await call(h.app, 'PUT', `/users/${viewerId}/accounts`, { token: admin, json: { accountIds: ['company', 'director-1'] } });
      expect(again.status, again.text).toBe(200);
      expect(again.body).toMatchObject({ accounts: ['company', 'director-1'] });
    });
    await writesNothing(h, async () => {
      const bad = await call(h.app, 'PUT', `/users/${viewerId}/accounts`, { token: admin, json: { accountIds: ['company', 'no-such-account'] } });
      expectError(bad, 400, 'UNKNOWN_ACCOUNT');
      expect((bad.body as { message: string }).message).toContain('no-such-account');
    });
    expect((await call(h.app, 'PUT', `/users/${viewerId}/accounts`, { token: admin, json: { accountIds: ['company'] } })).status).toBe(200);
  });

  it('a viewer may not assign accounts', async () => {
    await writesNothing(h, async () => {
      expectError(await call(h.app, 'PUT', `/users/${viewerId}/accounts`, { token: viewer, json: { accountIds: ['director-2'] } }), 403, 'FORBIDDEN');
    });
  });
});

describe('GET /audit: filters by account, actor, action and time; rows name the account and the actor', () => {
  it('by slug and by id, by the actor’s email or id, by an action family, within a day', async () => {
    expect((await call(h.app, 'PATCH', '/accounts/company/settings/risk', { token: admin, json: { riskPerTrade: 0.025 } })).status).toBe(200);
    const today = new Date(h.clock.now()).toISOString().slice(0, 10);
    const q = `action=settings.&from=${today}&to=${new Date(h.clock.now() + 1000).toISOString()}`;
    const bySlug = await call(h.app, 'GET', `/audit?account=company&user=${encodeURIComponent(adminUser.email)}&${q}`, { token: admin });
    expect(bySlug.status, bySlug.text).toBe(200);
    const rows = (bySlug.body as { rows: Array<Record<string, unknown>> }).rows;
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) expect(r).toMatchObject({ accountId: ids.company, accountSlug: 'company', userId: adminUser.userId, userEmail: adminUser.email, action: expect.stringMatching(/^settings\./) });
    expect(rows[0]).toMatchObject({ action: 'settings.risk' });
    const byId = await call(h.app, 'GET', `/audit?account=${ids.company}&user=${adminUser.userId}&${q}`, { token: admin });
    expect(byId.body).toEqual(bySlug.body);
  });

  it('rows without an actor or an account say so with null', async () => {
    const r = await call(h.app, 'GET', '/audit?action=account.create&limit=5', { token: admin });
    const rows = (r.body as { rows: Array<Record<string, unknown>> }).rows;
    expect(rows.map((x) => x.accountSlug).sort()).toEqual(['company', 'director-1', 'director-2']);
    const seeded = await call(h.app, 'GET', '/audit?account=director-2&action=settings.&limit=5', { token: admin });
    for (const row of (seeded.body as { rows: Array<Record<string, unknown>> }).rows) expect(row).toMatchObject({ accountSlug: 'director-2', userEmail: adminUser.email });
  });

  it('an unknown actor is an empty page; an unknown account 404; an inverted window 400; a foreign account 403 for a viewer', async () => {
    expect((await call(h.app, 'GET', '/audit?user=nobody@example.com', { token: admin })).body).toEqual({ rows: [], nextBefore: null });
    expectError(await call(h.app, 'GET', '/audit?account=no-such-account', { token: admin }), 404, 'ACCOUNT_NOT_FOUND');
    expectError(await call(h.app, 'GET', '/audit?from=2026-01-02&to=2026-01-01', { token: admin }), 400, 'BAD_RANGE');
    expectError(await call(h.app, 'GET', '/audit?account=director-2', { token: viewer }), 403, 'FORBIDDEN');
    const own = await call(h.app, 'GET', '/audit?account=company&limit=500', { token: viewer });
    expect(new Set((own.body as { rows: Array<{ accountSlug: string }> }).rows.map((r) => r.accountSlug))).toEqual(new Set(['company']));
  });
});

describe('no change is no change: 200 with the current state, no version, no audit row', () => {
  type Change = { version: number; value: Record<string, unknown>; changed: boolean };

  it('PATCH …/settings/{kind} with {} or with the current values', async () => {
    const current = ((await call(h.app, 'GET', '/accounts/director-1/settings', { token: admin })).body as Record<string, { version: number; value: Record<string, unknown> }>).risk!;
    for (const patch of [{}, { riskPerTrade: current.value.riskPerTrade }, current.value])
      await writesNothing(h, async () => {
        const r = await call(h.app, 'PATCH', '/accounts/director-1/settings/risk', { token: admin, json: patch });
        expect(r.status, r.text).toBe(200);
        expect(r.body as Change).toEqual({ version: current.version, value: current.value, changed: false });
      });
    // A real change still adds a version.
    const r = await call(h.app, 'PATCH', '/accounts/director-1/settings/risk', { token: admin, json: { riskPerTrade: 0.02 } });
    expect(r.body).toMatchObject({ version: current.version + 1, changed: true });
  });

  it('enabling an enabled user, disabling a disabled one', async () => {
    await writesNothing(h, async () => {
      const r = await call(h.app, 'POST', `/users/${viewerId}/enable`, { token: admin });
      expect(r.status, r.text).toBe(200);
      expect(r.body).toMatchObject({ user: { id: viewerId, disabled: false } });
    });
    expect((await call(h.app, 'POST', `/users/${viewerId}/disable`, { token: admin })).status).toBe(200);
    await writesNothing(h, async () => {
      expect((await call(h.app, 'POST', `/users/${viewerId}/disable`, { token: admin })).body).toMatchObject({ user: { disabled: true } });
    });
    expect((await call(h.app, 'POST', `/users/${viewerId}/enable`, { token: admin })).status).toBe(200);
    viewer = await login(h, VIEWER.email, VIEWER.password); // disabling ended the viewer's sessions
  });

  it('PUT …/hedge with the current mode, and the simulation switch to where it is', async () => {
    await writesNothing(h, async () => {
      const r = await call(h.app, 'PUT', '/accounts/director-1/hedge', { token: admin, json: { mode: 'auto' } });
      expect(r.status, r.text).toBe(200);
      expect(r.body).toMatchObject({ version: 1, changed: false, value: { mode: 'auto' } });
    });
    await writesNothing(h, async () => {
      const r = await call(h.app, 'POST', '/accounts/director-1/simulation', { token: admin, json: { enabled: true } });
      expect(r.body).toMatchObject({ version: 1, changed: false, value: { enabled: true } });
    });
  });
});

describe('GET /accounts/{account}/settings/history', () => {
  it('every version newest first, with who wrote it and which fields changed; paged by nextBefore', async () => {
    const r = await call(h.app, 'GET', '/accounts/company/settings/history?kind=risk', { token: viewer });
    expect(r.status, r.text).toBe(200);
    const { versions } = r.body as { versions: Array<{ kind: string; version: number; createdBy: { email: string } | null; changed: string[]; createdAt: string }> };
    expect(versions.map((v) => v.version)).toEqual([2, 1]);
    expect(versions[0]).toMatchObject({ kind: 'risk', createdBy: { id: adminUser.userId, email: adminUser.email }, changed: ['riskPerTrade'] });
    expect(versions[0]!.createdAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(versions[1]!.changed).toContain('hardDailyDrawdown'); // the first version sets every field
    const all = (await call(h.app, 'GET', '/accounts/company/settings/history', { token: admin })).body as { versions: Array<{ kind: string; version: number }> };
    expect(all.versions.map((v) => `${v.kind}${v.version}`).sort()).toEqual(['hedge1', 'risk1', 'risk2', 'simulation1', 'trading1']);
    const seen: string[] = [];
    let before: string | null = null;
    do {
      const page = (await call(h.app, 'GET', `/accounts/company/settings/history?limit=2${before ? `&before=${before}` : ''}`, { token: admin })).body as { versions: Array<{ kind: string; version: number }>; nextBefore: string | null };
      seen.push(...page.versions.map((v) => `${v.kind}${v.version}`));
      before = page.nextBefore;
    } while (before);
    expect(seen).toEqual(all.versions.map((v) => `${v.kind}${v.version}`));
  });

  it('refuses a bad kind or cursor (400) and a foreign account (403)', async () => {
    expectError(await call(h.app, 'GET', '/accounts/company/settings/history?kind=secrets', { token: admin }), 400);
    expectError(await call(h.app, 'GET', '/accounts/company/settings/history?before=yesterday', { token: admin }), 400);
    expectError(await call(h.app, 'GET', '/accounts/director-2/settings/history', { token: viewer }), 403, 'FORBIDDEN');
  });
});

describe('dates are ISO 8601 in and out', () => {
  it('the hedge override answers its expiry as ISO 8601, settings show it so and take it back', async () => {
    const expiresAt = new Date(h.clock.now() + 3_600_000).toISOString();
    const r = await call(h.app, 'PUT', '/accounts/company/hedge', { token: admin, json: { mode: 'manual', ratio: 0.3, expiresAt } });
    expect(r.body).toMatchObject({ changed: true, value: { mode: 'manual', manualRatio: 0.3, manualExpiry: expiresAt } });
    const s = (await call(h.app, 'GET', '/accounts/company/settings', { token: viewer })).body as Record<string, { value: Record<string, unknown> }>;
    expect(s.hedge!.value.manualExpiry).toBe(expiresAt);
    // What GET shows, sent back, is no change; a later ISO time is one.
    await writesNothing(h, async () => {
      expect((await call(h.app, 'PATCH', '/accounts/company/settings/hedge', { token: admin, json: s.hedge!.value })).body).toMatchObject({ changed: false });
    });
    const later = new Date(h.clock.now() + 7_200_000).toISOString();
    expect((await call(h.app, 'PATCH', '/accounts/company/settings/hedge', { token: admin, json: { manualExpiry: later } })).body).toMatchObject({ changed: true, value: { manualExpiry: later } });
    expectError(await call(h.app, 'PATCH', '/accounts/company/settings/hedge', { token: admin, json: { manualExpiry: 'tomorrow' } }), 400, 'INVALID_SETTINGS');
  });

  it('the hedge reason prints its expiry as ISO 8601, not milliseconds', () => {
    const until = Date.UTC(2026, 0, 5, 12);
    const s = hedgeSettingsSchema.parse({ mode: 'manual', manualRatio: 0.4, manualExpiry: new Date(until).toISOString() });
    expect(s.manualExpiry).toBe(until);
    expect(hedgeTarget(null, { realisedVolAnnual: 0.5, drawdown: 0 }, until - 1, s).reason).toBe('manual 40.0% until 2026-01-05T12:00:00.000Z');
  });

  it('daily-pnl, equity and the other reports take a day or a time for from/to, and mean the same by both', async () => {
    await seedSnapshots(h.testDb.owner, ids['director-2']!, [
      { ts: '2026-01-03T12:00:00.000Z', equity: 1000, cash: 1000, positions: 0, hedgeRatio: 1 },
      { ts: '2026-01-04T00:00:00.000Z', equity: 1010, cash: 1010, positions: 0, hedgeRatio: 1 },
      { ts: '2026-01-05T12:00:00.000Z', equity: 1020, cash: 1020, positions: 0, hedgeRatio: 1 },
    ]);
    for (const day of ['2026-01-03', '2026-01-04', '2026-01-05'])
      await h.testDb.owner.query(
        `insert into daily_pnl (account_id, day, start_equity_usd, end_equity_usd, pnl_usd, pnl_pct, fees_usd, trades) values ($1, $2, 1000, 1000, 0, 0, 0, 0)`,
        [ids['director-2'], day],
      );
    const get = async (path: string) => {
      const r = await call(h.app, 'GET', `/accounts/director-2/${path}`, { token: admin });
      expect(r.status, r.text).toBe(200);
      return r.body;
    };
    const days = (await get('reports/daily-pnl?from=2026-01-04T18:00:00Z&to=2026-01-05T00:00:00%2B00:00')) as { days: Array<{ day: string }> };
    expect(days.days.map((d) => d.day)).toEqual(['2026-01-04', '2026-01-05']);
    expect(await get('reports/daily-pnl?from=2026-01-04&to=2026-01-05')).toEqual(days);
    const eq = (await get('reports/equity?from=2026-01-04')) as { points: Array<{ time: string }> };
    expect(eq.points.map((p) => p.time)).toEqual(['2026-01-04T00:00:00.000Z', '2026-01-05T12:00:00.000Z']);
    expect(await get('reports/equity?from=2026-01-04T00:00:00Z')).toEqual(eq);
    expect(await get('reports/risk?from=2026-01-04&to=2026-01-05')).toEqual(await get('reports/risk?from=2026-01-04T00:00:00Z&to=2026-01-05T00:00:00Z'));
    expectError(await call(h.app, 'GET', '/accounts/director-2/reports/daily-pnl?from=2026-01-05&to=2026-01-04T23:00:00Z', { token: admin }), 400, 'BAD_RANGE');
    expectError(await call(h.app, 'GET', '/accounts/director-2/reports/equity?from=2026-02-30', { token: admin }), 400);
  });
});

describe('trades.csv writes money and quantities at their precision', () => {
  it('quantity at the pair’s lot decimals, price at its price decimals, the fee at 4 and PnL at cents — never 16 decimals', async () => {
    const base = { side: 'sell', intent: 'exit', reason: null, modelVersion: null } as const;
    await seedFills(h.testDb.owner, ids['director-2']!, [
      { ...base, ts: '2026-01-04T01:00:00.000Z', clientId: 'p-btc', pair: 'BTC/USD', qty: '0.123456789', price: '42000.16', fee: '0.0260000000000000012', realizedPnl: '1.005' },
      { ...base, ts: '2026-01-04T02:00:00.000Z', clientId: 'p-ada', pair: 'ADA/USD', qty: '100.5', price: '0.4567891', fee: '0.12346', realizedPnl: '-0.004' },
      { ...base, ts: '2026-01-04T03:00:00.000Z', clientId: 'p-new', pair: 'NEW/USD', qty: '1.123456789', price: '2.123456789', fee: '0', realizedPnl: '0' },
    ]);
    const r = await call(h.app, 'GET', '/accounts/director-2/trades.csv?from=2026-01-04', { token: admin });
    const rows = parseCsv(r.text).slice(1).map((x) => x.slice(1, 7));
    expect(rows).toEqual([
      ['BTC/USD', 'sell', '0.12345679', '42000.2', '0.0260', '1.01'],
      ['ADA/USD', 'sell', '100.50000000', '0.456789', '0.1235', '0.00'], // no "-0.00"
      ['NEW/USD', 'sell', '1.12345679', '2.12345679', '0.0000', '0.00'], // a pair outside the recorded listing: Kraken's widest, 8
    ]);
  });
});

describe('POST /accounts/{account}/trading-state/halt (the kill switch)', () => {
  it('a viewer → 403 and a missing note → 400, nothing written', async () => {
    await writesNothing(h, async () => {
      expectError(await call(h.app, 'POST', '/accounts/company/trading-state/halt', { token: viewer, json: { note: 'stop it' } }), 403, 'FORBIDDEN');
      expectError(await call(h.app, 'POST', '/accounts/company/trading-state/halt', { token: admin, json: {} }), 400);
      expectError(await call(h.app, 'POST', '/accounts/company/trading-state/halt', { token: admin, json: { note: '  ' } }), 400);
    });
  });

  it('halts at once, audited with the note and the actor, a risk event; again changes nothing; the reset resumes', async () => {
    const r = await call(h.app, 'POST', '/accounts/company/trading-state/halt', { token: admin, json: { note: 'exchange incident' } });
    expect(r.status, r.text).toBe(200);
    expect(r.body).toMatchObject({ state: 'HALTED', changed: true, reason: `admin halt by ${adminUser.email}: exchange incident`, since: new Date(h.clock.now()).toISOString() });
    const { rows } = await h.testDb.owner.query('select state, reason from trading_state where account_id = $1', [ids.company]);
    expect(rows).toEqual([{ state: 'HALTED', reason: `admin halt by ${adminUser.email}: exchange incident` }]);
    const [audit] = await auditOf(h.testDb.owner, 'risk.halt', ids.company!);
    expect(audit).toMatchObject({ user_id: adminUser.userId, details: { from: null, to: 'HALTED', note: 'exchange incident' } });
    // The account's timeline is the audit filtered by account.
    const timeline = await call(h.app, 'GET', '/audit?account=company&action=risk.', { token: viewer });
    expect((timeline.body as { rows: Array<{ action: string; userEmail: string }> }).rows[0]).toMatchObject({ action: 'risk.halt', userEmail: adminUser.email });
    await writesNothing(h, async () => {
      const again = await call(h.app, 'POST', '/accounts/company/trading-state/halt', { token: admin, json: { note: 'pressed twice' } });
      expect(again.body).toMatchObject({ state: 'HALTED', changed: false, reason: `admin halt by ${adminUser.email}: exchange incident` });
    });
    await seedSnapshots(h.testDb.owner, ids.company!, [{ ts: new Date(h.clock.now()).toISOString(), equity: 10_000, cash: 10_000, positions: 0, hedgeRatio: 1 }]);
    await stepUp(h, admin, adminUser);
    const reset = await call(h.app, 'POST', '/accounts/company/trading-state/reset', { token: admin, json: { note: 'incident over' } });
    expect(reset.status, reset.text).toBe(200);
    expect(reset.body).toMatchObject({ state: 'ACTIVE' });
  });
});

describe('GET /system/events', () => {
  it('recent errors (from the log, scrubbed) and risk events; admins see all, viewers their accounts only', async () => {
    const stop = recordSystemEvents(h.ctx.db, h.ctx.logger, h.clock);
    const log = h.ctx.logger.child({ function: 'order' });
    log.error({ account: 'company', err: new Error('venue unreachable'), apiSecret: 'do-not-keep-me' }, 'order job failed');
    log.error({ account: 'director-2', outcome: 'failed' }, 'order job failed');
    h.ctx.logger.error({ queue: 'tick' }, 'worker error');
    h.ctx.logger.warn({ account: 'company' }, 'only a warning');
    await stop();

    const all = await call(h.app, 'GET', '/system/events?level=error', { token: admin });
    expect(all.status, all.text).toBe(200);
    const errors = (all.body as { events: Array<Record<string, unknown>> }).events;
    expect(errors.map((e) => [e.source, e.account, e.message])).toEqual(
      expect.arrayContaining([
        ['order', 'company', 'order job failed'],
        ['order', 'director-2', 'order job failed'],
        ['tick', null, 'worker error'],
      ]),
    );
    expect(errors).toHaveLength(3);
    expect(JSON.stringify(errors)).not.toContain('do-not-keep-me');
    expect(errors.find((e) => e.account === 'company')!.detail).toMatchObject({ err: { message: 'venue unreachable' } });

    const mine = await call(h.app, 'GET', '/system/events', { token: viewer });
    const seen = (mine.body as { events: Array<{ level: string; account: string | null; code: string | null; ts: string }> }).events;
    expect(new Set(seen.map((e) => e.account))).toEqual(new Set(['company']));
    expect(seen.map((e) => e.code)).toContain('ADMIN_HALT');
    expect(seen.map((e) => e.ts)).toEqual([...seen.map((e) => e.ts)].sort().reverse());
    const risk = await call(h.app, 'GET', '/system/events?level=risk&account=company&limit=1', { token: admin });
    expect((risk.body as { events: unknown[] }).events).toEqual([expect.objectContaining({ level: 'risk', account: 'company', code: 'ADMIN_HALT', message: expect.stringContaining('exchange incident') })]);
  });

  it('refuses a foreign account (403), an unknown one (404), a bad level (400) and no token (401)', async () => {
    expectError(await call(h.app, 'GET', '/system/events?account=director-2', { token: viewer }), 403, 'FORBIDDEN');
    expectError(await call(h.app, 'GET', '/system/events?account=no-such-account', { token: admin }), 404, 'ACCOUNT_NOT_FOUND');
    expectError(await call(h.app, 'GET', '/system/events?level=debug', { token: admin }), 400);
    expectError(await call(h.app, 'GET', '/system/events'), 401);
  });
});
