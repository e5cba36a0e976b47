import { readFileSync } from 'node:fs';
import ccxt from 'ccxt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZodError } from 'zod';
import { FaultPlan, parseScenario } from './faults.ts';
import { caught, ccxtOptions } from './helpers.ts';
import { generateKey, startKrakenEmulator, type KrakenEmulator } from './index.ts';

type Kraken = InstanceType<typeof ccxt.kraken>;


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

describe('accept the order, then answer late or with a 5xx', () => {
  it('accept-then-delay: the client times out, the order really is placed, the log says delayed', async () => {
    const { k, c } = account();
    await c.loadMarkets();
    c.timeout = 300;
    const firedBefore = emu.faults.fired.length;
    emu.faults.add({ method: 'AddOrder', kind: 'accept-then-delay', ms: 1_500 });
    const e = await caught(c.createOrder('BTC/USD', 'limit', 'buy', 0.01, 10_000, { clientOrderId: 'delay-0001' }));
    expect(e).toBeInstanceOf(ccxt.RequestTimeout);
    expect(emu.orders(k.key)).toMatchObject([{ clOrdId: 'delay-0001', status: 'open' }]);
    expect(emu.calls('AddOrder', k.key).at(-1)).toMatchObject({ status: 'delayed', processed: true, errors: [] });
    expect(emu.faults.fired.slice(firedBefore)).toEqual([{ method: 'AddOrder', kind: 'accept-then-delay' }]);
    c.timeout = 2_000;
    const found = await c.fetchOpenOrders(undefined, undefined, undefined, { clientOrderId: 'delay-0001' });
    expect(found).toHaveLength(1);
  });

  it('accept-then-delay shorter than the timeout: the real result arrives, after the delay', async () => {
    const { k, c } = account({ timeout: 5_000 });
    await c.loadMarkets();
    emu.faults.add({ method: 'AddOrder', kind: 'accept-then-delay', ms: 250 });
    const started = performance.now();
    const o = await c.createOrder('BTC/USD', 'limit', 'buy', 0.01, 10_000);
    expect(performance.now() - started).toBeGreaterThanOrEqual(240);
    expect(o.id).toBe(emu.orders(k.key)[0]!.txid);
  });

  it.each([
    [500, undefined, 'ExchangeNotAvailable'],
    [502, '<html>bad gateway</html>', 'ExchangeNotAvailable'],
    [503, undefined, 'ExchangeNotAvailable'],
    [504, undefined, 'RequestTimeout'],
  ] as const)('accept-then-http %d: the client sees %s, the order really is placed', async (status, body, cls) => {
    const { k, c } = account();
    await c.loadMarkets();
    emu.faults.add({ method: 'AddOrder', kind: 'accept-then-http', status, ...(body !== undefined ? { body } : {}) });
    const e = await caught(c.createOrder('BTC/USD', 'limit', 'buy', 0.01, 10_000, { clientOrderId: `http-${status}` }));
    expect(e.constructor.name).toBe(cls);
    if (body !== undefined) expect(e.message).toContain('bad gateway');
    expect(emu.orders(k.key)).toMatchObject([{ clOrdId: `http-${status}`, status: 'open' }]);
    expect(emu.calls('AddOrder', k.key).at(-1)).toMatchObject({ status, processed: true, errors: [] });
    expect(emu.faults.fired.at(-1)).toEqual({ method: 'AddOrder', kind: 'accept-then-http' });
  });

  it('a spoiled reply records the refusal the method produced (processed, nothing placed)', async () => {
    const { k, c } = account();
    emu.faults.add({ method: 'AddOrder', kind: 'accept-then-http', status: 500 });
    await caught(c.createOrder('BTC/USD', 'limit', 'buy', 100, 10_000)); // far beyond the funds
    expect(emu.calls('AddOrder', k.key).at(-1)).toMatchObject({ status: 500, processed: true, errors: ['EOrder:Insufficient funds'] });
    expect(emu.orders(k.key)).toHaveLength(0);
  });

  it('faults that pre-empt the method leave processed false; so does a failed authentication', async () => {
    const { k, c } = account();
    c.timeout = 200;
    emu.faults.add([
      { method: 'Balance', kind: 'timeout' },
      { method: 'BalanceEx', kind: 'http', status: 502 },
    ]);
    await caught(c.privatePostBalance());
    await caught(c.privatePostBalanceEx());
    expect(emu.calls('Balance', k.key).at(-1)).toMatchObject({ status: 'timeout', processed: false });
    expect(emu.calls('BalanceEx', k.key).at(-1)).toMatchObject({ status: 502, processed: false });
    await c.privatePostBalance(); // the key's first authenticated call: from now on nonce 1 is stale
    emu.faults.add({ method: 'AddOrder', kind: 'accept-then-drop' });
    const stale = new ccxt.kraken(ccxtOptions(emu, k, { nonce: () => 1 })) as Kraken;
    await caught(stale.privatePostAddOrder({ pair: 'XXBTZUSD', type: 'buy', ordertype: 'limit', price: '10000', volume: '0.01' }));
    expect(emu.calls('AddOrder', k.key).at(-1)).toMatchObject({ status: 'dropped', processed: false, errors: ['EAPI:Invalid nonce'] });
    expect(emu.orders(k.key)).toHaveLength(0);
  });
});

describe('the private-request hook', () => {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('is called after authentication ("received", nothing placed yet) and after the method ("processed", placed)', async () => {
    const { k, c } = account();
    await c.loadMarkets();
    const seen: Array<[string, string, number]> = [];
    emu.setPrivateRequestHook((rec, phase) => {
      if (rec.key === k.key) seen.push([rec.name, phase, emu.orders(k.key).length]);
    });
    try {
      await c.createOrder('BTC/USD', 'limit', 'buy', 0.01, 10_000);
      await c.fetchBalance();
    } finally {
      emu.setPrivateRequestHook(undefined);
    }
    expect(seen).toEqual([
      ['AddOrder', 'received', 0],
      ['AddOrder', 'processed', 1],
      ['BalanceEx', 'received', 1],
      ['BalanceEx', 'processed', 1],
    ]);
  });

  it('the server awaits it: a "processed" hook holds the reply back while the order already exists', async () => {
    const { k, c } = account();
    await c.loadMarkets();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let processed = false;
    emu.setPrivateRequestHook(async (rec, phase) => {
      if (rec.key !== k.key || phase !== 'processed') return;
      processed = true;
      await gate;
    });
    try {
      let settled = false;
      const pending = c.createOrder('BTC/USD', 'limit', 'buy', 0.01, 10_000, { clientOrderId: 'held-0001' });
      void pending.then(() => (settled = true));
      while (!processed) await sleep(5);
      expect(emu.orders(k.key)).toMatchObject([{ clOrdId: 'held-0001', status: 'open' }]);
      await sleep(100);
      expect(settled).toBe(false);
      expect(emu.calls('AddOrder', k.key).at(-1)).toMatchObject({ status: 'pending', processed: true });
      release();
      const o = await pending;
      expect(o.id).toBe(emu.orders(k.key)[0]!.txid);
    } finally {
      emu.setPrivateRequestHook(undefined);
    }
  });

  it('a hook delay longer than the client timeout: RequestTimeout, and the order is placed', async () => {
    const { k, c } = account({ timeout: 150 });
    await c.loadMarkets();
    emu.setPrivateRequestHook(async (rec, phase) => {
      if (rec.key === k.key && phase === 'processed') await sleep(400);
    });
    try {
      expect(await caught(c.createOrder('BTC/USD', 'limit', 'buy', 0.01, 10_000))).toBeInstanceOf(ccxt.RequestTimeout);
      expect(emu.orders(k.key)).toHaveLength(1);
    } finally {
      emu.setPrivateRequestHook(undefined);
    }
  });

  it('is not called when authentication fails, nor for public calls; the startKrakenEmulator option works too', async () => {
    const phases: string[] = [];
    const k = generateKey();
    const local = await startKrakenEmulator({ keys: [{ ...k, balances: { USD: 100 } }], onPrivateRequest: (rec, phase) => void phases.push(`${rec.name}:${phase}`) });
    try {
      const c = new ccxt.kraken(ccxtOptions(local, k)) as Kraken;
      await c.fetchTime();
      await c.privatePostBalance();
      await caught(new ccxt.kraken(ccxtOptions(local, { key: k.key, secret: generateKey().secret })).privatePostBalance()); // bad signature
      await caught(new ccxt.kraken(ccxtOptions(local, generateKey())).privatePostBalance()); // unknown key
      expect(phases).toEqual(['Balance:received', 'Balance:processed']);
    } finally {
      await local.close();
    }
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
    [{ method: 'AddOrder', kind: 'accept-then-delay' }],
    [{ method: 'AddOrder', kind: 'accept-then-delay', ms: 0 }],
    [{ method: 'AddOrder', kind: 'accept-then-http', status: 429 }],
    [{ method: 'AddOrder', kind: 'accept-then-http' }],
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

  it('a scenario carries the new fault kinds and a lockout policy', async () => {
    const k = generateKey();
    const scenario = parseScenario({
      lockout: { breaches: 1, windowMs: 60_000, lockoutMs: 60_000 },
      keys: [{ ...k, tier: 'pro', balances: { USD: 1_000 } }],
      faults: [
        { method: 'AddOrder', kind: 'accept-then-http', status: 503, count: 1 },
        { method: 'AddOrder', kind: 'accept-then-delay', ms: 800, count: 1 },
      ],
    });
    const local = await startKrakenEmulator({ scenario });
    try {
      const c = new ccxt.kraken(ccxtOptions(local, k, { timeout: 300 })) as Kraken;
      await c.loadMarkets();
      expect(await caught(c.createOrder('BTC/USD', 'limit', 'buy', 0.01, 10_000))).toBeInstanceOf(ccxt.ExchangeNotAvailable);
      expect(await caught(c.createOrder('BTC/USD', 'limit', 'buy', 0.01, 10_000))).toBeInstanceOf(ccxt.RequestTimeout);
      expect(local.orders(k.key)).toHaveLength(2);
      expect(local.requests.filter((r) => r.name === 'AddOrder').map((r) => r.status)).toEqual([503, 'delayed']);
      // one breach locks this key out (the scenario's policy, not the default of 5)
      c.nonce = () => 1;
      expect(await caught(c.privatePostBalance())).toBeInstanceOf(ccxt.InvalidNonce);
      c.nonce = () => Date.now() * 10_000;
      expect((await caught(c.privatePostBalance())).message).toContain('EGeneral:Temporary lockout');
    } finally {
      await local.close();
    }
  });

  it('an invalid scenario stops start-up with a zod error', async () => {
    await expect(startKrakenEmulator({ scenario: { faults: [{ method: 'AddOrder', kind: 'nope' }] } as never })).rejects.toThrow(ZodError);
  });
});
