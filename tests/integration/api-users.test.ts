import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INVITE_TTL_MS } from '../../lib/accounts/users.ts';
import { call, codeAt, expectError, login, loginAdmin, nextTotpStep, onboard, rowCounts, secretOf, startApi, stepUp, type Admin, type ApiHarness } from '../helpers/api.ts';

let h: ApiHarness;
let first: Admin;
let firstToken: string;
let accounts: Record<string, string>;
/** The admin invited below; the tests after the invite use them as a second director. */
let second: Admin;
const VIEWER = { email: 'viewer@example.com', name: 'Viewer', role: 'viewer', password: 'viewer password long enough' } as const;
let viewerId: string;
let viewerPassword: string = VIEWER.password;

beforeAll(async () => {
  h = await startApi();
  ({ admin: first, token: firstToken, accounts } = await onboard(h));
  const r = await call(h.app, 'POST', '/users', { token: firstToken, json: { ...VIEWER, accountIds: [accounts.company] } });
  expect(r.status, r.text).toBe(201);
  viewerId = (r.body as { user: { id: string } }).user.id;
});
afterAll(async () => {
  await h?.close();
});

const lastAuditId = async (): Promise<number> => (await h.testDb.owner.query('select coalesce(max(id), 0)::int as id from audit_log')).rows[0].id;
const auditSince = async (id: number) =>
  (await h.testDb.owner.query<{ action: string; user_id: string | null; details: Record<string, unknown> }>('select action, user_id, details from audit_log where id > $1 order by id', [id])).rows;
const asFirst = async (): Promise<string> => (firstToken = await loginAdmin(h, first, '198.51.100.60'));
const passwordLogin = (email: string, password: string, ip = '198.51.100.61') => call(h.app, 'POST', '/auth/login', { json: { email, password }, headers: { 'x-forwarded-for': ip } });

/** Enrols the second factor of a session that owes one; returns the new secret. */
async function enrol(token: string): Promise<string> {
  const start = await call(h.app, 'POST', '/me/totp', { token });
  expect(start.status, start.text).toBe(200);
  const secret = secretOf((start.body as { totpUri: string }).totpUri);
  nextTotpStep(h.clock);
  const done = await call(h.app, 'POST', '/me/totp/confirm', { token, json: { totp: codeAt(secret, h.clock) } });
  expect(done.status, done.text).toBe(200);
  expect((done.body as { user: { totpEnrolled: boolean } }).user.totpEnrolled).toBe(true);
  return secret;
}

describe('inviting an admin', () => {
  let inviteToken: string;

  it('the inviter cannot choose the password', async () => {
    const before = await rowCounts(h);
    expectError(
      await call(h.app, 'POST', '/users', { token: firstToken, json: { role: 'admin', email: 'second.admin@example.com', name: 'Second', password: 'chosen by the inviter' } }),
      400,
      'VALIDATION_FAILED',
    );
    expect(await rowCounts(h)).toEqual(before);
  });

  it('answers a single-use invite token — no password, no TOTP secret — stored only as its hash, audited', async () => {
    const since = await lastAuditId();
    const r = await call(h.app, 'POST', '/users', { token: firstToken, json: { role: 'admin', email: 'Second.Admin@example.com', name: 'Second Admin' } });
    expect(r.status, r.text).toBe(201);
    const body = r.body as { user: { id: string; email: string; invitePending: boolean; totpEnrolled: boolean }; invite: { token: string; expiresAt: string } };
    expect(body.user).toMatchObject({ email: 'second.admin@example.com', invitePending: true, totpEnrolled: false });
    expect(r.text).not.toMatch(/otpauth|secret/i);
    expect(Date.parse(body.invite.expiresAt)).toBe(h.clock.now() + INVITE_TTL_MS);
    inviteToken = body.invite.token;
    const { rows } = await h.testDb.owner.query('select password_hash, totp_secret_enc, invite_token_hash, row_to_json(u)::text as raw from users u where id = $1', [body.user.id]);
    expect(rows[0]).toMatchObject({ password_hash: null, totp_secret_enc: null, invite_token_hash: createHash('sha256').update(inviteToken).digest('hex') });
    expect(rows[0].raw).not.toContain(inviteToken);
    const audit = await auditSince(since);
    expect(audit.map((a) => a.action)).toEqual(['user.invite']);
    expect(JSON.stringify(audit)).not.toContain(inviteToken);
    second = { email: 'second.admin@example.com', password: 'the second admin chose this', secret: '', userId: body.user.id };
  });

  it('an invitee who has not accepted cannot log in', async () => {
    expectError(await passwordLogin(second.email, second.password), 401, 'BAD_CREDENTIALS');
  });

  it('the token sets the password once; a wrong or spent token is refused', async () => {
    expectError(await call(h.app, 'POST', '/onboarding/invite', { json: { token: 'x'.repeat(32), password: second.password } }), 403, 'INVITE_INVALID');
    const r = await call(h.app, 'POST', '/onboarding/invite', { json: { token: inviteToken, password: second.password } });
    expect(r.status, r.text).toBe(200);
    expect((r.body as { user: { invitePending: boolean } }).user.invitePending).toBe(false);
    expectError(await call(h.app, 'POST', '/onboarding/invite', { json: { token: inviteToken, password: 'someone else trying' } }), 403, 'INVITE_INVALID');
  });

  it('at first login the invitee must enrol TOTP before anything else, then logs in with it', async () => {
    const r = await passwordLogin(second.email, second.password);
    expect(r.status, r.text).toBe(200);
    expect((r.body as { obligations: string[] }).obligations).toEqual(['TOTP_ENROLMENT_REQUIRED']);
    const token = (r.body as { token: string }).token;
    expectError(await call(h.app, 'GET', '/accounts', { token }), 403, 'TOTP_ENROLMENT_REQUIRED');
    expectError(await call(h.app, 'POST', '/auth/step-up', { token, json: { totp: '123456' } }), 403, 'TOTP_ENROLMENT_REQUIRED');
    const me = await call(h.app, 'GET', '/me', { token });
    expect((me.body as { obligations: string[] }).obligations).toEqual(['TOTP_ENROLMENT_REQUIRED']);
    // A wrong code does not enrol.
    const start = await call(h.app, 'POST', '/me/totp', { token });
    const secret = secretOf((start.body as { totpUri: string }).totpUri);
    nextTotpStep(h.clock);
    const wrong = String((Number(codeAt(secret, h.clock)) + 1) % 1_000_000).padStart(6, '0');
    expectError(await call(h.app, 'POST', '/me/totp/confirm', { token, json: { totp: wrong } }), 400, 'BAD_TOTP');
    second.secret = await enrol(token);
    expect((await call(h.app, 'GET', '/accounts', { token })).status).toBe(200);
    expectError(await passwordLogin(second.email, second.password), 401, 'TOTP_REQUIRED');
    await loginAdmin(h, second);
  });

  it('two acceptances of one token at once: exactly one sets the password', async () => {
    const r = await call(h.app, 'POST', '/users', { token: await asFirst(), json: { role: 'admin', email: 'racing@example.com', name: 'Racing' } });
    const token = (r.body as { invite: { token: string } }).invite.token;
    const replies = await Promise.all(
      ['first password chosen', 'second password chosen'].map((password) => call(h.app, 'POST', '/onboarding/invite', { json: { token, password } })),
    );
    expect(replies.map((x) => x.status).sort()).toEqual([200, 403]);
    const racer = (r.body as { user: { id: string } }).user.id;
    expect((await h.testDb.owner.query(`select count(*)::int as n from audit_log where action = 'user.invite_accept' and details->>'user' = $1`, [racer])).rows[0].n).toBe(1);
    // Out of the way of the admin counts below.
    expect((await call(h.app, 'POST', `/users/${racer}/disable`, { token: firstToken })).status).toBe(200);
  });

  it('an email already taken (in any case) is a 409 and writes nothing', async () => {
    const before = await rowCounts(h);
    expectError(await call(h.app, 'POST', '/users', { token: firstToken, json: { role: 'admin', email: 'SECOND.admin@example.com', name: 'Again' } }), 409, 'USER_EXISTS');
    expect(await rowCounts(h)).toEqual(before);
  });

  it('an invite expires after 72 hours', async () => {
    const r = await call(h.app, 'POST', '/users', { token: await asFirst(), json: { role: 'admin', email: 'late@example.com', name: 'Late' } });
    expect(r.status, r.text).toBe(201);
    h.clock.advance(INVITE_TTL_MS + 1);
    expectError(await call(h.app, 'POST', '/onboarding/invite', { json: { token: (r.body as { invite: { token: string } }).invite.token, password: 'too late for this' } }), 403, 'INVITE_INVALID');
  });
});

describe('disabling and enabling', () => {
  it('a disabled user cannot log in and every session of theirs ends; enabling lets them in again', async () => {
    const admin = await asFirst();
    const t1 = await login(h, VIEWER.email, viewerPassword);
    const t2 = await login(h, VIEWER.email, viewerPassword);
    const since = await lastAuditId();
    const r = await call(h.app, 'POST', `/users/${viewerId}/disable`, { token: admin });
    expect(r.status, r.text).toBe(200);
    expect((r.body as { user: { disabled: boolean } }).user.disabled).toBe(true);
    for (const t of [t1, t2]) expectError(await call(h.app, 'GET', '/me', { token: t }), 401, 'UNAUTHENTICATED');
    const { rows } = await h.testDb.owner.query('select count(*)::int as n from sessions where user_id = $1 and revoked_at is null', [viewerId]);
    expect(rows[0].n).toBe(0);
    expectError(await passwordLogin(VIEWER.email, viewerPassword), 401, 'BAD_CREDENTIALS');
    const audit = (await auditSince(since)).filter((a) => a.action.startsWith('user.'));
    expect(audit).toEqual([expect.objectContaining({ action: 'user.disable', user_id: first.userId, details: expect.objectContaining({ user: viewerId, sessionsEnded: 2 }) })]);
    expect((await call(h.app, 'POST', `/users/${viewerId}/enable`, { token: admin })).status).toBe(200);
    await login(h, VIEWER.email, viewerPassword);
  });

  it('the last enabled admin cannot be disabled, and nothing changes', async () => {
    const admin = await asFirst();
    expect((await call(h.app, 'POST', `/users/${second.userId}/disable`, { token: admin })).status).toBe(200);
    const before = await rowCounts(h);
    expectError(await call(h.app, 'POST', `/users/${first.userId}/disable`, { token: admin }), 409, 'LAST_ADMIN');
    expect(await rowCounts(h)).toEqual(before);
    expect((await call(h.app, 'GET', '/me', { token: admin })).status).toBe(200);
    expect((await call(h.app, 'POST', `/users/${second.userId}/enable`, { token: admin })).status).toBe(200);
  });

  it('two admins disabling each other at once: exactly one succeeds', async () => {
    const a = await asFirst();
    const b = await loginAdmin(h, second, '198.51.100.62');
    const replies = await Promise.all([
      call(h.app, 'POST', `/users/${second.userId}/disable`, { token: a }),
      call(h.app, 'POST', `/users/${first.userId}/disable`, { token: b }),
    ]);
    // The loser is refused as the last admin (409), or — when the winner committed before its
    // request was authenticated — its session has already ended (401).
    expect(replies.filter((r) => r.status === 200)).toHaveLength(1);
    expect([401, 409]).toContain(replies.find((r) => r.status !== 200)!.status);
    const { rows } = await h.testDb.owner.query(`select count(*)::int as n from users where role = 'admin' and disabled_at is null and password_hash is not null`);
    expect(rows[0].n).toBe(1);
    // Whoever is left re-enables the other.
    const survivor = replies[0]!.status === 200 ? { admin: first, token: a, other: second } : { admin: second, token: b, other: first };
    expect((await call(h.app, 'POST', `/users/${survivor.other.userId}/enable`, { token: survivor.token })).status).toBe(200);
  });

  it('viewers may not, unknown users are 404, malformed ids 400', async () => {
    const viewer = await login(h, VIEWER.email, viewerPassword);
    expectError(await call(h.app, 'POST', `/users/${first.userId}/disable`, { token: viewer }), 403, 'FORBIDDEN');
    const admin = await asFirst();
    expectError(await call(h.app, 'POST', '/users/00000000-0000-4000-8000-000000000000/disable', { token: admin }), 404, 'USER_NOT_FOUND');
    expectError(await call(h.app, 'POST', '/users/not-a-uuid/disable', { token: admin }), 400);
  });
});

describe('passwords', () => {
  it('changing your own password needs the current one, ends your other sessions and keeps this one', async () => {
    const keep = await login(h, VIEWER.email, viewerPassword);
    const other = await login(h, VIEWER.email, viewerPassword);
    const before = await rowCounts(h);
    expectError(await call(h.app, 'POST', '/me/password', { token: keep, json: { currentPassword: 'not my password', newPassword: 'a brand new password' } }), 403, 'WRONG_PASSWORD');
    const counted = await h.testDb.owner.query(`select failures from login_throttle where key = $1`, [`email:${VIEWER.email}`]);
    expect(counted.rows[0].failures).toBe(1); // a stolen session cannot guess the password unthrottled
    expect((await rowCounts(h)).users).toBe(before.users);
    expectError(await call(h.app, 'POST', '/me/password', { token: keep, json: { currentPassword: viewerPassword, newPassword: viewerPassword } }), 400, 'SAME_PASSWORD');
    expectError(await call(h.app, 'POST', '/me/password', { token: keep, json: { currentPassword: viewerPassword, newPassword: 'short' } }), 400, 'VALIDATION_FAILED');
    const r = await call(h.app, 'POST', '/me/password', { token: keep, json: { currentPassword: viewerPassword, newPassword: 'a brand new password' } });
    expect(r.status, r.text).toBe(200);
    expect((r.body as { sessionsEnded: number }).sessionsEnded).toBeGreaterThanOrEqual(1);
    expectError(await call(h.app, 'GET', '/me', { token: other }), 401, 'UNAUTHENTICATED');
    expect((await call(h.app, 'GET', '/me', { token: keep })).status).toBe(200);
    expectError(await passwordLogin(VIEWER.email, viewerPassword), 401, 'BAD_CREDENTIALS');
    viewerPassword = 'a brand new password';
    await login(h, VIEWER.email, viewerPassword);
    const audit = await h.testDb.owner.query(`select count(*)::int as n from audit_log where details::text like '%brand new password%' or details::text like '%not my password%'`);
    expect(audit.rows[0].n).toBe(0);
  });

  it("an admin's reset ends the user's sessions and forces a change at next login; that session can only change the password", async () => {
    const admin = await asFirst();
    const old = await login(h, VIEWER.email, viewerPassword);
    const temporary = 'temporary from the admin';
    const r = await call(h.app, 'POST', `/users/${viewerId}/password`, { token: admin, json: { password: temporary } });
    expect(r.status, r.text).toBe(200);
    expect((r.body as { user: { mustChangePassword: boolean } }).user.mustChangePassword).toBe(true);
    expectError(await call(h.app, 'GET', '/me', { token: old }), 401, 'UNAUTHENTICATED');
    const l = await passwordLogin(VIEWER.email, temporary);
    expect(l.status, l.text).toBe(200);
    expect((l.body as { obligations: string[] }).obligations).toEqual(['PASSWORD_CHANGE_REQUIRED']);
    const token = (l.body as { token: string }).token;
    for (const [method, path] of [['GET', '/accounts'], ['GET', '/accounts/company'], ['DELETE', '/me/sessions']] as const)
      expectError(await call(h.app, method, path, { token }), 403, 'PASSWORD_CHANGE_REQUIRED');
    expectError(await call(h.app, 'POST', '/me/password', { token, json: { currentPassword: temporary, newPassword: temporary } }), 400, 'SAME_PASSWORD');
    expect((await call(h.app, 'POST', '/me/password', { token, json: { currentPassword: temporary, newPassword: 'mine again, not the admin one' } })).status).toBe(200);
    viewerPassword = 'mine again, not the admin one';
    expect((await call(h.app, 'GET', '/accounts', { token })).status).toBe(200);
    expectError(await call(h.app, 'POST', `/users/${first.userId}/password`, { token: admin, json: { password: 'resetting myself here' } }), 409, 'OWN_ACCOUNT');
  });
});

describe('sessions', () => {
  it("an admin ends all of a user's sessions; a user ends all their other sessions", async () => {
    const admin = await asFirst();
    const v1 = await login(h, VIEWER.email, viewerPassword);
    const v2 = await login(h, VIEWER.email, viewerPassword);
    const r = await call(h.app, 'DELETE', `/users/${viewerId}/sessions`, { token: admin });
    expect(r.status, r.text).toBe(200);
    expect((r.body as { sessionsEnded: number }).sessionsEnded).toBeGreaterThanOrEqual(2);
    for (const t of [v1, v2]) expectError(await call(h.app, 'GET', '/me', { token: t }), 401, 'UNAUTHENTICATED');
    const mine = await login(h, VIEWER.email, viewerPassword);
    const elsewhere = await login(h, VIEWER.email, viewerPassword);
    const own = await call(h.app, 'DELETE', '/me/sessions', { token: mine });
    expect((own.body as { sessionsEnded: number }).sessionsEnded).toBe(1);
    expectError(await call(h.app, 'GET', '/me', { token: elsewhere }), 401, 'UNAUTHENTICATED');
    expect((await call(h.app, 'GET', '/me', { token: mine })).status).toBe(200);
    const actions = (await h.testDb.owner.query(`select action from audit_log where action = 'user.sessions_revoke'`)).rows;
    expect(actions).toHaveLength(2);
  });
});

describe('second factor', () => {
  it('re-enrolling your own needs step-up and a code from the new secret; the old secret stops working', async () => {
    const token = await loginAdmin(h, second, '198.51.100.63');
    h.clock.advance(6 * 60_000); // the login's step-up window has closed
    expectError(await call(h.app, 'POST', '/me/totp', { token }), 403, 'STEP_UP_REQUIRED');
    await stepUp(h, token, second);
    const start = await call(h.app, 'POST', '/me/totp', { token });
    expect(start.status, start.text).toBe(200);
    const fresh = secretOf((start.body as { totpUri: string }).totpUri);
    nextTotpStep(h.clock);
    expectError(await call(h.app, 'POST', '/me/totp/confirm', { token, json: { totp: codeAt(second.secret, h.clock) } }), 400, 'BAD_TOTP');
    nextTotpStep(h.clock);
    expect((await call(h.app, 'POST', '/me/totp/confirm', { token, json: { totp: codeAt(fresh, h.clock) } })).status).toBe(200);
    nextTotpStep(h.clock);
    const old = await call(h.app, 'POST', '/auth/login', { json: { email: second.email, password: second.password, totp: codeAt(second.secret, h.clock) }, headers: { 'x-forwarded-for': '198.51.100.64' } });
    expectError(old, 401, 'BAD_TOTP');
    second.secret = fresh;
    await loginAdmin(h, second, '198.51.100.64');
  });

  it("an admin resets another's enrolment: their sessions end and they enrol again at next login", async () => {
    const admin = await asFirst();
    const theirs = await loginAdmin(h, second, '198.51.100.65');
    const r = await call(h.app, 'DELETE', `/users/${second.userId}/totp`, { token: admin });
    expect(r.status, r.text).toBe(200);
    expect((r.body as { user: { totpEnrolled: boolean } }).user.totpEnrolled).toBe(false);
    expectError(await call(h.app, 'GET', '/me', { token: theirs }), 401, 'UNAUTHENTICATED');
    const l = await passwordLogin(second.email, second.password, '198.51.100.65');
    expect((l.body as { obligations: string[] }).obligations).toEqual(['TOTP_ENROLMENT_REQUIRED']);
    const token = (l.body as { token: string }).token;
    expectError(await call(h.app, 'GET', '/users', { token }), 403, 'TOTP_ENROLMENT_REQUIRED');
    second.secret = await enrol(token);
    expect((await call(h.app, 'GET', '/users', { token })).status).toBe(200);
    expectError(await call(h.app, 'DELETE', `/users/${first.userId}/totp`, { token: admin }), 409, 'OWN_ACCOUNT');
    const actions = (await h.testDb.owner.query(`select action from audit_log where action like 'user.totp%' order by id`)).rows.map((x) => x.action);
    expect(actions).toContain('user.totp_reset');
    expect(actions.filter((a) => a === 'user.totp_enrol')).toHaveLength(3);
  });
});

describe("a viewer's accounts", () => {
  it('an admin replaces them (audited with before and after); the viewer sees the new set', async () => {
    const admin = await asFirst();
    const r = await call(h.app, 'PUT', `/users/${viewerId}/accounts`, { token: admin, json: { accountIds: [accounts['director-1']!, accounts.company!] } });
    expect(r.status, r.text).toBe(200);
    const viewer = await login(h, VIEWER.email, viewerPassword);
    const seen = await call(h.app, 'GET', '/accounts', { token: viewer });
    expect((seen.body as { accounts: Array<{ slug: string }> }).accounts.map((a) => a.slug).sort()).toEqual(['company', 'director-1']);
    const { rows } = await h.testDb.owner.query(`select details from audit_log where action = 'user.memberships' order by id desc limit 1`);
    expect(rows[0].details).toMatchObject({ user: viewerId, before: [accounts.company], after: [accounts.company, accounts['director-1']].sort() });
  });

  it('an unknown account is a 400 and changes nothing; an admin has no memberships to edit', async () => {
    const admin = await asFirst();
    const before = await rowCounts(h);
    expectError(
      await call(h.app, 'PUT', `/users/${viewerId}/accounts`, { token: admin, json: { accountIds: [accounts.company, '00000000-0000-4000-8000-000000000000'] } }),
      400,
      'UNKNOWN_ACCOUNT',
    );
    expect(await rowCounts(h)).toEqual(before);
    expectError(await call(h.app, 'PUT', `/users/${second.userId}/accounts`, { token: admin, json: { accountIds: [] } }), 409, 'NOT_A_VIEWER');
    expectError(await call(h.app, 'PUT', `/users/${viewerId}/accounts`, { token: admin, json: { accountIds: ['Not A Slug'] } }), 400, 'VALIDATION_FAILED');
    expectError(await call(h.app, 'PUT', `/users/${viewerId}/accounts`, { token: admin, json: { accountIds: ['no-such-account'] } }), 400, 'UNKNOWN_ACCOUNT');
  });
});
