import { listAccounts } from '../../lib/accounts/accounts.ts';
import { anchorAuditHead } from '../../lib/audit/head.ts';
import type { AppContext } from '../../lib/context.ts';
import { withAccount } from '../../lib/db/scope.ts';
import { loggableError } from '../../lib/http/app.ts';
import { createJobFunction } from '../../lib/http/job-function.ts';
import { dayStart, defaultReportDays, upsertDay } from '../../lib/reports/daily-pnl-store.ts';
import { HttpError } from '../../lib/http/errors.ts';

/**
 * The `report` job: daily PnL of the given UTC day (default yesterday and today so far) for every
 * account, upserted into daily_pnl. Each account runs in its own scoped transaction, so one account's
 * failure rolls back only its own rows and is reported while the others complete. The report carries
 * the audit chain's head, anchored outside the database as it is reported.
 */
export const createApp = (ctx: AppContext) =>
  createJobFunction('report', 'report', ctx, async (payload, meta) => {
    if (payload.day) {
      try {
        dayStart(payload.day);
      } catch (err) {
        throw new HttpError(400, 'BAD_DAY', (err as Error).message);
      }
    }
    const days = payload.day ? [payload.day] : defaultReportDays(ctx.clock.now());
    const log = ctx.logger.child({ function: 'report', jobId: meta.jobId });
    const accounts = await listAccounts(ctx.db);
    const results = [];
    for (const a of accounts) {
      try {
        const written = await withAccount(ctx.db, a.id, async (tx) => {
          const out: string[] = [];
          for (const d of days) if (await upsertDay(tx, a.id, d, ctx.clock)) out.push(d);
          return out;
        });
        results.push({ account: a.slug, ok: true as const, days: written });
      } catch (err) {
        log.error({ err: loggableError(err), account: a.slug }, 'daily PnL failed for an account');
        results.push({ account: a.slug, ok: false as const, error: (err as Error).message });
      }
    }
    return { days, accounts: results, failed: results.filter((r) => !r.ok).length, audit: await anchorAuditHead(ctx) };
  });
