/**
 * Strictly increasing Kraken nonces per key, across restarts (DESIGN.md §5). A process reserves a
 * block of nonces by raising a persisted high-water mark, then hands them out from memory; a new
 * process starts above the stored mark, so a restart (or a clock that went backwards) never reuses
 * one. ccxt reads the nonce synchronously inside `sign()`, so callers `await ensure()` first.
 */
import { sql } from 'drizzle-orm';
import type { Clock } from '../clock.ts';
import { rowsOf, type Db } from '../db/client.ts';
import { withAccount } from '../db/scope.ts';

export interface NonceStore {
  /**
   * Atomically raises the account's mark to max(stored, floor) + size and returns the block of
   * `size` nonces just above the previous max(stored, floor): [from, to], to being the new mark.
   */
  reserve(accountId: string, floor: bigint, size: bigint): Promise<{ from: bigint; to: bigint }>;
}

/** PostgreSQL store on `kraken_nonces` (one row per account, under row-level security). */
export class PgNonceStore implements NonceStore {
  constructor(private readonly db: Db) {}

  async reserve(accountId: string, floor: bigint, size: bigint): Promise<{ from: bigint; to: bigint }> {
    if (size < 1n) throw new RangeError(`nonce block size must be positive, got ${size}`);
    const f = floor.toString();
    const s = size.toString();
    return withAccount(this.db, accountId, async (tx) => {
      // One upsert: the row lock serialises concurrent reservers, so blocks never overlap.
      const r = await tx.execute(sql`
        insert into kraken_nonces (account_id, last_nonce)
        values (${accountId}, (${f}::numeric + ${s}::numeric)::text)
        on conflict (account_id) do update
          set last_nonce = (greatest(kraken_nonces.last_nonce::numeric, ${f}::numeric) + ${s}::numeric)::text
        returning last_nonce`);
      const row = rowsOf<{ last_nonce: string }>(r)[0];
      if (!row) throw new Error(`kraken_nonces: no row returned for account ${accountId}`);
      const to = BigInt(row.last_nonce);
      return { from: to - size + 1n, to };
    });
  }
}

/** Nonces are microsecond-scale (epoch ms × 1000) so a block of 1000 runs at most 1 ms ahead of time. */
export const NONCE_SCALE = 1000n;
export const DEFAULT_NONCE_BLOCK = 1000n;

export class NonceSequence {
  private next = 0n;
  private end = -1n; // inclusive; next > end means the block is used up
  private last = 0n;

  constructor(
    private readonly store: NonceStore,
    private readonly accountId: string,
    private readonly clock: Clock,
    private readonly blockSize: bigint = DEFAULT_NONCE_BLOCK,
  ) {}

  /** Makes sure at least one nonce is available in memory (reserves a new block when needed). */
  async ensure(): Promise<void> {
    if (this.next <= this.end) return;
    const floor = BigInt(Math.floor(this.clock.now())) * NONCE_SCALE;
    const block = await this.store.reserve(this.accountId, floor > this.last ? floor : this.last, this.blockSize);
    if (block.from <= this.last) throw new Error(`nonce store returned a block (${block.from}) not above the last nonce used (${this.last})`);
    this.next = block.from;
    this.end = block.to;
  }

  /**
   * Drops the rest of the block after Kraken refused a nonce: the next `ensure()` reserves from the
   * store again, which jumps above any other process's reservation for the same account.
   */
  invalidate(): void {
    this.end = this.next - 1n;
  }

  /** The next nonce; throws if `ensure()` was not awaited first (a bug, not a runtime condition). */
  take(): number {
    if (this.next > this.end) throw new Error('NonceSequence.take() without ensure(): no reserved nonce left');
    const n = this.next++;
    this.last = n;
    if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`nonce ${n} exceeds the safe integer range`);
    return Number(n);
  }
}
