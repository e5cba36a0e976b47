import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { and, desc, eq, isNotNull, or } from 'drizzle-orm';
import type { z } from 'zod';
import { credentials, krakenSecretSync } from '../../schema/index.ts';
import { appendAudit } from '../audit/index.ts';
import type { Clock } from '../clock.ts';
import type { Tx } from '../db/client.ts';
import { krakenCredentialsSchema } from './key-format.ts';
import { decryptSecret, encryptSecret, fingerprint, last4, sealedAad } from './secrets.ts';
import { latestSettings, putSettings } from './settings.ts';

/** A Kraken API key pair. The secret is the base64 private key Kraken shows once. */
export { krakenCredentialsSchema };
export type KrakenCredentials = z.infer<typeof krakenCredentialsSchema>;

/** The Kubernetes Secret keys; OpenFaaS mounts them as files of these names in the order function. */
export const SECRET_KEYS = { apiKey: 'api-key', apiSecret: 'api-secret' } as const;
export const krakenSecretName = (accountSlug: string): string => `kraken-${accountSlug}`;

/** Writes key material outside the database. It never reads it back: the api may write Secrets, not read them. */
export interface KeySecretWriter {
  /** `namespace/name` of the account's Secret. */
  ref(accountSlug: string): string;
  /** Puts the key into the account's Secret, or (null) takes it out. */
  write(accountSlug: string, creds: KrakenCredentials | null): Promise<void>;
}

/**
 * Where uploaded keys are kept. Embedded: sealed in the credentials row. Cluster: the Kubernetes
 * Secret, written after the audited database change commits (`secrets`); the row holds the sealed
 * key only until then.
 */
export interface SecretStore {
  readonly storage: 'kubernetes' | 'encrypted';
  /** Seals key material at rest, bound to its row. */
  readonly masterKey: Buffer;
  /** The cluster's Secret writer; null where the sealed row is the store. */
  readonly secrets: KeySecretWriter | null;
}

export class EncryptedSecretStore implements SecretStore {
  readonly storage = 'encrypted';
  readonly secrets = null;
  constructor(readonly masterKey: Buffer) {}
}

export type CredentialRow = typeof credentials.$inferSelect;

export interface CredentialSummary {
  fingerprint: string;
  keyLast4: string;
  storage: 'kubernetes' | 'encrypted';
  active: boolean;
  createdAt: Date;
  revokedAt: Date | null;
}

const summary = (r: CredentialRow): CredentialSummary => ({
  fingerprint: r.fingerprint,
  keyLast4: r.keyLast4,
  storage: r.storage,
  active: r.active,
  createdAt: r.createdAt,
  revokedAt: r.revokedAt,
});

const seal = (masterKey: Buffer, row: { id: string; accountId: string }, creds: KrakenCredentials): string =>
  encryptSecret(masterKey, JSON.stringify(creds), sealedAad.credentials(row.accountId, row.id));

/** The key sealed in a credentials row; it opens only in the row it was sealed for. */
export const unsealCredentials = (masterKey: Buffer, row: Pick<CredentialRow, 'id' | 'accountId'> & { ciphertext: string }): KrakenCredentials =>
  krakenCredentialsSchema.parse(JSON.parse(decryptSecret(masterKey, row.ciphertext, sealedAad.credentials(row.accountId, row.id))));

/**
 * Stores new keys for the transaction's account, retires the previous ones (and wipes their sealed
 * copies: a retired key is never used again), audits a fingerprint only. In the cluster the Secret
 * write is queued (`kraken_secret_sync`) and made by `syncKrakenSecret` once this transaction commits.
 */
export async function saveCredentials(
  tx: Tx,
  account: { id: string; slug: string },
  creds: KrakenCredentials,
  store: SecretStore,
  actor: string | null,
  clock: Clock,
): Promise<CredentialSummary> {
  await tx
    .update(credentials)
    .set({ active: false, ciphertext: null })
    .where(and(eq(credentials.accountId, account.id), or(eq(credentials.active, true), isNotNull(credentials.ciphertext))));
  const id = randomUUID();
  const ref = store.secrets?.ref(account.slug) ?? null;
  const [row] = await tx
    .insert(credentials)
    .values({
      id,
      accountId: account.id,
      provider: 'kraken',
      storage: store.storage,
      ref,
      ciphertext: seal(store.masterKey, { id, accountId: account.id }, creds),
      fingerprint: fingerprint(creds.apiKey),
      keyLast4: last4(creds.apiKey),
      createdBy: actor,
      createdAt: new Date(clock.now()),
    })
    .returning();
  if (store.secrets) await markSecretPending(tx, account.id, clock);
  await appendAudit(tx, { action: 'keys.upload', userId: actor, accountId: account.id, details: { fingerprint: row!.fingerprint, last4: row!.keyLast4, storage: store.storage, ref } }, clock);
  return summary(row!);
}

/** Queues the write of the account's Secret (cluster): it must now hold what this transaction leaves in the database. */
async function markSecretPending(tx: Tx, accountId: string, clock: Clock): Promise<void> {
  const pending = { state: 'pending' as const, attempts: 0, lastError: null, updatedAt: new Date(clock.now()) };
  await tx.insert(krakenSecretSync).values({ accountId, ...pending }).onConflictDoUpdate({ target: krakenSecretSync.accountId, set: pending });
}

export class NoActiveKeyError extends Error {
  override name = 'NoActiveKeyError';
}

/**
 * Revokes the account's active key: no sealed copy of any of its keys stays in the database, the
 * row keeps its fingerprint with who revoked it and when, audited. A live account cannot trade
 * without its key, so it is switched back to simulation in the same transaction (audited like any
 * switch). In the cluster the Secret is emptied once this commits (`syncKrakenSecret`).
 */
export async function revokeCredentials(
  tx: Tx,
  account: { id: string; slug: string },
  store: SecretStore,
  actor: string | null,
  clock: Clock,
): Promise<{ revoked: CredentialSummary; toSimulation: boolean }> {
  const active = await activeCredential(tx, account.id);
  if (!active) throw new NoActiveKeyError(`${account.slug} has no active Kraken key to revoke`);
  const now = new Date(clock.now());
  const [row] = await tx.update(credentials).set({ active: false, ciphertext: null, revokedAt: now, revokedBy: actor }).where(eq(credentials.id, active.id)).returning();
  await tx.update(credentials).set({ ciphertext: null }).where(and(eq(credentials.accountId, account.id), isNotNull(credentials.ciphertext)));
  if (store.secrets) await markSecretPending(tx, account.id, clock);
  await appendAudit(tx, { action: 'keys.revoke', userId: actor, accountId: account.id, details: { fingerprint: row!.fingerprint, last4: row!.keyLast4, storage: row!.storage, ref: row!.ref } }, clock);
  const sim = await latestSettings(tx, account.id, 'simulation');
  const toSimulation = !sim.value.enabled;
  if (toSimulation) await putSettings(tx, account.id, 'simulation', { ...sim.value, enabled: true }, actor, clock);
  return { revoked: summary(row!), toSimulation };
}

/** The account's active (neither retired nor revoked) key row, or null. */
export async function activeCredential(tx: Tx, accountId: string): Promise<CredentialRow | null> {
  const [row] = await tx
    .select()
    .from(credentials)
    .where(and(eq(credentials.accountId, accountId), eq(credentials.active, true)))
    .orderBy(desc(credentials.createdAt))
    .limit(1);
  return row ?? null;
}

export async function listCredentials(tx: Tx, accountId: string): Promise<CredentialSummary[]> {
  // Newest first; within one timestamp (two uploads in one millisecond) the active key leads.
  return (await tx.select().from(credentials).where(eq(credentials.accountId, accountId)).orderBy(desc(credentials.createdAt), desc(credentials.active))).map(summary);
}

export class MissingCredentialsError extends Error {
  override name = 'MissingCredentialsError';
}

/**
 * The account's active keys, for the one place that needs them (the live broker). Cluster: the files
 * OpenFaaS mounted from `kraken-<account>`; embedded: the active row's sealed key.
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
  const row = await activeCredential(tx, accountId);
  if (!row?.ciphertext) throw new MissingCredentialsError('this account has no Kraken key stored');
  return unsealCredentials(source.masterKey, { ...row, ciphertext: row.ciphertext });
}
