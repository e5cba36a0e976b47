import type { KrakenCredentials } from '../accounts/credentials.ts';
import type { CredentialCheck } from '../context.ts';

/**
 * Validates uploaded keys against Kraken before they are stored: a Balance call (the key works and
 * may query funds) and a `validate=true` AddOrder (it may trade; nothing is placed). Any failure
 * is reported, never thrown past the caller.
 */
export async function checkKrakenCredentials(apiUrl: string, creds: KrakenCredentials): Promise<CredentialCheck> {
  const { kraken } = await import('ccxt'); // large: loaded only where keys are checked or used
  const client = new kraken({ apiKey: creds.apiKey, secret: creds.apiSecret, timeout: 10_000, urls: { api: { public: apiUrl, private: apiUrl } } });
  try {
    await client.privatePostBalance();
    const probe = await client.privatePostAddOrder({ pair: 'XBTUSD', type: 'buy', ordertype: 'limit', price: '1000', volume: '0.0001', validate: true });
    if (Array.isArray((probe as { error?: unknown[] }).error) && (probe as { error: unknown[] }).error.length)
      return { ok: false, reason: `validate order refused: ${String((probe as { error: unknown[] }).error[0])}` };
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: `${(err as Error).name}: ${(err as Error).message}`.slice(0, 300) };
  }
}
