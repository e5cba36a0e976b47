import { bigint, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { createdAt, ts } from './_shared.ts';

/** A person. `role` admin = a director: full management of every account; viewer = read-only on memberships. */
export const users = pgTable('users', {
  id: uuid('id').primaryKey().defaultRandom(),
  email: text('email').notNull().unique(),
  name: text('name').notNull(),
  role: text('role', { enum: ['admin', 'viewer'] }).notNull(),
  passwordHash: text('password_hash').notNull(),
  /** TOTP secret, AES-256-GCM encrypted under the master key (never plaintext). */
  totpSecretEnc: text('totp_secret_enc'),
  /** The last accepted TOTP time step: a code is never accepted twice. */
  totpLastStep: bigint('totp_last_step', { mode: 'number' }),
  disabledAt: ts('disabled_at'),
  createdAt: createdAt(),
});
