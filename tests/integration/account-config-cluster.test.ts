import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubernetesSecretStore } from '../../lib/accounts/kubernetes-secrets.ts';
import { checkKrakenCredentials } from '../../lib/exchange/kraken-credentials.ts';
import { call, expectError, onboard, rowCounts, type ApiHarness, startApi } from '../helpers/api.ts';
import { fakeKubeConfigOptions, startKubernetesFake, type KubernetesFake } from '../helpers/kubernetes-fake.ts';
import { generateKey, startKrakenEmulator, type KrakenEmulator } from '../kraken-emulator/index.ts';
import { auditOf, everyRowAsText } from './account-config-harness.ts';

/** The cluster path of key upload: Kraken keys become Kubernetes Secrets; the database keeps a reference only. */
const NS = 'aether-test';
let fake: KubernetesFake;
let emu: KrakenEmulator;
const A = generateKey();
const B = generateKey();
const C = generateKey();
const creds = (k: { key: string; secret: string }) => ({ apiKey: k.key, apiSecret: k.secret });

const storeWith = (token?: string) => {
  const kc = new KubeConfig();
  kc.loadFromOptions(fakeKubeConfigOptions(fake, token));
  return new KubernetesSecretStore(kc, NS);
};

beforeAll(async () => {
  fake = await startKubernetesFake();
  emu = await startKrakenEmulator({ keys: [A, B, C].map((k) => ({ ...k, tier: 'pro' as const, balances: { USD: 1000 } })) });
});
afterAll(async () => {
  await fake?.close();
  await emu?.close();
});

describe('KubernetesSecretStore against the Secrets API', () => {
  it('creates kraken-<account> with api-key and api-secret in its namespace', async () => {
    const stored = await storeWith().put('company', creds(A));
    expect(stored).toEqual({ storage: 'kubernetes', ref: `${NS}/kraken-company`, ciphertext: null });
    const s = fake.secret(NS, 'kraken-company')!;
    expect(s.data).toEqual({ 'api-key': A.key, 'api-secret': A.secret });
    expect(s.metadata.labels).toMatchObject({ 'aether/account': 'company' });
    expect(fake.secret('default', 'kraken-company')).toBeUndefined();
    const writes = fake.requests.filter((r) => r.method !== 'GET');
    expect(writes.map((r) => `${r.method} ${r.path}`)).toEqual([`POST /api/v1/namespaces/${NS}/secrets`]);
    expect(fake.requests.every((r) => r.authorized)).toBe(true);
  });

  it('replaces an existing secret (with its resourceVersion), keeping its identity', async () => {
    const before = fake.secret(NS, 'kraken-company')!;
    await storeWith().put('company', creds(B));
    const after = fake.secret(NS, 'kraken-company')!;
    expect(after.data).toEqual({ 'api-key': B.key, 'api-secret': B.secret });
    expect(after.metadata.uid).toBe(before.metadata.uid);
    expect(Number(after.metadata.resourceVersion)).toBeGreaterThan(Number(before.metadata.resourceVersion));
    expect(fake.requests.at(-1)).toMatchObject({ method: 'PUT', path: `/api/v1/namespaces/${NS}/secrets/kraken-company` });
  });

  it('fills the empty placeholder the stack deployed', async () => {
    fake.put(NS, 'kraken-director-1');
    await storeWith().put('director-1', creds(C));
    expect(fake.secret(NS, 'kraken-director-1')!.data).toEqual({ 'api-key': C.key, 'api-secret': C.secret });
    expect(fake.requests.at(-1)!.method).toBe('PUT');
  });

  it('reads the keys back for the checks before going live, and says so when the Secret is empty', async () => {
    expect(await storeWith().get(null as never, { slug: 'director-1' })).toEqual(creds(C));
    fake.put(NS, 'kraken-empty');
    await expect(storeWith().get(null as never, { slug: 'empty' })).rejects.toThrow(/holds no Kraken key/);
    await expect(storeWith().get(null as never, { slug: 'nobody' })).rejects.toThrow(/holds no Kraken key/);
  });

  it('a refused token is an error, nothing written', async () => {
    const n = fake.requests.length;
    await expect(storeWith('wrong-token').put('director-2', creds(A))).rejects.toMatchObject({ code: 401 });
    expect(fake.requests.slice(n).every((r) => !r.authorized)).toBe(true);
    expect(fake.secret(NS, 'kraken-director-2')).toBeUndefined();
  });
});

describe('POST /accounts/{account}/keys in the cluster', () => {
  let h: ApiHarness & { logs: string[] };
  let admin: string;
  let ids: Record<string, string>;

  beforeAll(async () => {
    h = await startApi(() => ({ secretStore: storeWith(), checkCredentials: (c) => checkKrakenCredentials(emu.url, c) }));
    ({ token: admin, accounts: ids } = await onboard(h));
  }, 60_000);
  afterAll(async () => {
    await h?.close();
  });

  it('writes the Secret and stores only its reference and the fingerprint', async () => {
    const r = await call(h.app, 'POST', '/accounts/director-2/keys', { token: admin, json: creds(B) });
    expect(r.status, r.text).toBe(201);
    expect(r.body).toMatchObject({ storage: 'kubernetes', active: true, keyLast4: B.key.slice(-4) });
    expect(fake.secret(NS, 'kraken-director-2')!.data).toEqual({ 'api-key': B.key, 'api-secret': B.secret });
    const { rows } = await h.testDb.owner.query('select storage, ref, ciphertext, fingerprint from credentials where account_id = $1', [ids['director-2']]);
    expect(rows).toEqual([{ storage: 'kubernetes', ref: `${NS}/kraken-director-2`, ciphertext: null, fingerprint: (r.body as { fingerprint: string }).fingerprint }]);
    const [audit] = await auditOf(h.testDb.owner, 'keys.upload', ids['director-2']!);
    expect(audit!.details).toMatchObject({ storage: 'kubernetes', ref: `${NS}/kraken-director-2` });
  });

  it('when the Kubernetes API refuses, the upload fails whole: no row, no audit', async () => {
    const broken = await startApi(() => ({ secretStore: storeWith('expired-token'), checkCredentials: (c) => checkKrakenCredentials(emu.url, c) }));
    try {
      const { token } = await onboard(broken);
      const before = await rowCounts(broken);
      expectError(await call(broken.app, 'POST', '/accounts/company/keys', { token, json: creds(C) }), 500, 'INTERNAL');
      expect(await rowCounts(broken)).toEqual(before);
      expect(broken.logs.some((l) => l.includes('unhandled error'))).toBe(true);
      for (const l of broken.logs) for (const s of [C.key, C.secret]) expect(l).not.toContain(s);
    } finally {
      await broken.close();
    }
  });

  it('no key or secret in any column of any table, nor in any log line', async () => {
    const leaks = (await everyRowAsText(h.testDb.owner)).filter((r) => [A, B, C].some((k) => r.row.includes(k.key) || r.row.includes(k.secret)));
    expect(leaks).toEqual([]);
    expect(h.logs.some((l) => l.includes('"route":"/accounts/:account/keys"'))).toBe(true); // the capture works
    for (const l of h.logs) for (const k of [A, B, C]) for (const s of [k.key, k.secret]) expect(l).not.toContain(s);
  });
});
