import { describe, expect, it } from 'vitest';
import { loadKrakenClass } from '../../../lib/exchange/ccxt-kraken.ts';

describe('loadKrakenClass', () => {
  it("is ccxt's Kraken exchange, with the implicit private endpoints the broker calls", async () => {
    const Kraken = await loadKrakenClass();
    const ex = new Kraken({ apiKey: 'k', secret: Buffer.from('s').toString('base64') });
    expect(ex.id).toBe('kraken');
    for (const m of ['privatePostBalanceEx', 'privatePostAddOrder', 'privatePostOpenOrders', 'privatePostAmendOrder']) expect(typeof (ex as unknown as Record<string, unknown>)[m]).toBe('function');
  });

  it('is the same class on every call (the module is loaded once)', async () => {
    expect(await loadKrakenClass()).toBe(await loadKrakenClass());
  });
});
