import type { Balances, BrokerOrder } from '../exchange/types.ts';
import { isPending, type Venue } from './venue.ts';

type Awaitable<T> = T | Promise<T>;

/**
 * A venue whose balances and open orders are read once and reused until the cycle changes something
 * (submit, cancel, amend) or asks for a fresh read. One live cycle otherwise reads them a dozen
 * times, and each read is a call on Kraken's per-key counter; a reconciliation that just read them
 * can seed the cache. A synchronous venue (the backtest's engine) stays synchronous.
 */
export interface CachedVenue extends Venue {
  /** Forget what was read: the next read goes to the venue. */
  refresh(): void;
  /** Take these as the venue's current state (read a moment ago by reconciliation). */
  seed(state: { balances?: Balances; openOrders?: BrokerOrder[] }): void;
  /** How many changes (submit, cancel, amend) went through it. */
  writes(): number;
}

export function cachedVenue(venue: Venue): CachedVenue {
  let balances: Awaitable<Balances> | null = null;
  let open: Awaitable<BrokerOrder[]> | null = null;
  const refresh = () => {
    balances = null;
    open = null;
  };
  /** A read that fails is not kept: the next one asks again. (A synchronous answer is kept as it is, without a closure per read.) */
  const keepBalances = (v: Awaitable<Balances>): Awaitable<Balances> => (isPending(v) ? Promise.resolve(v).catch((e: unknown) => ((balances = null), Promise.reject(e))) : v);
  const keepOpen = (v: Awaitable<BrokerOrder[]>): Awaitable<BrokerOrder[]> => (isPending(v) ? Promise.resolve(v).catch((e: unknown) => ((open = null), Promise.reject(e))) : v);
  let writes = 0;
  const write = <T>(f: () => Awaitable<T>): Awaitable<T> => {
    writes++;
    refresh();
    const r = f();
    return isPending(r) ? Promise.resolve(r).finally(refresh) : r;
  };
  return {
    balances: () => (balances ??= keepBalances(venue.balances())),
    openOrders: () => (open ??= keepOpen(venue.openOrders())),
    submit: (o) => write(() => venue.submit(o)),
    cancel: (id) => write(() => venue.cancel(id)),
    amend: (id, change) => write(() => venue.amend(id, change)),
    orderByClientId: (cid) => venue.orderByClientId(cid),
    fills: (since) => venue.fills(since),
    ...(venue.market ? { market: (pair: string) => venue.market!(pair) } : {}),
    refresh,
    writes: () => writes,
    seed: (s) => {
      if (s.balances) balances = s.balances;
      if (s.openOrders) open = s.openOrders;
    },
  };
}
