import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSecretReconciler, syncPendingKrakenSecrets, type SecretSyncDeps } from '../../lib/accounts/kraken-secret-sync.ts';
import { KubernetesSecretStore } from '../../lib/accounts/kubernetes-secrets.ts';
import { checkKrakenCredentials } from '../../lib/exchange/kraken-credentials.ts';
import { registry } from '../../lib/http/metrics.ts';
import { call, expectError, onboard, type ApiHarness, startApi } from '../helpers/api.ts';
import { fakeKubeConfigOptions, startKubernetesFake, type KubernetesFake } from '../helpers/kubernetes-fake.ts';
import { generateKey, startKrakenEmulator, type KrakenEmulator } from '../kraken-emulator/index.ts';
import { auditOf, everyRowAsText } from './account-config-harness.ts';

/**
 * The cluster path of Kraken keys: they become Kubernetes Secrets, written only after the audited
 * database change commits, by a service account that may create and patch Secrets but never read
 * them (the fake refuses get and list, as the api's Role does). The database keeps a reference, and
 * the sealed key only until the Secret is written; a failed write stays pending, visible, and retried.
 */
const NS = 'aether-test';
const MASTER = Buffer.alloc(32, 7);
let fake: KubernetesFake;
let emu: KrakenEmulator;
const A = generateKey();
const B = generateKey();
const C = generateKey();
const D = generateKey();
const creds = (k: { key: string; secret: string }) => ({ apiKey: k.key, apiSecret: k.secret });

const storeWith = (masterKey: Buffer = MASTER, token?: string) => {
  const kc = new KubeConfig();
  kc.loadFromOptions(fakeKubeConfigOptions(fake, token));
  return new KubernetesSecretStore(kc, NS, masterKey);
};

async function pendingGauge(account: string): Promise<number | undefined> {
  const m = await registry.getSingleMetric('aether_kraken_secret_pending')!.get();
  return m.values.find((v) => v.labels.account === account)?.value;
}

beforeAll(async () => {
  fake = await startKubernetesFake({ verbs: ['create', 'patch'] });
  emu = await startKrakenEmulator({ keys: [A, B, C, D].map((k) => ({ ...k, tier: 'pro' as const, balances: { USD: 1000 } })) });
});
afterAll(async () => {
  await fake?.close();
  await emu?.close();
});

describe('KubernetesSecretStore against the Secrets API (create and patch only)', () => {
  it('creates kraken-<account> with api-key and api-secret in its namespace when it is absent', async () => {
    await storeWith().write('company', creds(A));
    const s = fake.secret(NS, 'kraken-company')!;
    expect(s.data).toEqual({ 'api-key': A.key, 'api-secret': A.secret });
    expect(s.metadata.labels).toMatchObject({ 'aether/account': 'company' });
    expect(fake.secret('default', 'kraken-company')).toBeUndefined();
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`PATCH /api/v1/namespaces/${NS}/secrets/kraken-company`, `POST /api/v1/namespaces/${NS}/secrets`]);
    expect(fake.requests[0]!.contentType).toBe('application/merge-patch+json');
    expect(fake.requests.every((r) => r.authorized)).toBe(true);
    expect(storeWith().ref('company')).toBe(`${NS}/kraken-company`);
  });

  it('patches an existing Secret in place (one request, same identity)', async () => {
    const before = fake.secret(NS, 'kraken-company')!;
    const n = fake.requests.length;
    await storeWith().write('company', creds(B));
    const after = fake.secret(NS, 'kraken-company')!;
    expect(after.data).toEqual({ 'api-key': B.key, 'api-secret': B.secret });
    expect(after.metadata.uid).toBe(before.metadata.uid);
    expect(Number(after.metadata.resourceVersion)).toBeGreaterThan(Number(before.metadata.resourceVersion));
    expect(fake.requests.slice(n).map((r) => r.method)).toEqual(['PATCH']);
  });

  it('fills the empty placeholder the stack deployed', async () => {
    fake.put(NS, 'kraken-director-1');
    await storeWith().write('director-1', creds(C));
    expect(fake.secret(NS, 'kraken-director-1')!.data).toEqual({ 'api-key': C.key, 'api-secret': C.secret });
    expect(fake.requests.at(-1)!.method).toBe('PATCH');
  });

  it('null takes the key out (the Secret stays, so the order function can still mount it); an absent Secret stays absent', async () => {
    fake.put(NS, 'kraken-empty-me', { 'api-key': 'k', 'api-secret': 's', other: 'kept' });
    const uid = fake.secret(NS, 'kraken-empty-me')!.metadata.uid;
    await storeWith().write('empty-me', null);
    expect(fake.secret(NS, 'kraken-empty-me')).toMatchObject({ data: { other: 'kept' }, metadata: { uid } });
    const n = fake.requests.length;
    await storeWith().write('nobody', null);
    expect(fake.secret(NS, 'kraken-nobody')).toBeUndefined();
    expect(fake.requests.slice(n).map((r) => r.method)).toEqual(['PATCH']);
  });

  it('a refused token is an error, nothing written', async () => {
    const n = fake.requests.length;
    await expect(storeWith(MASTER, 'wrong-token').write('director-2', creds(A))).rejects.toMatchObject({ code: 401 });
    expect(fake.requests.slice(n).every((r) => !r.authorized)).toBe(true);
    expect(fake.secret(NS, 'kraken-director-2')).toBeUndefined();
  });

  it('with the Role’s patch alone (no create), an absent Secret is a 403, nothing written: the stack must deploy the placeholder', async () => {
    const strict = await startKubernetesFake({ verbs: ['patch'] });
    try {
      const kc = new KubeConfig();
      kc.loadFromOptions(fakeKubeConfigOptions(strict));
      await expect(new KubernetesSecretStore(kc, NS, MASTER).write('director-3', creds(A))).rejects.toMatchObject({ code: 403 });
      expect(strict.secret(NS, 'kraken-director-3')).toBeUndefined();
      strict.put(NS, 'kraken-director-3');
      await new KubernetesSecretStore(kc, NS, MASTER).write('director-3', creds(A));
      expect(strict.secret(NS, 'kraken-director-3')!.data).toEqual({ 'api-key': A.key, 'api-secret': A.secret });
    } finally {
      await strict.close();
    }
  });

  it('a hung API server ends the write at its time limit (the outbox row must not stay locked)', async () => {
    const kc = new KubeConfig();
    kc.loadFromOptions(fakeKubeConfigOptions(fake));
    fake.stallNext(1);
    const started = performance.now();
    await expect(new KubernetesSecretStore(kc, NS, MASTER, 300).write('company', creds(A))).rejects.toThrow(/abort/i);
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(fake.secret(NS, 'kraken-company')!.data['api-key']).toBe(B.key); // unchanged
  });

  it('the fake enforces the Role: a read is forbidden', async () => {
    const res = await fetch(`${fake.url}/api/v1/namespaces/${NS}/secrets/kraken-company`, { headers: { authorization: `Bearer ${fake.token}` } });
    expect(res.status).toBe(403);
  });
});

describe('Kraken keys through the api in the cluster', () => {
  let h: ApiHarness & { logs: string[] };
  let admin: string;
  let ids: Record<string, string>;
  let deps: SecretSyncDeps;
  const keysOf = async (slug: string) => (await call(h.app, 'GET', `/accounts/${slug}/keys`, { token: admin })).body as { keys: Array<{ keyLast4: string; active: boolean; revokedAt: string | null }>; secret: { state: string; attempts: number; lastError: string | null } | null };
  const sealedRows = async (accountId: string) => (await h.testDb.owner.query<{ n: number }>('select count(*)::int as n from credentials where account_id = $1 and ciphertext is not null', [accountId])).rows[0]!.n;

  beforeAll(async () => {
    h = await startApi((masterKey) => ({ secretStore: storeWith(masterKey), checkCredentials: (c) => checkKrakenCredentials(emu.url, c) }));
    ({ token: admin, accounts: ids } = await onboard(h));
    deps = { db: h.ctx.db, secretStore: h.ctx.secretStore, logger: h.ctx.logger, clock: h.ctx.clock };
  }, 60_000);
  afterAll(async () => {
    await h?.close();
  });

  it('writes the Secret after the commit and keeps only its reference and the fingerprint', async () => {
    const r = await call(h.app, 'POST', '/accounts/director-2/keys', { token: admin, json: creds(B) });
    expect(r.status, r.text).toBe(201);
    expect(r.body).toMatchObject({ storage: 'kubernetes', active: true, keyLast4: B.key.slice(-4), secret: { ref: `${NS}/kraken-director-2`, state: 'written', attempts: 1, lastError: null } });
    expect(fake.secret(NS, 'kraken-director-2')!.data).toEqual({ 'api-key': B.key, 'api-secret': B.secret });
    const { rows } = await h.testDb.owner.query('select storage, ref, ciphertext, fingerprint from credentials where account_id = $1', [ids['director-2']]);
    expect(rows).toEqual([{ storage: 'kubernetes', ref: `${NS}/kraken-director-2`, ciphertext: null, fingerprint: (r.body as { fingerprint: string }).fingerprint }]);
    const [audit] = await auditOf(h.testDb.owner, 'keys.upload', ids['director-2']!);
    expect(audit!.details).toMatchObject({ storage: 'kubernetes', ref: `${NS}/kraken-director-2` });
    expect((await keysOf('director-2')).secret).toMatchObject({ state: 'written' });
  });

  it('a Secret write that fails after the commit: stored and audited, pending with its error, logged, counted — then reconciled', async () => {
    fake.failNext(3); // the request's three attempts
    const r = await call(h.app, 'POST', '/accounts/company/keys', { token: admin, json: creds(C) });
    expect(r.status, r.text).toBe(202);
    expect(r.body).toMatchObject({ active: true, secret: { state: 'pending', attempts: 3, lastError: 'Kubernetes API 503 ServiceUnavailable: the server is currently unable to handle the request' } });
    // Consistent and recoverable: the audited row exists, the key is sealed in it until the Secret holds it.
    expect(fake.secret(NS, 'kraken-company')?.data['api-key']).not.toBe(C.key);
    expect(await sealedRows(ids.company!)).toBe(1);
    expect((await auditOf(h.testDb.owner, 'keys.upload', ids.company!)).length).toBe(1);
    expect(h.logs.some((l) => l.includes('kraken key Secret write failed') && l.includes('"level":50'))).toBe(true);
    expect(await pendingGauge('company')).toBe(1);

    expect(await syncPendingKrakenSecrets(deps)).toBe(0);
    expect(fake.secret(NS, 'kraken-company')!.data).toEqual({ 'api-key': C.key, 'api-secret': C.secret });
    expect(await sealedRows(ids.company!)).toBe(0); // the Secret is the store now
    expect((await keysOf('company')).secret).toMatchObject({ state: 'written', attempts: 4, lastError: null });
    expect(await pendingGauge('company')).toBe(0);
  });

  it('going live waits for the Secret: pending → 409 SECRET_PENDING; written → live (checked at upload: the api never reads the Secret)', async () => {
    const live = { enabled: false, confirm: 'LIVE director-1' };
    fake.failNext(4);
    expect((await call(h.app, 'POST', '/accounts/director-1/keys', { token: admin, json: creds(D) })).status).toBe(202);
    const r = await call(h.app, 'POST', '/accounts/director-1/simulation', { token: admin, json: live });
    expectError(r, 409, 'SECRET_PENDING');
    expect(r.text).toContain('503');
    const calls = emu.privateCalls(D.key);
    const ok = await call(h.app, 'POST', '/accounts/director-1/simulation', { token: admin, json: live }); // the route retries the write first
    expect(ok.status, ok.text).toBe(200);
    expect(fake.secret(NS, 'kraken-director-1')!.data).toEqual({ 'api-key': D.key, 'api-secret': D.secret });
    expect(emu.privateCalls(D.key)).toBe(calls);
  });

  it('revoking a live account’s key empties its Secret, keeps no key material, switches it to simulation — all audited', async () => {
    const r = await call(h.app, 'DELETE', '/accounts/director-1/keys', { token: admin });
    expect(r.status, r.text).toBe(200);
    expect(r.body).toMatchObject({ toSimulation: true, revoked: { keyLast4: D.key.slice(-4), active: false, revokedAt: expect.any(String) }, secret: { state: 'written' } });
    expect(fake.secret(NS, 'kraken-director-1')!.data).toEqual({});
    expect(await sealedRows(ids['director-1']!)).toBe(0);
    expect((await auditOf(h.testDb.owner, 'keys.revoke', ids['director-1']!))[0]!.details).toMatchObject({ last4: D.key.slice(-4), storage: 'kubernetes', ref: `${NS}/kraken-director-1` });
    expect((await auditOf(h.testDb.owner, 'settings.simulation', ids['director-1']!))[0]!.details).toMatchObject({ after: { enabled: true } });
  });

  it('a revocation whose Secret write fails is retried by the reconciler until the Secret is empty', async () => {
    fake.failNext(3);
    const r = await call(h.app, 'DELETE', '/accounts/director-2/keys', { token: admin });
    expect(r.status, r.text).toBe(202);
    expect(r.body).toMatchObject({ toSimulation: false, secret: { state: 'pending' } });
    expect(fake.secret(NS, 'kraken-director-2')!.data['api-key']).toBe(B.key); // not yet: visible as pending
    expect(await pendingGauge('director-2')).toBe(1);
    fake.failNext(1); // the reconciler's first run fails too
    const stop = startSecretReconciler(deps, 50);
    try {
      await expect.poll(async () => (await keysOf('director-2')).secret?.state, { timeout: 5_000 }).toBe('written');
    } finally {
      await stop();
    }
    expect(fake.secret(NS, 'kraken-director-2')!.data).toEqual({});
    expect((await keysOf('director-2')).secret!.attempts).toBeGreaterThanOrEqual(5);
  });

  it('never read a Secret: every request but the test’s own forbidden probe was a patch or a create', () => {
    const others = fake.requests.filter((r) => r.method !== 'PATCH' && r.method !== 'POST');
    expect(others.map((r) => `${r.method} ${r.path}`)).toEqual([`GET /api/v1/namespaces/${NS}/secrets/kraken-company`]);
  });

  it('no key or secret in any column of any table, nor in any log line', async () => {
    const leaks = (await everyRowAsText(h.testDb.owner)).filter((r) => [A, B, C, D].some((k) => r.row.includes(k.key) || r.row.includes(k.secret)));
    expect(leaks).toEqual([]);
    expect(h.logs.some((l) => l.includes('"route":"/accounts/:account/keys"'))).toBe(true); // the capture works
    for (const l of h.logs) for (const k of [A, B, C, D]) for (const s of [k.key, k.secret]) expect(l).not.toContain(s);
  });
});
