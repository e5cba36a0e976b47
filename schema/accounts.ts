import { sql } from 'drizzle-orm';
import { check, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { createdAt } from './_columns.ts';

/** A trading account (company, director-1, director-2, … — adding one is a row, not code). */
export const accounts = pgTable(
  'accounts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    slug: text('slug').notNull().unique(),
    name: text('name').notNull(),
    kind: text('kind', { enum: ['company', 'director', 'other'] }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [check('accounts_slug_format', sql`${t.slug} ~ '^[a-z0-9][a-z0-9-]{0,39}$'`)],
);
