/**
 * Kraken's private REST results (OpenOrders, ClosedOrders, QueryOrders, TradesHistory, BalanceEx,
 * AddOrder) → Broker types, zod-validated. Orders on pairs outside the USD universe are kept (with
 * Kraken's pair name) so reconciliation can see them.
 */
import { z } from 'zod';
import type { MarketIndex } from './kraken-markets.ts';
import { unifiedAsset } from './universe.ts';
import type { Balances, BrokerOrder, Fill, OrderStatus, OrderType } from './types.ts';

const num = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const n = Number(v);
  if (!Number.isFinite(n)) ctx.addIssue({ code: 'custom', message: `not a number: ${String(v)}` });
  return n;
});

const orderInfoSchema = z.object({
  refid: z.string().nullable().optional(),
  userref: z.number().nullable().optional(),
  cl_ord_id: z.string().optional(),
  status: z.enum(['pending', 'open', 'closed', 'canceled', 'expired']),
  opentm: num,
  closetm: num.optional(),
  descr: z.object({ pair: z.string(), type: z.enum(['buy', 'sell']), ordertype: z.string(), price: num, price2: num }),
  vol: num,
  vol_exec: num,
  cost: num,
  fee: num,
  price: num,
});

export const openOrdersSchema = z.object({ open: z.record(z.string(), orderInfoSchema) });
export const closedOrdersSchema = z.object({ closed: z.record(z.string(), orderInfoSchema), count: z.number().optional() });
export const queryOrdersSchema = z.record(z.string(), orderInfoSchema);
export const addOrderSchema = z.object({ descr: z.object({ order: z.string() }).optional(), txid: z.array(z.string()).min(1).optional() });
export const amendOrderSchema = z.object({ amend_id: z.string().optional() });
export const balanceExSchema = z.record(z.string(), z.object({ balance: num, hold_trade: num.optional() }));
export const balanceSchema = z.record(z.string(), num);

const tradeSchema = z.object({
  ordertxid: z.string(),
  pair: z.string(),
  time: num,
  type: z.enum(['buy', 'sell']),
  price: num,
  cost: num,
  fee: num,
  vol: num,
  maker: z.boolean().optional(),
});
export const tradesHistorySchema = z.object({ trades: z.record(z.string(), tradeSchema), count: z.number() });

const ORDER_TYPES: readonly OrderType[] = ['market', 'limit', 'stop-loss', 'take-profit', 'stop-loss-limit', 'take-profit-limit'];

/** A BrokerOrder plus what reconciliation needs: the entry that spawned a conditional close, Kraken's own type. */
export interface KrakenOrder extends BrokerOrder {
  parentId: string | null; // refid: set on a conditional close created when its entry filled
  price2: number | null; // limit price of a *-limit trigger order (descr.price2)
  krakenType: string;
  krakenPair: string; // as Kraken named it (altname)
}

type OrderInfo = z.infer<typeof orderInfoSchema>;

export function toBrokerOrder(txid: string, o: OrderInfo, markets: MarketIndex): KrakenOrder {
  const type = (ORDER_TYPES as readonly string[]).includes(o.descr.ordertype) ? (o.descr.ordertype as OrderType) : 'limit';
  const spec = markets.byKraken(o.descr.pair);
  return {
    id: txid,
    clientId: o.cl_ord_id ?? null,
    pair: spec?.symbol ?? o.descr.pair,
    side: o.descr.type,
    type,
    amount: o.vol,
    price: type === 'market' ? null : o.descr.price,
    status: o.status as OrderStatus,
    filled: o.vol_exec,
    avgPrice: o.vol_exec > 0 ? o.price : null,
    fee: o.fee,
    createdAt: Math.round(o.opentm * 1000),
    parentId: o.refid ?? null,
    price2: type.endsWith('-limit') ? o.descr.price2 : null,
    krakenType: o.descr.ordertype,
    krakenPair: o.descr.pair,
  };
}

export const parseOrders = (rows: Record<string, OrderInfo>, markets: MarketIndex): KrakenOrder[] =>
  Object.entries(rows).map(([txid, o]) => toBrokerOrder(txid, o, markets));

export function parseTrades(rows: z.infer<typeof tradesHistorySchema>['trades'], markets: MarketIndex, clientIdOf: (orderId: string) => string | null): Fill[] {
  return Object.entries(rows).map(([id, t]) => ({
    id,
    orderId: t.ordertxid,
    clientId: clientIdOf(t.ordertxid),
    pair: markets.byKraken(t.pair)?.symbol ?? t.pair,
    side: t.type,
    price: t.price,
    amount: t.vol,
    fee: t.fee,
    liquidity: t.maker === true ? 'maker' : 'taker',
    time: Math.round(t.time * 1000),
  }));
}

/** BalanceEx → Balances by unified asset; hold is what open orders reserve. */
export function parseBalanceEx(result: unknown): Balances {
  const out: Balances = {};
  for (const [asset, b] of Object.entries(balanceExSchema.parse(result))) {
    const hold = b.hold_trade ?? 0;
    const code = unifiedAsset(asset);
    const prev = out[code] ?? { total: 0, hold: 0, free: 0 };
    const total = prev.total + b.balance;
    const h = prev.hold + hold;
    out[code] = { total, hold: h, free: total - h };
  }
  return out;
}
