import { numeric, timestamp } from 'drizzle-orm/pg-core';

// Column helpers that depend on no table, so accounts.ts can use them without an import cycle
// through _shared.ts (which references accounts): a cycle's evaluation order is the importer's
// choice, and the bundled build (bin/build.js) chose the other one.

/** Exact decimals for money and quantities; drizzle hands them over as strings. */
export const decimal = (name: string) => numeric(name);

export const ts = (name: string) => timestamp(name, { withTimezone: true, precision: 3 });
export const createdAt = () => ts('created_at').notNull().defaultNow();
