import { eq } from 'drizzle-orm';
import { accounts, credentials, krakenSecretSync } from '../../schema/index.ts';
import type { Clock } from '../clock.ts';
import type { Db, Tx } from '../db/client.ts';
import { withAccount } from '../db/scope.ts';
import { krakenSecretPending } from '../http/metrics.ts';
import type { Logger } from '../log.ts';
import { activeCredential, unsealCredentials, type KrakenCredentials, type SecretStore } from './credentials.ts';

/**
 * The cluster's Kraken key Secrets follow the database, never the other way round: a key upload or
 * revocation commits its rows, its audit entry and a `pending` outbox row in one transaction; only
 * then is `kraken-<account>` written (the active key, or emptied), and the outbox row marked
 * `written` — which also wipes the sealed copy the row held until then. A write that fails stays
 * pending with its error (logged, gauge aether_kraken_secret_pending) and is tried again: by the
 * request a few times, by the api's reconciler every minute and at start-up, and before any key
 * change or going live for that account.
 */
export type SecretSyncState = { state: 'pending' | 'written'; attempts: number; lastError: string | null; updatedAt: Date };

export interface SecretSyncDeps {
  db: Db;
  secretStore: SecretStore;
  logger: Logger;
  clock: Clock;
}

const stateOf = (r: typeof krakenSecretSync.$inferSelect): SecretSyncState => ({ state: r.state, attempts: r.attempts, lastError: r.lastError, updatedAt: r.updatedAt });

/** The account's Secret write state; null when none was ever queued (always, where the database is the store). */
export async function secretSyncState(tx: Tx, accountId: string): Promise<SecretSyncState | null> {
  const [row] = await tx.select().from(krakenSecretSync).where(eq(krakenSecretSync.accountId, accountId));
  return row ? stateOf(row) : null;
}

/** What may be recorded of a failure: the API's status and reason, never the key even if echoed. */
function describe(err: unknown, creds: KrakenCredentials | null): string {
  const e = err as { code?: number; body?: unknown; message?: string };
  let text = e.message ?? String(err);
  if (typeof e.code === 'number') {
    let status: { reason?: string; message?: string } = {};
    try {
      status = (typeof e.body === 'string' ? JSON.parse(e.body) : (e.body ?? {})) as typeof status;
    } catch {
      // not a Status object
    }
    text = `Kubernetes API ${e.code}${status.reason ? ` ${status.reason}` : ''}${status.message ? `: ${status.message}` : ''}`;
  }
  for (const s of creds ? [creds.apiKey, creds.apiSecret, Buffer.from(creds.apiKey).toString('base64'), Buffer.from(creds.apiSecret).toString('base64')] : []) text = text.split(s).join('[redacted]');
  return text.slice(0, 300);
}

/**
 * One attempt to make `kraken-<account>` hold what the database says. The outbox row stays locked
 * while the Secret is written, so writes for one account land in commit order: a newer upload waits
 * for an older write to finish, then writes its own. `skipLocked`: give way when another process is
 * writing it right now. Returns the state after the attempt; null when nothing is queued for the
 * account (or it was skipped).
 */
export async function syncKrakenSecret(deps: SecretSyncDeps, account: { id: string; slug: string }, opts: { skipLocked?: boolean } = {}): Promise<SecretSyncState | null> {
  const writer = deps.secretStore.secrets;
  if (!writer) return null;
  return withAccount(deps.db, account.id, async (tx) => {
    const query = tx.select().from(krakenSecretSync).where(eq(krakenSecretSync.accountId, account.id));
    const [row] = await (opts.skipLocked ? query.for('update', { skipLocked: true }) : query.for('update'));
    if (!row) return null;
    if (row.state === 'written') return stateOf(row);
    const active = await activeCredential(tx, account.id);
    let creds: KrakenCredentials | null = null;
    let error: string | null = null;
    try {
      if (active && !active.ciphertext) throw new Error('the active key is no longer sealed in the database: upload it again');
      creds = active ? unsealCredentials(deps.secretStore.masterKey, { ...active, ciphertext: active.ciphertext! }) : null;
      await writer.write(account.slug, creds);
    } catch (err) {
      error = describe(err, creds);
    }
    const attempts = row.attempts + 1;
    const fields = { ref: writer.ref(account.slug), account: account.slug, attempts };
    if (error === null && active) await tx.update(credentials).set({ ciphertext: null }).where(eq(credentials.id, active.id)); // the Secret is the store now
    const [next] = await tx
      .update(krakenSecretSync)
      .set({ state: error === null ? 'written' : 'pending', attempts, lastError: error, updatedAt: new Date(deps.clock.now()) })
      .where(eq(krakenSecretSync.accountId, account.id))
      .returning();
    krakenSecretPending.set({ account: account.slug }, error === null ? 0 : 1);
    if (error === null) deps.logger.info(fields, active ? 'kraken key written to its Kubernetes Secret' : 'kraken key removed from its Kubernetes Secret');
    else deps.logger.error({ ...fields, error }, 'kraken key Secret write failed: it stays pending and is retried');
    return stateOf(next!);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Right after a key change commits: a few attempts with a short backoff (a blip of the API server). */
export async function syncKrakenSecretNow(deps: SecretSyncDeps, account: { id: string; slug: string }, attempts = 3): Promise<SecretSyncState | null> {
  let state: SecretSyncState | null = null;
  for (let i = 0; i < attempts; i++) {
    if (i > 0) await sleep(200 * 2 ** (i - 1));
    state = await syncKrakenSecret(deps, account);
    if (state?.state !== 'pending') return state;
  }
  return state;
}

/** Every account's pending Secret write, one attempt each (start-up and the periodic reconciler); returns how many are still pending. */
export async function syncPendingKrakenSecrets(deps: SecretSyncDeps): Promise<number> {
  if (!deps.secretStore.secrets) return 0;
  let pending = 0;
  for (const account of await deps.db.select({ id: accounts.id, slug: accounts.slug }).from(accounts)) {
    if ((await syncKrakenSecret(deps, account, { skipLocked: true }))?.state === 'pending') pending++;
  }
  return pending;
}

/**
 * The api's reconciler (cluster): pending Secret writes are tried at once and then every `everyMs`.
 * The returned stop waits for a run in progress, so shutdown never closes the database under it.
 */
export function startSecretReconciler(deps: SecretSyncDeps, everyMs = 60_000): () => Promise<void> {
  let running: Promise<unknown> = Promise.resolve();
  const run = () => {
    running = running.then(() => syncPendingKrakenSecrets(deps)).catch((err: unknown) => deps.logger.error({ err }, 'kraken Secret reconciler failed'));
  };
  run();
  const timer = setInterval(run, everyMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
