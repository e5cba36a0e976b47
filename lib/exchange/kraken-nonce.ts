/**
 * Strictly increasing Kraken nonces per key, across restarts and processes (DESIGN.md §1, §5). A
 * process reserves a block of nonces by raising a persisted high-water mark (max(stored, wall time) +
 * block), then hands them out from memory while the block is still ahead of wall time; a new process,
 * or another function using the same key, starts above the stored mark, so a restart (or a clock that
 * went backwards) never reuses one. Nonces come from WALL time, never from the market clock. ccxt
 * reads the nonce synchronously inside `sign()`, so callers `await ensure()` first.
 */
import type { Clock } from '../clock.ts';
import type { Db } from '../db/client.ts';
import { oneTripForAccount } from '../db/scope.ts';

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
    // One upsert: the row lock serialises concurrent reservers, so blocks never overlap. One round
    // trip (oneTripForAccount): the store is written after every private call, beside the job's queries.
    const rows = await oneTripForAccount<{ last_nonce: string }>(this.db, accountId, {
      sql: `insert into kraken_nonces (account_id, last_nonce)
        values (current_setting('aether.account_id')::uuid, ($1::numeric + $2::numeric)::text)
        on conflict (account_id) do update
          set last_nonce = (greatest(kraken_nonces.last_nonce::numeric, $1::numeric) + $2::numeric)::text
        returning last_nonce`,
      params: [floor.toString(), size.toString()],
    });
    const row = rows[0];
    if (!row) throw new Error(`kraken_nonces: no row returned for account ${accountId}`);
    const to = BigInt(row.last_nonce);
    return { from: to - size + 1n, to };
  }
}

/** Nonces are microsecond-scale: epoch ms × 1000. */
export const NONCE_SCALE = 1000n;
/** A sequence idle for longer than this re-reads the store before its next nonce (another process may have used the key). */
export const NONCE_RESYNC_IDLE_MS = 10_000;
/** After repeated `EAPI:Invalid nonce` answers nonces jump ahead of wall time by this much, growing ×4 each time (capped at a minute). */
const NONCE_JUMP_MS = 1_000;

/**
 * The nonces of one key in one process: each is max(last + 1, wall time in µs, the store's mark + 1).
 *
 * - Tied to wall time, so whoever uses the key next — another process, the key check, this process
 *   after a restart — is above what was sent before, and this sequence is above theirs at its next
 *   call: no block of nonces is held back from wall time.
 * - Synchronised with the store (a reservation above its mark) at the first call, after an idle
 *   spell (NONCE_RESYNC_IDLE_MS) and after Kraken refused a nonce; every nonce used is then recorded
 *   in the store in the background (off the request path, coalesced), so a process whose clock is
 *   behind, or that restarts, still starts above it.
 * - Refusals in a row push nonces ahead of wall time (1 s, 4 s, 16 s, … ≤ 60 s) to get past a user of
 *   the key whose nonces are ahead of ours without being in the store.
 *
 * The clock must be the WALL clock: a market clock (an old bar's time) would make nonces older than
 * the key check's — the store then keeps them increasing, at the price of a refusal whenever a
 * wall-time user of the key came in between.
 */
export class NonceSequence {
  private last = 0n;
  private min = 0n; // the store's mark + 1 at the last synchronisation
  private synced = false;
  private lastUseAt = -Infinity; // clock ms of the last nonce taken
  private refusals = 0; // consecutive EAPI:Invalid nonce answers
  private recording = false;
  private toRecord: bigint | null = null;
  private syncing: Promise<void> | null = null; // the store round trip in flight, shared by whoever asks meanwhile

  constructor(
    private readonly store: NonceStore,
    private readonly accountId: string,
    private readonly clock: Clock,
    private readonly onRecordError: (err: unknown) => void = () => {},
  ) {}

  private wallFloor(): bigint {
    const jumpMs = this.refusals >= 2 ? Math.min(60_000, NONCE_JUMP_MS * 4 ** (this.refusals - 2)) : 0;
    // µs where the clock has them: two users of the key within one millisecond (this process and
    // another, or the key check) still send increasing nonces; ms × 1000 would make them equal.
    const now = this.clock.nowMicros?.() ?? BigInt(Math.floor(this.clock.now())) * NONCE_SCALE;
    return now + BigInt(jumpMs) * NONCE_SCALE;
  }

  /** Makes sure the next nonce can be taken synchronously: synchronises with the store when due. */
  async ensure(): Promise<void> {
    if (this.synced && this.clock.now() - this.lastUseAt <= NONCE_RESYNC_IDLE_MS) return;
    // A job's early prepare() and its first call can both ask: one store round trip serves them.
    this.syncing ??= this.sync().finally(() => (this.syncing = null));
    return this.syncing;
  }

  private async sync(): Promise<void> {
    const floor = this.wallFloor();
    const block = await this.store.reserve(this.accountId, floor > this.last ? floor : this.last, 1n);
    if (block.from <= this.last) throw new Error(`nonce store returned a block (${block.from}) not above the last nonce used (${this.last})`);
    this.min = block.from;
    this.synced = true;
    this.lastUseAt = this.clock.now(); // a fresh synchronisation counts as use
  }

  /** Kraken refused a nonce: the next `ensure()` synchronises with the store again (and later ones jump ahead). */
  invalidate(): void {
    this.refusals++;
    this.synced = false;
  }

  /** Kraken accepted a nonce: the refusal streak is over. */
  accepted(): void {
    this.refusals = 0;
  }

  /** The next nonce; throws if `ensure()` was not awaited first (a bug, not a runtime condition). */
  take(): number {
    if (!this.synced) throw new Error('NonceSequence.take() without ensure(): not synchronised with the nonce store');
    const wall = this.wallFloor();
    let n = this.last + 1n;
    if (this.min > n) n = this.min;
    if (wall > n) n = wall;
    if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`nonce ${n} exceeds the safe integer range`);
    this.last = n;
    this.lastUseAt = this.clock.now();
    this.record(n);
    return Number(n);
  }

  /** Raises the store's mark to at least `n` in the background; one write in flight at a time, the newest value wins. */
  private record(n: bigint): void {
    this.toRecord = n;
    if (this.recording) return;
    this.recording = true;
    const next = async (): Promise<void> => {
      while (this.toRecord !== null) {
        const v = this.toRecord;
        this.toRecord = null;
        try {
          await this.store.reserve(this.accountId, v - 1n, 1n); // mark := max(mark, v - 1) + 1 ≥ v
        } catch (err) {
          this.onRecordError(err);
        }
      }
      this.recording = false;
    };
    void next();
  }

  /** Resolves once the nonces taken so far are recorded in the store (tests, orderly shutdown). */
  async flushed(): Promise<void> {
    while (this.recording) await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * Nonces kept in process memory only: the same epoch-µs scale as PgNonceStore, strictly increasing
 * within this process. For a key check before the key belongs to an account, and for tests; not a
 * substitute for PgNonceStore (it remembers nothing across restarts).
 */
export class MemoryNonceStore implements NonceStore {
  private readonly marks = new Map<string, bigint>();
  async reserve(accountId: string, floor: bigint, size: bigint): Promise<{ from: bigint; to: bigint }> {
    if (size < 1n) throw new RangeError(`nonce block size must be positive, got ${size}`);
    const prev = this.marks.get(accountId) ?? 0n;
    const to = (prev > floor ? prev : floor) + size;
    this.marks.set(accountId, to);
    return { from: to - size + 1n, to };
  }
}
