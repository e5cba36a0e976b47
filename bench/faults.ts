/**
 * KrakenBroker under injected faults: ≥ 2,000 orders through the real ccxt client against the Kraken
 * emulator (strict nonces, Kraken's counters), with ~25 % of AddOrder requests and ~22 % of every
 * other private call faulted, every kind on every method: latency, timeout, reset, HTTP 5xx and 429,
 * EService:Unavailable/Busy, rate limits, invalid nonce, accept-then-drop, accept-then-delay (the
 * reply after the client's timeout) and accept-then-http (5xx after placing). Each order runs inside
 * a 45 s job budget (lib/deadline). Then one reconciliation against the exchange. Must end with 0
 * duplicate orders, 0 blind resends (an AddOrder re-sent without a cl_ord_id lookup in between), 0
 * exchange orders unknown locally, 0 overdrafts, 0 leverage parameters.
 *
 * Time is a VirtualClock shared by emulator and broker (backoff and limiter waits advance it); only
 * client timeouts are real, kept short. Nonces persist in a fresh PostgreSQL database, dropped after.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { VirtualClock } from '../lib/clock.ts';
import { openDatabase } from '../lib/db/client.ts';
import { withDeadline } from '../lib/deadline.ts';
import { createKrakenBroker } from '../lib/exchange/kraken-broker.ts';
import { ExchangeTemporaryError, OrderStateUnknownError } from '../lib/exchange/kraken-errors.ts';
import { PgNonceStore } from '../lib/exchange/kraken-nonce.ts';
import { reconcile, type LocalOrderState } from '../lib/exchange/kraken-reconcile.ts';
import type { OrderRequest } from '../lib/exchange/types.ts';
import { withFreshDatabase } from './support.ts';
import { generateKey, startKrakenEmulator, type FaultSpec } from '../tests/kraken-emulator/index.ts';

const ORDERS = Number(process.env.BENCH_FAULT_ORDERS ?? 2000);
const JOB_BUDGET_MS = 45_000;
const TIMEOUT_MS = 200; // client timeout (real time); accept-then-delay answers after 300 ms

type Kind = FaultSpec extends infer F ? (F extends FaultSpec ? Omit<F, 'method' | 'probability' | 'count' | 'skip' | 'key'> : never) : never;
const EVERY_KIND: Kind[] = [
  { kind: 'timeout' },
  { kind: 'reset' },
  { kind: 'http', status: 500 },
  { kind: 'http', status: 502 },
  { kind: 'http', status: 503 },
  { kind: 'http', status: 429 },
  { kind: 'error', error: 'EService:Unavailable' },
  { kind: 'error', error: 'EService:Busy' },
  { kind: 'error', error: 'EAPI:Rate limit exceeded' },
  { kind: 'error', error: 'EAPI:Invalid nonce' },
  { kind: 'accept-then-drop' },
  { kind: 'accept-then-delay', ms: 300 },
  { kind: 'accept-then-http', status: 500 },
  { kind: 'accept-then-http', status: 502 },
];
const TRADING_KINDS: Kind[] = [...EVERY_KIND, { kind: 'error', error: 'EOrder:Rate limit exceeded' }];

/**
 * `total` of a method's requests faulted, spread evenly over `kinds`. The emulator tries the specs in
 * order and stops at the first that fires, so each gets a conditional probability.
 */
function faultsFor(method: string, total: number, kinds: Kind[]): FaultSpec[] {
  const each = total / kinds.length;
  return [{ method, kind: 'latency', ms: 8, probability: 0.05 }, ...kinds.map((k, i) => ({ ...k, method, probability: each / (1 - i * each) }) as FaultSpec)];
}
const ADD_ORDER_FAULTS = faultsFor('AddOrder', 0.25, TRADING_KINDS);
const OTHER_FAULTS: FaultSpec[] = [
  ...faultsFor('CancelOrder', 0.22, TRADING_KINDS),
  ...['OpenOrders', 'ClosedOrders', 'QueryOrders', 'BalanceEx', 'TradesHistory', 'TradeVolume'].flatMap((m) => faultsFor(m, 0.22, EVERY_KIND)),
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
    timeoutMs: TIMEOUT_MS,
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
  let maxOrderMs = 0;
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
    const started = performance.now();
    try {
      const r = await withDeadline(JOB_BUDGET_MS, () => broker.submit(req));
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
    } finally {
      maxOrderMs = Math.max(maxOrderMs, performance.now() - started);
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
        await withDeadline(JOB_BUDGET_MS, () => broker.cancel(id));
      } catch (e) {
        if (!(e instanceof ExchangeTemporaryError)) throw e;
      }
    }
    if (i % 48 === 44) {
      emu.advance(1);
      checkBalances();
      try {
        freeCache = await withDeadline(JOB_BUDGET_MS, () => broker.balances());
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

  // A blind resend: an AddOrder for a cl_ord_id whose previous AddOrder got no answer from Kraken
  // (timeout, reset, dropped, late, HTTP error), with no cl_ord_id lookup in between. (A resend after
  // Kraken's own refusal — busy, rate limit, bad nonce — is not blind: Kraken said it did nothing.)
  let blindResends = 0;
  const pendingLookup = new Map<string, boolean>(); // cl_ord_id → its last AddOrder was unanswered and not looked up since
  for (const r of emu.requests) {
    const cl = typeof r.params.cl_ord_id === 'string' ? r.params.cl_ord_id : null;
    if (cl === null || r.api !== 'private') continue;
    if (r.name === 'AddOrder') {
      if (pendingLookup.get(cl) === true) blindResends++;
      pendingLookup.set(cl, r.status !== 200);
    } else if (r.name === 'OpenOrders' || r.name === 'ClosedOrders') pendingLookup.set(cl, false);
  }

  const addOrders = emu.calls('AddOrder').length;
  const fired = emu.faults.fired.filter((f) => f.method === 'AddOrder');
  // Which kind each faulted request got, from the request log (fired[] records only the kind family).
  const injected = new Set(ADD_ORDER_FAULTS.concat(OTHER_FAULTS).flatMap((f) => (f.kind === 'error' ? [f.error] : [])));
  const byKind: Record<string, number> = {};
  const tally = (k: string) => void (byKind[k] = (byKind[k] ?? 0) + 1);
  for (const r of emu.requests) {
    if (r.api !== 'private') continue;
    if (r.status === 'timeout' || r.status === 'reset' || r.status === 'dropped' || r.status === 'delayed') tally(`${r.name}:${r.status}`);
    else if (typeof r.status === 'number' && r.status !== 200) tally(`${r.name}:http${r.status}${r.processed ? '-after' : ''}`);
    else if (r.errors.length === 1 && injected.has(r.errors[0]!)) tally(`${r.name}:${r.errors[0]}`);
  }
  for (const f of emu.faults.fired) if (f.kind === 'latency') tally(`${f.method}:latency`);
  const expectedKinds = ['latency', 'timeout', 'reset', 'http500', 'http502', 'http503', 'http429', 'EService:Unavailable', 'EService:Busy', 'EAPI:Rate limit exceeded', 'EAPI:Invalid nonce', 'dropped', 'delayed', 'http500-after', 'http502-after'];
  const missingKinds = [...expectedKinds, 'EOrder:Rate limit exceeded'].filter((k) => !byKind[`AddOrder:${k}`]);
  for (const m of ['OpenOrders', 'ClosedOrders', 'QueryOrders', 'BalanceEx', 'CancelOrder']) {
    // lookups and cancels are rarer: most kinds, not necessarily all, fire on them
    const seen = expectedKinds.filter((k) => byKind[`${m}:${k}`]).length;
    if (seen < expectedKinds.length / 2) missingKinds.push(`${m} (only ${seen} kinds)`);
  }
  if (missingKinds.length > 0) throw new Error(`fault kinds that never fired: ${missingKinds.join(', ')}`);
  const faultRate = fired.length / addOrders;
  const privateRequests = emu.requests.filter((r) => r.api === 'private');
  const privateFaultRate = emu.faults.fired.filter((f) => f.kind !== 'latency').length / privateRequests.length;
  const seconds = (performance.now() - started) / 1000;

  console.log(`orders submitted ${ORDERS}: ${JSON.stringify(outcomes)}; rejections ${JSON.stringify(rejectCodes)}`);
  console.log(`AddOrder requests ${addOrders}, faulted ${fired.length}; faults by kind ${JSON.stringify(byKind)}`);
  console.log(`emulator orders ${emuOrders.length} (${foreign} foreign); reconciliation: matched ${result.matched.length}, updates ${result.updates.length}, unexplained ${result.unexplained.length}`);
  for (const u of result.unexplained.slice(0, 10)) console.log(`  unexplained ${u.kind} ${u.ref}: ${u.detail}`);
  console.log(`balance mismatches after reconciliation ${balanceMismatches}; out-of-order nonces ${nonceViolations}`);
  console.log(`private calls ${privateRequests.length}, faulted (not counting latency) ${privateFaultRate.toFixed(3)}; slowest order ${(maxOrderMs / 1000).toFixed(2)} s of a ${JOB_BUDGET_MS / 1000} s budget`);
  console.log(`wall time ${seconds.toFixed(1)} s, virtual time ${((clock.now() - t0) / 60_000).toFixed(1)} min`);
  await emu.close();
  await database.close();
  console.log(
    `bench faults: orders=${ORDERS} fault_rate=${faultRate.toFixed(3)} private_fault_rate=${privateFaultRate.toFixed(3)} duplicates=${duplicates} blind_resends=${blindResends} unknown_after_reconcile=${unknownAfter} overdrafts=${overdrafts} leverage_params=${leverageParams} not_placed=${outcomes.not_placed} unknown=${outcomes.unknown} max_order_ms=${Math.round(maxOrderMs)}`,
  );
});
