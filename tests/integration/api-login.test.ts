import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_TTL_MS, THROTTLE } from '../../lib/accounts/sessions.ts';
import { totpCode } from '../../lib/accounts/totp.ts';
import { call, codeAt, expectError, loginAdmin, nextTotpStep, onboard, startApi, type Admin, type ApiHarness } from '../helpers/api.ts';

let h: ApiHarness;
let admin: Admin;
beforeAll(async () => {
  h = await startApi();
  ({ admin } = await onboard(h));
});
afterAll(async () => {
  await h?.close();
});

const loginAs = (body: Record<string, unknown>, ip: string) => call(h.app, 'POST', '/auth/login', { json: body, headers: { 'x-forwarded-for': ip } });
const failures = async (): Promise<number> => (await h.testDb.owner.query('select count(*)::int as n from login_attempts')).rows[0].n;
/** Leaves every earlier failure outside the throttling window. */
const clearWindow = (): void => h.clock.advance(THROTTLE.windowMs + 60_000);

describe('admin login: password and TOTP', () => {
  it('asks for a TOTP code when an admin gives only the password', async () => {
    clearWindow();
    expectError(await loginAs({ email: admin.email, password: admin.password }, '203.0.113.1'), 401, 'TOTP_REQUIRED');
  });

  it('refuses a wrong TOTP code and counts the failure', async () => {
    nextTotpStep(h.clock);
    const right = codeAt(admin.secret, h.clock);
    const wrong = String((Number(right) + 1) % 1_000_000).padStart(6, '0');
    const before = await failures();
    expectError(await loginAs({ email: admin.email, password: admin.password, totp: wrong }, '203.0.113.1'), 401, 'BAD_TOTP');
    expect(await failures()).toBe(before + 1);
  });

  it('accepts the right code once, then refuses the same code (replay)', async () => {
    nextTotpStep(h.clock);
    const code = codeAt(admin.secret, h.clock);
    const ok = await loginAs({ email: admin.email, password: admin.password, totp: code }, '203.0.113.1');
    expect(ok.status, ok.text).toBe(200);
    const body = ok.body as { token: string; expiresAt: string; user: { email: string; role: string } };
    expect(body.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(body.user).toMatchObject({ email: admin.email, role: 'admin' });
    expect(Date.parse(body.expiresAt)).toBe(h.clock.now() + SESSION_TTL_MS);
    expect(ok.headers.get('set-cookie')).toMatch(/aether_session=.*HttpOnly/i);
    h.clock.advance(5_000); // same 30 s step: the code is still current
    expectError(await loginAs({ email: admin.email, password: admin.password, totp: code }, '203.0.113.1'), 401, 'BAD_TOTP');
  });

  it('tolerates one step of clock drift, not two', async () => {
    clearWindow();
    nextTotpStep(h.clock);
    const nowS = Math.floor(h.clock.now() / 1000);
    const login = (offsetS: number) =>
      loginAs({ email: admin.email, password: admin.password, totp: totpCode(admin.secret, nowS + offsetS) }, '203.0.113.5');
    expectError(await login(-60), 401, 'BAD_TOTP');
    expectError(await login(+60), 401, 'BAD_TOTP');
    expect((await login(-30)).status).toBe(200);
  });

  it('accepts a code only once even when two logins race with it', async () => {
    clearWindow();
    nextTotpStep(h.clock);
    const code = codeAt(admin.secret, h.clock);
    const replies = await Promise.all(
      ['203.0.113.10', '203.0.113.11'].map((ip) => loginAs({ email: admin.email, password: admin.password, totp: code }, ip)),
    );
    expect(replies.map((r) => r.status).sort()).toEqual([200, 401]);
  });

  it('refuses a wrong password with BAD_CREDENTIALS, and an unknown email the same way', async () => {
    clearWindow();
    nextTotpStep(h.clock);
    const totp = codeAt(admin.secret, h.clock);
    expectError(await loginAs({ email: admin.email, password: 'not the password at all', totp }, '203.0.113.2'), 401, 'BAD_CREDENTIALS');
    expectError(await loginAs({ email: 'nobody@example.com', password: admin.password }, '203.0.113.2'), 401, 'BAD_CREDENTIALS');
  });

  it('refuses a disabled user even with the right password and code', async () => {
    clearWindow();
    await h.testDb.owner.query('update users set disabled_at = now() where email = $1', [admin.email]);
    try {
      nextTotpStep(h.clock);
      expectError(
        await loginAs({ email: admin.email, password: admin.password, totp: codeAt(admin.secret, h.clock) }, '203.0.113.3'),
        401,
        'BAD_CREDENTIALS',
      );
    } finally {
      await h.testDb.owner.query('update users set disabled_at = null where email = $1', [admin.email]);
    }
  });
});

describe('login throttling: 5 failures per 15 minutes, per email or per address', () => {
  it('throttles an email after 5 failures (from any addresses), even with the right password, until the window passes', async () => {
    clearWindow();
    for (let i = 0; i < THROTTLE.maxFailures - 1; i++)
      expectError(await loginAs({ email: admin.email, password: `wrong password ${i}` }, `192.0.2.${i + 1}`), 401, 'BAD_CREDENTIALS');
    // Four failures: not throttled yet.
    await loginAdmin(h, admin, '192.0.2.50');
    expectError(await loginAs({ email: admin.email, password: 'wrong password 4' }, '192.0.2.60'), 401, 'BAD_CREDENTIALS');
    nextTotpStep(h.clock);
    const right = { email: admin.email, password: admin.password, totp: codeAt(admin.secret, h.clock) };
    const before = await failures();
    expectError(await loginAs(right, '192.0.2.70'), 429, 'THROTTLED');
    // Email matching ignores case.
    expectError(await loginAs({ ...right, email: admin.email.toUpperCase() }, '192.0.2.71'), 429, 'THROTTLED');
    expect(await failures()).toBe(before);
    h.clock.advance(16 * 60_000);
    await loginAdmin(h, admin, '192.0.2.70');
  });

  it('throttles an address after 5 failures on any emails, and only that address', async () => {
    clearWindow();
    for (let i = 0; i < THROTTLE.maxFailures; i++)
      expectError(await loginAs({ email: `stranger${i}@example.com`, password: 'guessing a password' }, '192.0.2.200'), 401, 'BAD_CREDENTIALS');
    nextTotpStep(h.clock);
    expectError(await loginAs({ email: admin.email, password: admin.password, totp: codeAt(admin.secret, h.clock) }, '192.0.2.200'), 429, 'THROTTLED');
    await loginAdmin(h, admin, '192.0.2.201');
  });
});

describe('sessions', () => {
  it('stores the session token only as its hash', async () => {
    clearWindow();
    const token = await loginAdmin(h, admin, '198.51.100.20');
    const { rows } = await h.testDb.owner.query<{ raw: number; hashed: number }>(
      `select count(*) filter (where row_to_json(s)::text like '%' || $1 || '%')::int as raw,
              count(*) filter (where token_hash = $2)::int as hashed
         from sessions s`,
      [token, createHash('sha256').update(token).digest('hex')],
    );
    expect(rows[0]).toEqual({ raw: 0, hashed: 1 });
    // Nor does the audit trail carry it.
    const audit = await h.testDb.owner.query(`select count(*)::int as n from audit_log where details::text like '%' || $1 || '%'`, [token]);
    expect(audit.rows[0].n).toBe(0);
  });

  it('logout revokes the session', async () => {
    const token = await loginAdmin(h, admin, '198.51.100.21');
    const me = await call(h.app, 'GET', '/me', { token });
    expect(me.status, me.text).toBe(200);
    expect((me.body as { user: { email: string } }).user.email).toBe(admin.email);
    const out = await call(h.app, 'POST', '/auth/logout', { token });
    expect(out.status, out.text).toBe(200);
    expectError(await call(h.app, 'GET', '/me', { token }), 401, 'UNAUTHENTICATED');
    expectError(await call(h.app, 'POST', '/auth/logout', { token }), 401, 'UNAUTHENTICATED');
    const actions = (await h.testDb.owner.query('select action from audit_log order by id desc limit 1')).rows[0].action;
    expect(actions).toBe('auth.logout');
  });

  it('the session cookie authenticates like the bearer token', async () => {
    const token = await loginAdmin(h, admin, '198.51.100.22');
    const me = await call(h.app, 'GET', '/me', { headers: { cookie: `aether_session=${token}` } });
    expect(me.status, me.text).toBe(200);
    expectError(await call(h.app, 'GET', '/me', { headers: { cookie: `aether_session=${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}` } }), 401);
  });

  it('disabling a user ends their live sessions', async () => {
    const token = await loginAdmin(h, admin, '198.51.100.24');
    expect((await call(h.app, 'GET', '/me', { token })).status).toBe(200);
    await h.testDb.owner.query('update users set disabled_at = now() where email = $1', [admin.email]);
    try {
      expectError(await call(h.app, 'GET', '/me', { token }), 401, 'UNAUTHENTICATED');
    } finally {
      await h.testDb.owner.query('update users set disabled_at = null where email = $1', [admin.email]);
    }
    expect((await call(h.app, 'GET', '/me', { token })).status).toBe(200);
  });

  it('a session expires after 12 hours', async () => {
    const token = await loginAdmin(h, admin, '198.51.100.23');
    h.clock.advance(SESSION_TTL_MS - 60_000);
    expect((await call(h.app, 'GET', '/me', { token })).status).toBe(200);
    h.clock.advance(3600_000 + 60_000); // 13 h after login
    expectError(await call(h.app, 'GET', '/me', { token }), 401, 'UNAUTHENTICATED');
  });
});
