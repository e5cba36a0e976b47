import type { AmendChange, AmendResult, Balances, BrokerOrder, MarketSpec, SubmitResult } from '../exchange/types.ts';
import { checkOrder } from '../risk/check.ts';
import { reserveApproved } from '../risk/ledger.ts';
import type { RiskContext } from '../risk/types.ts';
import { clientId } from '../strategy/clientId.ts';
import type { OrderIntent } from '../strategy/intent.ts';
import { planProtection, restingQty, restingStops, type ProtectionAction } from './protection.ts';
import type { Journal } from './types.ts';
import { isPending, type Venue } from './venue.ts';
import { remainingMs, withDeadline } from '../deadline.ts';

/** Time kept back from a sale that freed its pair's stops, to restore them if the sale fails. */
const RESTORE_RESERVE_MS = 10_000;

export interface Executed {
  intent: OrderIntent;
  /** null: refused by the risk engine. A stop move reports the amend of its resting stop as accepted/rejected. */
  result: SubmitResult | null;
  code?: string;
}

const settle = async <T>(x: T | PromiseLike<T>): Promise<T> => (isPending(x) ? await x : x);

/** What one cycle needs to place, amend or restore stops besides the venue: the recorded levels and ids. */
export interface ExecutionScope {
  accountId: string;
  decisionTime: number;
  /** Recorded stop level per held pair (the book's protection). */
  levels: () => Readonly<Record<string, number>>;
}

/**
 * Risk-checks intents one after the other, each against the balances the ones before it leave (as
 * if each approved one is accepted: the cautious side), then sends them one at a time. Every
 * approved order is journalled pending before it goes out, so a crash leaves a row to look up for
 * each order sent; the next order's row is written while the one before it is being sent. The protection
 * invariant holds throughout: a sale is checked as if its pair's stops had released their hold, and
 * only an approved sale frees that base (stops amended down, or cancelled when all of it is sold);
 * if the sale then fails, the stops are put back before anything else happens. A stop move amends
 * the resting stops in place. A client id recorded by an earlier attempt is looked up before
 * anything is sent. One read of the balances and open orders serves a batch; a second intent on a
 * pair already in it starts a new batch, planned from fresh reads once the first has run.
 */
export async function executeIntents(
  intents: readonly OrderIntent[],
  venue: Venue,
  journal: Journal,
  makeContext: (balances: Balances) => RiskContext,
  markets: Readonly<Record<string, MarketSpec>>,
  scope: ExecutionScope,
): Promise<Executed[]> {
  const done: Executed[] = [];
  let ctx = makeContext(await settle(venue.balances()));
  for (let next = 0; next < intents.length; ) {
    if (next > 0) ctx = makeContext(await settle(venue.balances()));
    const batch: Planned[] = [];
    const pairs = new Set<string>();
    let open: readonly BrokerOrder[] | null = null;
    let lastPending: Promise<unknown> | null = null;
    for (; next < intents.length; next++) {
      const intent = intents[next]!;
      const o = intent.order;
      if (pairs.has(o.pair)) break;
      pairs.add(o.pair);
      const spec = markets[o.pair];
      // Sales and stop moves work on the pair's resting stops; a new protective stop leaves them alone.
      const stops = o.side === 'sell' && spec && intent.kind !== 'protect' ? restingStops((open ??= await settle(venue.openOrders())), o.pair) : [];
      // A sale that would free stops is judged on the pair's listing as it is now (a stop move amends
      // in place and frees nothing): refused there, it touches none.
      const listed = stops.length && intent.kind !== 'stop-move' && venue.market ? listedNow(ctx, o.pair, await settle(venue.market(o.pair))) : ctx;
      const judged = stops.length && spec ? released(listed, listed.markets[o.pair] ?? spec, stops) : ctx;
      const verdict = checkOrder(intent, judged);
      if (!verdict.ok) {
        await settle(journal.refused(intent, verdict));
        done[next] = { intent, result: null, code: verdict.code };
        continue;
      }
      const order = verdict.order;
      if (intent.kind === 'stop-move') {
        batch.push({ index: next, intent, order, stops, free: 0, pending: 'send' });
        continue;
      }
      // Pending rows one after another: the first order's row is not slowed by the next ones' (one
      // process, one thread), and theirs are written while it is being sent.
      const pending: ReturnType<Journal['beforeSubmit']> = lastPending ? lastPending.then(() => journal.beforeSubmit(intent, order)) : journal.beforeSubmit(intent, order);
      if (isPending(pending)) lastPending = Promise.resolve(pending).catch(() => undefined); // awaited before its send; failing meanwhile is not unhandled
      batch.push({ index: next, intent, order, stops, free: spec ? (ctx.balances[spec.base]?.free ?? 0) : 0, pending });
      ctx = reserveApproved(judged, order);
    }
    for (const p of batch) done[p.index] = { intent: { ...p.intent, order: p.order }, result: await send(p, venue, journal, makeContext, markets, scope) };
  }
  return done;
}

/** An approved intent of a batch: its order, the stops of its pair as read, and its pending row (being) written. */
interface Planned {
  index: number;
  intent: OrderIntent;
  order: OrderIntent['order'];
  stops: BrokerOrder[];
  /** The base free before this sale (what freeBase need not take from the stops). */
  free: number;
  pending: ReturnType<Journal['beforeSubmit']>;
}

async function send(
  p: Planned,
  venue: Venue,
  journal: Journal,
  makeContext: (balances: Balances) => RiskContext,
  markets: Readonly<Record<string, MarketSpec>>,
  scope: ExecutionScope,
): Promise<SubmitResult> {
  const { intent, order, stops } = p;
  if (intent.kind === 'stop-move') return moveStops(stops, order.price!, venue, journal, intent.reason);
  const spec = markets[order.pair];
  try {
    if (stops.length && spec) await freeBase(stops, order.amount, p.free, spec, venue, journal, intent.reason);
    // A sale that freed stops leaves part of the job's time to put them back if it fails.
    // (Only inside a job's budget: a backtest has none, and stays clear of AsyncLocalStorage's cost.)
    const budget = remainingMs();
    const result = stops.length && Number.isFinite(budget) ? await withDeadline(Math.max(0, budget - RESTORE_RESERVE_MS), () => submitOnce(p, venue, journal)) : await submitOnce(p, venue, journal);
    if (result.status !== 'accepted' && stops.length) await restoreProtection(order.pair, venue, journal, makeContext, markets, scope, `${intent.kind} rejected: ${result.reason}`);
    return result;
  } catch (err) {
    // The sale may or may not have happened: put back whatever stops the holding still needs, then report.
    if (stops.length) await restoreProtection(order.pair, venue, journal, makeContext, markets, scope, `${intent.kind} failed: ${(err as Error).message}`).catch(() => undefined);
    throw err;
  }
}

/** The submit of one approved order, journalled before (so a crash leaves a row to look up) and after. */
async function submitOnce({ intent, order, pending }: Planned, venue: Venue, journal: Journal): Promise<SubmitResult> {
  const plan = await settle(pending);
  const known = plan === 'lookup' ? await settle(venue.orderByClientId(order.clientId)) : null;
  const result: SubmitResult = known ? { status: 'accepted', order: known } : await settle(venue.submit(order));
  await settle(journal.afterSubmit(intent, order, result));
  return result;
}

/** The context with the pair's listing as the venue has it now (none: Kraken no longer lists it, and the risk check refuses). */
function listedNow(ctx: RiskContext, pair: string, spec: MarketSpec | null): RiskContext {
  const { [pair]: _old, ...others } = ctx.markets;
  return { ...ctx, markets: spec ? { ...others, [pair]: spec } : others };
}

/** The context a sale is judged in: its pair's stops' hold counted as free (it is freed only if the sale is approved). */
function released(ctx: RiskContext, spec: MarketSpec, stops: readonly BrokerOrder[]): RiskContext {
  const held = stops.reduce((s, o) => s + restingQty(o), 0);
  const b = ctx.balances[spec.base] ?? { total: 0, hold: 0, free: 0 };
  const free = Math.min(b.total, b.free + held);
  return { ...ctx, balances: { ...ctx.balances, [spec.base]: { total: b.total, hold: b.total - free, free } } };
}

/** Frees `amount` of base held by the pair's stops: the smallest stops go first, the last one is cut down in place. */
async function freeBase(stops: readonly BrokerOrder[], amount: number, free: number, spec: MarketSpec, venue: Venue, journal: Journal, why: string): Promise<void> {
  let need = amount - free;
  const lot = 10 ** -spec.amountPrecision;
  for (const o of [...stops].sort((a, b) => restingQty(a) - restingQty(b))) {
    if (need <= lot / 2) return;
    const rests = restingQty(o);
    const left = rests - need;
    if (left < spec.minAmount - lot / 2 || left * (o.price ?? 0) < spec.minCost) {
      await cancelOrder(o, venue, journal, `freed for a sale: ${why}`);
      need -= rests;
    } else {
      const r = await amendOrder(o, { amount: Number((o.filled + left).toFixed(spec.amountPrecision)) }, venue, journal, `cut for a sale: ${why}`);
      if (r.status !== 'amended') {
        await cancelOrder(o, venue, journal, `freed for a sale (the cut was refused: ${r.reason})`);
        need -= rests;
      } else need = 0;
    }
  }
}

/** Moves every resting stop of a pair to `price`, in place. */
async function moveStops(stops: readonly BrokerOrder[], price: number, venue: Venue, journal: Journal, why: string): Promise<SubmitResult> {
  if (!stops.length) return { status: 'rejected', code: 'NO_RESTING_STOP', reason: 'no resting stop to move; the protection check places one at the recorded level' };
  let last: BrokerOrder | null = null;
  for (const o of stops) {
    const r = await amendOrder(o, { price }, venue, journal, why);
    if (r.status !== 'amended') return { status: 'rejected', code: r.code, reason: r.reason };
    last = r.order;
  }
  return { status: 'accepted', order: last! };
}

export async function amendOrder(o: BrokerOrder, change: AmendChange, venue: Venue, journal: Journal, why: string): Promise<AmendResult> {
  const r = await settle(venue.amend(o.id, change));
  await settle(journal.amended(o, change, r, why));
  return r;
}

export async function cancelOrder(o: BrokerOrder, venue: Venue, journal: Journal, why: string): Promise<void> {
  await settle(venue.cancel(o.id));
  await settle(journal.cancelled(o, why));
}

/**
 * Brings resting stops in line with the holdings (see planProtection): cancels, then amends, then new
 * stops through the risk engine, each journalled. `tag` keeps the client ids of one cycle's checks apart.
 */
export async function applyProtection(
  actions: readonly ProtectionAction[],
  venue: Venue,
  journal: Journal,
  makeContext: (balances: Balances) => RiskContext,
  markets: Readonly<Record<string, MarketSpec>>,
  scope: ExecutionScope,
  tag: string,
): Promise<Executed[]> {
  for (const a of actions) if (a.kind === 'cancel') await cancelOrder(a.order, venue, journal, a.why);
  for (const a of actions) if (a.kind === 'amend') await amendOrder(a.order, a.change, venue, journal, a.why);
  const places: OrderIntent[] = actions
    .filter((a): a is Extract<ProtectionAction, { kind: 'place' }> => a.kind === 'place')
    .map((a) => ({
      kind: 'protect',
      cause: 'protect',
      accountId: scope.accountId,
      decisionTime: scope.decisionTime,
      order: { clientId: clientId(scope.accountId, a.pair, scope.decisionTime, 'protect', tag), pair: a.pair, side: 'sell', type: 'stop-loss', amount: a.amount, price: a.price },
      reason: a.why,
      signal: null,
      expectedEdge: 0,
    }));
  return places.length ? executeIntents(places, venue, journal, makeContext, markets, scope) : [];
}

/** After a sale of `pair` failed: its holding gets back the stops it had (at the recorded level). */
async function restoreProtection(
  pair: string,
  venue: Venue,
  journal: Journal,
  makeContext: (balances: Balances) => RiskContext,
  markets: Readonly<Record<string, MarketSpec>>,
  scope: ExecutionScope,
  why: string,
): Promise<void> {
  const spec = markets[pair]!;
  const [balances, open] = [await settle(venue.balances()), await settle(venue.openOrders())];
  const level = scope.levels()[pair];
  const actions = planProtection({ held: { [pair]: balances[spec.base]?.total ?? 0 }, levels: level === undefined ? {} : { [pair]: level }, open, markets: { [pair]: spec } });
  await applyProtection(
    actions.map((a) => ({ ...a, why: `${a.why} (${why})` })),
    venue,
    journal,
    makeContext,
    markets,
    scope,
    `restore-${pair}`,
  );
}
