import type { Clock } from '../clock.ts';
import type { Candle } from '../market/candle.ts';
import { SimEngine } from './sim-engine.ts';
import { parseSimState } from './sim-state-schema.ts';
import type { PriceSource, SimFees, SimFill, SimInitial, SimState, SimStateStore, SlippageConfig } from './sim-types.ts';
import type { AmendChange, AmendResult, Balances, Broker, BrokerOrder, MarketSpec, OrderRequest, SubmitResult } from './types.ts';

export interface SimBrokerOptions {
  accountId: string;
  markets: MarketSpec[];
  clock: Clock;
  prices: PriceSource;
  store: SimStateStore;
  fees?: SimFees;
  slippage?: Partial<SlippageConfig>;
  /** Opening balances for an account with no stored state yet; without them such an account is an error. */
  initial?: SimInitial;
}

/**
 * The Broker of an account in simulation mode: SimEngine over the account's persisted SimState.
 * Every call loads the state, works on it and (when it changed) saves it with the version it loaded,
 * so a restart, or a second process, continues from exactly what was stored; a concurrent writer
 * makes the save throw SimStateConflictError (safe to retry: submits are idempotent by clientId).
 * Calls on one instance are serialised.
 */
export class SimBroker implements Broker {
  readonly kind = 'sim' as const;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: SimBrokerOptions) {}

  async loadMarkets(): Promise<MarketSpec[]> {
    return this.opts.markets.map((m) => ({ ...m }));
  }

  balances(): Promise<Balances> {
    return this.read((e) => e.balances());
  }

  openOrders(): Promise<BrokerOrder[]> {
    return this.read((e) => e.openOrders());
  }

  orderByClientId(clientId: string): Promise<BrokerOrder | null> {
    return this.read((e) => e.orderByClientId(clientId));
  }

  fills(since: number): Promise<SimFill[]> {
    return this.read((e) => e.fills(since));
  }

  /** Consumes the pair's newest closed bar first (so resting orders see it), then submits at the current quote. */
  submit(order: OrderRequest): Promise<SubmitResult> {
    return this.write(async (e) => {
      const existing = e.orderByClientId(order.clientId);
      if (existing !== null) return { status: 'accepted', order: existing };
      await this.catchUp(e, order.pair);
      const quote = await this.opts.prices.quote(order.pair);
      return e.submit(order, this.opts.clock.now(), quote ?? undefined);
    });
  }

  /** Cancels an open order; an order already filled or cancelled is left as it is; an unknown id throws. */
  cancel(orderId: string): Promise<void> {
    return this.write(async (e) => {
      e.cancel(orderId, this.opts.clock.now());
    });
  }

  /**
   * Amends an open order in place (Kraken AmendOrder semantics, see SimEngine.amend), after the
   * pair's newest closed bar has been consumed so that the old terms had their chance on it. A
   * refusal stores nothing; an accepted amend is persisted like every other write.
   */
  amend(orderId: string, change: AmendChange): Promise<AmendResult> {
    return this.write(async (e) => {
      const o = e.order(orderId);
      if (o !== null && o.status === 'open') await this.catchUp(e, o.pair);
      return e.amend(orderId, change, this.opts.clock.now());
    });
  }

  /** Matches resting orders against a newly closed bar (ignored when that bar was already consumed). */
  onCandle(candle: Candle): Promise<SimFill[]> {
    return this.write(async (e) => e.processBar(candle));
  }

  /** Matches several closed bars (ascending) in one load and save; bars already consumed are ignored. */
  processBars(candles: readonly Candle[]): Promise<SimFill[]> {
    return this.write(async (e) => candles.flatMap((c) => e.processBar(c)));
  }

  processBar(pair: string, candle: Candle): Promise<SimFill[]> {
    if (candle.pair !== pair) throw new Error(`processBar(${pair}) was given a ${candle.pair} candle`);
    return this.onCandle(candle);
  }

  private async catchUp(e: SimEngine, pair: string): Promise<void> {
    const candle = await this.opts.prices.candle(pair);
    if (candle === null) return;
    const last = e.lastBarOpenTime(pair);
    if (last === null || candle.openTime > last) e.processBar(candle);
  }

  private read<T>(f: (e: SimEngine) => T): Promise<T> {
    return this.serial(async () => f(await this.engine()));
  }

  private write<T>(f: (e: SimEngine) => Promise<T>): Promise<T> {
    return this.serial(async () => {
      const e = await this.engine();
      const out = await f(e);
      if (e.dirty) {
        const expected = e.version;
        e.bumpVersion();
        await this.opts.store.save(this.opts.accountId, e.snapshot(), expected);
      }
      return out;
    });
  }

  private serial<T>(f: () => Promise<T>): Promise<T> {
    const run = this.queue.then(f, f);
    this.queue = run.catch(() => undefined); // the caller sees the error; the queue moves on
    return run;
  }

  private async engine(): Promise<SimEngine> {
    const { accountId, markets, fees, slippage } = this.opts;
    const config = { markets, fees, slippage };
    const stored: SimState | null = await this.opts.store.load(accountId);
    // Validated, and a private copy: the engine mutates what it restores, a store may cache what it returns.
    if (stored !== null) return SimEngine.restore(parseSimState(stored), config);
    if (this.opts.initial === undefined) {
      throw new Error(`account ${accountId} has no simulation state yet and no opening balances were given (SimBrokerOptions.initial)`);
    }
    return SimEngine.create(this.opts.initial, config); // stored with its first change
  }
}
