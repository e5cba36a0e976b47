import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, expectError, login, onboard, startApi, type ApiHarness } from '../helpers/api.ts';

let h: ApiHarness;
let adminToken: string;
let viewerToken: string;
let revokedToken: string;
let accounts: Record<string, string>;
const VIEWER = { email: 'viewer@example.com', name: 'Company Viewer', role: 'viewer', password: 'viewer password long enough' } as const;
/** Any user id: the role check answers before the user is looked up. */
const SOMEONE = '00000000-0000-4000-8000-000000000000';

beforeAll(async () => {
  h = await startApi();
  ({ token: adminToken, accounts } = await onboard(h));
  const r = await call(h.app, 'POST', '/users', { token: adminToken, json: { ...VIEWER, accountIds: [accounts.company] } });
  expect(r.status, r.text).toBe(201);
  expect((r.body as { invite: unknown }).invite).toBeNull();
  viewerToken = await login(h, VIEWER.email, VIEWER.password);
  revokedToken = await login(h, VIEWER.email, VIEWER.password);
  expect((await call(h.app, 'POST', '/auth/logout', { token: revokedToken })).status).toBe(200);
});
afterAll(async () => {
  await h?.close();
});

describe('a viewer of the company account', () => {
  it('GET /accounts lists only the company account', async () => {
    const r = await call(h.app, 'GET', '/accounts', { token: viewerToken });
    expect(r.status, r.text).toBe(200);
    expect((r.body as { accounts: Array<{ slug: string }> }).accounts.map((a) => a.slug)).toEqual(['company']);
    // …while an admin sees all three.
    const all = await call(h.app, 'GET', '/accounts', { token: adminToken });
    expect((all.body as { accounts: unknown[] }).accounts).toHaveLength(3);
  });

  it('GET /me names the viewer and only the company account', async () => {
    const r = await call(h.app, 'GET', '/me', { token: viewerToken });
    expect(r.status, r.text).toBe(200);
    const body = r.body as { user: { role: string }; accounts: Array<{ slug: string }> };
    expect(body.user.role).toBe('viewer');
    expect(body.accounts.map((a) => a.slug)).toEqual(['company']);
  });

  it.each([
    ['company', 'by slug'],
    ['company-id', 'by id'],
  ])('GET /accounts/%s (%s) → 200', async (ref) => {
    const id = ref === 'company-id' ? accounts.company! : ref;
    const r = await call(h.app, 'GET', `/accounts/${id}`, { token: viewerToken });
    expect(r.status, r.text).toBe(200);
    expect(r.body).toMatchObject({ slug: 'company', id: accounts.company });
  });

  it.each(['director-1', 'director-2'])('GET /accounts/%s → 403', async (slug) => {
    expectError(await call(h.app, 'GET', `/accounts/${slug}`, { token: viewerToken }), 403, 'FORBIDDEN');
    expectError(await call(h.app, 'GET', `/accounts/${accounts[slug]}`, { token: viewerToken }), 403, 'FORBIDDEN');
  });

  it('GET /accounts/nope → 404 for an admin', async () => {
    expectError(await call(h.app, 'GET', '/accounts/nope', { token: adminToken }), 404, 'ACCOUNT_NOT_FOUND');
    expectError(await call(h.app, 'GET', '/accounts/00000000-0000-4000-8000-000000000000', { token: adminToken }), 404, 'ACCOUNT_NOT_FOUND');
    expect((await call(h.app, 'GET', '/accounts/director-1', { token: adminToken })).status).toBe(200);
  });

  it.each([
    ['POST', '/accounts', { slug: 'viewer-made', name: 'Viewer made', kind: 'other' }],
    ['GET', '/users', undefined],
    ['POST', '/users', { email: 'x@example.com', name: 'X', role: 'admin', password: 'a long enough password' }],
    ['GET', '/audit/verify', undefined],
    ['POST', '/onboarding/accounts', { accounts: [{ slug: 'viewer-made', name: 'Viewer made', kind: 'other' }] }],
    ['POST', `/users/${SOMEONE}/disable`, undefined],
    ['POST', `/users/${SOMEONE}/enable`, undefined],
    ['POST', `/users/${SOMEONE}/password`, { password: 'a long enough password' }],
    ['DELETE', `/users/${SOMEONE}/sessions`, undefined],
    ['DELETE', `/users/${SOMEONE}/totp`, undefined],
    ['PUT', `/users/${SOMEONE}/accounts`, { accountIds: [] }],
  ] as const)('%s %s → 403 and nothing written', async (method, path, json) => {
    const before = (await h.testDb.owner.query(`select (select count(*) from accounts)::int a, (select count(*) from users)::int u, (select count(*) from audit_log)::int l`)).rows[0];
    expectError(await call(h.app, method, path, { token: viewerToken, json }), 403, 'FORBIDDEN');
    const after = (await h.testDb.owner.query(`select (select count(*) from accounts)::int a, (select count(*) from users)::int u, (select count(*) from audit_log)::int l`)).rows[0];
    expect(after).toEqual(before);
  });

  it('GET /audit shows only rows of the company account', async () => {
    const total = (await h.testDb.owner.query(`select count(*)::int as n from audit_log where account_id = $1`, [accounts.company])).rows[0].n;
    expect(total).toBeGreaterThan(0);
    const r = await call(h.app, 'GET', '/audit?limit=500', { token: viewerToken });
    expect(r.status, r.text).toBe(200);
    const rows = (r.body as { rows: Array<{ accountId: string | null }> }).rows;
    expect(rows).toHaveLength(total);
    expect(new Set(rows.map((x) => x.accountId))).toEqual(new Set([accounts.company]));
    // Asking for another account's rows explicitly is refused, by id or slug, as on every account route.
    expectError(await call(h.app, 'GET', `/audit?account=${accounts['director-1']}`, { token: viewerToken }), 403, 'FORBIDDEN');
    expectError(await call(h.app, 'GET', '/audit?account=director-1', { token: viewerToken }), 403, 'FORBIDDEN');
    // The admin sees the director accounts' rows and the global ones.
    const all = await call(h.app, 'GET', '/audit?limit=500', { token: adminToken });
    const adminRows = (all.body as { rows: Array<{ accountId: string | null }> }).rows;
    expect(adminRows.some((x) => x.accountId === accounts['director-1'])).toBe(true);
    expect(adminRows.some((x) => x.accountId === null)).toBe(true);
  });

  it('GET /audit pages newest first with nextBefore', async () => {
    const first = await call(h.app, 'GET', '/audit?limit=2', { token: adminToken });
    const page = first.body as { rows: Array<{ id: number }>; nextBefore: number };
    expect(page.rows.map((r) => r.id)).toHaveLength(2);
    expect(page.rows[0]!.id).toBeGreaterThan(page.rows[1]!.id);
    expect(page.nextBefore).toBe(page.rows[1]!.id);
    const next = await call(h.app, 'GET', `/audit?limit=2&before=${page.nextBefore}`, { token: adminToken });
    expect((next.body as { rows: Array<{ id: number }> }).rows[0]!.id).toBe(page.nextBefore - 1);
  });
});

describe('admin writes that are refused', () => {
  const counts = async () =>
    (await h.testDb.owner.query(`select (select count(*) from accounts)::int a, (select count(*) from users)::int u, (select count(*) from memberships)::int m, (select count(*) from audit_log)::int l`)).rows[0];

  it('POST /users with an email already taken (in any case) → 409', async () => {
    const before = await counts();
    expectError(await call(h.app, 'POST', '/users', { token: adminToken, json: { ...VIEWER, email: 'Viewer@Example.COM' } }), 409, 'USER_EXISTS');
    expect(await counts()).toEqual(before);
  });

  it('POST /users naming an account that does not exist → 400, and no user is left behind', async () => {
    const before = await counts();
    const r = await call(h.app, 'POST', '/users', {
      token: adminToken,
      json: { ...VIEWER, email: 'orphan@example.com', accountIds: ['00000000-0000-4000-8000-000000000000'] },
    });
    expectError(r, 400, 'UNKNOWN_ACCOUNT');
    expect(await counts()).toEqual(before);
  });

  it('POST /accounts with a slug already taken → 409; a new slug → 201 with its settings seeded', async () => {
    const before = await counts();
    expectError(await call(h.app, 'POST', '/accounts', { token: adminToken, json: { slug: 'company', name: 'Again', kind: 'company' } }), 409, 'ACCOUNT_EXISTS');
    expect(await counts()).toEqual(before);
    const r = await call(h.app, 'POST', '/accounts', { token: adminToken, json: { slug: 'director-3', name: 'Director 3', kind: 'director' } });
    expect(r.status, r.text).toBe(201);
    const id = (r.body as { id: string }).id;
    const kinds = await h.testDb.owner.query(`select kind from settings where account_id = $1 order by kind`, [id]);
    expect(kinds.rows.map((x) => x.kind)).toEqual(['hedge', 'risk', 'simulation', 'trading']);
    // The viewer of company still sees only company.
    const seen = await call(h.app, 'GET', '/accounts', { token: viewerToken });
    expect((seen.body as { accounts: Array<{ slug: string }> }).accounts.map((a) => a.slug)).toEqual(['company']);
  });
});

describe('unauthenticated', () => {
  const protectedRoutes = [
    ['POST', '/auth/logout'],
    ['GET', '/me'],
    ['GET', '/accounts'],
    ['GET', '/accounts/company'],
    ['POST', '/accounts'],
    ['GET', '/users'],
    ['POST', '/users'],
    ['GET', '/audit'],
    ['GET', '/audit/verify'],
    ['POST', '/onboarding/accounts'],
  ] as const;

  it.each(protectedRoutes)('%s %s → 401 without a token, with a bad one and with a revoked one', async (method, path) => {
    expectError(await call(h.app, method, path, { json: method === 'POST' ? {} : undefined }), 401, 'UNAUTHENTICATED');
    expectError(await call(h.app, method, path, { token: 'not-a-token' }), 401, 'UNAUTHENTICATED');
    expectError(await call(h.app, method, path, { token: 'A'.repeat(43) }), 401, 'UNAUTHENTICATED');
    expectError(await call(h.app, method, path, { token: revokedToken }), 401, 'UNAUTHENTICATED');
    expectError(await call(h.app, method, path, { headers: { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` } }), 401);
  });

  it('public routes need no token', async () => {
    expect((await call(h.app, 'GET', '/onboarding')).status).toBe(200);
    expect((await call(h.app, 'GET', '/healthz')).status).toBe(200);
    expect((await call(h.app, 'GET', '/openapi.json')).status).toBe(200);
  });
});
