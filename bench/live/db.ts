/**
 * The bench reads the runtime's embedded PostgreSQL directly (as its owner, so row-level security
 * hides nothing), through the URL the running runtime publishes in AETHER_HOME. The server moves to
 * a new port at every restart and dies with every kill -9: one client, reopened when needed.
 */
import pg from 'pg';
import { runningEmbeddedUrl } from '../../lib/runtime/embedded-postgres.ts';

export interface CycleRow {
  accountId: string;
  barTime: number;
  outcome: string;
  mode: string | null;
  startedAt: number;
  finishedAt: number;
  detail: unknown;
}

export interface DbOrder {
  id: string;
  clientId: string;
  exchangeId: string | null;
  mode: string;
  pair: string;
  side: string;
  type: string;
  intent: string;
  amount: number;
  status: string;
  filled: number;
  fee: number;
}

export interface DbFill {
  tradeId: string;
  orderId: string;
  clientId: string | null;
  pair: string;
  side: string;
  price: number;
  qty: number;
  fee: number;
}

export interface TradingStateRow {
  accountId: string;
  state: string;
  reason: string | null;
  since: number;
}

export class BenchDb {
  private client: pg.Client | null = null;
  private url: string | null = null;

  constructor(private readonly home: string) {}

  private async connect(): Promise<pg.Client> {
    const url = runningEmbeddedUrl(this.home);
    if (!url) throw new Error(`no running embedded PostgreSQL on ${this.home}`);
    if (this.client && this.url === url) return this.client;
    await this.close();
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000, statement_timeout: 30_000 });
    c.on('error', () => {
      // the server was killed or stopped: the next query reconnects
      if (this.client === c) this.client = null;
    });
    await c.connect();
    this.client = c;
    this.url = url;
    return c;
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = null;
    this.url = null;
    await c?.end().catch(() => undefined);
  }

  async query<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
    const c = await this.connect();
    try {
      return (await c.query<T>(sql, params)).rows;
    } catch (err) {
      if (this.client === c && /terminat|ECONNRESET|Connection|closed/i.test((err as Error).message)) await this.close();
      throw err;
    }
  }

  async accounts(): Promise<Array<{ id: string; slug: string }>> {
    return this.query<{ id: string; slug: string }>('select id, slug from accounts order by slug');
  }

  /** account_cycles rows of a bar (bar_time = the bar's open time, or its close time: both are accepted). */
  async cycleRows(barOpen: number, barClose: number): Promise<CycleRow[]> {
    const rows = await this.query<{ account_id: string; bar: string; outcome: string; mode: string | null; s: string; f: string; detail: unknown }>(
      `select account_id, (extract(epoch from bar_time) * 1000)::bigint as bar, outcome, mode,
              (extract(epoch from started_at) * 1000)::bigint as s, (extract(epoch from finished_at) * 1000)::bigint as f, detail
         from account_cycles where bar_time >= to_timestamp($1 / 1000.0) and bar_time <= to_timestamp($2 / 1000.0)`,
      [barOpen, barClose],
    );
    return rows.map((r) => ({ accountId: r.account_id, barTime: Number(r.bar), outcome: r.outcome, mode: r.mode, startedAt: Number(r.s), finishedAt: Number(r.f), detail: r.detail }));
  }

  async tradingStates(): Promise<TradingStateRow[]> {
    const rows = await this.query<{ account_id: string; state: string; reason: string | null; since: string }>(
      `select account_id, state, reason, (extract(epoch from since) * 1000)::bigint as since from trading_state`,
    );
    return rows.map((r) => ({ accountId: r.account_id, state: r.state, reason: r.reason, since: Number(r.since) }));
  }

  async orders(accountId: string): Promise<DbOrder[]> {
    const rows = await this.query<Record<string, string>>(
      `select id, client_id, exchange_id, mode, pair, side, type, intent, amount, status, filled, fee from orders where account_id = $1 order by created_at`,
      [accountId],
    );
    return rows.map((r) => ({
      id: r.id!,
      clientId: r.client_id!,
      exchangeId: r.exchange_id ?? null,
      mode: r.mode!,
      pair: r.pair!,
      side: r.side!,
      type: r.type!,
      intent: r.intent!,
      amount: Number(r.amount),
      status: r.status!,
      filled: Number(r.filled),
      fee: Number(r.fee),
    }));
  }

  async fills(accountId: string): Promise<DbFill[]> {
    const rows = await this.query<Record<string, string>>(`select trade_id, order_id, client_id, pair, side, price, qty, fee from fills where account_id = $1`, [accountId]);
    return rows.map((r) => ({ tradeId: r.trade_id!, orderId: r.order_id!, clientId: r.client_id ?? null, pair: r.pair!, side: r.side!, price: Number(r.price), qty: Number(r.qty), fee: Number(r.fee) }));
  }

  /** The newest balance snapshot the runtime stored for an account: asset → total (and its time). */
  async latestBalances(accountId: string): Promise<{ ts: number | null; totals: Record<string, number> }> {
    const rows = await this.query<{ asset: string; total: string; ts: string }>(
      `select asset, total, (extract(epoch from ts) * 1000)::bigint as ts from balance_snapshots
        where account_id = $1 and ts = (select max(ts) from balance_snapshots where account_id = $1)`,
      [accountId],
    );
    return { ts: rows[0] ? Number(rows[0].ts) : null, totals: Object.fromEntries(rows.map((r) => [r.asset, Number(r.total)])) };
  }

  /** A simulated account's SimBroker state (balances, orders), or null before its first cycle. */
  async simState(accountId: string): Promise<SimStateLike | null> {
    const rows = await this.query<{ state: SimStateLike }>(`select state from sim_state where account_id = $1`, [accountId]);
    return rows[0]?.state ?? null;
  }
}

export interface SimStateLike {
  balances: Record<string, number>;
  orders: Record<string, { pair: string; side: string; type: string; status: string; amount: number; filled: number; price: number | null }>;
  positions?: Record<string, { qty: number }>;
}
