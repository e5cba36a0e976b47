import { boolean, integer, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { accountId, accountIsolation, createdAt, ts } from './_shared.ts';
import { users } from './users.ts';

/**
 * Where an account's Kraken key lives — never the key itself in plaintext. `ciphertext` is the key
 * sealed (AES-256-GCM, v2) under the master key and bound to this row (`credentials:<account>:<id>`).
 * Embedded: the sealed row is the store. Cluster: the Kubernetes Secret `ref` is the store; the sealed
 * copy stays only until the Secret is written (see `kraken_secret_sync`), then it is wiped. Retired
 * and revoked rows keep their fingerprint as history, never key material.
 */
export const credentials = pgTable(
  'credentials',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    accountId: accountId(),
    provider: text('provider', { enum: ['kraken'] }).notNull(),
    storage: text('storage', { enum: ['kubernetes', 'encrypted'] }).notNull(),
    ref: text('ref'),
    ciphertext: text('ciphertext'),
    fingerprint: text('fingerprint').notNull(),
    keyLast4: text('key_last4').notNull(),
    active: boolean('active').notNull().default(true),
    createdBy: uuid('created_by').references(() => users.id),
    createdAt: createdAt(),
    revokedAt: ts('revoked_at'),
    revokedBy: uuid('revoked_by').references(() => users.id),
  },
  () => [accountIsolation('credentials')],
);

/**
 * The outbox of Kubernetes Secret writes (cluster): `pending` from the audited key change (upload,
 * revocation) until `kraken-<account>` holds what the database says — the active key, or nothing.
 * Written only after the change commits; a failed write stays pending with its error and is retried.
 */
export const krakenSecretSync = pgTable(
  'kraken_secret_sync',
  {
    accountId: accountId().primaryKey(),
    state: text('state', { enum: ['pending', 'written'] }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    updatedAt: ts('updated_at').notNull(),
  },
  () => [accountIsolation('kraken_secret_sync')],
);

/** The last Kraken nonce used per account key, so nonces stay strictly increasing across restarts. */
export const krakenNonces = pgTable(
  'kraken_nonces',
  {
    accountId: accountId().primaryKey(),
    lastNonce: text('last_nonce').notNull(),
  },
  () => [accountIsolation('kraken_nonces')],
);
