import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STEP_UP_TTL_MS } from '../../lib/accounts/sessions.ts';
import { call, codeAt, expectError, login, loginAdmin, nextTotpStep, onboard, rowCounts, startApi, stepUp, type Admin, type ApiHarness } from '../helpers/api.ts';

/**
 * Step-up: going live, uploading or revoking a Kraken key, resetting a halt and loosening a risk
 * limit need a TOTP code from the last five minutes (the login's, or POST /auth/step-up's); a stolen
 * session token alone cannot do them. What answers after the step-up check (NO_KEYS, KEYS_REFUSED,
 * NOT_HALTED) shows the request got past it.
 */
let h: ApiHarness;
let admin: Admin;
const VIEWER = { email: 'step.viewer@example.com', name: 'Viewer', role: 'viewer', password: 'step viewer password' } as const;

beforeAll(async () => {
  h = await startApi(() => ({ checkCredentials: () => Promise.resolve({ ok: false as const, reason: 'refused by this test' }) }));
  ({ admin } = await onboard(h));
});
afterAll(async () => {
  await h?.close();
});

const KEY = { apiKey: 'A'.repeat(56), apiSecret: Buffer.alloc(64, 7).toString('base64') };
const goLive = (t: string) => call(h.app, 'POST', '/accounts/director-1/simulation', { token: t, json: { enabled: false, confirm: 'LIVE director-1' } });
const upload = (t: string) => call(h.app, 'POST', '/accounts/director-1/keys', { token: t, json: KEY });
const revoke = (t: string) => call(h.app, 'DELETE', '/accounts/director-1/keys', { token: t });
const resetHalt = (t: string) => call(h.app, 'POST', '/accounts/director-1/trading-state/reset', { token: t, json: { note: 'looked at it' } });
const patchRisk = (t: string, patch: Record<string, unknown>) => call(h.app, 'PATCH', '/accounts/director-1/settings/risk', { token: t, json: patch });
const riskVersion = async (): Promise<number> =>
  (await h.testDb.owner.query(`select max(version)::int as v from settings where kind = 'risk' and account_id = (select id from accounts where slug = 'director-1')`)).rows[0].v;

/** A session whose step-up window has closed. */
async function staleSession(): Promise<string> {
  const t = await loginAdmin(h, admin, '198.51.100.80');
  h.clock.advance(STEP_UP_TTL_MS + 1);
  return t;
}

describe('without a fresh TOTP code', () => {
  it('going live, key upload and revocation and a halt reset answer 403 STEP_UP_REQUIRED and change nothing', async () => {
    const t = await staleSession();
    const before = await rowCounts(h);
    for (const r of [await goLive(t), await upload(t), await revoke(t), await resetHalt(t)]) {
      expectError(r, 403, 'STEP_UP_REQUIRED');
      expect((r.body as { message: string }).message).toMatch(/POST \/auth\/step-up/);
    }
    expect(await rowCounts(h)).toEqual(before);
  });

  it('loosening any risk limit is refused; tightening is not; back to simulation is not', async () => {
    const t = await staleSession();
    const v = await riskVersion();
    const cases: Array<[Record<string, unknown>, string[]]> = [
      [{ riskPerTrade: 0.04 }, ['riskPerTrade']],
      [{ maxPairExposure: 0.3 }, ['maxPairExposure']],
      [{ hardDailyDrawdown: 0.08 }, ['hardDailyDrawdown']],
      [{ edgeMargin: 0 }, ['edgeMargin']],
      // Tightening one guard does not pay for loosening another.
      [{ riskPerTrade: 0.005, maxGroupExposure: 0.6 }, ['maxGroupExposure']],
    ];
    for (const [loosen, fields] of cases) {
      const r = await patchRisk(t, loosen);
      expectError(r, 403, 'STEP_UP_REQUIRED');
      for (const f of fields) expect((r.body as { message: string }).message).toContain(f);
    }
    expect(await riskVersion()).toBe(v);
    const tighter = await patchRisk(t, { riskPerTrade: 0.005, maxPairExposure: 0.2, flattenOnHalt: true });
    expect(tighter.status, tighter.text).toBe(200);
    expect(await riskVersion()).toBe(v + 1);
    expectError(await patchRisk(t, { flattenOnHalt: false }), 403, 'STEP_UP_REQUIRED');
    expect((await call(h.app, 'POST', '/accounts/director-1/simulation', { token: t, json: { enabled: true } })).status).toBe(200);
  });
});

describe('POST /auth/step-up', () => {
  it('a wrong code is refused (and counted), a right one opens the window once, and a code is never used twice', async () => {
    const t = await staleSession();
    nextTotpStep(h.clock);
    const code = codeAt(admin.secret, h.clock);
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    expectError(await call(h.app, 'POST', '/auth/step-up', { token: t, json: { totp: wrong } }), 403, 'BAD_TOTP');
    const { rows } = await h.testDb.owner.query(`select failures from login_throttle where key = $1`, [`email:${admin.email}`]);
    expect(rows[0].failures).toBe(1);
    const ok = await call(h.app, 'POST', '/auth/step-up', { token: t, json: { totp: code } });
    expect(ok.status, ok.text).toBe(200);
    expect(Date.parse((ok.body as { stepUpUntil: string }).stepUpUntil)).toBe(h.clock.now() + STEP_UP_TTL_MS);
    // The same code again — on this session or at login — is refused.
    expectError(await call(h.app, 'POST', '/auth/step-up', { token: t, json: { totp: code } }), 403, 'BAD_TOTP');
    expectError(
      await call(h.app, 'POST', '/auth/login', { json: { email: admin.email, password: admin.password, totp: code }, headers: { 'x-forwarded-for': '198.51.100.81' } }),
      401,
      'BAD_TOTP',
    );
    const audit = await h.testDb.owner.query(`select action from audit_log where action like 'auth.step_up%' order by id`);
    expect(audit.rows.map((r) => r.action)).toEqual(['auth.step_up_failed', 'auth.step_up', 'auth.step_up_failed']);
  });

  it('the window opens only for its own session, and lets every step-up action through for five minutes', async () => {
    const t = await staleSession();
    const other = await staleSession();
    await stepUp(h, t, admin);
    expectError(await goLive(other), 403, 'STEP_UP_REQUIRED');
    expectError(await goLive(t), 409, 'NO_KEYS');
    expectError(await upload(t), 422, 'KEYS_REFUSED');
    expectError(await revoke(t), 409, 'NO_KEYS');
    expectError(await resetHalt(t), 409, 'NOT_HALTED');
    const v = await riskVersion();
    expect((await patchRisk(t, { riskPerTrade: 0.02 })).status).toBe(200);
    expect(await riskVersion()).toBe(v + 1);
    h.clock.advance(STEP_UP_TTL_MS);
    expectError(await goLive(t), 403, 'STEP_UP_REQUIRED');
  });

  it('a login with a TOTP code opens the window too', async () => {
    const t = await loginAdmin(h, admin, '198.51.100.82');
    expectError(await goLive(t), 409, 'NO_KEYS');
  });

  it('viewers are refused before step-up, and a user without a second factor cannot step up', async () => {
    const r = await call(h.app, 'POST', '/users', { token: await loginAdmin(h, admin, '198.51.100.83'), json: { ...VIEWER, accountIds: [] } });
    expect(r.status, r.text).toBe(201);
    const viewer = await login(h, VIEWER.email, VIEWER.password);
    expectError(await goLive(viewer), 403, 'FORBIDDEN');
    expectError(await call(h.app, 'POST', '/auth/step-up', { token: viewer, json: { totp: '123456' } }), 403, 'TOTP_NOT_ENROLLED');
    expectError(await call(h.app, 'POST', '/auth/step-up', { token: viewer, json: { totp: 'abc' } }), 400, 'VALIDATION_FAILED');
  });
});
