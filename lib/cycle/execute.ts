import type { Balances, BrokerOrder, MarketSpec, SubmitResult } from '../exchange/types.ts';
import { checkOrder } from '../risk/check.ts';
import { reserveApproved } from '../risk/ledger.ts';
import type { RiskContext } from '../risk/types.ts';
import type { OrderIntent } from '../strategy/intent.ts';
import type { Journal } from './types.ts';
import { isPending, type Venue } from './venue.ts';

const PROTECTIVE = new Set(['stop-loss', 'take-profit', 'stop-loss-limit', 'take-profit-limit']);

/** Open protective sells on a pair: they hold the base an exit or a hedge sell needs. */
export const protectiveOrders = (open: readonly BrokerOrder[], pair: string): BrokerOrder[] =>
  open.filter((o) => o.pair === pair && o.side === 'sell' && PROTECTIVE.has(o.type) && (o.status === 'open' || o.status === 'pending'));

export interface Executed {
  intent: OrderIntent;
  result: SubmitResult | null; // null: refused by the risk engine
  code?: string;
}

/**
 * Risk-checks and submits intents one at a time, each against the balances the previous ones left:
 * sells first free the base their pair's protective orders hold, every approval reserves what it
 * spends, and a client id recorded by an earlier attempt is looked up before anything is sent.
 */
export async function executeIntents(
  intents: readonly OrderIntent[],
  venue: Venue,
  journal: Journal,
  makeContext: (balances: Balances) => RiskContext,
  markets: Readonly<Record<string, MarketSpec>>,
): Promise<Executed[]> {
  const done: Executed[] = [];
  const first = venue.balances();
  let ctx = makeContext(isPending(first) ? await first : first);
  for (const intent of intents) {
    const o = intent.order;
    if (o.side === 'sell' && markets[o.pair]) {
      const held = protectiveOrders(await venue.openOrders(), o.pair);
      if (held.length) {
        for (const p of held) await venue.cancel(p.id);
        const freed = venue.balances();
        ctx = { ...ctx, balances: isPending(freed) ? await freed : freed };
      }
    }
    const verdict = checkOrder(intent, ctx);
    if (!verdict.ok) {
      const noted = journal.refused(intent, verdict);
      if (isPending(noted)) await noted;
      done.push({ intent, result: null, code: verdict.code });
      continue;
    }
    const planned = journal.beforeSubmit(intent, verdict.order);
    const plan = isPending(planned) ? await planned : planned;
    const known = plan === 'lookup' ? await venue.orderByClientId(verdict.order.clientId) : null;
    let result: SubmitResult;
    if (known) result = { status: 'accepted', order: known };
    else {
      const submitted = venue.submit(verdict.order);
      result = isPending(submitted) ? await submitted : submitted;
    }
    const recorded = journal.afterSubmit(intent, verdict.order, result);
    if (isPending(recorded)) await recorded;
    done.push({ intent: { ...intent, order: verdict.order }, result });
    if (result.status === 'accepted') ctx = reserveApproved(ctx, verdict.order);
  }
  return done;
}
