/**
 * The figures that must be zero, each computed from an independent source: the emulator's own order
 * book, trades, balances and request log on one side, the runtime's database on the other.
 */
import { PAIRS, type EmuOrder, type KrakenEmulator, type RecordedRequest } from '../../tests/kraken-emulator/index.ts';
import { findAsset } from '../../tests/kraken-emulator/markets.ts';
import type { DbFill, DbOrder, SimStateLike } from './db.ts';

export interface Finding {
  kind: string;
  ref: string;
  detail: string;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Orders a key placed itself (AddOrder); the exchange's conditional closes (refid set) are not. */
export const placedOrders = (emu: KrakenEmulator, key: string): EmuOrder[] => emu.orders(key).filter((o) => o.refid === null);

/** Emulator orders sharing a cl_ord_id beyond the first. */
export function duplicates(emu: KrakenEmulator, key: string): Finding[] {
  const byId = new Map<string, EmuOrder[]>();
  for (const o of emu.orders(key)) if (o.clOrdId !== null) byId.set(o.clOrdId, [...(byId.get(o.clOrdId) ?? []), o]);
  return [...byId].flatMap(([id, os]) => os.slice(1).map((o) => ({ kind: 'duplicate', ref: id, detail: `${o.txid} ${o.side} ${o.ordertype} ${o.volume} ${o.pair.symbol} (first ${os[0]!.txid})` })));
}

/** Could the client have known the request placed nothing? Only a Kraken error in a reply it received, or a 429. */
const definitelyNotPlaced = (r: RecordedRequest): boolean => (r.status === 200 && r.errors.length > 0) || r.status === 429;
const answeredOk = (r: RecordedRequest): boolean => r.status === 200 && r.errors.length === 0;

/**
 * AddOrders re-sending a cl_ord_id whose earlier AddOrder may have been placed (anything but a received
 * Kraken error or a 429: success, timeout, reset, dropped, delayed, 5xx), with no successful lookup of
 * that cl_ord_id in between — OpenOrders/ClosedOrders with cl_ord_id, or QueryOrders. `lenient` also
 * accepts an unfiltered OpenOrders + ClosedOrders listing as a lookup (reported, not the figure).
 */
export function blindResends(emu: KrakenEmulator, key: string, lenient = false): Finding[] {
  const unresolved = new Map<string, RecordedRequest>(); // cl_ord_id → the AddOrder that may have placed it
  const out: Finding[] = [];
  let listedOpen = false;
  for (const r of emu.requests) {
    if (r.api !== 'private' || r.key !== key) continue;
    if (r.name === 'AddOrder' && str(r.params.validate) !== 'true') {
      const id = str(r.params.cl_ord_id);
      if (id === undefined) continue;
      const before = unresolved.get(id);
      if (before) out.push({ kind: 'blind_resend', ref: id, detail: `AddOrder at ${new Date(r.time).toISOString()} after one at ${new Date(before.time).toISOString()} that ended ${String(before.status)} ${before.errors.join(',')}` });
      if (!definitelyNotPlaced(r)) unresolved.set(id, r);
      continue;
    }
    if (!answeredOk(r)) continue;
    if (r.name === 'QueryOrders') unresolved.clear();
    else if (r.name === 'OpenOrders' || r.name === 'ClosedOrders') {
      const id = str(r.params.cl_ord_id);
      if (id !== undefined) unresolved.delete(id);
      else if (lenient) {
        if (r.name === 'OpenOrders') listedOpen = true;
        else if (listedOpen) {
          unresolved.clear();
          listedOpen = false;
        }
      }
    }
  }
  return out;
}

/** Private calls made with a key from request index `from` on (the simulated account's key after its upload). */
export function privateCallsFrom(emu: KrakenEmulator, key: string, from: number): RecordedRequest[] {
  return emu.requests.slice(from).filter((r) => r.api === 'private' && r.key === key);
}

const TRADED = ['BTC/USD', 'ETH/USD', 'SOL/USD'];
const pairDef = (symbol: string) => {
  const p = PAIRS.find((x) => x.symbol === symbol);
  if (!p) throw new Error(`no emulator pair ${symbol}`);
  return p;
};

/**
 * Held quantities not covered by resting stop-loss sells, on the exchange (live): per traded pair,
 * the base balance minus the open remainder of stop-loss / stop-loss-limit sells; a remainder of at
 * least the pair's order minimum (what a stop could still be placed for) is unprotected.
 */
export function unprotectedLive(emu: KrakenEmulator, key: string): Finding[] {
  const balances = emu.balances(key);
  const open = emu.orders(key).filter((o) => o.status === 'open' && o.side === 'sell' && o.ordertype.startsWith('stop-loss'));
  const out: Finding[] = [];
  for (const symbol of TRADED) {
    const p = pairDef(symbol);
    const held = balances[p.base]?.total ?? 0;
    const covered = open.filter((o) => o.pair.key === p.key).reduce((s, o) => s + (o.volume - o.volExec), 0);
    if (held - covered >= Number(p.ordermin)) out.push({ kind: 'unprotected', ref: symbol, detail: `held ${held}, covered by stops ${covered}` });
  }
  return out;
}

/** The same on a simulated account's SimBroker state (balances by asset code, orders by id). */
export function unprotectedSim(state: SimStateLike | null): Finding[] {
  if (!state) return [];
  const out: Finding[] = [];
  const open = Object.values(state.orders ?? {}).filter((o) => o.status === 'open' && o.side === 'sell' && o.type.startsWith('stop-loss'));
  for (const symbol of TRADED) {
    const p = pairDef(symbol);
    const base = symbol.split('/')[0]!;
    const held = state.balances?.[base] ?? 0;
    const covered = open.filter((o) => o.pair === symbol).reduce((s, o) => s + (o.amount - o.filled), 0);
    if (held - covered >= Number(p.ordermin)) out.push({ kind: 'unprotected', ref: symbol, detail: `held ${held}, covered by stops ${covered}` });
  }
  return out;
}

const close = (a: number, b: number, scale = 1): boolean => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(scale));
const emuStatus = (o: EmuOrder): string => (o.status === 'pending' ? 'open' : o.status);

/**
 * Database vs exchange for one live account: orders (status, filled), fills (trade ids, quantities,
 * fees) and balances (the newest snapshot the runtime stored vs the emulator's totals).
 */
export function mismatches(input: {
  emu: KrakenEmulator;
  key: string;
  orders: DbOrder[];
  fills: DbFill[];
  balances: { ts: number | null; totals: Record<string, number> };
}): Finding[] {
  const { emu, key } = input;
  const out: Finding[] = [];
  const dbByExchange = new Map(input.orders.filter((o) => o.exchangeId).map((o) => [o.exchangeId!, o]));
  const dbByClient = new Map(input.orders.map((o) => [o.clientId, o]));
  const seen = new Set<string>();
  for (const o of emu.orders(key)) {
    const db = dbByExchange.get(o.txid) ?? (o.clOrdId !== null ? dbByClient.get(o.clOrdId) : undefined);
    const name = `${o.txid}${o.clOrdId ? ` (${o.clOrdId})` : o.refid ? ` (close of ${o.refid}${o.amendtm ? ', amended' : ''})` : ''}`;
    if (!db) {
      out.push({ kind: o.refid ? 'conditional_close_unknown' : 'order_unknown', ref: name, detail: `${o.side} ${o.ordertype} ${o.volume} ${o.pair.symbol} ${o.status} filled ${o.volExec} on the exchange, no row` });
      continue;
    }
    seen.add(db.id);
    if (db.status !== emuStatus(o)) out.push({ kind: 'order_status', ref: name, detail: `database ${db.status}, exchange ${o.status}` });
    if (!close(db.filled, o.volExec, o.volume)) out.push({ kind: 'order_filled', ref: name, detail: `database ${db.filled}, exchange ${o.volExec}` });
    if (db.exchangeId !== null && db.exchangeId !== o.txid) out.push({ kind: 'order_exchange_id', ref: name, detail: `database ${db.exchangeId}` });
  }
  for (const db of input.orders) {
    if (seen.has(db.id) || db.mode !== 'live') continue;
    // Decided but never placed is fine once it says so; anything claiming to rest or be unknown is a difference.
    if (db.exchangeId !== null || ['open', 'pending', 'unknown'].includes(db.status))
      out.push({ kind: 'order_not_on_exchange', ref: `${db.clientId}`, detail: `database ${db.status} filled ${db.filled} exchange id ${db.exchangeId ?? '-'}` });
  }
  const trades = new Map(emu.trades(key).map((t) => [t.id, t]));
  const fills = new Map(input.fills.map((f) => [f.tradeId, f]));
  for (const t of trades.values()) {
    const f = fills.get(t.id);
    if (!f) {
      out.push({ kind: 'fill_missing', ref: t.id, detail: `${t.side} ${t.vol} ${t.pair.symbol} @ ${t.price} fee ${t.fee} (order ${t.ordertxid})` });
      continue;
    }
    if (!close(f.qty, t.vol, t.vol)) out.push({ kind: 'fill_qty', ref: t.id, detail: `database ${f.qty}, exchange ${t.vol}` });
    if (!close(f.fee, t.fee, t.fee)) out.push({ kind: 'fill_fee', ref: t.id, detail: `database ${f.fee}, exchange ${t.fee}` });
  }
  for (const f of fills.values()) if (!trades.has(f.tradeId)) out.push({ kind: 'fill_unknown', ref: f.tradeId, detail: `${f.side} ${f.qty} ${f.pair} in the database only` });
  // Balances: by unified asset code on both sides.
  const code = (a: string) => findAsset(a)?.code ?? a;
  const exchange: Record<string, number> = {};
  for (const [a, b] of Object.entries(emu.balances(key))) exchange[code(a)] = (exchange[code(a)] ?? 0) + b.total;
  const stored: Record<string, number> = {};
  for (const [a, v] of Object.entries(input.balances.totals)) stored[code(a)] = (stored[code(a)] ?? 0) + v;
  if (input.balances.ts === null) out.push({ kind: 'balance_snapshot_missing', ref: 'balances', detail: 'the runtime stored no balance snapshot' });
  else
    for (const a of new Set([...Object.keys(exchange), ...Object.keys(stored)])) {
      const e = exchange[a] ?? 0;
      const s = stored[a] ?? 0;
      const decimals = findAsset(a)?.decimals ?? 8;
      if (Math.abs(e - s) > 10 ** -decimals + 1e-12) out.push({ kind: 'balance', ref: a, detail: `snapshot ${s}, exchange ${e}` });
    }
  return out;
}
