import { boolean, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { accountId, accountIsolation, createdAt } from './_shared.ts';
import { users } from './users.ts';

/**
 * Where an account's Kraken key lives — never the key itself in plaintext. Cluster: a Kubernetes
 * Secret (`ref` is its name). Embedded: `ciphertext` is AES-256-GCM under the master key.
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
  },
  () => [accountIsolation('credentials')],
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
