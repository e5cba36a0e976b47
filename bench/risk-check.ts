/**
 * checkOrder throughput: backtests call it for every intent of every bar (target ≥ 50,000/s).
 * A mix of approvals, reductions to a cap and refusals over a 3-pair account with positions.
 */
import type { MarketSpec } from '../lib/exchange/types.ts';
import { checkOrder, riskSettingsSchema, type RiskContext } from '../lib/risk/index.ts';
import { kindCause, type OrderIntent } from '../lib/strategy/intent.ts';

const spec = (symbol: string, amountPrecision: number, minAmount: number): MarketSpec => ({
  symbol,
  base: symbol.split('/')[0]!,
  quote: 'USD',
  krakenPair: symbol,
  altname: symbol,
  wsname: symbol,
  pricePrecision: 2,
  amountPrecision,
  minAmount,
  minCost: 0.5,
  status: 'online',
  takerFee: 0.0026,
  makerFee: 0.0016,
  stablecoin: false,
});

const ctx: RiskContext = {
  settings: riskSettingsSchema.parse({}),
  tradingState: 'ACTIVE',
  balances: { USD: { total: 60_000, hold: 0, free: 60_000 }, BTC: { total: 0.2, hold: 0, free: 0.2 }, ETH: { total: 4, hold: 0, free: 4 } },
  positions: { 'BTC/USD': { qty: 0.2, avgPrice: 45_000, markPrice: 50_000 }, 'ETH/USD': { qty: 4, avgPrice: 2_000, markPrice: 2_500 } },
  resting: {},
  prices: { 'BTC/USD': 50_000, 'ETH/USD': 2_500, 'SOL/USD': 100 },
  equity: 100_000,
  markets: { 'BTC/USD': spec('BTC/USD', 8, 0.00005), 'ETH/USD': spec('ETH/USD', 8, 0.002), 'SOL/USD': spec('SOL/USD', 6, 0.02) },
  groupOf: { 'BTC/USD': 0, 'ETH/USD': 0, 'SOL/USD': 1 },
  slippage: { 'BTC/USD': 0.0005, 'ETH/USD': 0.0007, 'SOL/USD': 0.001 },
};

const mk = (kind: OrderIntent['kind'], pair: string, side: 'buy' | 'sell', amount: number, stop?: number, edge = 0.02): OrderIntent => ({
  kind,
  cause: kindCause(kind),
  accountId: 'company',
  decisionTime: 0,
  order: { clientId: 'bench', pair, side, type: 'market', amount, ...(stop === undefined ? {} : { close: { type: 'stop-loss' as const, price: stop } }) },
  reason: 'bench',
  signal: null,
  expectedEdge: edge,
});

const intents: OrderIntent[] = [
  mk('entry', 'SOL/USD', 'buy', 50, 97), // approved
  mk('entry', 'BTC/USD', 'buy', 0.5, 48_500), // reduced to the pair cap
  mk('entry', 'ETH/USD', 'buy', 1, 2_425, 0.001), // edge below costs
  mk('exit', 'ETH/USD', 'sell', 2), // approved exit
  mk('entry', 'SOL/USD', 'buy', 10), // no stop-loss
];

const N = 500_000;
let approved = 0;
for (let i = 0; i < 20_000; i++) checkOrder(intents[i % intents.length]!, ctx); // warm-up
const t0 = performance.now();
for (let i = 0; i < N; i++) if (checkOrder(intents[i % intents.length]!, ctx).ok) approved++;
const ms = performance.now() - t0;
const perS = Math.round(N / (ms / 1000));
console.log(`checkOrder: ${N} calls in ${ms.toFixed(1)} ms (${approved} approved), ${perS.toLocaleString('en')} calls/s, ${((ms * 1e6) / N).toFixed(0)} ns/call`);
console.log(`bench risk-check: calls_per_s=${perS} ns_per_call=${((ms * 1e6) / N).toFixed(0)} approved_share=${(approved / N).toFixed(2)}`);
