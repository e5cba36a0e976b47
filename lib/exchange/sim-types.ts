import type { Candle } from '../market/candle.ts';
import type { AttachedClose, BrokerOrder, Fill, MarketSpec } from './types.ts';

/** Best bid/ask and last trade of a pair at `time` (epoch ms). */
export interface Quote {
  bid: number;
  ask: number;
  last: number;
  time: number;
}

type Awaitable<T> = T | Promise<T>;

/** Market data the SimBroker fills against. `candle` is the newest *closed* bar the matcher may consume. */
export interface PriceSource {
  quote(pair: string): Awaitable<Quote | null>;
  candle(pair: string): Awaitable<Candle | null>;
}

/** A simulated fill; it carries the realised PnL (USD, net of fees) it booked on its pair. */
export interface SimFill extends Fill {
  realizedPnl: number;
}

/** An order as the engine keeps it: a BrokerOrder plus what matching needs. Plain JSON. */
export interface SimOrder extends BrokerOrder {
  price2: number | null;
  postOnly: boolean;
  reduceOnly: boolean;
  close: AttachedClose | null; // to attach on fill
  parentId: string | null; // the entry this attached close belongs to
  childId: string | null; // the attached close created by this entry's fills
  /** A stop/take-profit whose trigger fired: the rest executes as a market (or, *-limit, a limit at price2). */
  triggered: boolean;
  holdPrice: number; // USD per base unit an open buy reserves (fee added on top); 0 for sells
  updatedAt: number;
  reason: string | null; // why it was cancelled, cut back or amended, when the engine or the caller said
  /** When the order was last amended: from then on it matches only bars opening at or after it. Absent: never amended. */
  amendedAt?: number;
}

/** Per-pair virtual position (spot, so never short). */
export interface SimPosition {
  pair: string;
  qty: number; // base units held through this pair
  avgEntryPrice: number; // volume-weighted trade price of the held qty, fees excluded
  costBasis: number; // USD paid for the held qty, buy fees included
  realizedPnl: number; // USD, all fees included
  fees: number; // USD paid in fees on this pair
}

/** The last bar consumed for a pair and how much of its volume fills have used. */
export interface SimBar {
  openTime: number;
  interval: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  used: number; // base units filled against this bar
}

/** The whole simulated account: plain, JSON-serialisable, versioned for optimistic concurrency. */
export interface SimState {
  schema: 1;
  version: number; // bumped by every save; the store compares it
  balances: Record<string, number>; // totals by unified asset
  holds: Record<string, number>; // reserved by open orders (derived from them, kept for readers)
  orders: Record<string, SimOrder>; // every accepted order, open and final, by id
  openOrderIds: string[]; // in submission order
  clientIds: Record<string, string>; // clientId → order id
  fills: SimFill[];
  positions: Record<string, SimPosition>;
  bars: Record<string, SimBar>;
  quotes: Record<string, Quote>;
  seq: { order: number; fill: number };
}

/** Persistence of SimState per account. The lead's PostgreSQL store implements it. */
export interface SimStateStore {
  load(accountId: string): Promise<SimState | null>;
  /**
   * Stores `state` (its `version` is `expectedVersion + 1`) only if the stored version is still
   * `expectedVersion` (0: nothing stored yet). Otherwise throws SimStateConflictError and stores nothing.
   */
  save(accountId: string, state: SimState, expectedVersion: number): Promise<void>;
}

export class SimStateConflictError extends Error {
  constructor(readonly accountId: string, readonly expectedVersion: number, readonly actualVersion: number | null) {
    super(`sim state of account ${accountId} changed concurrently: expected version ${expectedVersion}, found ${actualVersion ?? 'none'}`);
    this.name = 'SimStateConflictError';
  }
}

/** The account's fee tier (fractions); without it the market spec's first-tier fees apply. */
export interface SimFees {
  taker: number;
  maker: number;
}

/**
 * Execution-cost model. Market-type fills pay the half-spread (implicit when a real quote is known:
 * they fill at the ask/bid) plus impact = impactK × sqrt(fill / bar volume), capped at maxImpact.
 * No fill may take more than maxVolumeShare of a bar's volume; the rest waits for later bars.
 *
 * A stop triggered inside a bar executes `stopPenetration` of the way from its trigger (or the open,
 * when the bar gapped through it) towards the bar's extreme beyond it, before spread and impact: a
 * candle does not say when after the trigger the market order met the book, and the further the bar
 * ran through the stop the faster and thinner that market was (stops cluster where it broke: the
 * cascade that made the low is the one the stop sold into). 0 is the old fill at the trigger.
 */
export interface SlippageConfig {
  halfSpread: number; // fraction of price, for quotes synthesised from a candle close
  impactK: number;
  maxImpact: number;
  maxVolumeShare: number;
  /** In [0, 1]: share of the bar's run beyond a stop's trigger (or gap open) that its fill gives up. */
  stopPenetration: number;
}

export const DEFAULT_SLIPPAGE: Readonly<SlippageConfig> = Object.freeze({
  halfSpread: 0.0002,
  impactK: 0.01,
  maxImpact: 0.02,
  maxVolumeShare: 0.1,
  stopPenetration: 0.25,
});

export interface SimConfig {
  markets: readonly MarketSpec[];
  fees?: SimFees;
  slippage?: Partial<SlippageConfig>;
}

/** Opening balances. Non-USD assets need the USD price they were acquired at, to open their position. */
export interface SimInitial {
  balances: Record<string, number>;
  costBasis?: Record<string, number>; // USD per unit, by asset
}
