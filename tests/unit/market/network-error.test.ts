import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { CoinGeckoClient } from '../../../lib/market/coingecko.ts';
import { KrakenRestClient } from '../../../lib/market/kraken-rest.ts';
import { failureReason, fetchFrom, NetworkError } from '../../../lib/market/network-error.ts';

/** A local port nothing listens on (bound, then closed). */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

describe('market-data requests that get no answer name the host and the cause', () => {
  it('fetchFrom: a refused connection is a NetworkError naming host:port and ECONNREFUSED, not "fetch failed"', async () => {
    const port = await deadPort();
    const err = await fetchFrom(fetch, `http://127.0.0.1:${port}/0/public/Time`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect((err as NetworkError).host).toBe(`127.0.0.1:${port}`);
    expect((err as NetworkError).message).toMatch(new RegExp(`^cannot reach 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
    expect((err as NetworkError).message).not.toContain('fetch failed');
  });

  it('Kraken REST (what tick logs per pair) and CoinGecko say which host could not be reached, and why', async () => {
    const port = await deadPort();
    await expect(new KrakenRestClient({ baseUrl: `http://127.0.0.1:${port}` }).usdMarkets()).rejects.toThrow(new RegExp(`cannot reach 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
    const cg = new CoinGeckoClient({ baseUrl: `http://127.0.0.1:${port}/api/v3`, maxRetries: 0 });
    await expect(cg.ohlc('BTC/USD', 1)).rejects.toThrow(new RegExp(`cannot reach 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
  });

  it('a name that does not resolve is named with its DNS error', async () => {
    const err = await fetchFrom(fetch, 'https://no-such-host.invalid/0/public/OHLC').catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/^cannot reach no-such-host\.invalid: .*(ENOTFOUND|EAI_AGAIN)/);
  });

  it('failureReason: an AggregateError (every address refused) is named by its code; a NetworkError by its reason; a timeout as one', () => {
    const aggregate = Object.assign(new AggregateError([], ''), { code: 'ECONNREFUSED' });
    expect(failureReason(new TypeError('fetch failed', { cause: aggregate }))).toBe('ECONNREFUSED');
    expect(failureReason(new NetworkError('api.kraken.com', 'ENOTFOUND getaddrinfo', { cause: null }))).toBe('ENOTFOUND getaddrinfo');
    expect(failureReason(new DOMException('The operation was aborted due to timeout', 'TimeoutError'))).toBe('no answer within the timeout');
  });
});
