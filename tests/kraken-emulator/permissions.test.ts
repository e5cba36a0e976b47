/**
 * API-key permissions: keys carry Kraken's permission set (default: a trading key that cannot
 * withdraw), every private method checks what Kraken's reference says it needs, and a missing
 * permission is `EGeneral:Permission denied` — which ccxt raises as PermissionDenied.
 */
import ccxt from 'ccxt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caught, ccxtOptions } from './helpers.ts';
import { DEFAULT_PERMISSIONS, generateKey, parseScenario, PERMISSIONS, startKrakenEmulator, type KrakenEmulator, type Permission } from './index.ts';

type Kraken = InstanceType<typeof ccxt.kraken>;
let emu: KrakenEmulator;

beforeAll(async () => {
  emu = await startKrakenEmulator();
});
afterAll(async () => {
  expect(emu.internalErrors).toEqual([]);
  await emu.close();
});

function keyWith(permissions?: readonly Permission[]): { key: string; client: Kraken } {
  const k = generateKey();
  emu.addKey({ ...k, tier: 'pro', balances: { USD: 10_000, BTC: 1 }, ...(permissions ? { permissions } : {}) });
  return { key: k.key, client: new ccxt.kraken(ccxtOptions(emu, k)) as Kraken };
}

describe('the default key: a trading key that cannot withdraw', () => {
  it('holds every permission but deposit, withdraw and export', () => {
    expect([...DEFAULT_PERMISSIONS].sort()).toEqual(PERMISSIONS.filter((p) => !['deposit-funds', 'withdraw-funds', 'export-data'].includes(p)).sort());
  });

  it('queries, trades and cancels; WithdrawMethods is denied as Kraken denies it, after authentication', async () => {
    const { key, client } = keyWith();
    await client.fetchBalance();
    const o = await client.createOrder('BTC/USD', 'limit', 'buy', 0.001, 10_000);
    await client.fetchOpenOrders();
    await client.cancelOrder(o.id!);
    const e = await caught(client.privatePostWithdrawMethods());
    expect(e).toBeInstanceOf(ccxt.PermissionDenied);
    expect(emu.calls('WithdrawMethods', key).at(-1)).toMatchObject({ status: 200, processed: true, errors: ['EGeneral:Permission denied'] });
  });
});

describe('a key with Withdraw Funds', () => {
  it('lists withdrawal methods for what it holds (information only: the emulator serves no Withdraw)', async () => {
    const { client } = keyWith([...DEFAULT_PERMISSIONS, 'withdraw-funds']);
    const res = (await client.privatePostWithdrawMethods()) as { result: Array<{ asset: string; method: string }> };
    expect(res.result.map((m) => m.asset).sort()).toEqual(['XXBT', 'ZUSD']);
    const btc = (await client.privatePostWithdrawMethods({ asset: 'XBT' })) as { result: Array<{ asset: string }> };
    expect(btc.result).toEqual([expect.objectContaining({ asset: 'XXBT' })]);
    expect(await caught(client.privatePostWithdraw({ asset: 'XBT', key: 'mine', amount: '0.1' }))).toBeInstanceOf(ccxt.ExchangeError); // EGeneral:Unknown method
  });

  it('still needs Query Funds for WithdrawMethods (Kraken asks for both)', async () => {
    const { client } = keyWith(['withdraw-funds']);
    expect(await caught(client.privatePostWithdrawMethods())).toBeInstanceOf(ccxt.PermissionDenied);
  });
});

describe('each private method checks its permission', () => {
  it.each<[string, Permission, (c: Kraken) => Promise<unknown>]>([
    ['Balance', 'query-funds', (c) => c.privatePostBalance()],
    ['BalanceEx', 'query-funds', (c) => c.fetchBalance()],
    ['OpenOrders', 'query-open-orders', (c) => c.fetchOpenOrders()],
    ['ClosedOrders', 'query-closed-orders', (c) => c.fetchClosedOrders()],
    ['TradesHistory', 'query-closed-orders', (c) => c.fetchMyTrades()],
    ['Ledgers', 'query-ledger', (c) => c.fetchLedger()],
    ['AddOrder', 'modify-orders', (c) => c.createOrder('BTC/USD', 'limit', 'buy', 0.001, 10_000)],
    ['AddOrder validate=true', 'modify-orders', (c) => c.privatePostAddOrder({ pair: 'XXBTZUSD', type: 'buy', ordertype: 'limit', price: '10000', volume: '0.001', validate: true })],
    ['CancelAll', 'cancel-orders', (c) => c.cancelAllOrders()],
    ['GetWebSocketsToken', 'websockets', (c) => c.privatePostGetWebSocketsToken()],
  ])('%s without %s → PermissionDenied, nothing changed', async (_name, missing, run) => {
    const { key, client } = keyWith(DEFAULT_PERMISSIONS.filter((p) => p !== missing));
    await client.loadMarkets();
    expect(await caught(run(client))).toBeInstanceOf(ccxt.PermissionDenied);
    expect(emu.orders(key)).toEqual([]);
    expect(emu.balances(key)['ZUSD']).toEqual({ total: 10_000, hold: 0, free: 10_000 });
  });

  it('QueryOrders takes either query permission', async () => {
    for (const held of [['query-open-orders'], ['query-closed-orders']] as Permission[][]) {
      const { client } = keyWith(held);
      await client.privatePostQueryOrders({ txid: 'OAAAAA-BBBBB-CCCCCC' });
    }
    const { client } = keyWith(['query-funds']);
    expect(await caught(client.privatePostQueryOrders({ txid: 'OAAAAA-BBBBB-CCCCCC' }))).toBeInstanceOf(ccxt.PermissionDenied);
  });

  it('setPermissions edits a key as Kraken’s settings page does', async () => {
    const { key, client } = keyWith();
    expect(await caught(client.privatePostWithdrawMethods())).toBeInstanceOf(ccxt.PermissionDenied);
    emu.setPermissions(key, [...DEFAULT_PERMISSIONS, 'withdraw-funds']);
    await client.privatePostWithdrawMethods();
    emu.setPermissions(key, []);
    expect(await caught(client.fetchBalance())).toBeInstanceOf(ccxt.PermissionDenied);
  });
});

describe('scenarios', () => {
  it('keys may name their permissions; unknown ones are refused', () => {
    const k = generateKey();
    expect(parseScenario({ keys: [{ ...k, permissions: ['query-funds', 'withdraw-funds'] }] }).keys![0]!.permissions).toEqual(['query-funds', 'withdraw-funds']);
    expect(() => parseScenario({ keys: [{ ...k, permissions: ['withdraw-everything'] }] })).toThrow();
  });
});
