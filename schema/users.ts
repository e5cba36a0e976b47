import { bigint, boolean, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { createdAt, ts } from './_shared.ts';

/** A person. `role` admin = a director: full management of every account; viewer = read-only on memberships. */
export const users = pgTable('users', {
  id: uuid('id').primaryKey().defaultRandom(),
  email: text('email').notNull().unique(),
  name: text('name').notNull(),
  role: text('role', { enum: ['admin', 'viewer'] }).notNull(),
  /** argon2id; null while an invited admin has not accepted the invite (such a user cannot log in). */
  passwordHash: text('password_hash'),
  /** Set by an admin's password reset: the user's sessions may only change the password. */
  mustChangePassword: boolean('must_change_password').notNull().default(false),
  /** TOTP secret, AES-256-GCM encrypted under the master key (never plaintext). */
  totpSecretEnc: text('totp_secret_enc'),
  /** A re-enrolment in progress: the new secret, encrypted, until a code from it confirms it. */
  totpPendingEnc: text('totp_pending_enc'),
  /** The last accepted TOTP time step: a code is never accepted twice. */
  totpLastStep: bigint('totp_last_step', { mode: 'number' }),
  /** An admin invite: sha256 of the single-use token and its expiry (both cleared when accepted). */
  inviteTokenHash: text('invite_token_hash').unique(),
  inviteExpiresAt: ts('invite_expires_at'),
  disabledAt: ts('disabled_at'),
  createdAt: createdAt(),
});
