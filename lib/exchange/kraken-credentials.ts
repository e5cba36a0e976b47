import type { KrakenCredentials } from '../accounts/credentials.ts';
import { systemClock, type Clock } from '../clock.ts';
import type { CredentialCheck } from '../context.ts';
import type { Db } from '../db/client.ts';
import { MemoryNonceStore, PgNonceStore, type NonceStore } from './kraken-nonce.ts';

/**
 * Nonces of a key check that knows no account: in memory, on the same epoch-µs scale as the
 * persisted ones and tied to wall time, strictly increasing within this process.
 */
const checkNonces = new MemoryNonceStore();

export interface KeyCheckOptions {
  /** The account the key is for (upload, going live): its nonces are then persisted with the account's. */
  accountId?: string;
  /** Where the account's nonces are persisted (with accountId): the process's database. */
  db?: Db;
  /** Or an explicit nonce store (tests). */
  nonceStore?: NonceStore;
  /** The wall clock (default system time). */
  clock?: Clock;
  timeoutMs?: number;
}

/**
 * Validates keys against Kraken before they are stored or an account goes live:
 * KrakenBroker.checkCredentials — a BalanceEx call (the key and signature work), a WithdrawMethods
 * probe that must be refused (a key that may withdraw is `{ ok: false, code: 'KEY_CAN_WITHDRAW' }`)
 * and a `validate=true` AddOrder that meets the pair's ordermin and costmin (nothing is placed; lack
 * of funds does not fail the check). Rejections are reported as `{ ok: false }`; an unreachable
 * exchange after retries too.
 *
 * Nonces: when the process already has a broker for this key (`krakenBrokerFor`), the check runs
 * through it — one nonce sequence, one limiter, one lock. Otherwise, when it knows the account, it
 * reserves its nonces from the account's persisted mark (PgNonceStore), so neither the check nor the
 * order job that follows, in this process or another, can send a nonce at or below the other's.
 */
export async function checkKrakenCredentials(apiUrl: string, creds: KrakenCredentials, opts: KeyCheckOptions = {}): Promise<CredentialCheck> {
  const { createKrakenBroker, existingKrakenBroker } = await import('./kraken-broker.ts'); // loads ccxt: only where keys are checked or used
  try {
    const shared = existingKrakenBroker(apiUrl, creds);
    const nonceStore = opts.nonceStore ?? (opts.accountId !== undefined && opts.db !== undefined ? new PgNonceStore(opts.db) : checkNonces);
    const broker = shared
      ? await shared
      : await createKrakenBroker({
          accountId: opts.accountId ?? 'key-check',
          credentials: creds,
          apiUrl,
          nonceStore,
          clock: opts.clock ?? systemClock,
          timeoutMs: opts.timeoutMs ?? 10_000,
        });
    try {
      const r = await broker.checkCredentials();
      return r.ok ? { ok: true } : r;
    } finally {
      if (!shared) await broker.flushNonces(); // its nonces are in the store before the order job's next call
    }
  } catch (err) {
    return { ok: false, reason: `${(err as Error).name}: ${(err as Error).message}`.slice(0, 300) };
  }
}
