/** Daily PnL per UTC day, net of fees (fees are already paid out of equity; they are reported too). */
export interface DayPnl {
  day: string; // YYYY-MM-DD
  startEquityUsd: number;
  endEquityUsd: number;
  pnlUsd: number;
  pnlPct: number;
  feesUsd: number;
  trades: number;
}

const dayKey = (t: number): string => new Date(t).toISOString().slice(0, 10);

/**
 * From equity snapshots (ascending) and fills: a day starts at the last equity known before it (the
 * previous day's close) — or its own first snapshot for the first day — and ends at its last snapshot.
 */
export function dailyPnl(snapshots: readonly { ts: number; equity: number }[], fills: readonly { ts: number; fee: number }[]): DayPnl[] {
  const byDay = new Map<string, { first: number; last: number }>();
  const order: string[] = [];
  for (const s of snapshots) {
    const k = dayKey(s.ts);
    const d = byDay.get(k);
    if (d) d.last = s.equity;
    else {
      byDay.set(k, { first: s.equity, last: s.equity });
      order.push(k);
    }
  }
  const fees = new Map<string, { fees: number; trades: number }>();
  for (const f of fills) {
    const k = dayKey(f.ts);
    const e = fees.get(k) ?? { fees: 0, trades: 0 };
    e.fees += f.fee;
    e.trades += 1;
    fees.set(k, e);
  }
  const out: DayPnl[] = [];
  let prevClose: number | null = null;
  for (const k of order) {
    const d = byDay.get(k)!;
    const start: number = prevClose ?? d.first;
    const pnl = d.last - start;
    out.push({
      day: k,
      startEquityUsd: start,
      endEquityUsd: d.last,
      pnlUsd: pnl,
      pnlPct: start > 0 ? pnl / start : 0,
      feesUsd: fees.get(k)?.fees ?? 0,
      trades: fees.get(k)?.trades ?? 0,
    });
    prevClose = d.last;
  }
  return out;
}
