import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCredentials, MissingCredentialsError } from '../../lib/accounts/credentials.ts';
import { resealLegacySecrets } from '../../lib/accounts/reseal.ts';
import { decryptSecret, SealedSecretError, sealedAad } from '../../lib/accounts/secrets.ts';
import { parseConfig } from '../../lib/config.ts';
import { withAccount } from '../../lib/db/scope.ts';
import { checkKrakenCredentials } from '../../lib/exchange/kraken-credentials.ts';
import { call, expectError, login, loginAdmin, onboard, type Admin, type ApiHarness, startApi, writesNothing } from '../helpers/api.ts';
import { sealV1 } from '../helpers/legacy-seal.ts';
import { DEFAULT_PERMISSIONS, generateKey, startKrakenEmulator, type KrakenEmulator } from '../kraken-emulator/index.ts';
import { auditOf } from './account-config-harness.ts';

/**
 * Issue 9 (hardening), Kraken keys in the embedded runtime: a key that can withdraw is refused, a
 * stored key can be revoked (a live account falls back to simulation), and the sealed key opens only
 * in its own row — with values sealed the old way (v1) re-sealed once at start-up.
 */
let h: ApiHarness & { logs: string[] };
let emu: KrakenEmulator;
let adminUser: Admin;
let admin: string;
let ids: Record<string, string>;
const TRADER = generateKey(); // Kraken's default in the emulator: query and trade, no withdrawal
const TRADER_2 = generateKey();
const WITHDRAWER = generateKey(); // also holds Withdraw Funds
const VIEWER = { email: 'keys.viewer@example.com', name: 'Keys Viewer', role: 'viewer', password: 'keys viewer password' } as const;
const creds = (k: { key: string; secret: string }) => ({ apiKey: k.key, apiSecret: k.secret });
const live = (slug: string) => ({ enabled: false, confirm: `LIVE ${slug}` });
const source = () => ({ mode: 'embedded' as const, secretsDir: '', masterKey: h.ctx.masterKey });

beforeAll(async () => {
  emu = await startKrakenEmulator({
    keys: [
      { ...TRADER, tier: 'pro', balances: { USD: 10_000 } },
      { ...TRADER_2, tier: 'pro', balances: { USD: 10_000 } },
      { ...WITHDRAWER, tier: 'pro', balances: { USD: 10_000 }, permissions: [...DEFAULT_PERMISSIONS, 'withdraw-funds'] },
    ],
  });
  h = await startApi(() => ({ checkCredentials: (c) => checkKrakenCredentials(emu.url, c), config: { ...parseConfig({ AETHER_HOME: '/nonexistent' }), KRAKEN_API_URL: emu.url } }));
  const o = await onboard(h);
  ({ token: admin, accounts: ids, admin: adminUser } = o);
}, 60_000);
afterAll(async () => {
  expect(emu?.internalErrors).toEqual([]);
  await h?.close();
  await emu?.close();
});

describe('a key that can withdraw is refused', () => {
  it('upload → 422 KEY_CAN_WITHDRAW, nothing written; the probe only asked for withdrawal methods', async () => {
    await writesNothing(h, async () => {
      const r = await call(h.app, 'POST', '/accounts/company/keys', { token: admin, json: creds(WITHDRAWER) });
      expectError(r, 422, 'KEY_CAN_WITHDRAW');
      expect((r.body as { message: string }).message).toContain('create a key without the Withdraw Funds permission');
      expect(r.text).not.toContain(WITHDRAWER.secret);
    });
    expect(emu.calls('WithdrawMethods', WITHDRAWER.key).map((c) => c.errors)).toEqual([[]]); // answered: it can withdraw
    expect(emu.requests.filter((r) => r.key === WITHDRAWER.key).map((r) => r.name)).not.toContain('Withdraw');
    expect(emu.calls('AddOrder', WITHDRAWER.key)).toEqual([]); // refused before the trading probe
    expect(emu.orders(WITHDRAWER.key)).toEqual([]);
  });

  it('a trading key passes: Kraken denies it the withdrawal methods', async () => {
    const r = await call(h.app, 'POST', '/accounts/company/keys', { token: admin, json: creds(TRADER) });
    expect(r.status, r.text).toBe(201);
    expect(emu.calls('WithdrawMethods', TRADER.key).at(-1)!.errors).toEqual(['EGeneral:Permission denied']);
  });

  it('going live re-checks: a key given Withdraw Funds since its upload → 409 KEY_CAN_WITHDRAW, still simulated', async () => {
    emu.setPermissions(TRADER.key, [...DEFAULT_PERMISSIONS, 'withdraw-funds']);
    try {
      await writesNothing(h, async () => {
        expectError(await call(h.app, 'POST', '/accounts/company/simulation', { token: admin, json: live('company') }), 409, 'KEY_CAN_WITHDRAW');
      });
    } finally {
      emu.setPermissions(TRADER.key, DEFAULT_PERMISSIONS);
    }
    const ok = await call(h.app, 'POST', '/accounts/company/simulation', { token: admin, json: live('company') });
    expect(ok.status, ok.text).toBe(200);
  });
});

describe('DELETE /accounts/{account}/keys (revoke)', () => {
  it('a viewer → 403; a session without a fresh TOTP code → 403 STEP_UP_REQUIRED; nothing written', async () => {
    expect((await call(h.app, 'POST', '/users', { token: admin, json: { ...VIEWER, accountIds: [ids.company] } })).status).toBe(201);
    const viewer = await login(h, VIEWER.email, VIEWER.password);
    h.clock.advance(6 * 60_000); // the admin's step-up window (five minutes since the login) has passed
    await writesNothing(h, async () => {
      expectError(await call(h.app, 'DELETE', '/accounts/company/keys', { token: viewer }), 403, 'FORBIDDEN');
      expectError(await call(h.app, 'DELETE', '/accounts/company/keys', { token: admin }), 403, 'STEP_UP_REQUIRED');
    });
    admin = await loginAdmin(h, adminUser);
  });

  it('revokes the live account’s key: no key material left, audited, switched back to simulation (audited too)', async () => {
    const r = await call(h.app, 'DELETE', '/accounts/company/keys', { token: admin });
    expect(r.status, r.text).toBe(200);
    expect(r.body).toMatchObject({ toSimulation: true, secret: null, revoked: { keyLast4: TRADER.key.slice(-4), active: false, storage: 'encrypted', revokedAt: new Date(h.clock.now()).toISOString() } });
    const { rows } = await h.testDb.owner.query('select active, ciphertext, revoked_by from credentials where account_id = $1', [ids.company]);
    expect(rows).toEqual([{ active: false, ciphertext: null, revoked_by: adminUser.userId }]);
    const [audit] = await auditOf(h.testDb.owner, 'keys.revoke', ids.company!);
    expect(audit).toMatchObject({ user_id: adminUser.userId, details: { last4: TRADER.key.slice(-4), storage: 'encrypted', ref: null, fingerprint: expect.stringMatching(/^[0-9a-f]{16}$/) } });
    const [sim] = await auditOf(h.testDb.owner, 'settings.simulation', ids.company!);
    expect(sim).toMatchObject({ user_id: adminUser.userId, details: { before: { enabled: false }, after: { enabled: true } } });
    const s = (await call(h.app, 'GET', '/accounts/company/settings', { token: admin })).body as { simulation: { value: { enabled: boolean } } };
    expect(s.simulation.value.enabled).toBe(true);
  });

  it('afterwards the key cannot be used: the broker finds none, going live → 409 NO_KEYS, revoking again → 409 NO_KEYS', async () => {
    await expect(withAccount(h.ctx.db, ids.company!, (tx) => loadCredentials(tx, ids.company!, source()))).rejects.toThrow(MissingCredentialsError);
    await writesNothing(h, async () => {
      expectError(await call(h.app, 'POST', '/accounts/company/simulation', { token: admin, json: live('company') }), 409, 'NO_KEYS');
      expectError(await call(h.app, 'DELETE', '/accounts/company/keys', { token: admin }), 409, 'NO_KEYS');
    });
    const keys = (await call(h.app, 'GET', '/accounts/company/keys', { token: admin })).body as { keys: Array<{ active: boolean; revokedAt: string | null }>; secret: null };
    expect(keys).toMatchObject({ keys: [{ active: false, revokedAt: expect.any(String) }], secret: null });
  });

  it('revoking in simulation leaves the simulation setting alone; every retired key’s sealed copy is gone too', async () => {
    for (const k of [TRADER, TRADER_2]) expect((await call(h.app, 'POST', '/accounts/director-1/keys', { token: admin, json: creds(k) })).status).toBe(201);
    const r = await call(h.app, 'DELETE', '/accounts/director-1/keys', { token: admin });
    expect(r.body).toMatchObject({ toSimulation: false, revoked: { keyLast4: TRADER_2.key.slice(-4) } });
    const { rows } = await h.testDb.owner.query('select count(*)::int as n from credentials where account_id = $1 and ciphertext is not null', [ids['director-1']]);
    expect(rows[0].n).toBe(0);
    expect(await auditOf(h.testDb.owner, 'settings.simulation', ids['director-1']!)).toHaveLength(1); // the seed only
  });
});

describe('sealed keys are bound to their row', () => {
  it('a sealed key copied into another account’s row does not open there', async () => {
    for (const [slug, k] of [['director-1', TRADER], ['director-2', TRADER_2]] as const) expect((await call(h.app, 'POST', `/accounts/${slug}/keys`, { token: admin, json: creds(k) })).status).toBe(201);
    const active = async (id: string) => (await h.testDb.owner.query<{ id: string; ciphertext: string }>('select id, ciphertext from credentials where account_id = $1 and active', [id])).rows[0]!;
    const d1 = await active(ids['director-1']!);
    const d2 = await active(ids['director-2']!);
    await h.testDb.owner.query('update credentials set ciphertext = $1 where id = $2', [d1.ciphertext, d2.id]);
    try {
      await expect(withAccount(h.ctx.db, ids['director-2']!, (tx) => loadCredentials(tx, ids['director-2']!, source()))).rejects.toThrow(SealedSecretError);
    } finally {
      await h.testDb.owner.query('update credentials set ciphertext = $1 where id = $2', [d2.ciphertext, d2.id]);
    }
    expect(await withAccount(h.ctx.db, ids['director-2']!, (tx) => loadCredentials(tx, ids['director-2']!, source()))).toEqual(creds(TRADER_2));
  });
});

describe('values sealed the old way (v1, no associated data) are re-sealed at start-up', () => {
  it('a v1 Kraken key and a v1 TOTP secret become v2 bound to their rows, and keep working; a second run finds nothing', async () => {
    const { rows } = await h.testDb.owner.query<{ id: string }>('select id from credentials where account_id = $1 and active', [ids['director-2']]);
    const credId = rows[0]!.id;
    await h.testDb.owner.query('update credentials set ciphertext = $1 where id = $2', [sealV1(h.ctx.masterKey, JSON.stringify(creds(TRADER_2))), credId]);
    await h.testDb.owner.query('update users set totp_secret_enc = $1 where id = $2', [sealV1(h.ctx.masterKey, adminUser.secret), adminUser.userId]);
    await expect(withAccount(h.ctx.db, ids['director-2']!, (tx) => loadCredentials(tx, ids['director-2']!, source()))).rejects.toThrow(/old format/);

    expect(await resealLegacySecrets(h.ctx.db, h.ctx.masterKey, h.ctx.logger)).toEqual({ resealed: 2, failed: 0 });
    const cred = (await h.testDb.owner.query<{ c: string }>('select ciphertext as c from credentials where id = $1', [credId])).rows[0]!.c;
    const totp = (await h.testDb.owner.query<{ t: string }>('select totp_secret_enc as t from users where id = $1', [adminUser.userId])).rows[0]!.t;
    expect([cred.slice(0, 3), totp.slice(0, 3)]).toEqual(['v2:', 'v2:']);
    expect(decryptSecret(h.ctx.masterKey, totp, sealedAad.totp(adminUser.userId))).toBe(adminUser.secret);
    expect(await withAccount(h.ctx.db, ids['director-2']!, (tx) => loadCredentials(tx, ids['director-2']!, source()))).toEqual(creds(TRADER_2));
    admin = await loginAdmin(h, adminUser); // the admin still logs in with the same authenticator

    expect(await resealLegacySecrets(h.ctx.db, h.ctx.masterKey, h.ctx.logger)).toEqual({ resealed: 0, failed: 0 });
  });

  it('a v1 value sealed under another master key is logged and left as it is (never a start-up crash)', async () => {
    const { rows } = await h.testDb.owner.query<{ id: string }>('select id from credentials where account_id = $1 and active', [ids['director-1']]);
    const foreign = sealV1(randomBytes(32), JSON.stringify(creds(TRADER)));
    await h.testDb.owner.query('update credentials set ciphertext = $1 where id = $2', [foreign, rows[0]!.id]);
    expect(await resealLegacySecrets(h.ctx.db, h.ctx.masterKey, h.ctx.logger)).toEqual({ resealed: 0, failed: 1 });
    expect((await h.testDb.owner.query('select ciphertext from credentials where id = $1', [rows[0]!.id])).rows[0].ciphertext).toBe(foreign);
    expect(h.logs.some((l) => l.includes('does not open with this master key') && l.includes(rows[0]!.id))).toBe(true);
  });
});

describe('the secrets never leave', () => {
  it('are in no log line', () => {
    for (const l of h.logs) for (const k of [TRADER, TRADER_2, WITHDRAWER]) for (const s of [k.key, k.secret]) expect(l).not.toContain(s);
  });
});
