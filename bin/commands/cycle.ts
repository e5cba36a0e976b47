import { listAccounts } from '../../lib/accounts/accounts.ts';
import { loadAuditKey, useAuditKey } from '../../lib/audit/key.ts';
import { parseConfig } from '../../lib/config.ts';
import { cycleOutcomes, requestCycle, type CycleOutcome } from '../../lib/cycle/cycle-now.ts';
import { openDatabase } from '../../lib/db/client.ts';
import { createLogger } from '../../lib/log.ts';
import { openQueueClient } from '../../lib/queue/client.ts';
import { loadSummary } from '../../lib/reports/summary-queries.ts';
import { summaryTable } from '../../lib/reports/summary-table.ts';
import { runningEmbeddedUrl } from '../../lib/runtime/embedded-postgres.ts';
import { args, command, UsageError, type Help } from '../args.ts';
import { resolveDatabase, wallClock } from '../services.ts';

export const help: Help = {
  usage: 'aether cycle --now [--wait SECONDS]',
  about:
    'Runs the trading cycle for the latest closed bar now instead of at the next :01, the way the schedule runs it\n(candles in, scoring, then every account\'s order job) — once per bar: asking again, or after the schedule took\nthe bar, queues nothing. Audited. The running Aether (aether start, or the cluster\'s dispatcher) does the work;\nthis waits for every account\'s outcome, then prints `aether status`.',
  flags: [
    ['--now', 'required: the latest closed bar (the only cycle that may trade)'],
    ['--wait SECONDS', 'how long to wait for every account (default 120; 0: queue it and return)'],
  ],
  examples: ['aether cycle --now', 'aether cycle --now --wait 0'],
};

export const run = (argv: string[]): Promise<number> =>
  command(help, async () => {
    const { values } = args(argv, { now: { type: 'boolean', default: false }, wait: { type: 'string', default: '120' } });
    if (!values.now) throw new UsageError('--now is required: a cycle trades the latest closed bar, nothing else');
    const waitS = /^\d{1,5}$/.test(values.wait) ? Number(values.wait) : Number.NaN;
    if (!Number.isFinite(waitS)) throw new UsageError(`--wait must be a whole number of seconds, got '${values.wait}'`);
    const config = parseConfig();
    if (!config.DATABASE_URL && !runningEmbeddedUrl(config.AETHER_HOME)) {
      process.stderr.write(`aether cycle: Aether is not running on ${config.AETHER_HOME}: start it with \`aether start\` (its workers run the cycle), then run this again\n`);
      return 1;
    }
    const logger = createLogger(config.LOG_LEVEL);
    useAuditKey(() => loadAuditKey(config));
    // The running database and the queues its workers take jobs from (joined, never started here).
    const urls = await resolveDatabase(config, logger, true);
    const database = await openDatabase({ url: urls.url, driver: config.DATABASE_URL ? config.databaseDriver : 'pg', max: 2 });
    try {
      const queue = await openQueueClient({ redisUrl: config.REDIS_URL, databaseUrl: urls.ownerUrl ?? urls.url, onError: (err) => logger.warn({ err }, 'queue connection') });
      try {
        const ctx = { db: database.db, queue, clock: wallClock(config, logger) };
        const req = await requestCycle(ctx, { userId: null, via: 'cli' });
        const bar = new Date(req.barTime).toISOString();
        process.stdout.write(req.queued ? `cycle for the bar opened ${bar} queued (job ${req.jobId})\n` : `the cycle for the bar opened ${bar} was already queued: nothing new queued\n`);
        if (waitS === 0) return 0;
        const accounts = await listAccounts(database.db);
        const outcomes = await waitFor(() => cycleOutcomes(ctx, accounts, req.barTime), waitS * 1000);
        for (const o of outcomes) process.stdout.write(`  ${o.account.padEnd(20)} ${o.outcome ?? 'not finished'}\n`);
        const pending = outcomes.filter((o) => o.outcome === null).map((o) => o.account);
        if (pending.length) {
          process.stderr.write(`aether cycle: ${pending.join(', ')} did not finish within ${waitS} s: is Aether running (aether start, or the cluster's dispatcher)? Its log says why.\n`);
          return 1;
        }
        process.stdout.write(`\n${summaryTable(await loadSummary(database.db, ctx.clock, accounts))}`);
        return outcomes.some((o) => o.outcome === 'failed') ? 1 : 0;
      } finally {
        await queue.close();
      }
    } finally {
      await database.close();
    }
  });

/** Polls every second until every account has an outcome, or the time is up (then what is known). */
async function waitFor(read: () => Promise<CycleOutcome[]>, ms: number): Promise<CycleOutcome[]> {
  const end = Date.now() + ms;
  for (;;) {
    const outcomes = await read();
    if (outcomes.every((o) => o.outcome !== null) || Date.now() >= end) return outcomes;
    await new Promise((r) => setTimeout(r, 1000));
  }
}
