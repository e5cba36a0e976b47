import type { AppContext } from '../../lib/context.ts';
import { tradedPairs } from '../../lib/cycle/universe.ts';
import { createJobFunction } from '../../lib/http/job-function.ts';
import { ingestClosedCandles } from '../../lib/market/ingest.ts';
import { KrakenRestClient } from '../../lib/market/kraken-rest.ts';
import { jobId } from '../../lib/queue/jobs.ts';

const INTERVAL = 3600;

/** Market data in: the newest closed candles of the universe from Kraken, then scoring for the newest common bar. */
export const createApp = (ctx: AppContext) =>
  createJobFunction('tick', 'tick', ctx, async () => {
    const pairs = await tradedPairs(ctx.db);
    const results = await ingestClosedCandles(ctx.db, new KrakenRestClient({ baseUrl: ctx.config.KRAKEN_API_URL }), pairs, INTERVAL, ctx.clock.now());
    const last = results.map((r) => r.lastOpenTime);
    const barTime = last.length && last.every((t) => t !== null) ? Math.min(...(last as number[])) : null;
    if (barTime !== null) await ctx.queue.enqueue('score', { barTime, pairs }, { jobId: jobId('score', barTime) });
    return { pairs: results.map((r) => ({ pair: r.pair, newCandles: r.newCandles, lastOpenTime: r.lastOpenTime, issues: r.issues.length, truncated: r.truncated })), scored: barTime };
  });
