import type { AppContext } from '../../lib/context.ts';
import { BarRefusedError } from '../../lib/cycle/freshness.ts';
import { AccountBusyError, runOrderJob, UnknownAccountError } from '../../lib/cycle/order-job.ts';
import { DeadlineExceededError } from '../../lib/deadline.ts';
import { ExchangeTemporaryError, OrderStateUnknownError } from '../../lib/exchange/kraken-errors.ts';
import { HttpError } from '../../lib/http/errors.ts';
import { createJobFunction } from '../../lib/http/job-function.ts';

/**
 * Everything an order job does must end well inside the function's 150 s exec_timeout (stack.yml).
 * Generous on purpose: on the starter tier Kraken's counter refills one call every three seconds, and
 * a bad hour of timeouts and retries must still end in a traded bar, not a failed job.
 */
export const ORDER_JOB_BUDGET_MS = 120_000;

/**
 * One deployment per account (`order-company`, …); each mounts only that account's Kraken secret.
 * A job trades its account's newest closed bar: protection, orders, the USD hedge (here, where the
 * key is), protection again. A failure answers non-2xx, so the dispatcher retries it and counts it.
 */
export const createApp = (ctx: AppContext, account: string) =>
  createJobFunction(
    `order-${account}`,
    'order',
    ctx,
    (job) => {
      // The one `order` queue carries every account's jobs: this function acts only for its own.
      if (job.account !== account) return Promise.reject(new HttpError(400, 'WRONG_ACCOUNT', `order-${account} serves account ${account}, not ${job.account}`));
      return runOrderJob(ctx, account, job.barTime).catch((err: unknown) => {
        if (err instanceof UnknownAccountError) throw new HttpError(404, 'ACCOUNT_NOT_FOUND', err.message);
        if (err instanceof BarRefusedError) throw new HttpError(422, err.code, err.message);
        // The dispatcher puts a busy account's job back for a moment, without spending an attempt.
        if (err instanceof AccountBusyError) throw new HttpError(409, 'ACCOUNT_BUSY', err.message);
        if (err instanceof ExchangeTemporaryError || err instanceof OrderStateUnknownError || err instanceof DeadlineExceededError)
          throw new HttpError(503, 'EXCHANGE_UNAVAILABLE', `${err.name}: ${err.message}`);
        throw err;
      });
    },
    { budgetMs: ORDER_JOB_BUDGET_MS },
  );
