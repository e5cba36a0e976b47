import type { MarketSpec, OrderRequest } from '../../../lib/exchange/types.ts';
import { riskSettingsSchema, type RiskContext, type RiskSettings } from '../../../lib/risk/index.ts';
import { kindCause, type IntentKind, type OrderIntent } from '../../../lib/strategy/intent.ts';

export const spec = (symbol: string, over: Partial<MarketSpec> = {}): MarketSpec => {
  const base = symbol.split('/')[0]!;
  return {
    symbol,
    base,
    quote: 'USD',
    krakenPair: `X${base}ZUSD`,
    altname: `${base}USD`,
    wsname: symbol,
    pricePrecision: 1,
    amountPrecision: 8,
    minAmount: 0.0001,
    minCost: 0.5,
    status: 'online',
    takerFee: 0.0026,
    makerFee: 0.0016,
    stablecoin: false,
    ...over,
  };
};

export const MARKETS: Record<string, MarketSpec> = {
  'BTC/USD': spec('BTC/USD', { minAmount: 0.00005 }),
  'ETH/USD': spec('ETH/USD', { pricePrecision: 2, minAmount: 0.002 }),
  'SOL/USD': spec('SOL/USD', { pricePrecision: 2, amountPrecision: 6, minAmount: 0.02 }),
  'USDC/USD': spec('USDC/USD', { pricePrecision: 4, amountPrecision: 2, minAmount: 1, stablecoin: true }),
  'CANCEL/USD': spec('CANCEL/USD', { status: 'cancel_only' }),
  'LIMIT/USD': spec('LIMIT/USD', { status: 'limit_only' }),
  'BTC/EUR': { ...spec('BTC/EUR'), quote: 'EUR' },
};

export const PRICES: Record<string, number> = {
  'BTC/USD': 50_000,
  'ETH/USD': 2_500,
  'SOL/USD': 100,
  'USDC/USD': 1,
  'CANCEL/USD': 10,
  'LIMIT/USD': 10,
  'BTC/EUR': 45_000,
};

export const settings = (over: Partial<RiskSettings> = {}): RiskSettings => riskSettingsSchema.parse(over);

/** 100k USD equity, 50k USD free, a 10k BTC position; BTC and ETH correlated, SOL alone. */
export function ctx(over: Partial<RiskContext> = {}): RiskContext {
  return {
    settings: settings(),
    tradingState: 'ACTIVE',
    balances: {
      USD: { total: 60_000, hold: 10_000, free: 50_000 },
      BTC: { total: 0.2, hold: 0.05, free: 0.15 },
      ETH: { total: 0, hold: 0, free: 0 },
    },
    positions: { 'BTC/USD': { qty: 0.2, avgPrice: 45_000, markPrice: 50_000 } },
    resting: {},
    prices: PRICES,
    equity: 100_000,
    markets: MARKETS,
    groupOf: { 'BTC/USD': 0, 'ETH/USD': 0, 'SOL/USD': 1 },
    slippage: { 'BTC/USD': 0.0005 },
    ...over,
  };
}

/** An entry buy with a stop 3 % under the mark and a comfortable edge. */
export function entry(pair: string, amount: number, over: Partial<OrderIntent> = {}, order: Partial<OrderRequest> = {}): OrderIntent {
  const px = PRICES[pair] ?? 100;
  return intent('entry', { pair, side: 'buy', type: 'market', amount, close: { type: 'stop-loss', price: px * 0.97 }, ...order }, { expectedEdge: 0.02, ...over });
}

export function intent(kind: IntentKind, order: Partial<OrderRequest> & Pick<OrderRequest, 'pair'>, over: Partial<OrderIntent> = {}): OrderIntent {
  return {
    kind,
    cause: kindCause(kind),
    accountId: 'company',
    decisionTime: 1_700_000_000_000,
    order: { clientId: '00000000-0000-8000-8000-000000000000', side: 'sell', type: 'market', amount: 1, ...order },
    reason: 'test',
    signal: null,
    expectedEdge: 0,
    ...over,
  };
}
