import type { KrakenCredentials } from '../accounts/credentials.ts';
import { systemClock } from '../clock.ts';
import type { CredentialCheck } from '../context.ts';
import type { NonceStore } from './kraken-nonce.ts';

/**
 * Nonces for a one-off key check, before the key belongs to an account: the same epoch-µs scale as
 * KrakenBroker's persisted nonces (so a re-uploaded key that Aether already used is not refused for
 * a smaller nonce), strictly increasing within this process. Not a substitute for PgNonceStore: it
 * remembers nothing across restarts, which a check of two calls does not need.
 */
class CheckNonceStore implements NonceStore {
  private mark = 0n;
  async reserve(_accountId: string, floor: bigint, size: bigint): Promise<{ from: bigint; to: bigint }> {
    this.mark = (this.mark > floor ? this.mark : floor) + size;
    return { from: this.mark - size + 1n, to: this.mark };
  }
}
const checkNonces = new CheckNonceStore();

/**
 * Validates uploaded keys against Kraken before they are stored: KrakenBroker.checkCredentials — a
 * BalanceEx call (the key and signature work) and a `validate=true` AddOrder that meets the pair's
 * ordermin and costmin (it may trade; nothing is placed; lack of funds does not fail the check).
 * Rejections are reported as `{ ok: false }`; an unreachable exchange after retries too.
 */
export async function checkKrakenCredentials(apiUrl: string, creds: KrakenCredentials): Promise<CredentialCheck> {
  const { createKrakenBroker } = await import('./kraken-broker.ts'); // loads ccxt: only where keys are checked or used
  const broker = await createKrakenBroker({ accountId: 'key-check', credentials: creds, apiUrl, nonceStore: checkNonces, clock: systemClock, timeoutMs: 10_000 });
  try {
    const r = await broker.checkCredentials();
    return r.ok ? { ok: true } : r;
  } catch (err) {
    return { ok: false, reason: `${(err as Error).name}: ${(err as Error).message}`.slice(0, 300) };
  }
}
