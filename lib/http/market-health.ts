import { z } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { candles } from '../../schema/index.ts';
import type { AppContext } from '../context.ts';
import { rowsOf } from '../db/client.ts';

const INTERVAL_MS = 3_600_000;
/** Market data is stale once the newest closed bar is more than this many intervals old (tick runs hourly, a minute after the close). */
export const STALE_INTERVALS = 2;

export const marketDataSchema = z
  .object({
    state: z.enum(['fresh', 'stale', 'none', 'error']),
    /** Open time of the newest stored 1h bar (any pair). */
    newestBar: z.iso.datetime().nullable(),
    /** Minutes since that bar closed. */
    ageMinutes: z.number().int().nullable(),
  })
  .openapi('MarketDataHealth');

export const historySchema = z
  .object({
    state: z.enum(['waiting', 'backfilling', 'offline', 'done', 'failed']),
    pairs: z.array(z.string()),
    bars: z.number().int(),
    done: z.number().min(0).max(1),
    source: z.enum(['live', 'replay']),
    error: z.string().optional(),
    retryAt: z.iso.datetime().optional(),
  })
  .openapi('HistoryHealth');

export type MarketData = z.infer<typeof marketDataSchema>;

/** Whether the candle store is current: the newest 1h bar's close against the wall clock. */
export function marketDataOf(newestOpen: number | null, now: number): MarketData {
  if (newestOpen === null) return { state: 'none', newestBar: null, ageMinutes: null };
  const age = now - (newestOpen + INTERVAL_MS);
  return { state: age > STALE_INTERVALS * INTERVAL_MS ? 'stale' : 'fresh', newestBar: new Date(newestOpen).toISOString(), ageMinutes: Math.max(0, Math.floor(age / 60_000)) };
}

/**
 * What `/healthz` adds about the market: data freshness (stale → `degraded`, still HTTP 200: the
 * functions themselves work, and restarting them would not bring candles) and, in `aether start`, the
 * background history fill; `replay` when the wall clock is offset (`aether demo`, a benchmark).
 */
export async function marketHealth(ctx: AppContext): Promise<{ replay: boolean; marketData: MarketData; history?: z.infer<typeof historySchema> }> {
  const marketData = await ctx.db
    .execute(sql`select max(${candles.openTime}) as newest from ${candles} where ${candles.interval} = 3600`)
    .then((r) => {
      const newest = rowsOf<{ newest: Date | string | null }>(r)[0]?.newest ?? null;
      return marketDataOf(newest === null ? null : new Date(newest).getTime(), ctx.clock.now());
    })
    .catch((): MarketData => ({ state: 'error', newestBar: null, ageMinutes: null }));
  // An offset wall clock is a replay (aether demo) or a benchmark, never production: say so.
  return { replay: ctx.config.AETHER_CLOCK_OFFSET_FILE !== undefined, marketData, ...(ctx.history ? { history: { ...ctx.history.progress } } : {}) };
}
