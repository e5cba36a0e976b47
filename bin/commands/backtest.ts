import { readFileSync } from 'node:fs';
import { runBacktest } from '../../lib/cycle/backtest.ts';
import { backtestAccounts, writeBacktest } from '../../lib/cycle/backtest-files.ts';
import { walkForwardProvider } from '../../lib/cycle/ml-provider.ts';
import { baselineProvider, type SignalProvider } from '../../lib/cycle/signals.ts';
import { USD_MARKETS } from '../../lib/exchange/usd-markets.ts';
import { cronSchedules, loadStack } from '../../lib/runtime/stack.ts';
import { args, command, UsageError } from '../args.ts';
import { candleFiles, feesFlag, isoTime, walkForwardFlags } from '../backtest-args.ts';

const USAGE =
  'aether backtest --data PAIR=FILE [--data PAIR=FILE …] [--from ISO] [--to ISO] [--initial-usd 10000] [--accounts FILE] [--strategy baseline|ml] [--retrain-every BARS] [--train-bars BARS] [--fees MAKER_BPS,TAKER_BPS] [--no-adapt] --out DIR';

/** The live train job's schedule (stack.yml): the adaptation runs after it, so the backtest adapts at the same time. */
export function liveAdaptationCron(): string {
  const train = cronSchedules(loadStack()).find((s) => s.function === 'train');
  if (!train) throw new Error('stack.yml schedules no train function: the adaptation has no schedule to follow');
  return train.schedule;
}

const bps = (fraction: number): number => Number((fraction * 10_000).toFixed(4));

export const run = (argv: string[]): Promise<number> =>
  command(USAGE, async () => {
    const { values } = args(argv, {
      data: { type: 'string', multiple: true, default: [] },
      from: { type: 'string' },
      to: { type: 'string' },
      'initial-usd': { type: 'string', default: '10000' },
      accounts: { type: 'string' },
      strategy: { type: 'string', default: 'baseline' },
      'retrain-every': { type: 'string', default: '24' },
      'train-bars': { type: 'string', default: '2160' },
      fees: { type: 'string' },
      'no-adapt': { type: 'boolean', default: false },
      out: { type: 'string' },
    });
    if (!values.out) throw new UsageError('--out DIR is required');
    if (!values.data.length) throw new UsageError('at least one --data PAIR=FILE is required');
    if (values.strategy !== 'baseline' && values.strategy !== 'ml') throw new UsageError(`--strategy ${values.strategy}: expected baseline or ml`);
    const { retrainEvery, trainBars } = walkForwardFlags(values);
    const initialUsd = Number(values['initial-usd']);
    if (!(initialUsd > 0)) throw new UsageError('--initial-usd must be a positive number');
    const fees = feesFlag(values.fees);
    // Fees live on the market specs (as the account's Kraken tier does live: lib/exchange/kraken-markets.ts),
    // so the simulator, the risk engine's cost checks and buy-and-hold all charge the same schedule.
    const markets = fees ? USD_MARKETS.map((m) => ({ ...m, makerFee: fees.maker, takerFee: fees.taker })) : USD_MARKETS;
    const { candles } = candleFiles(values.data);
    const pairs = Object.keys(candles).sort();
    let rawAccounts: unknown = [{ id: 'backtest' }];
    if (values.accounts) {
      try {
        rawAccounts = JSON.parse(readFileSync(values.accounts, 'utf8'));
      } catch (err) {
        throw new UsageError(`--accounts ${values.accounts}: ${(err as Error).message}`);
      }
    }
    let accounts;
    try {
      accounts = backtestAccounts(rawAccounts, pairs, initialUsd);
    } catch (err) {
      throw new UsageError(`--accounts: ${(err as Error).message}`);
    }
    if (values.strategy === 'ml' && !candles['BTC/USD']) throw new UsageError('--strategy ml needs --data BTC/USD=FILE: the cross-asset features read BTC/USD');
    // ml: walk-forward, retrained on the candles closed by each decision time only (out of sample).
    const walkForward = values.strategy === 'ml' ? walkForwardProvider({ retrainEveryBars: retrainEvery, trainBars }) : null;
    const signals: SignalProvider = walkForward ?? baselineProvider;
    const started = performance.now();
    let lastPct = -1;
    const result = await runBacktest({
      candles,
      markets,
      feeSource: fees ? '--fees' : 'kraken-base-tier',
      adaptation: values['no-adapt'] ? null : { cron: liveAdaptationCron() },
      accounts,
      signals,
      from: isoTime('from', values.from),
      to: isoTime('to', values.to),
      onStep: (_now, i, total) => {
        const pct = Math.floor((100 * (i + 1)) / total);
        if (process.stderr.isTTY && pct !== lastPct) process.stderr.write(`\r  backtest ${pct}%`);
        lastPct = pct;
      },
    });
    if (process.stderr.isTTY) process.stderr.write('\n');
    writeBacktest(values.out, result);
    const r = result.report;
    process.stdout.write(
      `backtest ${r.start} → ${r.end} ${r.pairs.join(',')}: equity ${r.initial_equity_usd} → ${r.final_equity_usd} USD (${(r.total_return * 100).toFixed(2)} %), ` +
        `max drawdown ${(r.max_drawdown * 100).toFixed(2)} %, ${r.trades} fills, fees ${r.fees_usd} USD; buy-and-hold ${(r.buy_and_hold.total_return * 100).toFixed(2)} % ` +
        `[${result.steps} steps in ${((performance.now() - started) / 1000).toFixed(1)} s]\n` +
        `  fees: ${r.fees.maker === null ? 'per pair' : `maker ${bps(r.fees.maker)} bps, taker ${bps(r.fees.taker!)} bps`} (${r.fees.source}); ` +
        `adaptation: ${r.adaptation.schedule === null ? 'off' : `nightly at "${r.adaptation.schedule}" UTC, ${r.adaptation.changes} changes`}\n` +
        (walkForward ? `  walk-forward: ${walkForward.retrains()} retrains every ${retrainEvery} bars on at most ${trainBars} bars closed by each decision time\n` : '') +
        `  wrote ${values.out}/report.json, trades.csv, equity.csv\n`,
    );
    return 0;
  });
