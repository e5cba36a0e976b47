import { anchorAuditHead } from '../../lib/audit/head.ts';
import type { AppContext } from '../../lib/context.ts';
import { tradedPairsReport } from '../../lib/cycle/universe.ts';
import { createJobFunction } from '../../lib/http/job-function.ts';
import { marketCandleClose } from '../../lib/http/metrics.ts';
import { ingestClosedCandles, scoringPlan } from '../../lib/market/ingest.ts';
import { KrakenRestClient } from '../../lib/market/kraken-rest.ts';
import { jobId } from '../../lib/queue/jobs.ts';

const INTERVAL = 3600;

/**
 * Market data in: the newest closed candles of every traded pair from Kraken, then scoring for the
 * newest bar (lib/market/ingest.ts `scoringPlan`). One bad pair or account never stops the others: a
 * pair Kraken does not list or whose request fails, and an account whose settings cannot be read,
 * are logged (warn) and reported in the answer while every other pair is ingested and scored. Only
 * when no pair at all could be ingested does the job fail (non-2xx: retried, and alerted on).
 * Each tick first anchors the audit chain's head outside the database (the hourly anchor).
 */
export const createApp = (ctx: AppContext) =>
  createJobFunction('tick', 'tick', ctx, async () => {
    await anchorAuditHead(ctx);
    const traded = await tradedPairsReport(ctx.db);
    for (const u of traded.unreadable) ctx.logger.warn({ account: u.account, err: u.error }, 'tick: trading settings unreadable, its pairs are left out');
    const pairs = traded.pairs;
    const report = await ingestClosedCandles(ctx.db, new KrakenRestClient({ baseUrl: ctx.config.KRAKEN_API_URL }), pairs, INTERVAL, ctx.clock.now());
    for (const f of report.failed) ctx.logger.warn({ pair: f.pair, unknown: f.unknown, err: f.error }, 'tick: pair not ingested');
    for (const r of report.ingested) if (r.lastOpenTime !== null) marketCandleClose.set({ pair: r.pair }, (r.lastOpenTime + INTERVAL * 1000) / 1000);
    if (pairs.length > 0 && report.ingested.length === 0) {
      throw new Error(`tick: no pair could be ingested (${report.failed.map((f) => `${f.pair}: ${f.error}`).join('; ')})`);
    }
    const plan = scoringPlan(report.ingested);
    if (plan.behind.length) ctx.logger.warn({ pairs: plan.behind, barTime: plan.barTime }, 'tick: pairs without the newest bar are not scored for it');
    if (plan.barTime !== null) await ctx.queue.enqueue('score', { barTime: plan.barTime, pairs: plan.pairs }, { jobId: jobId('score', plan.barTime) });
    return {
      pairs: report.ingested.map((r) => ({ pair: r.pair, newCandles: r.newCandles, lastOpenTime: r.lastOpenTime, issues: r.issues.length, truncated: r.truncated })),
      failed: report.failed,
      behind: plan.behind,
      unreadableAccounts: traded.unreadable,
      scored: plan.barTime,
      scoredPairs: plan.pairs,
    };
  });
