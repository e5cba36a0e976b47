import { index, pgTable, text } from 'drizzle-orm/pg-core';
import { ts } from './_shared.ts';

/**
 * Signatures of the job calls accepted within their window (lib/http/job-replay.ts): one row per
 * accepted call until its timestamp leaves the window, so a replay is refused on any replica.
 */
export const jobSignatures = pgTable(
  'job_signatures',
  {
    signature: text('signature').primaryKey(),
    expiresAt: ts('expires_at').notNull(),
  },
  (t) => [index('job_signatures_expires_idx').on(t.expiresAt)],
);
