import type { AmendChange, AmendResult, BrokerOrder, MarketSpec, OrderRequest, SubmitResult } from '../exchange/types.ts';
import type { HedgeSettings } from '../hedge/settings.ts';
import type { Candle } from '../market/candle.ts';
import type { RiskVerdict } from '../risk/types.ts';
import type { RiskSettings } from '../risk/settings.ts';
import type { OrderIntent } from '../strategy/intent.ts';
import type { TradingSettings } from '../strategy/settings.ts';
import type { Signal } from '../strategy/signal.ts';

type Awaitable<T> = T | Promise<T>;

export interface AccountSettingsSet {
  trading: TradingSettings;
  risk: RiskSettings;
  hedge: HedgeSettings;
}

/** The market as every account sees it at one decision time. */
export interface MarketView {
  /** Decision time: the close of the newest bar (epoch ms). */
  now: number;
  /** The newest closed bar per pair. */
  bars: Readonly<Record<string, Candle>>;
  signals: Readonly<Record<string, Signal | null>>;
  markets: Readonly<Record<string, MarketSpec>>;
  /** Correlated groups (risk engine) and expected slippage per pair. */
  groupOf: Readonly<Record<string, number>>;
  slippage: Readonly<Record<string, number>>;
  /** Annualised realised volatility of the universe, for the hedge. */
  volAnnual: number;
}

/** 'send': a new order; 'lookup': this client id was recorded before (a retried job) — find it before sending. */
export type SubmitPlan = 'send' | 'lookup';

/** Where the cycle reports what it does: the database in the live path, the backtest's records otherwise. */
export interface Journal {
  beforeSubmit(intent: OrderIntent, order: OrderRequest): Awaitable<SubmitPlan>;
  afterSubmit(intent: OrderIntent, order: OrderRequest, result: SubmitResult): Awaitable<void>;
  refused(intent: OrderIntent, verdict: Extract<RiskVerdict, { ok: false }>): Awaitable<void>;
  /** A resting order the cycle changed in place: a stop moved, or cut to what a sale leaves. */
  amended(order: BrokerOrder, change: AmendChange, result: AmendResult, why: string): Awaitable<void>;
  /** A resting order the cycle cancelled: a stop freed for a sale, an entry on HALTED. */
  cancelled(order: BrokerOrder, why: string): Awaitable<void>;
}
