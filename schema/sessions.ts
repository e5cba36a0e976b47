import { index, integer, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { createdAt, ts } from './_shared.ts';
import { users } from './users.ts';

/** Login sessions: the bearer token is random and only its sha256 is stored. */
export const sessions = pgTable(
  'sessions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    tokenHash: text('token_hash').notNull().unique(),
    createdAt: createdAt(),
    expiresAt: ts('expires_at').notNull(),
    revokedAt: ts('revoked_at'),
    /** Until when this session may take step-up actions (a fresh TOTP code was given at login or POST /auth/step-up). */
    stepUpUntil: ts('step_up_until'),
  },
  (t) => [index('sessions_user_idx').on(t.userId)],
);

/**
 * Login backoff, one row per throttled key (`email:<address>` or `ip:<address>`), persisted so a
 * restart does not reset it. Rows exist only for keys with recent failures (older ones are purged).
 */
export const loginThrottle = pgTable(
  'login_throttle',
  {
    key: text('key').primaryKey(),
    failures: integer('failures').notNull(),
    lastFailureAt: ts('last_failure_at').notNull(),
    blockedUntil: ts('blocked_until').notNull(),
  },
  (t) => [index('login_throttle_last_failure_idx').on(t.lastFailureAt)],
);

/** The one-time token printed on first start; it authorises creating the first admin. */
export const onboardingTokens = pgTable('onboarding_tokens', {
  id: uuid('id').primaryKey().defaultRandom(),
  tokenHash: text('token_hash').notNull().unique(),
  createdAt: createdAt(),
  usedAt: ts('used_at'),
});
