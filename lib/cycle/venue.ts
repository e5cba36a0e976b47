import type { Clock } from '../clock.ts';
import type { SimEngine } from '../exchange/sim-engine.ts';
import type { AmendChange, AmendResult, Balances, Broker, BrokerOrder, Fill, MarketSpec, OrderRequest, SubmitResult } from '../exchange/types.ts';

type Awaitable<T> = T | Promise<T>;

/** A fill as the cycle books it: the venue's fill plus the realised PnL when the venue knows it. */
export type CycleFill = Fill & { realizedPnl?: number };

/**
 * What one trading cycle needs from where orders go. Every Broker is a Venue; the backtest drives a
 * SimEngine directly through `engineVenue` (no persistence per step), so both run the same cycle code.
 */
export interface Venue {
  balances(): Awaitable<Balances>;
  openOrders(): Awaitable<BrokerOrder[]>;
  submit(order: OrderRequest): Awaitable<SubmitResult>;
  cancel(orderId: string): Awaitable<unknown>;
  /** Changes a resting order in place (Kraken AmendOrder); refusals are values, like submit's. */
  amend(orderId: string, change: AmendChange): Awaitable<AmendResult>;
  orderByClientId(clientId: string): Awaitable<BrokerOrder | null>;
  fills(since: number): Awaitable<CycleFill[]>;
  /**
   * The pair's listing as the exchange has it now, where the venue keeps listings it read earlier
   * (KrakenBroker: AssetPairs, read again when stale): a sale that would free stops is judged on it,
   * so a market that changed status since (limit_only, cancel_only) refuses it before a stop is
   * touched. Absent where listings do not change under the cycle (the simulator, the backtest).
   */
  market?(pair: string): Awaitable<MarketSpec | null>;
}

/**
 * Whether a venue's (or journal's) answer is still to come. The cycle awaits only those: a
 * synchronous venue (the backtest's SimEngine) answers without a trip through the microtask queue,
 * and a Broker's promises are awaited as before.
 */
export const isPending = <T>(x: T | PromiseLike<T>): x is PromiseLike<T> => typeof (x as { then?: unknown } | null)?.then === 'function';

export const brokerVenue = (broker: Broker): Venue => broker;

export function engineVenue(engine: SimEngine, clock: Clock): Venue {
  return {
    balances: () => engine.balances(),
    openOrders: () => engine.openOrders(),
    submit: (o) => engine.submit(o, clock.now()),
    cancel: (id) => engine.cancel(id, clock.now(), 'cancelled by the cycle'),
    amend: (id, change) => engine.amend(id, change, clock.now()),
    orderByClientId: (cid) => engine.orderByClientId(cid),
    fills: (since) => engine.fills(since),
  };
}
