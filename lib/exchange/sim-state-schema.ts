import { z } from 'zod';
import type { SimState } from './sim-types.ts';

/**
 * The shape of a persisted SimState. SimBroker validates what a store hands back before trading on
 * it: a row written by another version of the code, or edited by hand, fails loudly here instead of
 * corrupting balances later. Parsing also yields a fresh object the engine may mutate.
 */

const num = z.number().finite();
const nonNeg = num.nonnegative();
const side = z.enum(['buy', 'sell']);
const orderType = z.enum(['market', 'limit', 'stop-loss', 'take-profit', 'stop-loss-limit', 'take-profit-limit']);

const order = z.object({
  id: z.string().min(1),
  clientId: z.string().nullable(),
  pair: z.string().min(1),
  side,
  type: orderType,
  amount: nonNeg,
  price: num.nullable(),
  status: z.enum(['pending', 'open', 'closed', 'canceled', 'expired']),
  filled: nonNeg,
  avgPrice: num.nullable(),
  fee: nonNeg,
  createdAt: num,
  price2: num.nullable(),
  postOnly: z.boolean(),
  reduceOnly: z.boolean(),
  close: z
    .object({ type: z.enum(['stop-loss', 'take-profit', 'stop-loss-limit', 'take-profit-limit']), price: num, price2: num.optional() })
    .nullable(),
  parentId: z.string().nullable(),
  childId: z.string().nullable(),
  triggered: z.boolean(),
  holdPrice: nonNeg,
  updatedAt: num,
  reason: z.string().nullable(),
  amendedAt: num.optional(), // absent in states saved before amends existed, and on orders never amended
});

const fill = z.object({
  id: z.string().min(1),
  orderId: z.string().min(1),
  clientId: z.string().nullable(),
  pair: z.string().min(1),
  side,
  price: num.positive(),
  amount: num.positive(),
  fee: nonNeg,
  liquidity: z.enum(['maker', 'taker']),
  time: num,
  realizedPnl: num,
});

const position = z.object({
  pair: z.string().min(1),
  qty: nonNeg,
  avgEntryPrice: nonNeg,
  costBasis: num,
  realizedPnl: num,
  fees: nonNeg,
});

const bar = z.object({ openTime: num, interval: nonNeg, open: nonNeg, high: nonNeg, low: nonNeg, close: nonNeg, volume: nonNeg, used: nonNeg });
const quote = z.object({ bid: nonNeg, ask: nonNeg, last: nonNeg, time: num });

export const simStateSchema = z
  .object({
    schema: z.literal(1),
    version: z.number().int().nonnegative(),
    balances: z.record(z.string(), nonNeg),
    holds: z.record(z.string(), nonNeg),
    orders: z.record(z.string(), order),
    openOrderIds: z.array(z.string()),
    clientIds: z.record(z.string(), z.string()),
    fills: z.array(fill),
    positions: z.record(z.string(), position),
    bars: z.record(z.string(), bar),
    quotes: z.record(z.string(), quote),
    seq: z.object({ order: z.number().int().nonnegative(), fill: z.number().int().nonnegative() }),
  })
  .superRefine((s, ctx) => {
    for (const id of s.openOrderIds) {
      if (s.orders[id]?.status !== 'open') ctx.addIssue({ code: 'custom', message: `open order ${id} is missing or not open`, path: ['openOrderIds'] });
    }
    for (const [clientId, id] of Object.entries(s.clientIds)) {
      if (s.orders[id]?.clientId !== clientId) ctx.addIssue({ code: 'custom', message: `clientId ${clientId} points at ${id}, which does not carry it`, path: ['clientIds'] });
    }
  });

/** Validates a stored state (throws a ZodError naming what is wrong) and returns a fresh copy. */
export function parseSimState(value: unknown): SimState {
  return simStateSchema.parse(value) satisfies SimState;
}
