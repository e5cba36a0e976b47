import type { AppContext } from '../../lib/context.ts';
import { orderBar, UnknownAccountError } from '../../lib/cycle/live.ts';
import { HttpError } from '../../lib/http/errors.ts';
import { createJobFunction } from '../../lib/http/job-function.ts';

/** One deployment per account (`order-company`, …); each mounts only that account's Kraken secret. */
export const createApp = (ctx: AppContext, account: string) =>
  createJobFunction(`order-${account}`, 'order', ctx, (job) =>
    orderBar(ctx, account, job.barTime).catch((err) => {
      if (err instanceof UnknownAccountError) throw new HttpError(404, 'ACCOUNT_NOT_FOUND', err.message);
      throw err;
    }),
  );
