/**
 * Reconciliation of local orders, fills and balances against the exchange's (OpenOrders,
 * ClosedOrders, TradesHistory, BalanceEx). Pure: the caller fetches both sides and acts on the
 * result — applies `updates`, and halts the account and audits when `unexplained` is not empty
 * (DESIGN.md §3). Anything the exchange has that the platform did not decide is unexplained.
 */
import type { Balances, BrokerOrder, Fill, OrderStatus } from './types.ts';

export interface LocalOrderState {
  clientId: string;
  exchangeId: string | null;
  status: OrderStatus | 'rejected' | 'unknown';
  filled: number;
}

export interface LocalFill {
  id: string; // exchange trade id
  orderId: string | null; // exchange order id
  amount: number;
}

export type ExchangeOrder = BrokerOrder & { parentId?: string | null };

export interface ReconcileInput {
  local: {
    orders: readonly LocalOrderState[];
    fills: readonly LocalFill[];
    /** Expected totals by asset from the local ledger, before the fills this run discovers. */
    balances?: Readonly<Record<string, number>>;
  };
  exchange: { orders: readonly ExchangeOrder[]; fills: readonly Fill[]; balances?: Balances };
  tolerance?: { amount?: number; balance?: number };
}

export type ReconcileUpdate =
  /** A local order's state moved on the exchange (status, fills, or the exchange id learnt by lookup). */
  | { kind: 'order'; clientId: string; exchangeId: string; status: OrderStatus; filled: number; avgPrice: number | null; fee: number }
  /** A pending/unknown local order the exchange does not have: it was never placed. */
  | { kind: 'not_placed'; clientId: string }
  /** A conditional close the exchange created when one of our entries filled. */
  | { kind: 'child'; parentClientId: string; order: ExchangeOrder }
  /** An exchange fill of one of our orders that is not stored locally yet. */
  | { kind: 'fill'; clientId: string; fill: Fill };

export type UnexplainedKind = 'unknown_order' | 'duplicate_client_id' | 'missing_order' | 'fill_mismatch' | 'unknown_fill' | 'missing_fill' | 'balance_mismatch';
export interface Unexplained {
  kind: UnexplainedKind;
  ref: string; // order id, client id, trade id or asset
  detail: string;
}

export interface ReconcileResult {
  matched: string[]; // client ids whose local state equals the exchange's
  updates: ReconcileUpdate[];
  unexplained: Unexplained[];
}

const TERMINAL_LOCAL = new Set(['closed', 'canceled', 'expired', 'rejected']);

export function reconcile(input: ReconcileInput): ReconcileResult {
  const tolAmount = input.tolerance?.amount ?? 1e-9;
  const tolBalance = input.tolerance?.balance ?? 1e-6;
  const matched: string[] = [];
  const updates: ReconcileUpdate[] = [];
  const unexplained: Unexplained[] = [];

  const localByClient = new Map(input.local.orders.map((o) => [o.clientId, o]));
  const localByExchangeId = new Map(input.local.orders.filter((o) => o.exchangeId !== null).map((o) => [o.exchangeId!, o]));
  /** Exchange order id → the client id of the local order it belongs to (itself, or its parent entry). */
  const owner = new Map<string, string>();
  const seenLocal = new Set<string>();

  // Entries first so that conditional closes can find their parent.
  const exOrders = [...input.exchange.orders].sort((a, b) => Number(Boolean(a.parentId)) - Number(Boolean(b.parentId)));

  for (const o of exOrders) {
    const local = (o.clientId !== null ? localByClient.get(o.clientId) : undefined) ?? localByExchangeId.get(o.id);
    if (local) {
      if (seenLocal.has(local.clientId)) {
        // A second exchange order for one decision: exactly what cl_ord_id lookups exist to prevent.
        owner.set(o.id, local.clientId);
        unexplained.push({ kind: 'duplicate_client_id', ref: local.clientId, detail: `exchange order ${o.id} is a second order for client id ${local.clientId}` });
        continue;
      }
      seenLocal.add(local.clientId);
      owner.set(o.id, local.clientId);
      if (local.filled > o.filled + tolAmount) {
        unexplained.push({ kind: 'fill_mismatch', ref: local.clientId, detail: `local filled ${local.filled} exceeds the exchange's ${o.filled} on ${o.id}` });
        continue;
      }
      const same = local.exchangeId === o.id && local.status === o.status && Math.abs(local.filled - o.filled) <= tolAmount;
      if (same) matched.push(local.clientId);
      else updates.push({ kind: 'order', clientId: local.clientId, exchangeId: o.id, status: o.status, filled: o.filled, avgPrice: o.avgPrice, fee: o.fee });
      continue;
    }
    const parentOwner = o.parentId ? owner.get(o.parentId) : undefined;
    if (parentOwner !== undefined) {
      owner.set(o.id, parentOwner);
      updates.push({ kind: 'child', parentClientId: parentOwner, order: o });
      continue;
    }
    unexplained.push({ kind: 'unknown_order', ref: o.id, detail: `${o.side} ${o.amount} ${o.pair} ${o.type} (${o.status}${o.clientId ? `, cl_ord_id ${o.clientId}` : ''}) is not a local order` });
  }

  for (const l of input.local.orders) {
    if (seenLocal.has(l.clientId)) continue;
    if (l.status === 'pending' || l.status === 'unknown') updates.push({ kind: 'not_placed', clientId: l.clientId });
    else if (l.status === 'open') unexplained.push({ kind: 'missing_order', ref: l.clientId, detail: `open locally (${l.exchangeId ?? 'no exchange id'}), unknown to the exchange` });
    else if (!TERMINAL_LOCAL.has(l.status)) unexplained.push({ kind: 'missing_order', ref: l.clientId, detail: `status ${l.status} locally, unknown to the exchange` });
    // Terminal orders may simply be older than the exchange window the caller fetched.
  }

  const localFillIds = new Set(input.local.fills.map((f) => f.id));
  const exFillIds = new Set(input.exchange.fills.map((f) => f.id));
  const newFills: Fill[] = [];
  for (const f of input.exchange.fills) {
    const who = owner.get(f.orderId) ?? localByExchangeId.get(f.orderId)?.clientId;
    if (who === undefined) {
      unexplained.push({ kind: 'unknown_fill', ref: f.id, detail: `fill of ${f.orderId} (${f.side} ${f.amount} ${f.pair}) belongs to no local order` });
      continue;
    }
    if (localFillIds.has(f.id)) continue;
    newFills.push(f);
    updates.push({ kind: 'fill', clientId: who, fill: f });
  }
  for (const f of input.local.fills) {
    if (!exFillIds.has(f.id)) unexplained.push({ kind: 'missing_fill', ref: f.id, detail: `local fill of ${f.orderId ?? 'an unknown order'} (${f.amount}) is not on the exchange` });
  }

  if (input.local.balances && input.exchange.balances) {
    const expected: Record<string, number> = { ...input.local.balances };
    for (const f of newFills) {
      const [base, quote] = f.pair.split('/');
      if (base === undefined || quote === undefined) continue;
      const sign = f.side === 'buy' ? 1 : -1;
      expected[base] = (expected[base] ?? 0) + sign * f.amount;
      // Kraken charges the fee in the quote currency on USD pairs (fciq).
      expected[quote] = (expected[quote] ?? 0) - sign * f.amount * f.price - f.fee;
    }
    const assets = new Set([...Object.keys(expected), ...Object.keys(input.exchange.balances)]);
    for (const a of [...assets].sort()) {
      const want = expected[a] ?? 0;
      const got = input.exchange.balances[a]?.total ?? 0;
      if (Math.abs(want - got) > tolBalance * Math.max(1, Math.abs(want))) {
        unexplained.push({ kind: 'balance_mismatch', ref: a, detail: `expected ${want} ${a} from local records, the exchange holds ${got}` });
      }
    }
  }

  return { matched, updates, unexplained };
}

/**
 * Did the exchange move since the last job only as the orders that job left resting (`left`, all
 * of them ours: reconciled) explain? Every order open now was open then, unchanged but for more of
 * it filled; and every balance that changed is the base or quote of an order that filled further or
 * left the book since, in the direction that order's side moves it (a sale: base down, quote up).
 * A stop or take-profit that filled, one that filled in part, one Kraken cancelled: the job may
 * trade first and compare after. Anything else — an order nobody left resting, a deposit or
 * withdrawal, an asset no moved order trades, a balance going the wrong way — is compared before
 * any order is sent.
 */
export function ownMoves(left: { open: readonly BrokerOrder[]; balances: Balances }, open: readonly BrokerOrder[], balances: Balances): boolean {
  const before = new Map(left.open.map((o) => [o.id, o]));
  const moved: BrokerOrder[] = [];
  for (const o of open) {
    const was = before.get(o.id);
    if (!was || was.pair !== o.pair || was.side !== o.side || was.type !== o.type || was.amount !== o.amount || was.price !== o.price || o.filled < was.filled) return false;
    if (o.filled > was.filled) moved.push(o);
    before.delete(o.id);
  }
  moved.push(...before.values()); // left the book since: filled, or cancelled by Kraken
  // Per asset, the directions the moved orders may have taken its balance: +1 up, -1 down.
  const may = new Map<string, Set<number>>();
  const allow = (asset: string, dir: number) => (may.get(asset) ?? may.set(asset, new Set()).get(asset)!).add(dir);
  for (const o of moved) {
    const [base, quote] = o.pair.split('/');
    if (!base || !quote) return false;
    allow(base, o.side === 'buy' ? 1 : -1);
    allow(quote, o.side === 'buy' ? -1 : 1);
  }
  for (const asset of new Set([...Object.keys(left.balances), ...Object.keys(balances)])) {
    const delta = (balances[asset]?.total ?? 0) - (left.balances[asset]?.total ?? 0);
    if (delta !== 0 && !may.get(asset)?.has(Math.sign(delta))) return false;
  }
  return true;
}
