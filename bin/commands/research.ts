import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, relative } from 'node:path';
import { APP_ROOT } from '../../lib/app-root.ts';
import { DEFAULT_WALK_FORWARD_PROVIDER } from '../../lib/cycle/ml-provider.ts';
import { DEFAULT_SLIPPAGE } from '../../lib/exchange/sim-types.ts';
import type { MarketSpec } from '../../lib/exchange/types.ts';
import { USD_MARKETS } from '../../lib/exchange/usd-markets.ts';
import { equitySvg } from '../../lib/reports/equity-svg.ts';
import { researchWarmupBars } from '../../lib/reports/research-tasks.ts';
import { ALL_PAIRS, DEFAULT_RESEARCH_RETRAIN_EVERY, planScopes, runResearch, type ResearchResult } from '../../lib/reports/research-runner.ts';
import { researchHtml } from '../../lib/reports/research-html.ts';
import { researchMarkdown, terminalTable } from '../../lib/reports/research-table.ts';
import { STRATEGIES, type Strategy } from '../../lib/reports/research.ts';
import { args, command, UsageError, type Help } from '../args.ts';
import { candleFiles, feesFlag, walkForwardFlags, windowFlags } from '../backtest-args.ts';
import { progress } from '../progress.ts';
import { liveAdaptationCron } from './backtest.ts';

export const help: Help = {
  usage: 'aether research --out DIR [--data PAIR=FILE …] [flags]',
  about:
    'Every strategy on every pair and on all pairs together, per calendar year, after fees and slippage:\n' +
    'research.md, research.json, report.html (equity, drawdowns, trades on price) and equity-<scope>.svg in DIR.',
  flags: [
    ['--out DIR', 'where the files go (created)'],
    ['--data PAIR=FILE', "a Kraken USD pair and its candle CSV; repeatable (default: the repository's data/ohlcv/kraken_*_1h.csv)"],
    ['--from ISO, --to ISO', 'the window (default: all the data)'],
    ['--initial-usd N', 'starting cash (default 10000)'],
    ['--strategies LIST', `comma-separated, from ${STRATEGIES.join(', ')} (default: all)`],
    ['--retrain-every BARS', `ml: refit every BARS bars (default ${DEFAULT_RESEARCH_RETRAIN_EVERY})`],
    ['--train-bars BARS', `ml: fit on at most BARS bars per pair (default ${DEFAULT_WALK_FORWARD_PROVIDER.trainBars})`],
    ['--fees MAKER,TAKER', "fees in basis points, e.g. 16,26 (default: Kraken's base tier per pair)"],
    ['--no-adapt', 'keep the settings fixed (default: the nightly threshold adaptation, as live)'],
    ['--workers N', 'worker threads (default: up to 2; 0 runs everything on this thread)'],
  ],
  examples: ['aether research --out /tmp/research', 'aether research --strategies baseline,buy-and-hold --from 2022-01-01 --out /tmp/research-2022'],
};

const REPO_DATA = join(APP_ROOT, 'data/ohlcv');

const known = (pair: string): boolean => USD_MARKETS.some((m) => m.symbol === pair);

/** The repository's candle files, pair from the file name (kraken_BTCUSD_1h.csv → BTC/USD). */
function repositoryData(): string[] {
  if (!existsSync(REPO_DATA)) return [];
  return readdirSync(REPO_DATA)
    .map((f) => /^kraken_([A-Z0-9]+)USD_1h\.csv$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null && known(`${m[1]}/USD`))
    .map((m) => `${m[1]}/USD=${join(REPO_DATA, m[0])}`)
    .sort();
}

const slug = (scope: string): string => (scope === ALL_PAIRS ? 'all-pairs' : scope.toLowerCase().replace(/[^a-z0-9]+/g, '-'));
const day = (t: number | string): string => new Date(t).toISOString().slice(0, 16).replace('T', ' ');
const pct = (x: number): string => `${Number((x * 100).toFixed(4))} %`;
const bps = (x: number): string => `${Number((x * 10_000).toFixed(4))} bps`;

export const run = (argv: string[]): Promise<number> =>
  command(help, async () => {
    const { values } = args(argv, {
      data: { type: 'string', multiple: true, default: [] },
      from: { type: 'string' },
      to: { type: 'string' },
      'initial-usd': { type: 'string', default: '10000' },
      strategies: { type: 'string', default: STRATEGIES.join(',') },
      'retrain-every': { type: 'string', default: String(DEFAULT_RESEARCH_RETRAIN_EVERY) },
      'train-bars': { type: 'string', default: String(DEFAULT_WALK_FORWARD_PROVIDER.trainBars) },
      fees: { type: 'string' },
      'no-adapt': { type: 'boolean', default: false },
      workers: { type: 'string', default: String(Math.min(2, availableParallelism())) },
      out: { type: 'string' },
    });
    // Everything is checked before anything is written: a usage error leaves no directory behind.
    if (!values.out) throw new UsageError('--out DIR is required');
    const initialUsd = Number(values['initial-usd']);
    if (!(initialUsd > 0 && Number.isFinite(initialUsd))) throw new UsageError('--initial-usd must be a positive number');
    const strategies = values.strategies.split(',').map((s) => s.trim());
    for (const s of strategies) if (!(STRATEGIES as readonly string[]).includes(s)) throw new UsageError(`--strategies: unknown strategy "${s}" (${STRATEGIES.join(', ')})`);
    if (new Set(strategies).size !== strategies.length || !strategies.length) throw new UsageError('--strategies: each strategy at most once');
    const { retrainEvery, trainBars } = walkForwardFlags(values);
    const workers = Number(values.workers);
    if (!Number.isInteger(workers) || workers < 0 || workers > 64) throw new UsageError('--workers must be a whole number from 0 (this thread) to 64');
    const fees = feesFlag(values.fees); // the format of `aether backtest --fees`
    const adaptationCron = values['no-adapt'] ? null : liveAdaptationCron();

    const specs = values.data.length ? values.data : repositoryData();
    if (!specs.length) throw new UsageError('no --data PAIR=FILE given and no data/ohlcv/kraken_*_1h.csv files found');
    const { candles, files } = candleFiles(specs);
    const { from, to } = windowFlags(values, candles);
    const intervals = new Set(Object.values(candles).map((c) => c[0]!.interval));
    if (intervals.size !== 1) throw new UsageError(`--data: every file must have the same bar interval, got ${[...intervals].join(', ')} s`);
    if (strategies.includes('ml') && !candles['BTC/USD']) throw new UsageError('the ml strategy needs --data BTC/USD=FILE: its cross-asset features read BTC/USD (or leave ml out of --strategies)');
    const markets: MarketSpec[] = USD_MARKETS.map((m) => (fees ? { ...m, makerFee: fees.maker, takerFee: fees.taker } : m));

    const { scopes } = planScopes(candles, researchWarmupBars(strategies.includes('ml')), from, to);
    if (!scopes.length) throw new UsageError(`no pair has candles to decide on in the window after ${researchWarmupBars(strategies.includes('ml'))} bars of warm-up (the strategies' lookback)`);

    const started = performance.now();
    // One unit per backtest (a strategy on a scope) plus the ML walk-forward's signals.
    const bar = progress('research');
    const total = scopes.length * strategies.filter((s) => s === 'baseline' || s === 'ml').length + (strategies.includes('ml') ? 1 : 0);
    let done = 0;
    const result: ResearchResult = await runResearch({
      candles,
      markets,
      initialUsd,
      strategies: strategies as Strategy[],
      retrainEveryBars: retrainEvery,
      trainBars,
      adaptationCron,
      feeSource: fees ? '--fees' : 'kraken-base-tier',
      workers,
      ...(from === undefined ? {} : { from }),
      ...(to === undefined ? {} : { to }),
      onProgress: (msg) => {
        if (/backtest of|models fitted/.test(msg)) done++;
        bar.update(done, total, msg);
      },
    });
    bar.end();
    const seconds = (performance.now() - started) / 1000;

    const out = values.out;
    mkdirSync(out, { recursive: true });
    const charts: Array<[string, string]> = [];
    const svgs: string[] = [];
    for (const scope of result.scopes) {
      const runs = result.runs.filter((r) => r.scope === scope.name);
      const first = runs[0]?.points[0]?.ts;
      const last = runs[0]?.points.at(-1)?.ts;
      const title = `Equity after costs — ${scope.name === ALL_PAIRS ? `all pairs (${scope.pairs.join(', ')})` : scope.name}${first && last ? `, ${day(first).slice(0, 10)} → ${day(last).slice(0, 10)}` : ''}`;
      const file = `equity-${slug(scope.name)}.svg`;
      const svg = equitySvg({ title, series: runs.map((r) => ({ label: r.strategy, points: r.points })) });
      writeFileSync(join(out, file), svg);
      charts.push([title, file]);
      svgs.push(svg);
    }

    const pairs = Object.keys(candles).sort();
    const mlLine = strategies.includes('ml')
      ? `retrained every ${retrainEvery} bars (${(retrainEvery / 24).toFixed(retrainEvery % 24 ? 1 : 0)} days of 1h bars) on at most ${trainBars} bars per pair closed before the decision; ` +
        `${result.ml?.retrains ?? 0} models fitted (${result.ml?.attempts ?? 0} retrains due), first at ${result.ml?.firstModelAt ?? 'never'} — no signal before it` +
        (retrainEvery === 24 ? '' : '; live refits daily, `--retrain-every 24` reproduces that at ~2.5× the ML pass\'s CPU')
      : 'not run';
    const settings: Array<[string, string]> = [
      ...pairs.map((p): [string, string] => [`data ${p}`, `${relative(process.cwd(), files[p]!) || files[p]!}: ${candles[p]!.length} candles, ${day(candles[p]![0]!.openTime)} → ${day(candles[p]!.at(-1)!.openTime)} UTC (bar opens)`]),
      ...result.scopes.map((s): [string, string] => [`window ${s.name}`, `decisions on the bars opening ${day(s.from)} → ${day(s.to)} UTC (after ${result.warmupBars} bars of warm-up)`]),
      ['initial equity', `${initialUsd} USD, one account at default trading, risk and hedge settings`],
      ['fees', fees ? `--fees: maker ${bps(fees.maker)}, taker ${bps(fees.taker)} on every pair` : `Kraken's first volume tier from the AssetPairs snapshot (lib/exchange/usd-markets.ts): ${pairs.map((p) => { const m = markets.find((x) => x.symbol === p)!; return `${p} maker ${pct(m.makerFee)} / taker ${pct(m.takerFee)}`; }).join('; ')}`],
      ['slippage', `the SimBroker's: half-spread ${pct(DEFAULT_SLIPPAGE.halfSpread)}, impact ${DEFAULT_SLIPPAGE.impactK} × √(share of the bar's volume) up to ${pct(DEFAULT_SLIPPAGE.maxImpact)}, at most ${pct(DEFAULT_SLIPPAGE.maxVolumeShare)} of a bar's volume`],
      ['ML walk-forward', mlLine],
      [
        'nightly adaptation',
        adaptationCron
          ? `on, as in \`aether backtest\` and live: the strategy thresholds adapt at "${adaptationCron}" UTC (stack.yml's train schedule) from the account's closed trades; changes: ${result.reports.map((r) => `${r.scope} ${r.strategy} ${r.report.adaptation.changes}`).join(', ')}`
          : 'off (--no-adapt): settings fixed throughout',
      ],
      ['strategies', strategies.join(', ')],
    ];
    const markdown = researchMarkdown({
      rows: result.rows,
      settings,
      strategies: [
        ['baseline', 'the default strategy — `baselineProvider` (lib/cycle/signals.ts) through `runBacktest`: the live cycle\'s code (signals → strategy → risk engine → hedge → SimBroker fills), as `aether backtest` runs it.'],
        ['ml', `the ML strategy as \`aether backtest --strategy ml\` runs it — \`walkForwardProvider\`: a gradient-boosted model refitted every ${retrainEvery} bars on the candles closed before the decision only (out of sample), pooled over every pair's candles; the same cycle otherwise. No model yet: no signal, so no entries.`],
        ['buy-and-hold', 'equal weight in every pair of the scope at the first decision\'s close, one taker fee, held to the end; a pair not listed yet keeps its share in cash until its first candle.'],
        ['cash', 'USD throughout: the line every strategy must beat after its costs.'],
      ].filter(([s]) => strategies.includes(s!)) as Array<[string, string]>,
      method: [
        'One backtest per strategy and scope over the whole window. **A year\'s row is the segment of that run\'s equity curve falling in the year** (base: the equity at the year\'s first instant), not a separate run: positions and models carry over, as in a live account, so without skipped years (1 + r₂₀₂₁)(1 + r₂₀₂₂)… = 1 + r(whole).',
        'The whole-span rows reproduce each backtest\'s report.json figures (return, CAGR, Sharpe, Sortino, max drawdown, fees, fills, exposure); research.json holds those reports.',
        'Return and CAGR over the segment\'s length; Sharpe and Sortino from the hourly equity returns, annualised (×√8760, risk-free rate 0); max drawdown within the segment; turnover = traded notional (buys and sells) / average equity, **per year**; fees in USD and trades (fills) within the segment; exposure = average of holdings / equity.',
        'ML signals are computed once over the all-pairs timeline (in parallel stretches that each begin at a retrain, equal to one sequential pass) and replayed in every scope\'s backtest: a signal depends only on the candles closed by its time, never on the account.',
        'A window ends at the earliest last candle among the pairs given; a calendar year with fewer than 30 days in a window is skipped (see notes).',
      ],
      notes: result.notes,
      charts,
    });
    writeFileSync(join(out, 'research.md'), markdown);
    const table = terminalTable(result.rows);
    writeFileSync(
      join(out, 'report.html'),
      researchHtml({
        title: `Research: ${strategies.join(', ')} on ${pairs.join(', ')}`,
        subtitle: `after fees and slippage, ${initialUsd} USD each; research.md and research.json hold the method and every figure`,
        table,
        settings,
        scopes: result.scopes.map((s, i) => ({ name: s.name, pairs: s.pairs, from: s.from, to: s.to, equitySvg: svgs[i]! })),
        runs: result.runs,
        candles,
      }),
    );
    writeFileSync(
      join(out, 'research.json'),
      JSON.stringify(
        {
          settings: Object.fromEntries(settings),
          options: { from: values.from ?? null, to: values.to ?? null, initialUsd, strategies, retrainEvery, trainBars, fees, adaptationCron, workers },
          scopes: result.scopes.map((s) => ({ name: s.name, pairs: s.pairs, from: new Date(s.from).toISOString(), to: new Date(s.to).toISOString() })),
          periods: Object.fromEntries(Object.entries(result.periods).map(([k, ps]) => [k, ps.map((p) => ({ label: p.label, from: new Date(p.from).toISOString(), to: new Date(p.to).toISOString() }))])),
          notes: result.notes,
          ml: result.ml,
          rows: result.rows,
          reports: result.reports,
        },
        null,
        2,
      ) + '\n',
    );

    process.stdout.write(
      table +
        (result.notes.length ? `\n${result.notes.map((n) => `note: ${n}`).join('\n')}\n` : '') +
        `\nresearch: ${result.scopes.length} scopes × ${strategies.length} strategies, ${result.backtests} backtests on ${result.threads || 'no'} worker thread(s) in ${seconds.toFixed(1)} s` +
        (strategies.includes('ml') ? `; ML ${mlLine}` : '') +
        `\n  wrote ${join(out, 'research.md')}, research.json, report.html, ${charts.map(([, f]) => f).join(', ')}\n`,
    );
    return 0;
  });
