import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKOFF, backoffMs } from '../../lib/accounts/login-throttle.ts';
import { SESSION_TTL_MS } from '../../lib/accounts/sessions.ts';
import { totpCode } from '../../lib/accounts/totp.ts';
import { parseConfig } from '../../lib/config.ts';
import { createApp } from '../../functions/api/handler.ts';
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
/** Failures counted against the admin's email. */
const failures = async (): Promise<number> =>
  (await h.testDb.owner.query(`select coalesce(sum(failures), 0)::int as n from login_throttle where key = $1`, [`email:${admin.email}`])).rows[0].n;
/** Leaves every earlier failure behind: a quiet spell longer than the backoff forgets them. */
const clearWindow = (): void => h.clock.advance(BACKOFF.forgetAfterMs + 60_000);
/** The right password and the current code (unused: call after clearWindow, or move to a fresh step first). */
const right = (ip: string) => loginAs({ email: admin.email, password: admin.password, totp: codeAt(admin.secret, h.clock) }, ip);

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

describe('login throttling: exponential backoff per email and per address', () => {
  it('the backoff: free failures, then doubling up to the cap of each kind', () => {
    expect([1, 2, 3].map((n) => backoffMs(n, 'email'))).toEqual([0, 0, 0]);
    expect([4, 5, 6, 7].map((n) => backoffMs(n, 'email'))).toEqual([1_000, 2_000, 4_000, 8_000]);
    expect(backoffMs(40, 'email')).toBe(BACKOFF.capMs.email);
    expect(backoffMs(40, 'ip')).toBe(BACKOFF.capMs.ip);
    expect(BACKOFF.capMs.email).toBeLessThanOrEqual(60_000);
  });

  it('an attacker hammering an email cannot keep the right password out for longer than the current backoff', async () => {
    clearWindow();
    // The attacker fails often enough, from many addresses, waiting out each backoff, to reach the email's longest wait.
    let n = 0;
    for (;;) {
      expectError(await loginAs({ email: admin.email, password: `guess ${n}` }, `192.0.2.${n + 1}`), 401, 'BAD_CREDENTIALS');
      n++;
      if (backoffMs(n, 'email') >= BACKOFF.capMs.email) break;
      h.clock.advance(backoffMs(n, 'email'));
    }
    expect(await failures()).toBe(n);
    // During the wait every attempt is refused unseen — the right password too — with Retry-After, and none counts or extends it.
    for (let i = 0; i < 5; i++) {
      const r = await loginAs({ email: admin.email, password: `more guessing ${i}` }, '192.0.2.250');
      expectError(r, 429, 'THROTTLED');
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(Number(r.headers.get('retry-after'))).toBeLessThanOrEqual(BACKOFF.capMs.email / 1000);
      h.clock.advance(2_000);
    }
    const blocked = await right('203.0.113.40');
    expectError(blocked, 429, 'THROTTLED');
    expect(await failures()).toBe(n);
    // As soon as the wait (measured from the last counted failure) has passed, the director gets in.
    const { rows } = await h.testDb.owner.query<{ until: Date }>(`select blocked_until as until from login_throttle where key = $1`, [`email:${admin.email}`]);
    h.clock.advance(rows[0]!.until.getTime() - h.clock.now() + 1);
    const ok = await right('203.0.113.40');
    expect(ok.status, ok.text).toBe(200);
    // …and the success clears the email's failures.
    expect(await failures()).toBe(0);
  });

  it('email matching ignores case', async () => {
    clearWindow();
    for (let i = 0; i <= BACKOFF.freeFailures; i++)
      expectError(await loginAs({ email: i % 2 ? admin.email.toUpperCase() : admin.email, password: `wrong ${i}` }, `192.0.2.${i + 1}`), 401, 'BAD_CREDENTIALS');
    expectError(await loginAs({ email: admin.email.toUpperCase(), password: admin.password }, '192.0.2.99'), 429, 'THROTTLED');
  });

  it('throttles an address that fails on many emails, and only that address', async () => {
    clearWindow();
    for (let i = 0; i <= BACKOFF.freeFailures; i++)
      expectError(await loginAs({ email: `stranger${i}@example.com`, password: 'guessing a password' }, '192.0.2.200'), 401, 'BAD_CREDENTIALS');
    expectError(await right('192.0.2.200'), 429, 'THROTTLED');
    expect((await right('192.0.2.201')).status).toBe(200);
  });

  it('checks and records in one step: a burst of parallel guesses gets no more tries than a sequence', async () => {
    clearWindow();
    const replies = await Promise.all(
      Array.from({ length: 12 }, (_, i) => loginAs({ email: 'burst@example.com', password: `parallel guess ${i}` }, `192.0.2.${100 + i}`)),
    );
    const statuses = replies.map((r) => r.status).sort();
    // freeFailures + 1 failures are looked at (the last one starts the wait); the rest are refused unseen.
    expect(statuses).toEqual([...Array(BACKOFF.freeFailures + 1).fill(401), ...Array(12 - BACKOFF.freeFailures - 1).fill(429)]);
    const { rows } = await h.testDb.owner.query(`select failures from login_throttle where key = 'email:burst@example.com'`);
    expect(rows[0].failures).toBe(BACKOFF.freeFailures + 1);
  });

  it('only trusts X-Forwarded-For when TRUSTED_PROXY_HOPS says so', async () => {
    clearWindow();
    const direct = createApp({ ...h.ctx, config: parseConfig({ AETHER_HOME: '/nonexistent' }) });
    // Without trusted proxies every request here is from the same peer, whatever the header claims.
    for (let i = 0; i <= BACKOFF.freeFailures; i++)
      expectError(
        await call(direct, 'POST', '/auth/login', { json: { email: `spoof${i}@example.com`, password: 'guessing a password' }, headers: { 'x-forwarded-for': `10.0.0.${i}` } }),
        401,
        'BAD_CREDENTIALS',
      );
    const r = await call(direct, 'POST', '/auth/login', {
      json: { email: admin.email, password: admin.password, totp: codeAt(admin.secret, h.clock) },
      headers: { 'x-forwarded-for': '10.0.0.99' },
    });
    expectError(r, 429, 'THROTTLED');
    // With one trusted hop, the entry the proxy appended counts — not one the client prepended.
    clearWindow();
    for (let i = 0; i <= BACKOFF.freeFailures; i++)
      expectError(await loginAs({ email: `hop${i}@example.com`, password: 'guessing a password' }, `10.9.9.${i}, 192.0.2.210`), 401, 'BAD_CREDENTIALS');
    expectError(await right('10.9.9.77, 192.0.2.210'), 429, 'THROTTLED');
  });

  it('forgotten failures are purged, so keys tried once do not pile up', async () => {
    clearWindow();
    expectError(await loginAs({ email: 'tried.once@example.com', password: 'guessing a password' }, '192.0.2.230'), 401, 'BAD_CREDENTIALS');
    const keys = async () => (await h.testDb.owner.query<{ key: string }>(`select key from login_throttle`)).rows.map((r) => r.key);
    expect(await keys()).toEqual(expect.arrayContaining(['email:tried.once@example.com', 'ip:192.0.2.230']));
    clearWindow();
    expectError(await loginAs({ email: 'tried.later@example.com', password: 'guessing a password' }, '192.0.2.231'), 401, 'BAD_CREDENTIALS');
    expect((await keys()).sort()).toEqual(['email:tried.later@example.com', 'ip:192.0.2.231']);
  });

  it('audits failed and successful logins, never the password tried', async () => {
    clearWindow();
    const secret = 'a very secret wrong password';
    expectError(await loginAs({ email: admin.email, password: secret }, '192.0.2.220'), 401, 'BAD_CREDENTIALS');
    expectError(await loginAs({ email: 'nobody@example.com', password: secret }, '192.0.2.220'), 401, 'BAD_CREDENTIALS');
    expect((await right('192.0.2.221')).status).toBe(200);
    const { rows } = await h.testDb.owner.query<{ action: string; user_id: string | null; details: Record<string, unknown> }>(
      `select action, user_id, details from audit_log where action like 'auth.login%' order by id desc limit 3`,
    );
    expect(rows.map((r) => r.action)).toEqual(['auth.login', 'auth.login_failed', 'auth.login_failed']);
    expect(rows[1]).toMatchObject({ user_id: null, details: { email: 'nobody@example.com', ip: '192.0.2.220', reason: 'BAD_CREDENTIALS' } });
    expect(rows[2]).toMatchObject({ user_id: admin.userId, details: { email: admin.email, reason: 'BAD_CREDENTIALS' } });
    const leaked = await h.testDb.owner.query(`select count(*)::int as n from audit_log where details::text like $1`, [`%${secret}%`]);
    expect(leaked.rows[0].n).toBe(0);
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

  it('the cookie on plain http (embedded): aether_session, HttpOnly, SameSite=Strict, Path=/, not Secure', async () => {
    nextTotpStep(h.clock);
    const r = await right('198.51.100.25');
    expect(r.status, r.text).toBe(200);
    const cookie = r.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^aether_session=[A-Za-z0-9_-]{43};/);
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Strict/);
    expect(cookie).toMatch(/; Path=\//);
    expect(cookie).not.toMatch(/Secure/i);
  });

  it('the cookie in production (cluster mode or TLS): __Host-aether_session, Secure, and only that name authenticates', async () => {
    for (const env of [{ DATABASE_URL: 'postgres://db.example/aether' }, { TLS_CERT: '/tls/cert.pem', TLS_KEY: '/tls/key.pem' }]) {
      const app = createApp({ ...h.ctx, config: parseConfig({ AETHER_HOME: '/nonexistent', TRUSTED_PROXY_HOPS: '1', ...env }) });
      nextTotpStep(h.clock);
      const r = await call(app, 'POST', '/auth/login', {
        json: { email: admin.email, password: admin.password, totp: codeAt(admin.secret, h.clock) },
        headers: { 'x-forwarded-for': '198.51.100.26' },
      });
      expect(r.status, r.text).toBe(200);
      const cookie = r.headers.get('set-cookie') ?? '';
      expect(cookie).toMatch(/^__Host-aether_session=[A-Za-z0-9_-]{43};/);
      for (const attr of [/; Secure/, /; HttpOnly/, /; SameSite=Strict/, /; Path=\//]) expect(cookie).toMatch(attr);
      expect(cookie).not.toMatch(/Domain=/i);
      const token = (r.body as { token: string }).token;
      expect((await call(app, 'GET', '/me', { headers: { cookie: `__Host-aether_session=${token}` } })).status).toBe(200);
      expectError(await call(app, 'GET', '/me', { headers: { cookie: `aether_session=${token}` } }), 401, 'UNAUTHENTICATED');
    }
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
