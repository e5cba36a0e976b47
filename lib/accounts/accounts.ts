import { asc, eq } from 'drizzle-orm';
import { z } from 'zod';
import { accounts } from '../../schema/index.ts';
import { appendAudit } from '../audit/index.ts';
import type { Clock } from '../clock.ts';
import type { Db, Tx } from '../db/client.ts';

export type Account = typeof accounts.$inferSelect;

export const accountInputSchema = z
  .object({
    slug: z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'lowercase letters, digits and dashes, at most 40'),
    name: z.string().trim().min(1).max(100),
    kind: z.enum(['company', 'director', 'other']),
  })
  .strict();
export type AccountInput = z.infer<typeof accountInputSchema>;

/** The three accounts the product starts with. More are rows, not code. */
export const DEFAULT_ACCOUNTS: AccountInput[] = [
  { slug: 'company', name: 'Company', kind: 'company' },
  { slug: 'director-1', name: 'Director 1', kind: 'director' },
  { slug: 'director-2', name: 'Director 2', kind: 'director' },
];

export class AccountExistsError extends Error {
  override name = 'AccountExistsError';
}

export async function createAccount(tx: Tx, input: AccountInput, actor: string | null, clock: Clock): Promise<Account> {
  const valid = accountInputSchema.parse(input);
  const [row] = await tx.insert(accounts).values(valid).onConflictDoNothing({ target: accounts.slug }).returning();
  if (!row) throw new AccountExistsError(`account ${valid.slug} already exists`);
  await appendAudit(tx, { action: 'account.create', userId: actor, accountId: row.id, details: { ...valid } }, clock);
  return row;
}

export const listAccounts = (db: Db | Tx): Promise<Account[]> => db.select().from(accounts).orderBy(asc(accounts.createdAt), asc(accounts.slug));

export async function findAccount(db: Db | Tx, idOrSlug: string): Promise<Account | null> {
  const col = z.uuid().safeParse(idOrSlug).success ? accounts.id : accounts.slug;
  const [row] = await db.select().from(accounts).where(eq(col, idOrSlug)).limit(1);
  return row ?? null;
}
