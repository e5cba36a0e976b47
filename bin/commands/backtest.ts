import { readFileSync } from 'node:fs';
import { runBacktest } from '../../lib/cycle/backtest.ts';
import { backtestAccounts, writeBacktest } from '../../lib/cycle/backtest-files.ts';
import { walkForwardProvider } from '../../lib/cycle/ml-provider.ts';
import { baselineProvider, type SignalProvider } from '../../lib/cycle/signals.ts';
import { USD_MARKETS } from '../../lib/exchange/usd-markets.ts';
import { cronSchedules, loadStack } from '../../lib/runtime/stack.ts';
import { args, command, UsageError, type Help } from '../args.ts';
import { candleFiles, feesFlag, walkForwardFlags, windowFlags } from '../backtest-args.ts';
import { progress } from '../progress.ts';

export const help: Help = {
  usage: 'aether backtest --data PAIR=FILE [--data PAIR=FILE …] --out DIR [flags]',
  about:
    'Replays candle files through the live cycle (signals → strategy → risk → hedge → simulated fills after\n' +
    'fees and slippage) and writes report.json, trades.csv, equity.csv, equity.svg and report.html to DIR.',
  flags: [
    ['--data PAIR=FILE', 'a Kraken USD pair and its 1h candle CSV (time,open,high,low,close,volume); repeatable'],
    ['--out DIR', 'where the files go (created)'],
    ['--from ISO, --to ISO', 'the window of decisions (default: all the data); earlier candles warm the indicators up'],
    ['--initial-usd N', 'starting cash of each account (default 10000)'],
    ['--accounts FILE', 'JSON list of accounts [{ id, initialUsd?, trading?, risk?, hedge? }] (default: one, default settings)'],
    ['--strategy baseline|ml', 'baseline (default) or the ML model refitted walk-forward on past candles only'],
    ['--retrain-every BARS', 'ml: refit every BARS bars (default 24)'],
    ['--train-bars BARS', 'ml: fit on at most BARS bars per pair (default 2160)'],
    ['--fees MAKER,TAKER', "fees in basis points, e.g. 16,26 (default: Kraken's base tier per pair)"],
    ['--no-adapt', 'keep the settings fixed (default: the nightly threshold adaptation, as live)'],
  ],
  examples: ['aether backtest --data BTC/USD=data/ohlcv/kraken_BTCUSD_1h.csv --data ETH/USD=data/ohlcv/kraken_ETHUSD_1h.csv --from 2022-01-01 --to 2023-01-01 --out /tmp/bt'],
};

/** The live train job's schedule (stack.yml): the adaptation runs after it, so the backtest adapts at the same time. */
export function liveAdaptationCron(): string {
  const train = cronSchedules(loadStack()).find((s) => s.function === 'train');
  if (!train) throw new Error('stack.yml schedules no train function: the adaptation has no schedule to follow');
  return train.schedule;
}

const bps = (fraction: number): number => Number((fraction * 10_000).toFixed(4));

export const run = (argv: string[]): Promise<number> =>
  command(help, async () => {
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
    const window = windowFlags(values, candles);
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
    const bar = progress('backtest');
    const result = await runBacktest({
      candles,
      markets,
      feeSource: fees ? '--fees' : 'kraken-base-tier',
      adaptation: values['no-adapt'] ? null : { cron: liveAdaptationCron() },
      accounts,
      signals,
      ...window,
      onStep: (now, i, total) => bar.update((i + 1) / total, 1, new Date(now).toISOString().slice(0, 10)),
    });
    bar.end();
    if (!result.equity.length) throw new UsageError('no bar to decide on in the window: widen --from/--to');
    writeBacktest(values.out, result, candles, markets);
    const r = result.report;
    process.stdout.write(
      `backtest ${r.start} → ${r.end} ${r.pairs.join(',')}: equity ${r.initial_equity_usd} → ${r.final_equity_usd} USD (${(r.total_return * 100).toFixed(2)} %), ` +
        `max drawdown ${(r.max_drawdown * 100).toFixed(2)} %, ${r.trades} fills, fees ${r.fees_usd} USD; buy-and-hold ${(r.buy_and_hold.total_return * 100).toFixed(2)} % ` +
        `[${result.steps} steps in ${((performance.now() - started) / 1000).toFixed(1)} s]\n` +
        `  fees: ${r.fees.maker === null ? 'per pair' : `maker ${bps(r.fees.maker)} bps, taker ${bps(r.fees.taker!)} bps`} (${r.fees.source}); ` +
        `adaptation: ${r.adaptation.schedule === null ? 'off' : `nightly at "${r.adaptation.schedule}" UTC, ${r.adaptation.changes} changes`}\n` +
        (walkForward ? `  walk-forward: ${walkForward.retrains()} retrains every ${retrainEvery} bars on at most ${trainBars} bars closed by each decision time\n` : '') +
        `  wrote ${values.out}/report.json, trades.csv, equity.csv, equity.svg, report.html\n`,
    );
    return 0;
  });
