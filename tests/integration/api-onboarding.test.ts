import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueOnboardingToken } from '../../lib/accounts/onboarding.ts';
import { SETTINGS_KINDS } from '../../lib/accounts/settings.ts';
import { ADMIN, call, expectError, loginAdmin, secretOf, startApi, type ApiHarness } from '../helpers/api.ts';

let h: ApiHarness;
beforeAll(async () => {
  h = await startApi();
});
afterAll(async () => {
  await h?.close();
});

const auditActions = async (): Promise<string[]> =>
  (await h.testDb.owner.query<{ action: string }>('select action from audit_log order by id')).rows.map((r) => r.action);

describe('the migrated database', () => {
  it('has every column the Drizzle schema declares (the API queries them all)', () => {
    expect(h.schemaDrift).toEqual([]);
  });
});

describe('first-run onboarding through the API', () => {
  let token: string;
  let losingToken: string;
  let adminEmail: string;
  let adminToken: string;
  let secret: string;

  it('reports that an admin is needed on an empty database', async () => {
    const r = await call(h.app, 'GET', '/onboarding');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ needsAdmin: true, accounts: 0 });
  });

  it('refuses a wrong onboarding token and creates nobody', async () => {
    token = (await issueOnboardingToken(h.ctx.db))!;
    expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const wrong = token.slice(0, -4) + (token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    expectError(await call(h.app, 'POST', '/onboarding/admin', { json: { ...ADMIN, token: wrong } }), 403, 'ONBOARDING_CLOSED');
    expect((await h.testDb.owner.query('select count(*)::int as n from users')).rows[0].n).toBe(0);
    expect(await auditActions()).toEqual([]);
  });

  it('creates exactly one first admin, even when two valid tokens race, and returns a TOTP URI', async () => {
    // Two starts before anyone onboarded each printed a token; both are used at once.
    const rival = (await issueOnboardingToken(h.ctx.db))!;
    const attempts = [
      { ...ADMIN, token },
      { ...ADMIN, email: 'rival.admin@example.com', token: rival },
    ];
    const replies = await Promise.all(attempts.map((json) => call(h.app, 'POST', '/onboarding/admin', { json })));
    expect(replies.map((r) => r.status).sort()).toEqual([201, 403]);
    const won = replies.findIndex((r) => r.status === 201);
    expectError(replies[1 - won]!, 403, 'ONBOARDING_CLOSED');
    ({ token, email: adminEmail } = attempts[won]!);
    losingToken = attempts[1 - won]!.token;
    const body = replies[won]!.body as { user: { email: string; role: string; totpEnrolled: boolean }; totpUri: string };
    expect(body.user).toMatchObject({ email: adminEmail, role: 'admin', totpEnrolled: true });
    expect(body.totpUri).toMatch(/^otpauth:\/\/totp\//);
    secret = secretOf(body.totpUri);
    expect(secret).toMatch(/^[A-Z2-7]+=*$/);
    // The secret is stored encrypted, the password hashed with argon2id.
    const { rows } = await h.testDb.owner.query('select password_hash, totp_secret_enc from users');
    expect(rows).toHaveLength(1);
    expect(rows[0].password_hash).toMatch(/^\$argon2id\$/);
    expect(rows[0].totp_secret_enc).not.toContain(secret);
    const used = await h.testDb.owner.query(`select token_hash from onboarding_tokens where used_at is not null`);
    expect(used.rows).toHaveLength(1);
    expect(await auditActions()).toEqual(['user.create']);
    expect((await call(h.app, 'GET', '/onboarding')).body).toEqual({ needsAdmin: false, accounts: 0 });
  });

  it('refuses the same token a second time', async () => {
    const r = await call(h.app, 'POST', '/onboarding/admin', { json: { ...ADMIN, email: 'second@example.com', token } });
    expectError(r, 403, 'ONBOARDING_CLOSED');
    expect((await h.testDb.owner.query('select count(*)::int as n from users')).rows[0].n).toBe(1);
  });

  it('refuses a token that is still unused once an admin exists', async () => {
    const r0 = await call(h.app, 'POST', '/onboarding/admin', { json: { ...ADMIN, email: 'loser@example.com', token: losingToken } });
    expectError(r0, 403, 'ONBOARDING_CLOSED');
    // issueOnboardingToken itself declines; a token slipped into the table still does not open the door.
    expect(await issueOnboardingToken(h.ctx.db)).toBeNull();
    await h.testDb.owner.query(`insert into onboarding_tokens (token_hash) values (encode(sha256('late-token-0123456789'::bytea), 'hex'))`);
    const r = await call(h.app, 'POST', '/onboarding/admin', { json: { ...ADMIN, email: 'late@example.com', token: 'late-token-0123456789' } });
    expectError(r, 403, 'ONBOARDING_CLOSED');
    expect((await h.testDb.owner.query('select count(*)::int as n from users')).rows[0].n).toBe(1);
  });

  it('POST /onboarding/accounts needs an admin session', async () => {
    expectError(await call(h.app, 'POST', '/onboarding/accounts', { json: {} }), 401, 'UNAUTHENTICATED');
    expect((await h.testDb.owner.query('select count(*)::int as n from accounts')).rows[0].n).toBe(0);
  });

  it('creates company, director-1 and director-2 with every kind of settings seeded', async () => {
    adminToken = await loginAdmin(h, { email: adminEmail, password: ADMIN.password, secret });
    const before = (await auditActions()).length;
    const r = await call(h.app, 'POST', '/onboarding/accounts', { token: adminToken, json: {} });
    expect(r.status, r.text).toBe(200);
    const accounts = (r.body as { accounts: Array<{ slug: string; kind: string; id: string }> }).accounts;
    expect(accounts.map((a) => [a.slug, a.kind])).toEqual([
      ['company', 'company'],
      ['director-1', 'director'],
      ['director-2', 'director'],
    ]);
    const { rows } = await h.testDb.owner.query<{ slug: string; kind: string; version: number }>(
      'select a.slug, s.kind, s.version from settings s join accounts a on a.id = s.account_id order by a.slug, s.kind',
    );
    for (const slug of ['company', 'director-1', 'director-2'])
      expect(rows.filter((x) => x.slug === slug).map((x) => [x.kind, x.version])).toEqual([...SETTINGS_KINDS].sort().map((k) => [k, 1]));
    // The simulation switch starts on.
    const sim = await h.testDb.owner.query(`select value from settings where kind = 'simulation'`);
    expect(sim.rows.map((x) => x.value)).toEqual([{ enabled: true, initialUsd: 10_000 }, { enabled: true, initialUsd: 10_000 }, { enabled: true, initialUsd: 10_000 }]);
    // One account.create and one settings.<kind> row per account, each naming its account.
    const audit = await h.testDb.owner.query<{ action: string; account_id: string | null }>('select action, account_id from audit_log where id > $1 order by id', [before]);
    for (const a of accounts) {
      expect(audit.rows.filter((x) => x.account_id === a.id).map((x) => x.action).sort()).toEqual(
        ['account.create', ...SETTINGS_KINDS.map((k) => `settings.${k}`)].sort(),
      );
    }
    expect((await call(h.app, 'GET', '/onboarding')).body).toEqual({ needsAdmin: false, accounts: 3 });
  });

  it('is idempotent: a second call changes nothing', async () => {
    const snapshot = async () =>
      (await h.testDb.owner.query(`select (select count(*) from accounts)::int as a, (select count(*) from settings)::int as s, (select count(*) from audit_log)::int as l`)).rows[0];
    const before = await snapshot();
    const r = await call(h.app, 'POST', '/onboarding/accounts', { token: adminToken, json: {} });
    expect(r.status, r.text).toBe(200);
    expect((r.body as { accounts: unknown[] }).accounts).toHaveLength(3);
    expect(await snapshot()).toEqual(before);
  });

  it('every step wrote an audit row and the chain verifies', async () => {
    const actions = await auditActions();
    expect(actions[0]).toBe('user.create');
    expect(actions).toContain('auth.login');
    expect(actions.filter((a) => a === 'account.create')).toHaveLength(3);
    expect(actions.filter((a) => a.startsWith('settings.'))).toHaveLength(3 * SETTINGS_KINDS.length);
    const v = await call(h.app, 'GET', '/audit/verify', { token: adminToken });
    expect(v.status, v.text).toBe(200);
    expect(v.body).toMatchObject({ ok: true, rows: actions.length });
  });

  it('GET /audit/verify names the first row that was altered behind the application\'s back', async () => {
    // The triggers refuse UPDATE even for the owner; only replica mode (no triggers) can tamper.
    const c = await h.testDb.owner.connect();
    try {
      await c.query(`set session_replication_role = replica`);
      await c.query(`update audit_log set details = '{"forged":true}' where id = 3`);
    } finally {
      await c.query(`set session_replication_role = origin`);
      c.release();
    }
    const v = await call(h.app, 'GET', '/audit/verify', { token: adminToken });
    expect(v.status, v.text).toBe(409);
    expect(v.body).toMatchObject({ ok: false, rows: 2, badId: 3 });
    await expect(h.testDb.owner.query(`update audit_log set action = 'x' where id = 1`)).rejects.toThrow(/append-only/);
  });
});
