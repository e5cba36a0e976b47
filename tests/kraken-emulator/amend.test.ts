/**
 * AmendOrder as Kraken documents it (atomic amend: same txid and cl_ord_id, fills kept), through the
 * real ccxt client (`editOrder` → privatePostAmendOrder) and through a JSON body.
 */
import ccxt from 'ccxt';
import { afterEach, describe, expect, it } from 'vitest';
import { caught, ccxtOptions, hourly } from './helpers.ts';
import { generateKey, krakenSignature, startKrakenEmulator, type KrakenEmulator } from './index.ts';

type Kraken = InstanceType<typeof ccxt.kraken>;
type Row = [number, number, number, number];
type OrderInfo = { status: string; vol: string; vol_exec: string; cl_ord_id?: string; stopprice: string; limitprice: string; descr: { price: string; price2: string; order: string } };


let emu: KrakenEmulator | undefined;
afterEach(async () => {
  if (!emu) return;
  expect(emu.internalErrors).toEqual([]);
  await emu.close();
  emu = undefined;
});

/** BTC/USD from 100 (no spread, so fills are exact), then `rows`; one funded key on a clock the test moves. */
async function setup(rows: Row[] = [], balances: Record<string, number> = { USD: 10_000, BTC: 5 }, extra: { maxFillShare?: number } = {}) {
  let t = Date.UTC(2025, 0, 1);
  const k = generateKey();
  emu = await startKrakenEmulator({
    candles: { 'BTC/USD': hourly('BTC/USD', [[100, 100, 100, 100], ...rows]) },
    startIndex: 0,
    halfSpread: 0,
    now: () => t,
    keys: [{ ...k, tier: 'starter', balances }],
    ...extra,
  });
  const c = new ccxt.kraken(ccxtOptions(emu, k)) as Kraken;
  await c.loadMarkets();
  const info = async (id: string): Promise<OrderInfo> => ((await c.privatePostQueryOrders({ txid: id })) as { result: Record<string, OrderInfo> }).result[id]!;
  const usdHold = () => emu!.balances(k.key)['ZUSD']!.hold;
  return { emu, k, c, info, usdHold, tick: (ms: number) => (t += ms) };
}

describe('amending the quantity', () => {
  it('down: the same txid and cl_ord_id, the new vol in OpenOrders/QueryOrders, the hold shrinks', async () => {
    const { emu, k, c, info, usdHold } = await setup();
    const o = await c.createOrder('BTC/USD', 'limit', 'buy', 2, 95, { clientOrderId: 'amend-down-1' });
    expect(usdHold()).toBeCloseTo(190 * 1.0026, 6);
    await c.editOrder(o.id!, 'BTC/USD', 'limit', 'buy', 1.25);
    const sent = emu.calls('AmendOrder', k.key).at(-1)!;
    expect(sent).toMatchObject({ status: 200, errors: [], processed: true, params: { txid: o.id, order_qty: '1.25' } });
    expect(emu.orders(k.key)).toHaveLength(1);
    expect(await info(o.id!)).toMatchObject({ status: 'open', vol: '1.25000000', vol_exec: '0.00000000', cl_ord_id: 'amend-down-1', descr: { price: '95.0' } });
    const open = await c.fetchOpenOrders();
    expect(open).toMatchObject([{ id: o.id, clientOrderId: 'amend-down-1', amount: 1.25, price: 95 }]);
    expect(usdHold()).toBeCloseTo(95 * 1.25 * 1.0026, 6);
  });

  it('up with the funds: accepted and the hold grows; beyond the funds: EOrder:Insufficient funds and nothing changes', async () => {
    const { emu, k, c, info, usdHold } = await setup([], { USD: 300 });
    const o = await c.createOrder('BTC/USD', 'limit', 'buy', 1, 95);
    await c.editOrder(o.id!, 'BTC/USD', 'limit', 'buy', 3);
    expect((await info(o.id!)).vol).toBe('3.00000000');
    expect(usdHold()).toBeCloseTo(285 * 1.0026, 6); // 285.74 of 300
    const e = await caught(c.editOrder(o.id!, 'BTC/USD', 'limit', 'buy', 4));
    expect(e).toBeInstanceOf(ccxt.InsufficientFunds);
    expect(e.message).toContain('EOrder:Insufficient funds');
    expect(emu.calls('AmendOrder', k.key).at(-1)).toMatchObject({ errors: ['EOrder:Insufficient funds'], processed: true });
    expect((await info(o.id!)).vol).toBe('3.00000000');
    expect(usdHold()).toBeCloseTo(285 * 1.0026, 6);
  });

  it('to or below the executed quantity: the remainder is cancelled, the fills stay, and it can no longer be amended', async () => {
    // maxFillShare 0.1 of a 10-unit candle: the resting 3 @ 95 fills 1 per candle that reaches it
    const { emu, k, c, info, usdHold } = await setup([[100, 100, 94, 96]], { USD: 1_000 }, { maxFillShare: 0.1 });
    const o = await c.createOrder('BTC/USD', 'limit', 'buy', 3, 95);
    emu.advance();
    expect(await info(o.id!)).toMatchObject({ status: 'open', vol_exec: '1.00000000' });
    await c.editOrder(o.id!, 'BTC/USD', 'limit', 'buy', 0.5);
    const after = await c.fetchOrder(o.id!);
    expect(after).toMatchObject({ status: 'canceled', filled: 1 });
    expect(emu.trades(k.key)).toHaveLength(1);
    expect(usdHold()).toBe(0);
    expect(emu.balances(k.key)['XXBT']!.total).toBe(1);
    const e = await caught(c.editOrder(o.id!, 'BTC/USD', 'limit', 'buy', 2));
    expect(e.message).toContain('EOrder:Unknown order');
  });
});

describe('amending prices', () => {
  it('limit_price on a limit order: shown in descr.price / limitprice, the hold follows, and it fills at the new level', async () => {
    const { emu, k, c, info, usdHold } = await setup([[99, 99, 94, 96]]);
    const o = await c.createOrder('BTC/USD', 'limit', 'buy', 1, 90);
    await c.editOrder(o.id!, 'BTC/USD', 'limit', 'buy', undefined, 95);
    expect(emu.calls('AmendOrder', k.key).at(-1)!.params).toMatchObject({ txid: o.id, limit_price: '95' });
    expect(await info(o.id!)).toMatchObject({ descr: { price: '95.0' }, limitprice: '95.0', vol: '1.00000000' });
    expect(usdHold()).toBeCloseTo(95 * 1.0026, 6);
    emu.advance(); // low 94: the old 90 would still rest, the amended 95 fills at its price as maker
    expect(emu.trades(k.key)).toMatchObject([{ ordertxid: o.id, price: 95, vol: 1, maker: true }]);
  });

  it('trigger_price on a stop-loss: shown in descr.price / stopprice, and the stop triggers at the new level on advance', async () => {
    // low 96 never reaches the original 90; it does reach the amended 97
    const { emu, k, c, info } = await setup([[100, 100, 96, 98]]);
    const stop = await c.createOrder('BTC/USD', 'market', 'sell', 1, undefined, { stopLossPrice: 90 });
    await c.editOrder(stop.id!, 'BTC/USD', 'market', 'sell', undefined, undefined, { stopLossPrice: 97 });
    expect(emu.calls('AmendOrder', k.key).at(-1)!.params).toMatchObject({ txid: stop.id, trigger_price: '97' });
    expect(await info(stop.id!)).toMatchObject({ status: 'open', descr: { price: '97.0', order: 'sell 1.00000000 XBTUSD @ stop loss 97.0' }, stopprice: '97.0' });
    emu.advance();
    expect(await info(stop.id!)).toMatchObject({ status: 'closed', vol_exec: '1.00000000' });
    expect(emu.trades(k.key)).toMatchObject([{ ordertxid: stop.id, side: 'sell', price: 97 }]);
  });

  it('limit_price on a stop-loss-limit moves price2 (descr.price2 / limitprice); trigger_price moves price', async () => {
    const { c, info } = await setup();
    const o = await c.createOrder('BTC/USD', 'limit', 'sell', 1, 89, { stopLossPrice: 90 });
    await c.privatePostAmendOrder({ txid: o.id, limit_price: '88', trigger_price: '91' });
    expect(await info(o.id!)).toMatchObject({ descr: { price: '91.0', price2: '88.0' }, stopprice: '91.0', limitprice: '88.0' });
  });

  it('an amended trigger the market has already passed fires at once', async () => {
    const { emu, k, c } = await setup();
    const stop = await c.createOrder('BTC/USD', 'market', 'sell', 1, undefined, { stopLossPrice: 90 });
    await c.editOrder(stop.id!, 'BTC/USD', 'market', 'sell', undefined, undefined, { stopLossPrice: 100.5 }); // above the 100 market
    expect(emu.orders(k.key)[0]).toMatchObject({ status: 'closed', volExec: 1 });
  });

  it('post_only: a price that would take liquidity is refused and the order is left as it was', async () => {
    const { emu, k, c, info } = await setup();
    const o = await c.createOrder('BTC/USD', 'limit', 'buy', 1, 90);
    const e = await caught(c.privatePostAmendOrder({ txid: o.id, limit_price: '101', post_only: 'true' }));
    expect(e.message).toContain('EOrder:Post only order');
    expect(await info(o.id!)).toMatchObject({ status: 'open', descr: { price: '90.0' } });
    expect(emu.trades(k.key)).toHaveLength(0);
  });
});

describe('identifying the order', () => {
  it('by cl_ord_id (raw and through editOrder with clientOrderId)', async () => {
    const { emu, k, c, info } = await setup();
    const o = await c.createOrder('BTC/USD', 'limit', 'buy', 1, 90, { clientOrderId: 'by-client-7' });
    const res = (await c.privatePostAmendOrder({ cl_ord_id: 'by-client-7', order_qty: '2' })) as { result: { amend_id: string } };
    expect(res.result.amend_id).toMatch(/^T[A-Z2-7]{5}-[A-Z2-7]{5}-[A-Z2-7]{6}$/);
    await c.editOrder('', 'BTC/USD', 'limit', 'buy', undefined, 91, { clientOrderId: 'by-client-7' });
    expect(emu.calls('AmendOrder', k.key).at(-1)!.params).toMatchObject({ cl_ord_id: 'by-client-7', limit_price: '91' });
    expect(emu.calls('AmendOrder', k.key).at(-1)!.params.txid).toBeUndefined();
    expect(await info(o.id!)).toMatchObject({ vol: '2.00000000', descr: { price: '91.0' }, cl_ord_id: 'by-client-7' });
  });

  it('both txid and cl_ord_id, or neither: EGeneral:Invalid arguments', async () => {
    const { c, info } = await setup();
    const o = await c.createOrder('BTC/USD', 'limit', 'buy', 1, 90, { clientOrderId: 'both-1' });
    for (const params of [{ txid: o.id, cl_ord_id: 'both-1', order_qty: '2' }, { order_qty: '2' }]) {
      const e = await caught(c.privatePostAmendOrder(params));
      expect(e).toBeInstanceOf(ccxt.BadRequest);
      expect(e.message).toContain('EGeneral:Invalid arguments');
    }
    expect((await info(o.id!)).vol).toBe('1.00000000');
  });

  it('unknown, filled and cancelled orders: EOrder:Unknown order (InvalidOrder)', async () => {
    const { emu, k, c } = await setup();
    const filled = await c.createOrder('BTC/USD', 'market', 'buy', 0.1);
    const cancelled = await c.createOrder('BTC/USD', 'limit', 'buy', 0.1, 90, { clientOrderId: 'gone-1' });
    await c.cancelOrder(cancelled.id!);
    const attempts = [
      c.privatePostAmendOrder({ txid: 'OAAAAA-BBBBB-CCCCCC', order_qty: '1' }),
      c.privatePostAmendOrder({ txid: filled.id, order_qty: '1' }),
      c.privatePostAmendOrder({ txid: cancelled.id, limit_price: '91' }),
      c.privatePostAmendOrder({ cl_ord_id: 'gone-1', limit_price: '91' }),
    ];
    for (const p of attempts) {
      const e = await caught(p);
      expect(e).toBeInstanceOf(ccxt.InvalidOrder);
      expect(e.message).toContain('EOrder:Unknown order');
    }
    expect(emu.orders(k.key).map((o) => o.status)).toEqual(['closed', 'canceled']);
  });

  it("another key's order is unknown to this key", async () => {
    const { emu, c } = await setup();
    const other = generateKey();
    emu.addKey({ ...other, balances: { USD: 1_000 } });
    const o = await (new ccxt.kraken(ccxtOptions(emu, other)) as Kraken).createOrder('BTC/USD', 'limit', 'buy', 1, 90);
    expect((await caught(c.privatePostAmendOrder({ txid: o.id, order_qty: '2' }))).message).toContain('EOrder:Unknown order');
    expect(emu.orders(other.key)[0]!.volume).toBe(1);
  });
});

describe('validation with AddOrder’s rules and error strings', () => {
  it.each([
    [{ limit_price: '95.05' }, 'EOrder:Invalid price:XBTUSD price can only be specified up to 1 decimals.'],
    [{ order_qty: '0.123456789' }, 'EGeneral:Invalid arguments:volume'],
    [{ order_qty: '0.00001' }, 'EOrder:Order minimum not met'],
    [{ order_qty: '0.001' }, 'EOrder:Cost minimum not met'], // 0.001 × 95 < costmin 0.5
    [{ order_qty: 'lots' }, 'EGeneral:Invalid arguments:volume'],
    [{ trigger_price: '80' }, 'EGeneral:Invalid arguments:trigger_price'], // a limit order has no trigger
    [{ display_qty: '0.1' }, 'EGeneral:Invalid arguments:display_qty'], // not an iceberg order
    [{ post_only: 'true' }, 'EGeneral:Invalid arguments'], // nothing to amend
  ])('limit order amended with %j → %s, unchanged', async (params, error) => {
    const { c, info } = await setup();
    const o = await c.createOrder('BTC/USD', 'limit', 'buy', 1, 95);
    const e = await caught(c.privatePostAmendOrder({ txid: o.id, ...params }));
    expect(e.message).toContain(error);
    expect(await info(o.id!)).toMatchObject({ status: 'open', vol: '1.00000000', descr: { price: '95.0' } });
  });

  it('limit_price on a plain stop-loss (no limit price) is refused', async () => {
    const { c, info } = await setup();
    const stop = await c.createOrder('BTC/USD', 'market', 'sell', 1, undefined, { stopLossPrice: 90 });
    const e = await caught(c.editOrder(stop.id!, 'BTC/USD', 'market', 'sell', undefined, 91));
    expect(e.message).toContain('EGeneral:Invalid arguments:limit_price');
    expect((await info(stop.id!)).stopprice).toBe('90.0');
  });

  it('a market in cancel_only refuses amends but still cancels', async () => {
    const { emu, c } = await setup();
    const o = await c.createOrder('BTC/USD', 'limit', 'buy', 1, 90);
    emu.setPairStatus('XBTUSD', 'cancel_only');
    expect((await caught(c.editOrder(o.id!, 'BTC/USD', 'limit', 'buy', 2))).message).toContain('EService:Market in cancel_only mode');
    await c.cancelOrder(o.id!);
  });
});

describe('faults on AmendOrder', () => {
  it.each([
    [{ kind: 'accept-then-drop' as const }, 'NetworkError', 'dropped'],
    [{ kind: 'accept-then-http' as const, status: 502 }, 'ExchangeNotAvailable', 502],
  ])('%j: the client sees a %s, the amend really applied', async (fault, cls, status) => {
    const { emu, k, c, info } = await setup();
    const o = await c.createOrder('BTC/USD', 'limit', 'buy', 1, 90);
    emu.faults.add({ method: 'AmendOrder', ...fault });
    const e = await caught(c.editOrder(o.id!, 'BTC/USD', 'limit', 'buy', 2, 91));
    expect(e).toBeInstanceOf((ccxt as unknown as Record<string, new () => Error>)[cls]!);
    expect(emu.calls('AmendOrder', k.key).at(-1)).toMatchObject({ status, processed: true, errors: [] });
    expect(await info(o.id!)).toMatchObject({ vol: '2.00000000', descr: { price: '91.0' } });
  });
});

describe('body encodings', () => {
  it('a JSON body (Content-Type application/json, signed over nonce + the JSON text) amends like the form body', async () => {
    const { emu, k, c, info } = await setup();
    const o = await c.createOrder('BTC/USD', 'limit', 'buy', 1, 90, { clientOrderId: 'json-1' });
    const post = async (payload: Record<string, unknown>) => {
      const nonce = Number(c.nonce()); // the client's own sequence, so its later calls stay above it
      const body = JSON.stringify({ nonce, ...payload }); // a JSON number, as in Kraken's examples
      const path = '/0/private/AmendOrder';
      const res = await fetch(emu.url + path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'api-key': k.key, 'api-sign': krakenSignature(path, String(nonce), body, k.secret) },
        body,
      });
      return (await res.json()) as { error: string[]; result?: { amend_id: string } };
    };
    const ok = await post({ cl_ord_id: 'json-1', order_qty: '1.5', limit_price: '92', post_only: true });
    expect(ok.error).toEqual([]);
    expect(ok.result!.amend_id).toMatch(/^T/);
    expect(emu.calls('AmendOrder', k.key).at(-1)!.params).toMatchObject({ cl_ord_id: 'json-1', order_qty: '1.5', limit_price: '92', post_only: 'true' });
    expect(await info(o.id!)).toMatchObject({ vol: '1.50000000', descr: { price: '92.0' } });
    const bad = await post({ txid: o.id, cl_ord_id: 'json-1', order_qty: '2' });
    expect(bad.error).toEqual(['EGeneral:Invalid arguments']);
  });
});
