/**
 * The emulator as strict as Kraken documents it, through the real ccxt client on an injected clock:
 * the per-pair trading counter (AddOrder +1 even when refused, AmendOrder +1 plus +3/+2/+1 by age,
 * cancel penalties by the age since creation or the last amend), AmendOrder on the REST counter, and
 * a lockout that lasts exactly the configured time on the emulator's clock.
 */
import ccxt from 'ccxt';
import { afterEach, describe, expect, it } from 'vitest';
import { caught, ccxtOptions, flat } from './helpers.ts';
import { generateKey, startKrakenEmulator, type KrakenEmulator, type LockoutPolicy, type Tier } from './index.ts';

type Kraken = InstanceType<typeof ccxt.kraken>;


let emu: KrakenEmulator | undefined;
afterEach(async () => {
  if (!emu) return;
  expect(emu.internalErrors).toEqual([]);
  await emu.close();
  emu = undefined;
});

/** A flat BTC/USD at 100 and one key whose counters run on a clock only the test moves. */
async function setup(tier: Tier = 'starter', balances: Record<string, number> = { USD: 10_000, BTC: 5 }, lockout?: LockoutPolicy) {
  let t = Date.UTC(2025, 0, 1);
  const k = generateKey();
  emu = await startKrakenEmulator({ candles: { 'BTC/USD': flat('BTC/USD', 100, 4) }, startIndex: 0, halfSpread: 0, now: () => t, keys: [{ ...k, tier, balances }], ...(lockout ? { lockout } : {}) });
  const c = new ccxt.kraken(ccxtOptions(emu, k)) as Kraken;
  await c.loadMarkets();
  const acc = emu.exchange.account(k.key);
  return {
    emu,
    k,
    c,
    trading: () => acc.trading.get('XXBTZUSD')?.level() ?? 0,
    rest: () => acc.rest.level(),
    tick: (ms: number) => (t += ms),
  };
}

describe('per-pair trading counter', () => {
  it('AddOrder costs +1 on receipt even when the order then fails validation; validate=true costs nothing', async () => {
    const { c, trading } = await setup('starter', { USD: 50 });
    expect(await caught(c.createOrder('BTC/USD', 'limit', 'buy', 1, 95))).toBeInstanceOf(ccxt.InsufficientFunds);
    expect(trading()).toBe(1);
    await c.privatePostAddOrder({ pair: 'XXBTZUSD', type: 'buy', ordertype: 'limit', price: '95', volume: '0.1', validate: true });
    expect(trading()).toBe(1);
    await c.createOrder('BTC/USD', 'limit', 'buy', 0.1, 95);
    expect(trading()).toBe(2);
  });

  it('AmendOrder costs +1 plus +3 under 5 s of resting, +1 alone after 15 s; it also costs +1 on the REST counter', async () => {
    const { c, trading, rest, tick } = await setup('pro');
    const o = await c.createOrder('BTC/USD', 'limit', 'buy', 1, 90);
    expect(trading()).toBe(1);
    const restBefore = rest();
    await c.editOrder(o.id!, 'BTC/USD', 'limit', 'buy', 2); // 0 s after creation
    expect(trading()).toBe(1 + 4);
    expect(rest()).toBe(restBefore + 1);
    tick(60_000); // the pro counter decays 3.75/s: back to 0
    await c.editOrder(o.id!, 'BTC/USD', 'limit', 'buy', 3); // 60 s after the last amend
    expect(trading()).toBe(1);
  });

  it('a cancel right after an amend pays the under-5-s penalty: the age runs from the amend, not the creation', async () => {
    const { c, trading, tick } = await setup('starter');
    const o = await c.createOrder('BTC/USD', 'limit', 'buy', 1, 90);
    tick(20_000); // starter decays 1/s: the add's +1 is gone
    await c.editOrder(o.id!, 'BTC/USD', 'limit', 'buy', 2); // resting 20 s: +1 fixed only
    expect(trading()).toBe(1);
    await c.cancelOrder(o.id!); // 0 s since the amend: +8 (it would be +4 at 20 s since creation)
    expect(trading()).toBe(9);
  });

  it('rapid amends trip EOrder:Rate limit exceeded (DDoSProtection); the refused amend changes nothing', async () => {
    const { emu, k, c, trading } = await setup('starter');
    const o = await c.createOrder('BTC/USD', 'limit', 'buy', 1, 50);
    let amends = 0;
    let refusal: Error | undefined;
    while (!refusal && amends < 30) {
      try {
        await c.privatePostAmendOrder({ txid: o.id, limit_price: String(51 + amends) });
        amends++;
      } catch (e) {
        refusal = e as Error;
      }
    }
    // 1 (add) + 14 × 4 = 57; the 15th amend would make 61 > 60 (its REST cost, the 15th +1, still fits the starter 15)
    expect(amends).toBe(14);
    expect(refusal).toBeInstanceOf(ccxt.DDoSProtection);
    expect(refusal!.message).toContain('EOrder:Rate limit exceeded');
    expect(trading()).toBe(57);
    expect(emu.orders(k.key)[0]!.price).toBe(64);
    expect(emu.calls('AmendOrder', k.key).at(-1)).toMatchObject({ errors: ['EOrder:Rate limit exceeded'] });
  });

  it('the counter is per pair: a full BTC/USD counter does not stop ETH/USD', async () => {
    const { c, trading } = await setup('starter', { USD: 100_000 });
    for (let i = 0; i < 6; i++) {
      const o = await c.createOrder('BTC/USD', 'limit', 'buy', 0.01, 50);
      await c.cancelOrder(o.id!);
    }
    expect(trading()).toBe(54);
    expect((await caught(c.createOrder('BTC/USD', 'limit', 'buy', 0.01, 50).then((o) => c.cancelOrder(o.id!)))).message).toContain('EOrder:Rate limit exceeded');
    await c.createOrder('ETH/USD', 'limit', 'buy', 0.1, 50);
  });
});

describe('lockout', () => {
  it('lasts lockoutMs on the emulator clock, then the key works again', async () => {
    const { c, tick } = await setup('pro', { USD: 10 }, { breaches: 2, windowMs: 60_000, lockoutMs: 120_000 });
    for (let i = 0; i < 20; i++) await c.privatePostBalance(); // the pro counter is full
    expect((await caught(c.privatePostBalance())).message).toContain('EAPI:Rate limit exceeded');
    const e = await caught(c.privatePostBalance());
    expect(e).toBeInstanceOf(ccxt.DDoSProtection);
    expect(e.message).toContain('EGeneral:Temporary lockout');
    tick(119_999); // the counter has long drained, the lockout has not
    expect((await caught(c.privatePostBalance())).message).toContain('EGeneral:Temporary lockout');
    tick(1);
    await c.privatePostBalance();
  });

  it('a locked-out key is refused before anything runs: no order is placed', async () => {
    const { emu, k, c } = await setup('pro', { USD: 1_000 }, { breaches: 1, windowMs: 60_000, lockoutMs: 60_000 });
    c.nonce = () => 1;
    await c.privatePostBalance(); // first call: accepted
    expect(await caught(c.privatePostBalance())).toBeInstanceOf(ccxt.InvalidNonce); // one breach → locked out
    c.nonce = () => Date.now() * 10_000;
    expect((await caught(c.createOrder('BTC/USD', 'limit', 'buy', 0.01, 90))).message).toContain('EGeneral:Temporary lockout');
    expect(emu.orders(k.key)).toHaveLength(0);
    expect(emu.calls('AddOrder', k.key).at(-1)).toMatchObject({ processed: false });
  });
});
