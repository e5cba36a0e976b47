import { findAccount, listAccounts } from '../../lib/accounts/accounts.ts';
import { parseConfig } from '../../lib/config.ts';
import { createLogger } from '../../lib/log.ts';
import { loadSummary } from '../../lib/reports/summary-queries.ts';
import { summaryTable } from '../../lib/reports/summary-table.ts';
import { args, command, UsageError, type Help } from '../args.ts';
import { wallClock, withDatabase } from '../services.ts';

export const help: Help = {
  usage: 'aether status [--account SLUG] [--json]',
  about: 'Every account at a glance, read exactly as GET /summary reads it: mode (SIMULATION or LIVE), trading state,\nequity, cash, holdings, positions with their stops, open orders, today\'s PnL, drawdown against its limits,\nhedge actual vs target, last and next cycle; then totals per mode (simulated and live money never added).',
  flags: [
    ['--account SLUG', 'only this account'],
    ['--json', 'print the summary as JSON (the API\'s Summary document)'],
  ],
  examples: ['aether status', 'aether status --account company --json'],
};

export const run = (argv: string[]): Promise<number> =>
  command(help, async () => {
    const { values } = args(argv, { account: { type: 'string' }, json: { type: 'boolean', default: false } });
    const config = parseConfig();
    const clock = wallClock(config, createLogger(config.LOG_LEVEL));
    const summary = await withDatabase(config, async (db) => {
      if (values.account === undefined) return loadSummary(db, clock, await listAccounts(db));
      const account = await findAccount(db, values.account);
      if (!account) throw new UsageError(`--account: no account '${values.account}' (aether accounts list)`);
      return loadSummary(db, clock, [account]);
    });
    process.stdout.write(values.json ? `${JSON.stringify(summary, null, 2)}\n` : summaryTable(summary));
    return 0;
  });
