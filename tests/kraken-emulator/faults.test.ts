import { readFileSync } from 'node:fs';
import ccxt from 'ccxt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZodError } from 'zod';
import { FaultPlan, parseScenario } from './faults.ts';
import { ccxtOptions } from './helpers.ts';
import { generateKey, startKrakenEmulator, type KrakenEmulator } from './index.ts';

type Kraken = InstanceType<typeof ccxt.kraken>;

async function caught(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected the call to fail');
}

let emu: KrakenEmulator;
beforeAll(async () => {
  emu = await startKrakenEmulator();
});
afterAll(async () => {
  expect(emu.internalErrors).toEqual([]);
  await emu.close();
});

function account(extra: Record<string, unknown> = {}) {
  const k = generateKey();
  emu.addKey({ ...k, tier: 'pro', balances: { USD: 50_000, BTC: 1 } });
  return { k, c: new ccxt.kraken(ccxtOptions(emu, k, extra)) as Kraken };
}

describe('accept the order, then drop the reply', () => {
  it('the client sees a network error but the order really is placed, findable by cl_ord_id', async () => {
    const { k, c } = account();
    await c.loadMarkets();
    emu.faults.add({ method: 'AddOrder', kind: 'accept-then-drop' });
    const e = await caught(c.createOrder('BTC/USD', 'limit', 'buy', 0.01, 10_000, { clientOrderId: 'drop-0001' }));
    expect(e).toBeInstanceOf(ccxt.NetworkError);
    expect(emu.calls('AddOrder', k.key).at(-1)!.status).toBe('dropped');
    expect(emu.orders(k.key)).toMatchObject([{ clOrdId: 'drop-0001', status: 'open' }]);
    const found = await c.fetchOpenOrders(undefined, undefined, undefined, { clientOrderId: 'drop-0001' });
    expect(found).toHaveLength(1);
    expect(found[0]!.clientOrderId).toBe('drop-0001');
    expect(emu.balances(k.key)['ZUSD']!.hold).toBeGreaterThan(100);
  });

  it('a dropped market order has filled and moved the balance', async () => {
    const { k, c } = account();
    emu.faults.add({ method: 'AddOrder', kind: 'accept-then-drop' });
    await caught(c.createOrder('BTC/USD', 'market', 'buy', 0.01, undefined, { clientOrderId: 'drop-0002' }));
    expect(emu.balances(k.key)['XXBT']!.total).toBeCloseTo(1.01, 10);
    const closed = await c.fetchClosedOrders(undefined, undefined, undefined, { clientOrderId: 'drop-0002' });
    expect(closed).toMatchObject([{ status: 'closed', filled: 0.01 }]);
  });
});

describe('faults that do not process the request', () => {
  it.each([
    ['reset', 'NetworkError'],
    ['timeout', 'RequestTimeout'],
  ] as const)('%s on AddOrder → %s, and nothing is placed', async (kind, cls) => {
    const { k, c } = account();
    await c.loadMarkets();
    c.timeout = 300; // short only for the call under test
    emu.faults.add({ method: 'AddOrder', kind });
    const e = await caught(c.createOrder('BTC/USD', 'limit', 'buy', 0.01, 10_000));
    expect(e).toBeInstanceOf(ccxt[cls]);
    expect(emu.orders(k.key)).toHaveLength(0);
    expect(emu.calls('AddOrder', k.key).at(-1)!.status).toBe(kind);
  });

  it('added latency longer than the client timeout → RequestTimeout; shorter → answered', async () => {
    const { c } = account({ timeout: 150 });
    emu.faults.add({ method: 'Time', kind: 'latency', ms: 400 });
    expect((await caught(c.fetchTime())).constructor.name).toBe('RequestTimeout');
    const { c: patient } = account({ timeout: 5_000 });
    emu.faults.add({ method: 'Time', kind: 'latency', ms: 100 });
    expect(await patient.fetchTime()).toBeGreaterThan(0);
    expect(emu.faults.pending()).toHaveLength(0);
  });
});

describe('matching', () => {
  it('count: fires that many times, then the method answers normally', async () => {
    const { c } = account();
    emu.faults.add({ method: 'BalanceEx', kind: 'error', error: 'EService:Unavailable', count: 2 });
    for (let i = 0; i < 2; i++) expect(await caught(c.fetchBalance())).toBeInstanceOf(ccxt.ExchangeNotAvailable);
    expect((await c.fetchBalance())['USD']!.total).toBe(50_000);
  });

  it('skip, key filter and "*"', async () => {
    const a = account();
    const b = account();
    emu.faults.add({ method: '*', key: a.k.key, kind: 'error', error: 'EService:Busy', skip: 1 });
    await a.c.privatePostBalance(); // skipped
    await b.c.privatePostBalance(); // another key: not matched
    expect((await caught(a.c.privatePostOpenOrders())).message).toContain('EService:Busy');
    await a.c.privatePostOpenOrders();
  });

  it('clear() removes pending faults', async () => {
    const { c } = account();
    emu.faults.add({ method: 'Balance', kind: 'error', error: 'EService:Busy', count: 5 });
    expect(emu.faults.pending()).toHaveLength(1);
    emu.faults.clear();
    await c.privatePostBalance();
  });

  it('probability faults are reproducible from the seed', () => {
    const run = (seed: number) => {
      const plan = new FaultPlan(seed);
      plan.add({ method: 'Ticker', kind: 'error', error: 'EService:Busy', probability: 0.3 });
      return Array.from({ length: 40 }, () => plan.take('Ticker', null).length);
    };
    expect(run(42)).toEqual(run(42));
    expect(run(42)).not.toEqual(run(43));
    const hits = run(42).reduce((s, x) => s + x, 0);
    expect(hits).toBeGreaterThan(4);
    expect(hits).toBeLessThan(24);
  });

  it.each([
    [{ method: 'Ticker', kind: 'explode' }],
    [{ method: 'Ticker', kind: 'error', error: 'not a kraken error' }],
    [{ method: 'Ticker', kind: 'http', status: 200 }],
    [{ method: 'Ticker', kind: 'latency' }],
    [{ method: 'Ticker', kind: 'error', error: 'EService:Busy', probability: 2 }],
  ])('an invalid fault %j is refused', (spec) => {
    expect(() => new FaultPlan().add(spec as never)).toThrow(ZodError);
  });
});

describe('scenario files', () => {
  it('a JSON scenario is validated and drives keys and faults', async () => {
    const json = JSON.parse(readFileSync(new URL('./scenarios/flaky-order-entry.json', import.meta.url), 'utf8')) as unknown;
    const scenario = parseScenario(json);
    const local = await startKrakenEmulator({ scenario });
    try {
      const key = scenario.keys![0]!;
      const c = new ccxt.kraken(ccxtOptions(local, key)) as Kraken;
      for (let i = 0; i < 2; i++) expect((await caught(c.fetchBalance())).message).toContain('EService:Busy');
      expect((await c.fetchBalance())['USD']!.total).toBe(25_000);
      expect((await caught(c.fetchOpenOrders())).constructor.name).toBe('ExchangeNotAvailable'); // HTTP 502
      expect(await caught(c.createOrder('BTC/USD', 'limit', 'buy', 0.01, 10_000, { clientOrderId: 'scn-1' }))).toBeInstanceOf(ccxt.NetworkError);
      expect(local.orders(key.key)).toMatchObject([{ clOrdId: 'scn-1', status: 'open' }]);
    } finally {
      await local.close();
    }
  });

  it('an invalid scenario stops start-up with a zod error', async () => {
    await expect(startKrakenEmulator({ scenario: { faults: [{ method: 'AddOrder', kind: 'nope' }] } as never })).rejects.toThrow(ZodError);
  });
});
