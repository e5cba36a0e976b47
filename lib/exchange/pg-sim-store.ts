import { and, eq } from 'drizzle-orm';
import { simState } from '../../schema/index.ts';
import type { Db } from '../db/client.ts';
import { withAccount } from '../db/scope.ts';
import { SimStateConflictError, type SimState, type SimStateStore } from './sim-types.ts';

/** SimBroker state in PostgreSQL, one row per account (row-level security), optimistic by version. */
export class PgSimStateStore implements SimStateStore {
  constructor(private readonly db: Db) {}

  async load(accountId: string): Promise<SimState | null> {
    return withAccount(this.db, accountId, async (tx) => {
      const [row] = await tx.select().from(simState).where(eq(simState.accountId, accountId)).limit(1);
      return row ? (row.state as SimState) : null;
    });
  }

  async save(accountId: string, state: SimState, expectedVersion: number): Promise<void> {
    await withAccount(this.db, accountId, async (tx) => {
      if (expectedVersion === 0) {
        const inserted = await tx.insert(simState).values({ accountId, version: state.version, state }).onConflictDoNothing().returning({ v: simState.version });
        if (inserted.length === 1) return;
      } else {
        const updated = await tx
          .update(simState)
          .set({ version: state.version, state, updatedAt: new Date() })
          .where(and(eq(simState.accountId, accountId), eq(simState.version, expectedVersion)))
          .returning({ v: simState.version });
        if (updated.length === 1) return;
      }
      const [current] = await tx.select({ v: simState.version }).from(simState).where(eq(simState.accountId, accountId));
      throw new SimStateConflictError(accountId, expectedVersion, current?.v ?? null);
    });
  }
}
