/**
 * KrakenBroker under injected faults: ≥ 2,000 orders through the real ccxt client against the Kraken
 * emulator, with ≥ 20 % of AddOrder requests faulted (every kind: latency, timeout, reset, HTTP 5xx
 * and 429, EService:Unavailable/Busy, rate limits, invalid nonce, accept-then-drop) plus faults on
 * lookups and cancels. Then one reconciliation against the exchange. Must end with 0 duplicate orders,
 * 0 exchange orders unknown locally, 0 overdrafts, 0 leverage parameters.
 *
 * Time is a VirtualClock shared by emulator and broker (backoff and limiter waits advance it); only
 * client timeouts are real, kept short. Nonces persist in a fresh PostgreSQL database, dropped after.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { VirtualClock } from '../lib/clock.ts';
import { openDatabase } from '../lib/db/client.ts';
import { createKrakenBroker } from '../lib/exchange/kraken-broker.ts';
import { ExchangeTemporaryError, OrderStateUnknownError } from '../lib/exchange/kraken-errors.ts';
import { PgNonceStore } from '../lib/exchange/kraken-nonce.ts';
import { reconcile, type LocalOrderState } from '../lib/exchange/kraken-reconcile.ts';
import type { OrderRequest } from '../lib/exchange/types.ts';
import { withFreshDatabase } from './support.ts';
import { generateKey, startKrakenEmulator, type FaultSpec } from '../tests/kraken-emulator/index.ts';

const ORDERS = Number(process.env.BENCH_FAULT_ORDERS ?? 2000);


// Conditional probabilities: the emulator tries each spec in order, so later ones see what is left.
const ADD_ORDER_FAULTS: FaultSpec[] = [
  { method: 'AddOrder', kind: 'latency', ms: 8, probability: 0.05 },
  { method: 'AddOrder', kind: 'timeout', probability: 0.015 },
  { method: 'AddOrder', kind: 'reset', probability: 0.025 },
  { method: 'AddOrder', kind: 'http', status: 500, probability: 0.02 },
  { method: 'AddOrder', kind: 'http', status: 502, probability: 0.01 },
  { method: 'AddOrder', kind: 'http', status: 429, probability: 0.015 },
  { method: 'AddOrder', kind: 'error', error: 'EService:Unavailable', probability: 0.02 },
  { method: 'AddOrder', kind: 'error', error: 'EService:Busy', probability: 0.015 },
  { method: 'AddOrder', kind: 'error', error: 'EAPI:Rate limit exceeded', probability: 0.01 },
  { method: 'AddOrder', kind: 'error', error: 'EOrder:Rate limit exceeded', probability: 0.01 },
  { method: 'AddOrder', kind: 'error', error: 'EAPI:Invalid nonce', probability: 0.015 },
  { method: 'AddOrder', kind: 'accept-then-drop', probability: 0.04 },
];
const OTHER_FAULTS: FaultSpec[] = [
  { method: 'OpenOrders', kind: 'reset', probability: 0.03 },
  { method: 'ClosedOrders', kind: 'http', status: 503, probability: 0.03 },
  { method: 'CancelOrder', kind: 'accept-then-drop', probability: 0.1 },
  { method: 'CancelOrder', kind: 'timeout', probability: 0.02 },
  { method: 'BalanceEx', kind: 'error', error: 'EService:Busy', probability: 0.05 },
];

await withFreshDatabase(async (url) => {
  const database = await openDatabase({ url, driver: 'pg', max: 4 });
  const owner = new pg.Client({ connectionString: url });
  await owner.connect();
  const accountId = (await owner.query<{ id: string }>(`insert into accounts (slug, name, kind) values ('bench-faults', 'bench', 'company') returning id`)).rows[0]!.id;
  await owner.end();

  const clock = new VirtualClock(Date.now());
  const key = generateKey();
  const emu = await startKrakenEmulator({ now: () => clock.now(), seed: 7, keys: [{ ...key, tier: 'pro', balances: { USD: 5_000_000, BTC: 20, ETH: 300, SOL: 5_000 } }] });
  const broker = await createKrakenBroker({
    accountId,
    credentials: { apiKey: key.key, apiSecret: key.secret },
    apiUrl: emu.url,
    nonceStore: new PgNonceStore(database.db),
    clock,
    sleep: async (ms) => clock.advance(Math.ceil(ms)),
    tier: 'pro',
    timeoutMs: 250,
    lookupSettleMs: 100,
  });
  const started = performance.now();
  const t0 = clock.now();
  await broker.loadMarkets();
  emu.faults.add([...ADD_ORDER_FAULTS, ...OTHER_FAULTS]);

  const local = new Map<string, LocalOrderState & { amount: number }>();
  const outcomes = { accepted: 0, rejected: 0, unknown: 0, not_placed: 0 };
  const rejectCodes: Record<string, number> = {};
  let overdrafts = 0;
  const startBalances = await broker.balances();
  let freeCache = startBalances;
  const pairs = [
    { symbol: 'BTC/USD', base: 'BTC', key: 'XXBTZUSD', amount: 0.002 },
    { symbol: 'ETH/USD', base: 'ETH', key: 'XETHZUSD', amount: 0.05 },
    { symbol: 'SOL/USD', base: 'SOL', key: 'SOLUSD', amount: 1 },
  ];
  const resting: string[] = [];

  const checkBalances = () => {
    for (const [asset, b] of Object.entries(emu.balances(key.key))) {
      if (b.total >= -1e-9 && b.free >= -1e-6) continue;
      overdrafts++;
      console.error(`overdraft: ${asset} ${JSON.stringify(b)}`);
    }
  };

  const submitOne = async (i: number): Promise<void> => {
    const p = pairs[i % pairs.length]!;
    const last = emu.exchange.last(emu.exchange.pair(p.key));
    const roll = i % 10;
    let req: OrderRequest;
    const clientId = randomUUID();
    if (roll < 4) req = { clientId, pair: p.symbol, side: 'buy', type: 'market', amount: p.amount };
    else if (roll < 6) {
      // Sells are sized against the free balance last seen, as the risk engine does.
      const free = freeCache[p.base]?.free ?? 0;
      req = { clientId, pair: p.symbol, side: 'sell', type: 'market', amount: Math.min(p.amount, free * 0.1) };
    } else if (roll < 8) req = { clientId, pair: p.symbol, side: 'buy', type: 'limit', amount: p.amount, price: last * 0.6 };
    else req = { clientId, pair: p.symbol, side: 'buy', type: 'limit', amount: p.amount, price: last * 0.999, close: { type: 'take-profit', price: last * 1.5 } };
    local.set(clientId, { clientId, exchangeId: null, status: 'pending', filled: 0, amount: req.amount }); // persisted before sending
    try {
      const r = await broker.submit(req);
      if (r.status === 'accepted') {
        outcomes.accepted++;
        local.set(clientId, { ...local.get(clientId)!, exchangeId: r.order.id, status: r.order.status });
        if (req.type === 'limit' && roll < 8) resting.push(r.order.id);
      } else {
        outcomes.rejected++;
        rejectCodes[r.code] = (rejectCodes[r.code] ?? 0) + 1;
        local.set(clientId, { ...local.get(clientId)!, status: 'rejected' });
      }
    } catch (e) {
      if (e instanceof OrderStateUnknownError) {
        outcomes.unknown++;
        local.set(clientId, { ...local.get(clientId)!, status: 'unknown' });
      } else if (e instanceof ExchangeTemporaryError) outcomes.not_placed++; // stays pending: reconciliation says not placed
      else throw e;
    }
  };

  // Four decisions at a time: the broker serialises them per key, nonces must stay ordered.
  const CONCURRENCY = 4;
  for (let i = 0; i < ORDERS; i += CONCURRENCY) {
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, ORDERS - i) }, (_, k) => submitOne(i + k)));
    clock.advance(800);
    if ((i / CONCURRENCY) % 2 === 1 && resting.length > 0) {
      const id = resting.shift()!;
      try {
        await broker.cancel(id);
      } catch (e) {
        if (!(e instanceof ExchangeTemporaryError)) throw e;
      }
    }
    if (i % 48 === 44) {
      emu.advance(1);
      checkBalances();
      try {
        freeCache = await broker.balances();
      } catch (e) {
        if (!(e instanceof ExchangeTemporaryError)) throw e;
      }
    }
  }
  checkBalances();

  // Reconcile with the faults still active: the broker's reads retry through them.
  const snapshot = await broker.exchangeSnapshot(t0);
  const startTotals = Object.fromEntries(Object.entries(startBalances).map(([a, b]) => [a, b.total]));
  const result = reconcile({ local: { orders: [...local.values()], fills: [], balances: startTotals }, exchange: snapshot });
  const unknownAfter = result.unexplained.filter((u) => u.kind === 'unknown_order' || u.kind === 'unknown_fill').length;
  const balanceMismatches = result.unexplained.filter((u) => u.kind === 'balance_mismatch').length;
  // The emulator refuses a nonce at or below the last one it saw: count arrivals that would be refused.
  let nonceViolations = 0;
  let maxNonce = -1n;
  for (const r of emu.requests) {
    if (r.api !== 'private' || typeof r.params.nonce !== 'string') continue;
    const n = BigInt(r.params.nonce);
    if (n <= maxNonce) nonceViolations++;
    else maxNonce = n;
  }

  const emuOrders = emu.orders(key.key);
  const byClient = new Map<string, number>();
  for (const o of emuOrders) if (o.clOrdId !== null) byClient.set(o.clOrdId, (byClient.get(o.clOrdId) ?? 0) + 1);
  const duplicates = [...byClient.values()].reduce((s, n) => s + (n - 1), 0);
  const foreign = emuOrders.filter((o) => o.clOrdId === null && o.refid === null).length; // neither ours nor a close of ours
  const insufficientCancels = emuOrders.filter((o) => o.reason === 'Insufficient funds').length;
  overdrafts += insufficientCancels;
  const leverageParams = emu.requests.filter((r) => ['leverage', 'reduce_only', 'margin'].some((k) => k in r.params)).length + emu.marginAttempts().length;

  const addOrders = emu.calls('AddOrder').length;
  const fired = emu.faults.fired.filter((f) => f.method === 'AddOrder');
  // Which kind each faulted request got, from the request log (fired[] records only the kind family).
  const injected = new Set(ADD_ORDER_FAULTS.concat(OTHER_FAULTS).flatMap((f) => (f.kind === 'error' ? [f.error] : [])));
  const byKind: Record<string, number> = {};
  const tally = (k: string) => void (byKind[k] = (byKind[k] ?? 0) + 1);
  for (const r of emu.requests) {
    if (r.api !== 'private') continue;
    if (r.status === 'timeout' || r.status === 'reset' || r.status === 'dropped') tally(`${r.name}:${r.status}`);
    else if (typeof r.status === 'number' && r.status !== 200) tally(`${r.name}:http${r.status}`);
    else if (r.errors.length === 1 && injected.has(r.errors[0]!)) tally(`${r.name}:${r.errors[0]}`);
  }
  for (const f of emu.faults.fired) if (f.kind === 'latency') tally(`${f.method}:latency`);
  const expectedKinds = ['latency', 'timeout', 'reset', 'http500', 'http502', 'http429', 'EService:Unavailable', 'EService:Busy', 'EAPI:Rate limit exceeded', 'EOrder:Rate limit exceeded', 'EAPI:Invalid nonce', 'dropped'];
  const missingKinds = expectedKinds.filter((k) => !byKind[`AddOrder:${k}`]);
  if (missingKinds.length > 0) throw new Error(`fault kinds that never fired on AddOrder: ${missingKinds.join(', ')}`);
  const faultRate = fired.length / addOrders;
  const seconds = (performance.now() - started) / 1000;

  console.log(`orders submitted ${ORDERS}: ${JSON.stringify(outcomes)}; rejections ${JSON.stringify(rejectCodes)}`);
  console.log(`AddOrder requests ${addOrders}, faulted ${fired.length}; faults by kind ${JSON.stringify(byKind)}`);
  console.log(`emulator orders ${emuOrders.length} (${foreign} foreign); reconciliation: matched ${result.matched.length}, updates ${result.updates.length}, unexplained ${result.unexplained.length}`);
  for (const u of result.unexplained.slice(0, 10)) console.log(`  unexplained ${u.kind} ${u.ref}: ${u.detail}`);
  console.log(`balance mismatches after reconciliation ${balanceMismatches}; out-of-order nonces ${nonceViolations}`);
  console.log(`wall time ${seconds.toFixed(1)} s, virtual time ${((clock.now() - t0) / 60_000).toFixed(1)} min`);
  await emu.close();
  await database.close();
  console.log(`bench faults: orders=${ORDERS} fault_rate=${faultRate.toFixed(3)} duplicates=${duplicates} unknown_after_reconcile=${unknownAfter} overdrafts=${overdrafts} leverage_params=${leverageParams}`);
});
