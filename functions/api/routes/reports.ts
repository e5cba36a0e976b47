import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { Account } from '../../../lib/accounts/accounts.ts';
import type { AppContext } from '../../../lib/context.ts';
import { withAccount } from '../../../lib/db/scope.ts';
import type { AetherApp } from '../../../lib/http/app.ts';
import { loggableError } from '../../../lib/http/app.ts';
import { authenticate, requireAccountAccess, type AuthedEnv } from '../../../lib/http/auth.ts';
import { errorResponses, errorSchema, HttpError } from '../../../lib/http/errors.ts';
import { csvRecord, FEE_DECIMALS, fixed, tradeDecimals, USD_DECIMALS } from '../../../lib/reports/csv.ts';
import { hedgeReportFromSnapshots } from '../../../lib/reports/hedge-report.ts';
import { riskReport } from '../../../lib/reports/metrics.ts';
import {
  CURSOR_PATTERN,
  currentHedge,
  dailyPnlRows,
  decodeCursor,
  encodeCursor,
  equitySeries,
  hedgeChanges,
  TRADE_CAUSES,
  hedgeSales,
  tradesPage,
  type TradeFilter,
  type TradeRow,
} from '../../../lib/reports/queries.ts';
import { accountParam, instantOf, isoDayOrTime, json, utcDayOf } from './schemas.ts';

// Every bound is a day (its UTC midnight) or an ISO 8601 time, on every report.
const time = isoDayOrTime;
const range = { from: time.optional().openapi({ description: 'inclusive' }), to: time.optional().openapi({ description: 'exclusive' }) };
// Closed sets as enums with their pattern spelled out, so the route table can build a bad value.
const sideParam = z.enum(['buy', 'sell']).openapi({ pattern: '^(buy|sell)$' });
const everyParam = z.enum(['hour', 'day']).openapi({ pattern: '^(hour|day)$' });

const tradeFilters = {
  pair: z.string().regex(/^[A-Z0-9]{1,12}\/USD$/).optional().openapi({ example: 'BTC/USD' }),
  side: sideParam.optional(),
  from: time.optional().openapi({ description: 'inclusive' }),
  to: time.optional().openapi({ description: 'exclusive' }),
};
const tradesQuery = z
  .object({
    ...tradeFilters,
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    before: z.string().regex(CURSOR_PATTERN).optional().openapi({ description: 'nextBefore of the previous page' }),
  })
  .strict();
const csvQuery = z.object(tradeFilters).strict();

const dailyPnlSchema = z
  .object({ day: z.string(), startEquityUsd: z.number(), endEquityUsd: z.number(), pnlUsd: z.number(), pnlPct: z.number(), feesUsd: z.number(), trades: z.number().int() })
  .openapi('DailyPnl');
const tradeSchema = z
  .object({
    time: z.string(),
    pair: z.string(),
    side: z.enum(['buy', 'sell']),
    qty: z.string(),
    price: z.string(),
    feeUsd: z.string(),
    realizedPnlUsd: z.string(),
    clientId: z.string(),
    cause: z.enum(TRADE_CAUSES).openapi({ description: 'Why the fill happened: entry; stop (a resting stop fired, or the cycle saw the stop hit), take-profit, signal (the model said leave), halt (flattened by the drawdown guard), hedge (a hedge sale)' }),
    intent: z.string(),
    reason: z.string().nullable(),
    modelVersion: z.string().nullable(),
  })
  .openapi('Trade');
const riskSchema = z
  .object({
    points: z.number().int(),
    equityUsd: z.number().nullable(),
    maxDrawdown: z.number(),
    currentDrawdown: z.number(),
    volatilityAnnual: z.number(),
    exposure: z.number().nullable(),
    averageExposure: z.number().nullable(),
  })
  .openapi('RiskReport');
const equityPointSchema = z
  .object({ time: z.string(), equityUsd: z.number(), cashUsd: z.number(), positionsUsd: z.number(), hedgeRatio: z.number(), returnSinceStart: z.number() })
  .openapi('EquityPoint');
const hedgeReportSchema = z
  .object({
    current: z
      .object({
        mode: z.enum(['auto', 'manual']),
        target: z.number(),
        actual: z.number(),
        manualRatio: z.number().nullable(),
        manualExpiresAt: z.string().nullable(),
        reason: z.string(),
        updatedAt: z.string(),
      })
      .nullable(),
    history: z.array(z.object({ time: z.string(), mode: z.enum(['auto', 'manual']), target: z.number(), actual: z.number(), reason: z.string() })),
    performance: z
      .object({
        start: z.string(),
        end: z.string(),
        points: z.number().int(),
        hedgedEquityUsd: z.number(),
        unhedgedEquityUsd: z.number(),
        savedUsd: z.number(),
        savedPct: z.number(),
        hedgedReturn: z.number(),
        unhedgedReturn: z.number(),
        maxDrawdownHedged: z.number(),
        maxDrawdownUnhedged: z.number(),
      })
      .nullable()
      .openapi({ description: 'Against the same portfolio unhedged; positive savedUsd = the hedge helped. Null with fewer than two snapshots.' }),
  })
  .openapi('HedgeReport');

const CSV_HEADER = ['time', 'pair', 'side', 'qty', 'price', 'fee_usd', 'realized_pnl_usd', 'client_id', 'cause', 'intent', 'reason', 'model_version'];
const CSV_BATCH = 1000;
const HEDGE_HISTORY_LIMIT = 500;

const accountOf = (c: Context<AuthedEnv>): Account => c.get('account')!;
const dateOrUndefined = (s: string | undefined): Date | undefined => (s ? instantOf(s) : undefined);
const tradeJson = (t: TradeRow) => ({
  time: t.time.toISOString(),
  pair: t.pair,
  side: t.side,
  qty: t.qty,
  price: t.price,
  feeUsd: t.feeUsd,
  realizedPnlUsd: t.realizedPnlUsd,
  clientId: t.clientId,
  cause: t.cause,
  intent: t.intent,
  reason: t.reason,
  modelVersion: t.modelVersion,
});
/** A CSV row: quantities and prices at the pair's precision, USD at cents (fees at Kraken's ledger precision). */
const tradeCsv = (t: TradeRow): string => {
  const d = tradeDecimals(t.pair);
  return csvRecord([t.time, t.pair, t.side, fixed(t.qty, d.qty), fixed(t.price, d.price), fixed(t.feeUsd, FEE_DECIMALS), fixed(t.realizedPnlUsd, USD_DECIMALS), t.clientId, t.cause, t.intent, t.reason, t.modelVersion]);
};

function checkRange(from: string | undefined, to: string | undefined): void {
  if (from && to && instantOf(from) > instantOf(to)) throw new HttpError(400, 'BAD_RANGE', 'from must not be after to');
}

const common = { 401: errorResponses[401], 403: errorResponses[403], 404: json(errorSchema, 'No such account') };

/** Reports per account (viewer access): daily PnL, trades (JSON and streamed CSV), risk, equity curve, hedge. */
export function registerReports(app: AetherApp, ctx: AppContext): void {
  const viewer = [authenticate(ctx), requireAccountAccess(ctx, 'viewer')];
  const log = ctx.logger.child({ function: 'api', route: 'trades.csv' });

  app.openapi(
    createRoute({
      method: 'get',
      path: '/accounts/{account}/reports/daily-pnl',
      tags: ['reports'],
      summary: 'Daily PnL per UTC day, net of fees (RP-1): the days from the one `from` falls on to the one `to` falls on, both included',
      security: [{ bearer: [] }],
      middleware: viewer,
      request: {
        params: accountParam,
        query: z.object({ from: time.optional().openapi({ description: 'its UTC day, included' }), to: time.optional().openapi({ description: 'its UTC day, included' }) }).strict(),
      },
      responses: { 200: json(z.object({ days: z.array(dailyPnlSchema) }), 'Days, oldest first'), 400: errorResponses[400], ...common },
    }),
    async (c) => {
      const q = c.req.valid('query');
      checkRange(q.from, q.to);
      const a = accountOf(c as never);
      const days = await withAccount(ctx.db, a.id, (tx) => dailyPnlRows(tx, a.id, { from: q.from && utcDayOf(q.from), to: q.to && utcDayOf(q.to) }));
      return c.json({ days }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/accounts/{account}/trades',
      tags: ['reports'],
      summary: 'Trade history (fills with their order), newest first, keyset-paginated by `before`',
      security: [{ bearer: [] }],
      middleware: viewer,
      request: { params: accountParam, query: tradesQuery },
      responses: {
        200: json(z.object({ trades: z.array(tradeSchema), nextBefore: z.string().nullable() }), 'A page of trades'),
        400: errorResponses[400],
        ...common,
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      checkRange(q.from, q.to);
      const a = accountOf(c as never);
      const filter: TradeFilter = { pair: q.pair, side: q.side, from: dateOrUndefined(q.from), to: dateOrUndefined(q.to) };
      // One row more than asked tells whether another page exists.
      const rows = await withAccount(ctx.db, a.id, (tx) =>
        tradesPage(tx, a.id, filter, { limit: q.limit + 1, cursor: q.before ? decodeCursor(q.before) : undefined, direction: 'desc' }),
      );
      const page = rows.slice(0, q.limit);
      const last = page[page.length - 1];
      return c.json({ trades: page.map(tradeJson), nextBefore: rows.length > q.limit && last ? encodeCursor({ ts: last.time, id: last.id }) : null }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/accounts/{account}/trades.csv',
      tags: ['reports'],
      summary: 'Trade history as RFC 4180 CSV, oldest first, streamed in batches',
      security: [{ bearer: [] }],
      middleware: viewer,
      request: { params: accountParam, query: csvQuery },
      responses: {
        200: { description: 'CSV with a header row, CRLF line ends', content: { 'text/csv': { schema: z.string() } } },
        400: errorResponses[400],
        ...common,
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      checkRange(q.from, q.to);
      const a = accountOf(c as never);
      const filter: TradeFilter = { pair: q.pair, side: q.side, from: dateOrUndefined(q.from), to: dateOrUndefined(q.to) };
      const batch = (cursor?: { ts: Date; id: string }) => withAccount(ctx.db, a.id, (tx) => tradesPage(tx, a.id, filter, { limit: CSV_BATCH, cursor, direction: 'asc' }));
      // The first batch is read before answering, so a failing database is a 500, not a truncated file.
      let pending: TradeRow[] | null = await batch();
      const encoder = new TextEncoder();
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(encoder.encode(csvRecord(CSV_HEADER)));
        },
        async pull(controller) {
          try {
            // Every pull enqueues or closes: a pull that does neither is never called again.
            const rows = pending;
            if (rows === null || rows.length === 0) return controller.close();
            controller.enqueue(encoder.encode(rows.map(tradeCsv).join('')));
            const last = rows[rows.length - 1]!;
            pending = rows.length === CSV_BATCH ? await batch({ ts: last.time, id: last.id }) : null;
            if (pending !== null && pending.length === 0) pending = null;
            if (pending === null) controller.close();
          } catch (err) {
            // Headers are gone: abort the body so the client sees a broken download, never a short "complete" file.
            log.error({ err: loggableError(err), requestId: c.get('requestId') }, 'trades.csv stream failed');
            controller.error(err);
          }
        },
      });
      const stamp = new Date(ctx.clock.now()).toISOString().slice(0, 10);
      return c.body(body, 200, {
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': `attachment; filename="trades-${a.slug}-${stamp}.csv"`,
        'cache-control': 'no-store',
      }) as never;
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/accounts/{account}/reports/risk',
      tags: ['reports'],
      summary: 'Drawdown (max, current), exposure (current, average), annualised volatility, from equity snapshots',
      security: [{ bearer: [] }],
      middleware: viewer,
      request: { params: accountParam, query: z.object(range).strict() },
      responses: { 200: json(riskSchema, 'Risk over the range'), 400: errorResponses[400], ...common },
    }),
    async (c) => {
      const q = c.req.valid('query');
      checkRange(q.from, q.to);
      const a = accountOf(c as never);
      const snaps = await withAccount(ctx.db, a.id, (tx) => equitySeries(tx, a.id, { from: dateOrUndefined(q.from), to: dateOrUndefined(q.to) }));
      return c.json(riskReport(snaps.map((s) => ({ ts: s.ts, equity: s.equity, positionsUsd: s.positions }))), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/accounts/{account}/reports/equity',
      tags: ['reports'],
      summary: 'Equity and return curve; `every` keeps the last snapshot of each UTC hour or day',
      security: [{ bearer: [] }],
      middleware: viewer,
      request: { params: accountParam, query: z.object({ ...range, every: everyParam.optional() }).strict() },
      responses: { 200: json(z.object({ points: z.array(equityPointSchema) }), 'Points, oldest first'), 400: errorResponses[400], ...common },
    }),
    async (c) => {
      const q = c.req.valid('query');
      checkRange(q.from, q.to);
      const a = accountOf(c as never);
      const snaps = await withAccount(ctx.db, a.id, (tx) => equitySeries(tx, a.id, { from: dateOrUndefined(q.from), to: dateOrUndefined(q.to), every: q.every }));
      const base = snaps[0]?.equity ?? 0;
      const points = snaps.map((s) => ({
        time: new Date(s.ts).toISOString(),
        equityUsd: s.equity,
        cashUsd: s.cash,
        positionsUsd: s.positions,
        hedgeRatio: s.hedgeRatio,
        returnSinceStart: base > 0 ? s.equity / base - 1 : 0,
      }));
      return c.json({ points }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/accounts/{account}/reports/hedge',
      tags: ['reports'],
      summary: 'The current hedge, its history and what it saved or cost against the unhedged portfolio (RP-4)',
      security: [{ bearer: [] }],
      middleware: viewer,
      request: { params: accountParam, query: z.object(range).strict() },
      responses: { 200: json(hedgeReportSchema, 'Hedge report'), 400: errorResponses[400], ...common },
    }),
    async (c) => {
      const q = c.req.valid('query');
      checkRange(q.from, q.to);
      const a = accountOf(c as never);
      const from = dateOrUndefined(q.from);
      const to = dateOrUndefined(q.to);
      const { state, history, snaps, sales } = await withAccount(ctx.db, a.id, async (tx) => ({
        state: await currentHedge(tx, a.id),
        history: await hedgeChanges(tx, a.id, { from, to, limit: HEDGE_HISTORY_LIMIT }),
        snaps: await equitySeries(tx, a.id, { from, to }),
        sales: await hedgeSales(tx, a.id, { to }),
      }));
      const perf = hedgeReportFromSnapshots(snaps, sales);
      return c.json(
        {
          current: state
            ? {
                mode: state.mode,
                target: state.target,
                actual: state.actual,
                manualRatio: state.manualRatio,
                manualExpiresAt: state.manualExpiresAt?.toISOString() ?? null,
                reason: state.reason,
                updatedAt: state.updatedAt.toISOString(),
              }
            : null,
          history: history.map((h) => ({ time: h.ts.toISOString(), mode: h.mode, target: h.target, actual: h.actual, reason: h.reason })),
          performance: perf
            ? {
                start: new Date(perf.start).toISOString(),
                end: new Date(perf.end).toISOString(),
                points: perf.points,
                hedgedEquityUsd: perf.hedgedEquity,
                unhedgedEquityUsd: perf.unhedgedEquity,
                savedUsd: perf.savedUsd,
                savedPct: perf.savedPct,
                hedgedReturn: perf.hedgedReturn,
                unhedgedReturn: perf.unhedgedReturn,
                maxDrawdownHedged: perf.maxDrawdownHedged,
                maxDrawdownUnhedged: perf.maxDrawdownUnhedged,
              }
            : null,
        },
        200,
      );
    },
  );
}
