import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config.ts';
import { decryptSecret, sealedAad } from '../../lib/accounts/secrets.ts';
import { checkKrakenCredentials } from '../../lib/exchange/kraken-credentials.ts';
import { call, expectError, login, loginAdmin, onboard, type Admin, type ApiHarness, startApi, writesNothing } from '../helpers/api.ts';
import { generateKey, startKrakenEmulator, type KrakenEmulator } from '../kraken-emulator/index.ts';
import { auditOf, everyRowAsText } from './account-config-harness.ts';

/**
 * The account-configuration routes (issue 4, items 5–6) in the embedded runtime: settings, the
 * simulation switch, Kraken key upload (validated against the Kraken emulator through ccxt, stored
 * AES-256-GCM encrypted) and the hedge override.
 */
let h: ApiHarness & { logs: string[] };
let emu: KrakenEmulator;
let admin: string;
let viewer: string;
let ids: Record<string, string>;
let adminId: string;
let adminUser: Admin;
const GOOD = generateKey();
const GOOD_2 = generateKey();
const REVOKED = generateKey(); // known to Kraken, later refused
const UNKNOWN = generateKey(); // never known to Kraken
const VIEWER = { email: 'config.viewer@example.com', name: 'Config Viewer', role: 'viewer', password: 'config viewer password' } as const;
const creds = (k: { key: string; secret: string }) => ({ apiKey: k.key, apiSecret: k.secret });

beforeAll(async () => {
  emu = await startKrakenEmulator({ keys: [GOOD, GOOD_2, REVOKED].map((k) => ({ ...k, tier: 'pro' as const, balances: { USD: 10_000 } })) });
  h = await startApi(() => ({
    checkCredentials: (c) => checkKrakenCredentials(emu.url, c),
    config: { ...parseConfig({ AETHER_HOME: '/nonexistent' }), KRAKEN_API_URL: emu.url }, // the settings API reads Kraken's pair listing here
  }));
  const o = await onboard(h);
  ({ token: admin, accounts: ids } = o);
  adminId = o.admin.userId;
  adminUser = o.admin;
  const r = await call(h.app, 'POST', '/users', { token: admin, json: { ...VIEWER, accountIds: [ids.company, ids['director-1']] } });
  expect(r.status, r.text).toBe(201);
  viewer = await login(h, VIEWER.email, VIEWER.password);
}, 60_000);
afterAll(async () => {
  await h?.close();
  await emu?.close();
});

type Versioned = { version: number; value: Record<string, unknown> };

describe('GET /accounts/{account}/settings', () => {
  it('a viewer reads every kind at version 1, simulation on by default', async () => {
    const r = await call(h.app, 'GET', '/accounts/company/settings', { token: viewer });
    expect(r.status, r.text).toBe(200);
    const s = r.body as Record<string, Versioned>;
    expect(Object.keys(s).sort()).toEqual(['hedge', 'risk', 'simulation', 'trading']);
    for (const k of Object.values(s)) expect(k.version).toBe(1);
    expect(s.simulation!.value).toMatchObject({ enabled: true });
    expect(s.risk!.value).toMatchObject({ riskPerTrade: 0.03, softDailyDrawdown: 0.03, hardDailyDrawdown: 0.05 });
    expect(s.hedge!.value).toMatchObject({ mode: 'auto', manualRatio: null });
  });

  it('a user without access to the account → 403; unauthenticated → 401', async () => {
    expectError(await call(h.app, 'GET', '/accounts/director-2/settings', { token: viewer }), 403, 'FORBIDDEN');
    expectError(await call(h.app, 'GET', '/accounts/company/settings'), 401, 'UNAUTHENTICATED');
  });
});

describe('PATCH /accounts/{account}/settings/{kind}', () => {
  it('merges the change, adds a version and audits before/after', async () => {
    const r = await call(h.app, 'PATCH', '/accounts/company/settings/risk', { token: admin, json: { riskPerTrade: 0.02, flattenOnHalt: true } });
    expect(r.status, r.text).toBe(200);
    const v = r.body as Versioned;
    expect(v.version).toBe(2);
    expect(v.value).toMatchObject({ riskPerTrade: 0.02, flattenOnHalt: true, hardDailyDrawdown: 0.05, maxPairExposure: 0.25 });
    const [audit] = await auditOf(h.testDb.owner, 'settings.risk', ids.company!);
    expect(audit!.user_id).toBe(adminId);
    expect(audit!.details).toMatchObject({ version: 2, before: { riskPerTrade: 0.03, flattenOnHalt: false }, after: { riskPerTrade: 0.02, flattenOnHalt: true } });
    expect(r.body).toMatchObject({ changed: true });
    const s = (await call(h.app, 'GET', '/accounts/company/settings', { token: viewer })).body as Record<string, Versioned>;
    expect(s.risk).toEqual({ version: v.version, value: v.value });
    // Another account is untouched.
    const d = (await call(h.app, 'GET', '/accounts/director-1/settings', { token: admin })).body as Record<string, Versioned>;
    expect(d.risk).toMatchObject({ version: 1, value: { riskPerTrade: 0.03 } });
  });

  it('a second change builds on the first', async () => {
    const r = await call(h.app, 'PATCH', '/accounts/company/settings/risk', { token: admin, json: { softDailyDrawdown: 0.02 } });
    expect(r.body).toMatchObject({ version: 3, value: { riskPerTrade: 0.02, softDailyDrawdown: 0.02 } });
  });

  it.each([
    ['risk', { riskPerTrade: 0.5 }, 'riskPerTrade'],
    ['risk', { riskPerTrade: -1 }, 'riskPerTrade'],
    ['risk', { softDailyDrawdown: 0.1 }, 'hardDailyDrawdown'], // soft above hard
    ['risk', { riskPerTrade: 'lots' }, 'riskPerTrade'],
    ['hedge', { base: 0.9 }, 'base'], // above max 0.8
    ['hedge', { mode: 'manual' }, 'manualRatio'],
    ['trading', { zzUnknownField: 1 }, 'zzUnknownField'],
    ['risk', { zzUnknownField: 1 }, 'zzUnknownField'],
  ])('%s %j → 400 naming %s, nothing written', async (kind, patch, field) => {
    await writesNothing(h, async () => {
      const r = await call(h.app, 'PATCH', `/accounts/company/settings/${kind}`, { token: admin, json: patch });
      expectError(r, 400, 'INVALID_SETTINGS');
      expect((r.body as { message: string }).message).toContain(field);
    });
  });

  it('simulation is not patchable (its own confirmed route) → 400', async () => {
    await writesNothing(h, async () => {
      expectError(await call(h.app, 'PATCH', '/accounts/company/settings/simulation', { token: admin, json: { enabled: false } }), 400);
    });
  });

  it('a viewer → 403, nothing written', async () => {
    await writesNothing(h, async () => {
      expectError(await call(h.app, 'PATCH', '/accounts/company/settings/risk', { token: viewer, json: { riskPerTrade: 0.02 } }), 403, 'FORBIDDEN');
    });
  });
});

describe('PATCH …/settings/trading: pairs must be USD spot pairs Kraken lists', () => {
  const patchPairs = (pairs: unknown, slug = 'director-1') => call(h.app, 'PATCH', `/accounts/${slug}/settings/trading`, { token: admin, json: { pairs } });
  let listingCalls = 0;

  it.each([
    [['BTC/USD', 'FOO/USD'], ['FOO/USD (Kraken does not list it as a USD spot pair)']],
    [['DOGE/USD'], ['DOGE/USD (Kraken does not list it as a USD spot pair)']], // a real Kraken pair this exchange does not list
    [['LTC/USD', 'ETH/USD', 'NOPE/USD'], ['LTC/USD (Kraken lists it as cancel_only: it takes no new positions)', 'NOPE/USD (Kraken does not list it as a USD spot pair)']],
  ])('%j → 422 naming the pair, nothing written', async (pairs, named) => {
    await writesNothing(h, async () => {
      const r = await patchPairs(pairs);
      expectError(r, 422, 'NOT_SPOT_USD');
      for (const n of named) expect((r.body as { message: string }).message).toContain(n);
    });
  });

  it('listed pairs are accepted; Kraken’s listing is read once and cached (wall time)', async () => {
    const r = await patchPairs(['BTC/USD', 'ADA/USD', 'USDC/USD']);
    expect(r.status, r.text).toBe(200);
    expect(r.body).toMatchObject({ version: 2, value: { pairs: ['BTC/USD', 'ADA/USD', 'USDC/USD'] } });
    listingCalls = emu.calls('AssetPairs').length;
    expect(listingCalls).toBe(1); // the four requests above shared one AssetPairs call
  });

  it('a change that sends no pairs, or malformed ones, never asks Kraken', async () => {
    const r = await call(h.app, 'PATCH', '/accounts/director-1/settings/trading', { token: admin, json: { entryThreshold: 0.65 } });
    expect(r.status, r.text).toBe(200);
    await writesNothing(h, async () => {
      const bad = await patchPairs(['btc/usd']);
      expectError(bad, 400, 'INVALID_SETTINGS');
      expect((bad.body as { message: string }).message).toContain('pairs');
    });
    expect(emu.calls('AssetPairs').length).toBe(listingCalls);
  });

  it('Kraken unreachable once the cache is stale → 503 naming the dependency, nothing written (no fallback list)', async () => {
    h.clock.advance(3_600_000);
    emu.faults.add({ method: 'AssetPairs', kind: 'http', status: 503, count: 1 });
    await writesNothing(h, async () => {
      const r = await patchPairs(['BTC/USD']);
      expectError(r, 503, 'MARKETS_UNAVAILABLE');
      expect((r.body as { message: string }).message).toMatch(/AssetPairs at http:\/\/127\.0\.0\.1:\d+\) could not be read/);
    });
    expect((await patchPairs(['BTC/USD'])).status).toBe(200); // answered again: asked again, not cached as failed
  });
});

describe('trading.baseline is gone (scoring computes one baseline signal per pair for all accounts)', () => {
  it('a change that sends baseline settings → 400 naming the key, nothing written', async () => {
    await writesNothing(h, async () => {
      const r = await call(h.app, 'PATCH', '/accounts/director-2/settings/trading', { token: admin, json: { baseline: { fastPeriod: 10 } } });
      expectError(r, 400, 'INVALID_SETTINGS');
      expect((r.body as { message: string }).message).toContain('baseline');
    });
  });

  it('migration 0007 strips the key from stored rows so they parse again, and changes nothing else', async () => {
    const journal = JSON.parse(readFileSync(new URL('../../schema/migrations/meta/_journal.json', import.meta.url), 'utf8')) as { entries: Array<{ tag: string }> };
    expect(journal.entries.map((e) => e.tag)).toContain('0007_strip_trading_baseline');
    const id = ids['director-2']!;
    const all = async () => (await h.testDb.owner.query(`select account_id, kind, version, value::text as v from settings order by 1, 2, 3`)).rows;
    const { rows } = await h.testDb.owner.query(`select value from settings where account_id = $1 and kind = 'trading' order by version desc limit 1`, [id]);
    const current = rows[0].value as Record<string, unknown>;
    const before = await all();
    // A row as the old code wrote it: with per-account baseline parameters.
    const old = { ...current, baseline: { fastPeriod: 12, slowPeriod: 48, trendPeriod: 200, atrPeriod: 14, volWindow: 48, maxAtrPct: 0.05, gain: 1.5, lookback: 320 } };
    await h.testDb.owner.query(`insert into settings (account_id, kind, version, value) values ($1, 'trading', 99, $2)`, [id, old]);
    expect((await call(h.app, 'GET', '/accounts/director-2/settings', { token: admin })).status).toBe(500); // it no longer parses

    for (const stmt of readFileSync(new URL('../../schema/migrations/0007_strip_trading_baseline.sql', import.meta.url), 'utf8').split('--> statement-breakpoint')) {
      await h.testDb.owner.query(stmt);
    }
    const r = await call(h.app, 'GET', '/accounts/director-2/settings', { token: admin });
    expect(r.status, r.text).toBe(200);
    expect((r.body as Record<string, Versioned>).trading).toEqual({ version: 99, value: current });
    const after = (await all()).filter((x) => !(x.account_id === id && x.kind === 'trading' && x.version === 99));
    expect(after).toEqual(before);
  });
});

/** Key changes and going live need step-up: a fresh login (with TOTP) opens its five minutes. */
const stepUp = async () => {
  admin = await loginAdmin(h, adminUser);
};

describe('POST /accounts/{account}/keys (embedded: encrypted at rest)', () => {
  beforeAll(stepUp);

  it('keys Kraken refuses → 422, nothing written', async () => {
    await writesNothing(h, async () => {
      expectError(await call(h.app, 'POST', '/accounts/company/keys', { token: admin, json: creds(UNKNOWN) }), 422, 'KEYS_REFUSED');
    });
  });

  it('a viewer → 403, and Kraken is not even asked', async () => {
    const calls = emu.privateCalls(GOOD.key);
    await writesNothing(h, async () => {
      expectError(await call(h.app, 'POST', '/accounts/company/keys', { token: viewer, json: creds(GOOD) }), 403, 'FORBIDDEN');
    });
    expect(emu.privateCalls(GOOD.key)).toBe(calls);
  });

  it.each([
    [{ apiKey: 'short', apiSecret: GOOD.secret }],
    [{ apiKey: GOOD.key, apiSecret: 'not base64 !' }],
    [{ apiKey: GOOD.key }],
  ])('malformed %j → 400 before Kraken is asked', async (body) => {
    await writesNothing(h, async () => {
      const r = await call(h.app, 'POST', '/accounts/company/keys', { token: admin, json: body });
      expectError(r, 400, 'VALIDATION_FAILED');
      expect(r.text).not.toContain(GOOD.secret);
    });
  });

  it('good keys: checked against Kraken, stored encrypted, summarised by fingerprint and last four, audited', async () => {
    const balanceCalls = emu.calls('BalanceEx', GOOD.key).length;
    const r = await call(h.app, 'POST', '/accounts/company/keys', { token: admin, json: creds(GOOD) });
    expect(r.status, r.text).toBe(201);
    expect(emu.calls('BalanceEx', GOOD.key).length).toBe(balanceCalls + 1);
    expect(emu.orders(GOOD.key)).toEqual([]); // the validate=true probe placed nothing
    expect(r.body).toMatchObject({ storage: 'encrypted', active: true, revokedAt: null, secret: null, keyLast4: GOOD.key.slice(-4), fingerprint: expect.stringMatching(/^[0-9a-f]{16}$/) });
    expect(emu.calls('WithdrawMethods', GOOD.key).at(-1)!.errors).toEqual(['EGeneral:Permission denied']); // probed: it cannot withdraw
    const { rows } = await h.testDb.owner.query('select * from credentials where account_id = $1', [ids.company]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ storage: 'encrypted', ref: null, active: true });
    expect(JSON.parse(decryptSecret(h.ctx.masterKey, rows[0].ciphertext as string, sealedAad.credentials(ids.company!, rows[0].id as string)))).toEqual(creds(GOOD));
    const [audit] = await auditOf(h.testDb.owner, 'keys.upload', ids.company!);
    expect(audit!.details).toEqual({ fingerprint: (r.body as { fingerprint: string }).fingerprint, last4: GOOD.key.slice(-4), storage: 'encrypted', ref: null });
  });

  it('a new upload retires the previous key and wipes its sealed copy', async () => {
    expect((await call(h.app, 'POST', '/accounts/company/keys', { token: admin, json: creds(GOOD_2) })).status).toBe(201);
    const { rows } = await h.testDb.owner.query('select key_last4, active, ciphertext is not null as sealed from credentials where account_id = $1 order by created_at', [ids.company]);
    expect(rows).toEqual([
      { key_last4: GOOD.key.slice(-4), active: false, sealed: false },
      { key_last4: GOOD_2.key.slice(-4), active: true, sealed: true },
    ]);
    const r = await call(h.app, 'GET', '/accounts/company/keys', { token: viewer });
    expect(r.status).toBe(200);
    const keys = (r.body as { keys: Array<{ keyLast4: string; active: boolean }> }).keys;
    expect(keys.map((k) => [k.keyLast4, k.active])).toEqual([
      [GOOD_2.key.slice(-4), true],
      [GOOD.key.slice(-4), false],
    ]);
    // Back to the first key, so the simulation tests below trade with it.
    expect((await call(h.app, 'POST', '/accounts/company/keys', { token: admin, json: creds(GOOD) })).status).toBe(201);
  });
});

describe('POST /accounts/{account}/simulation', () => {
  beforeAll(stepUp);

  const live = (slug: string) => ({ enabled: false, confirm: `LIVE ${slug}` });

  it('going live without stored keys → 409, still simulated', async () => {
    await writesNothing(h, async () => {
      expectError(await call(h.app, 'POST', '/accounts/director-1/simulation', { token: admin, json: live('director-1') }), 409, 'NO_KEYS');
    });
  });

  it.each([[{ enabled: false }], [{ enabled: false, confirm: 'LIVE company' }], [{ enabled: false, confirm: 'live director-1' }]])(
    'going live without the confirmation %j → 400',
    async (json) => {
      await writesNothing(h, async () => {
        expectError(await call(h.app, 'POST', '/accounts/director-1/simulation', { token: admin, json }), 400, 'CONFIRMATION_REQUIRED');
      });
    },
  );

  it('a viewer → 403', async () => {
    await writesNothing(h, async () => {
      expectError(await call(h.app, 'POST', '/accounts/company/simulation', { token: viewer, json: live('company') }), 403, 'FORBIDDEN');
    });
  });

  it('stored keys that Kraken now refuses → 409, still simulated', async () => {
    expect((await call(h.app, 'POST', '/accounts/director-1/keys', { token: admin, json: creds(REVOKED) })).status).toBe(201);
    emu.faults.add({ method: 'BalanceEx', key: REVOKED.key, kind: 'error', error: 'EAPI:Invalid key', count: 1 });
    await writesNothing(h, async () => {
      const r = await call(h.app, 'POST', '/accounts/director-1/simulation', { token: admin, json: live('director-1') });
      expectError(r, 409, 'KEYS_REFUSED');
      expect(r.text).not.toContain(REVOKED.secret);
    });
    const s = (await call(h.app, 'GET', '/accounts/director-1/settings', { token: admin })).body as Record<string, Versioned>;
    expect(s.simulation).toMatchObject({ version: 1, value: { enabled: true } });
  });

  it('good keys and the confirmation → 200 live, audited; back to simulation needs no confirmation', async () => {
    const r = await call(h.app, 'POST', '/accounts/company/simulation', { token: admin, json: live('company') });
    expect(r.status, r.text).toBe(200);
    expect(r.body).toMatchObject({ version: 2, value: { enabled: false } });
    const [audit] = await auditOf(h.testDb.owner, 'settings.simulation', ids.company!);
    expect(audit).toMatchObject({ user_id: adminId, details: { version: 2, before: { enabled: true }, after: { enabled: false } } });
    const back = await call(h.app, 'POST', '/accounts/company/simulation', { token: admin, json: { enabled: true } });
    expect(back.body).toMatchObject({ version: 3, value: { enabled: true } });
  });
});

describe('PUT /accounts/{account}/hedge', () => {
  it('a manual ratio with an expiry updates the hedge settings, audited twice (settings and override)', async () => {
    const expiresAt = new Date(h.clock.now() + 6 * 3_600_000).toISOString();
    const r = await call(h.app, 'PUT', '/accounts/company/hedge', { token: admin, json: { mode: 'manual', ratio: 0.35, expiresAt } });
    expect(r.status, r.text).toBe(200);
    const v = r.body as Versioned;
    expect(v.value).toMatchObject({ mode: 'manual', manualRatio: 0.35, manualExpiry: expiresAt, base: 0.1 }); // ISO in, ISO out
    const [settingsAudit] = await auditOf(h.testDb.owner, 'settings.hedge', ids.company!);
    expect(settingsAudit!.details).toMatchObject({ before: { mode: 'auto', manualRatio: null }, after: { mode: 'manual', manualRatio: 0.35 } });
    const [override] = await auditOf(h.testDb.owner, 'hedge.override', ids.company!);
    expect(override).toMatchObject({ user_id: adminId, details: { mode: 'manual', ratio: 0.35, expiresAt } });
  });

  it('back to auto keeps the bounds', async () => {
    const r = await call(h.app, 'PUT', '/accounts/company/hedge', { token: admin, json: { mode: 'auto' } });
    expect((r.body as Versioned).value).toMatchObject({ mode: 'auto', base: 0.1, max: 0.8 });
  });

  it.each([
    [{ mode: 'manual', ratio: 0.3, expiresAt: '2026-01-01T00:00:00Z' }, 'EXPIRY_IN_PAST'],
    [{ mode: 'manual', ratio: 1.5 }, 'VALIDATION_FAILED'],
    [{ mode: 'manual' }, 'VALIDATION_FAILED'],
    [{ mode: 'auto', ratio: 0.2 }, 'VALIDATION_FAILED'],
  ])('%j → 400 %s, nothing written', async (json, code) => {
    await writesNothing(h, async () => {
      expectError(await call(h.app, 'PUT', '/accounts/company/hedge', { token: admin, json }), 400, code);
    });
  });

  it('an expiry equal to now is already past → 400', async () => {
    await writesNothing(h, async () => {
      const expiresAt = new Date(h.clock.now()).toISOString();
      expectError(await call(h.app, 'PUT', '/accounts/company/hedge', { token: admin, json: { mode: 'manual', ratio: 0.3, expiresAt } }), 400, 'EXPIRY_IN_PAST');
    });
  });

  it('a viewer → 403', async () => {
    await writesNothing(h, async () => {
      expectError(await call(h.app, 'PUT', '/accounts/company/hedge', { token: viewer, json: { mode: 'manual', ratio: 0.3 } }), 403, 'FORBIDDEN');
    });
  });
});

describe('the secret never leaves', () => {
  const SECRETS = [GOOD, GOOD_2, REVOKED, UNKNOWN].flatMap((k) => [k.key, k.secret]);

  it('is never returned by any route', async () => {
    for (const path of ['/accounts/company/keys', '/accounts/company/settings', '/accounts/director-1/keys', '/audit?limit=500', '/accounts/company']) {
      const r = await call(h.app, 'GET', path, { token: admin });
      expect(r.status, path).toBe(200);
      for (const s of SECRETS) expect(r.text, path).not.toContain(s);
    }
  });

  it('is never logged (every line at level debug)', () => {
    expect(h.logs.length).toBeGreaterThan(20); // the capture works: every request logs a line
    expect(h.logs.some((l) => l.includes('"route":"/accounts/:account/keys"'))).toBe(true);
    for (const line of h.logs) for (const s of SECRETS) expect(line).not.toContain(s);
  });

  it('is never stored in plaintext in any column of any table', async () => {
    const rows = await everyRowAsText(h.testDb.owner);
    expect(rows.some((r) => r.table === 'public.credentials')).toBe(true);
    const leaks = rows.filter((r) => SECRETS.some((s) => r.row.includes(s)));
    expect(leaks).toEqual([]);
  });
});
