import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { and, desc, eq } from 'drizzle-orm';
import { z } from 'zod';
import { credentials } from '../../schema/index.ts';
import { appendAudit } from '../audit/index.ts';
import type { Clock } from '../clock.ts';
import type { Tx } from '../db/client.ts';
import { decryptSecret, encryptSecret, fingerprint, last4 } from './secrets.ts';

/** A Kraken API key pair. The secret is the base64 private key Kraken shows once. */
export const krakenCredentialsSchema = z
  .object({
    apiKey: z.string().regex(/^[A-Za-z0-9+/=_-]{16,128}$/, 'must look like a Kraken API key'),
    apiSecret: z
      .string()
      .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'must be the base64 private key')
      .refine((s) => Buffer.from(s, 'base64').length >= 32, 'must decode to at least 32 bytes'),
  })
  .strict();
export type KrakenCredentials = z.infer<typeof krakenCredentialsSchema>;

/** The Kubernetes Secret keys; OpenFaaS mounts them as files of these names in the order function. */
export const SECRET_KEYS = { apiKey: 'api-key', apiSecret: 'api-secret' } as const;
export const krakenSecretName = (accountSlug: string): string => `kraken-${accountSlug}`;

export interface StoredSecret {
  storage: 'kubernetes' | 'encrypted';
  ref: string | null;
  ciphertext: string | null;
}

/** Where key material goes: a Kubernetes Secret (cluster) or AES-256-GCM ciphertext (embedded). */
export interface SecretStore {
  put(accountSlug: string, creds: KrakenCredentials): Promise<StoredSecret>;
  /** The account's stored keys, for the checks before going live (call inside the account's scope). */
  get(tx: Tx, account: { id: string; slug: string }): Promise<KrakenCredentials>;
}

export class EncryptedSecretStore implements SecretStore {
  constructor(private readonly masterKey: Buffer) {}
  async put(_slug: string, creds: KrakenCredentials): Promise<StoredSecret> {
    return { storage: 'encrypted', ref: null, ciphertext: encryptSecret(this.masterKey, JSON.stringify(creds)) };
  }
  get(tx: Tx, account: { id: string }): Promise<KrakenCredentials> {
    return loadCredentials(tx, account.id, { mode: 'embedded', secretsDir: '', masterKey: this.masterKey });
  }
}

export interface CredentialSummary {
  fingerprint: string;
  keyLast4: string;
  storage: 'kubernetes' | 'encrypted';
  active: boolean;
  createdAt: Date;
}

/** Stores new keys for the transaction's account, retires the previous ones, audits a fingerprint only. */
export async function saveCredentials(
  tx: Tx,
  account: { id: string; slug: string },
  creds: KrakenCredentials,
  store: SecretStore,
  actor: string | null,
  clock: Clock,
): Promise<CredentialSummary> {
  const stored = await store.put(account.slug, creds);
  await tx.update(credentials).set({ active: false }).where(and(eq(credentials.accountId, account.id), eq(credentials.active, true)));
  const [row] = await tx
    .insert(credentials)
    .values({
      accountId: account.id,
      provider: 'kraken',
      ...stored,
      fingerprint: fingerprint(creds.apiKey),
      keyLast4: last4(creds.apiKey),
      createdBy: actor,
      createdAt: new Date(clock.now()),
    })
    .returning();
  await appendAudit(tx, { action: 'keys.upload', userId: actor, accountId: account.id, details: { fingerprint: row!.fingerprint, last4: row!.keyLast4, storage: stored.storage, ref: stored.ref } }, clock);
  return summary(row!);
}

const summary = (r: typeof credentials.$inferSelect): CredentialSummary => ({
  fingerprint: r.fingerprint,
  keyLast4: r.keyLast4,
  storage: r.storage,
  active: r.active,
  createdAt: r.createdAt,
});

export async function listCredentials(tx: Tx, accountId: string): Promise<CredentialSummary[]> {
  // Newest first; within one timestamp (two uploads in one millisecond) the active key leads.
  return (await tx.select().from(credentials).where(eq(credentials.accountId, accountId)).orderBy(desc(credentials.createdAt), desc(credentials.active))).map(summary);
}

export class MissingCredentialsError extends Error {
  override name = 'MissingCredentialsError';
}

/**
 * The account's active keys, for the one place that needs them (the live broker). Cluster: the files
 * OpenFaaS mounted from `kraken-<account>`; embedded: the active row's ciphertext.
 */
export async function loadCredentials(
  tx: Tx,
  accountId: string,
  source: { mode: 'embedded' | 'cluster'; secretsDir: string; masterKey: Buffer },
): Promise<KrakenCredentials> {
  if (source.mode === 'cluster') {
    const files = [SECRET_KEYS.apiKey, SECRET_KEYS.apiSecret].map((k) => join(source.secretsDir, k));
    if (!files.every((f) => existsSync(f) && readFileSync(f, 'utf8').trim()))
      throw new MissingCredentialsError(`no Kraken key mounted in ${source.secretsDir} (secret kraken-<account> is empty)`);
    const [apiKey, apiSecret] = files.map((f) => readFileSync(f, 'utf8').trim()) as [string, string];
    return krakenCredentialsSchema.parse({ apiKey, apiSecret });
  }
  const [row] = await tx
    .select()
    .from(credentials)
    .where(and(eq(credentials.accountId, accountId), eq(credentials.active, true)))
    .orderBy(desc(credentials.createdAt))
    .limit(1);
  if (!row?.ciphertext) throw new MissingCredentialsError('this account has no Kraken key stored');
  return krakenCredentialsSchema.parse(JSON.parse(decryptSecret(source.masterKey, row.ciphertext)));
}
