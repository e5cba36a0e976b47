import { listAccounts } from '../../lib/accounts/accounts.ts';
import type { AppContext } from '../../lib/context.ts';
import { hedgeBar, latestCommonBar, UnknownAccountError } from '../../lib/cycle/live.ts';
import { tradedPairs } from '../../lib/cycle/universe.ts';
import { HttpError } from '../../lib/http/errors.ts';
import { createJobFunction } from '../../lib/http/job-function.ts';

/**
 * The USD hedge and the equity snapshot: for one account after its order job, or — from cron — for
 * every account at the newest bar; one account's failure is reported, never stops the others.
 */
export const createApp = (ctx: AppContext) =>
  createJobFunction('hedge', 'hedge', ctx, async (job) => {
    const barTime = job.barTime ?? (await latestCommonBar(ctx, await tradedPairs(ctx.db)));
    if (barTime === null) return { skipped: 'no candles yet' };
    if (job.account)
      return hedgeBar(ctx, job.account, barTime).catch((err) => {
        if (err instanceof UnknownAccountError) throw new HttpError(404, 'ACCOUNT_NOT_FOUND', err.message);
        throw err;
      });
    const results = [];
    for (const a of await listAccounts(ctx.db))
      results.push(await hedgeBar(ctx, a.slug, barTime).then((r) => ({ ok: true as const, ...r }), (err: Error) => ({ ok: false as const, account: a.slug, error: err.message })));
    return { barTime, results };
  });
