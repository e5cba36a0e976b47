import type pg from 'pg';
import type { OrderCause } from '../../lib/strategy/intent.ts';
import { tradeCause } from '../../lib/strategy/trade-cause.ts';

/** Seed rows for the reports tests, written as the owner (row-level security does not apply). */

export interface SnapshotSeed {
  ts: string;
  equity: number;
  cash: number;
  positions: number;
  hedgeRatio: number;
}

export interface FillSeed {
  ts: string;
  pair: string;
  side: 'buy' | 'sell';
  price: string;
  qty: string;
  fee: string;
  realizedPnl: string;
  clientId: string;
  intent: 'entry' | 'exit' | 'stop-move' | 'hedge' | 'protective' | 'flatten';
  /** The order's cause; without it, the one its intent usually has (an exit: the signal; protective: a stop). */
  cause?: OrderCause;
  reason: string | null;
  modelVersion: string | null;
}

export async function seedSnapshots(owner: pg.Pool, accountId: string, snaps: readonly SnapshotSeed[]): Promise<void> {
  for (const s of snaps)
    await owner.query(
      'insert into equity_snapshots (account_id, ts, equity_usd, cash_usd, positions_usd, hedge_ratio, drawdown) values ($1, $2, $3, $4, $5, $6, 0)',
      [accountId, s.ts, s.equity, s.cash, s.positions, s.hedgeRatio],
    );
}

const INTENT_CAUSE: Record<FillSeed['intent'], OrderCause> = { entry: 'entry', exit: 'signal', 'stop-move': 'stop-move', hedge: 'hedge', protective: 'stop', flatten: 'halt' };

export async function seedFills(owner: pg.Pool, accountId: string, fills: readonly FillSeed[]): Promise<void> {
  for (const [i, f] of fills.entries()) {
    const cause = f.cause ?? INTENT_CAUSE[f.intent];
    const { rows } = await owner.query<{ id: string }>(
      `insert into orders (account_id, client_id, mode, pair, side, type, intent, cause, amount, status, filled, reason, model_version, decided_at)
       values ($1, $2, 'sim', $3, $4, 'limit', $5, $10, $6, 'closed', $6, $7, $8, $9) returning id`,
      [accountId, f.clientId, f.pair, f.side, f.intent, f.qty, f.reason, f.modelVersion, f.ts, cause],
    );
    await owner.query(
      `insert into fills (account_id, order_id, trade_id, client_id, pair, side, price, qty, fee, realized_pnl, liquidity, cause, model_version, ts)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'taker', $13, $11, $12)`,
      [accountId, rows[0]!.id, `T-${f.clientId}-${i}`, f.clientId, f.pair, f.side, f.price, f.qty, f.fee, f.realizedPnl, f.modelVersion, f.ts, tradeCause(cause)],
    );
  }
}

/**
 * `n` fills on one order, in SQL (fast): fill g has price 1000 + g, and every three fills share a
 * timestamp, so pagination must break ties by id.
 */
export async function seedBulkFills(owner: pg.Pool, accountId: string, n: number): Promise<void> {
  const { rows } = await owner.query<{ id: string }>(
    `insert into orders (account_id, client_id, mode, pair, side, type, intent, cause, amount, status, filled, reason, model_version, decided_at)
     values ($1, 'bulk-order', 'sim', 'ETH/USD', 'buy', 'limit', 'entry', 'entry', 1, 'closed', 1, 'bulk, "seeded"', 'm-bulk', '2025-06-01T00:00:00Z') returning id`,
    [accountId],
  );
  await owner.query(
    `insert into fills (account_id, order_id, trade_id, client_id, pair, side, price, qty, fee, realized_pnl, liquidity, cause, model_version, ts)
     select $1, $2, 'bulk-' || g, 'bulk-order', 'ETH/USD', case when g % 2 = 0 then 'buy' else 'sell' end,
            (1000 + g)::numeric, 0.001, 0.01, 0, 'maker', 'entry', null,
            timestamptz '2025-06-01T00:00:00Z' + (g / 3) * interval '1 second'
     from generate_series(1, $3::int) g`,
    [accountId, rows[0]!.id, n],
  );
}
