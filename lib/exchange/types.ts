/**
 * The Broker contract (DESIGN.md §3). SimBroker and KrakenBroker implement it; which one an account
 * uses is its mode. Amounts are base-asset units, prices and fees are USD.
 */
export type Side = 'buy' | 'sell';
export type OrderType = 'market' | 'limit' | 'stop-loss' | 'take-profit' | 'stop-loss-limit' | 'take-profit-limit';
export type MarketStatus = 'online' | 'cancel_only' | 'post_only' | 'limit_only' | 'reduce_only';

/** A tradable Kraken spot pair, as Aether sees it after filtering AssetPairs. */
export interface MarketSpec {
  symbol: string; // unified, "BTC/USD"
  base: string; // unified base asset, "BTC"
  quote: string; // "USD"
  krakenPair: string; // AssetPairs key, "XXBTZUSD"
  altname: string; // "XBTUSD"
  wsname: string; // "XBT/USD"
  pricePrecision: number; // pair_decimals
  amountPrecision: number; // lot_decimals
  minAmount: number; // ordermin (base units)
  minCost: number; // costmin (USD)
  status: MarketStatus;
  takerFee: number; // fraction, 0.0026 = 0.26 %
  makerFee: number;
  stablecoin: boolean; // USD stablecoin pair, allowed as a hedge instrument
}

/** A conditional close attached to an entry: triggers when the entry fills (Kraken `close[...]`). */
export interface AttachedClose {
  type: 'stop-loss' | 'take-profit' | 'stop-loss-limit' | 'take-profit-limit';
  price: number; // trigger price
  price2?: number; // limit price for *-limit
}

export interface OrderRequest {
  clientId: string; // deterministic, sent to Kraken as cl_ord_id
  pair: string; // unified symbol
  side: Side;
  type: OrderType;
  amount: number;
  price?: number; // limit price, or trigger price for stop/take-profit
  price2?: number; // limit price of *-limit orders
  postOnly?: boolean;
  reduceOnly?: boolean;
  close?: AttachedClose;
}

export type OrderStatus = 'pending' | 'open' | 'closed' | 'canceled' | 'expired';

export interface BrokerOrder {
  id: string; // exchange order id (txid)
  clientId: string | null;
  pair: string;
  side: Side;
  type: OrderType;
  amount: number;
  price: number | null;
  status: OrderStatus;
  filled: number;
  avgPrice: number | null;
  fee: number; // USD
  createdAt: number; // epoch ms
}

export interface Fill {
  id: string; // exchange trade id
  orderId: string;
  clientId: string | null;
  pair: string;
  side: Side;
  price: number;
  amount: number;
  fee: number; // USD
  liquidity: 'maker' | 'taker';
  time: number; // epoch ms
}

export interface AssetBalance {
  total: number;
  hold: number; // reserved by open orders
  free: number; // total - hold
}
export type Balances = Record<string, AssetBalance>; // by unified asset, "USD", "BTC"

export type SubmitResult =
  | { status: 'accepted'; order: BrokerOrder }
  | { status: 'rejected'; code: string; reason: string };

/** A change to a resting order in place (Kraken AmendOrder): identifiers and queue priority stay. */
export interface AmendChange {
  amount?: number; // new total quantity (base units); never below what has already filled
  price?: number; // new limit price (limit orders) or trigger price (stop-loss / take-profit orders)
  price2?: number; // new limit price of a *-limit trigger order
}

export type AmendResult =
  | { status: 'amended'; order: BrokerOrder }
  | { status: 'rejected'; code: string; reason: string };

export interface Broker {
  readonly kind: 'sim' | 'kraken';
  loadMarkets(): Promise<MarketSpec[]>;
  balances(): Promise<Balances>;
  openOrders(): Promise<BrokerOrder[]>;
  submit(order: OrderRequest): Promise<SubmitResult>;
  cancel(orderId: string): Promise<void>;
  /** Amends a resting order; rejections (not open, funds, minimums) are values, like submit's. */
  amend(orderId: string, change: AmendChange): Promise<AmendResult>;
  orderByClientId(clientId: string): Promise<BrokerOrder | null>;
  fills(since: number): Promise<Fill[]>;
}
