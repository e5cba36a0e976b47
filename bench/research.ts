/**
 * The whole research table on the repository's data (BTC, ETH, SOL 1h candles, 2021-01 → 2023-01)
 * with `aether research`'s defaults: baseline and ML walk-forward backtests of every scope through
 * runBacktest, buy-and-hold and cash, every year cut from the whole-span runs — what the README's
 * table is. Target: ≤ 120 s on the 2-core dev machine (exit code 1 when missed). CPU seconds and
 * the load average are printed too: on shared cores wall time says as much about the neighbours.
 */
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { liveAdaptationCron } from '../bin/commands/backtest.ts';
import { USD_MARKETS } from '../lib/exchange/usd-markets.ts';
import type { Candle } from '../lib/market/candle.ts';
import { readCandlesCsv } from '../lib/market/csv.ts';
import { DEFAULT_WALK_FORWARD_PROVIDER } from '../lib/cycle/ml-provider.ts';
import { DEFAULT_RESEARCH_RETRAIN_EVERY, runResearch } from '../lib/reports/research-runner.ts';
import { terminalTable } from '../lib/reports/research-table.ts';
import { STRATEGIES } from '../lib/reports/research.ts';

const PAIRS = ['BTC/USD', 'ETH/USD', 'SOL/USD'];
const TARGET_S = 120;

const candles: Record<string, Candle[]> = {};
for (const p of PAIRS) candles[p] = readCandlesCsv(fileURLToPath(new URL(`../data/ohlcv/kraken_${p.replace('/', '')}_1h.csv`, import.meta.url)), p);
const workers = Math.min(2, availableParallelism());
const load = loadavg()[0]!;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const r = await runResearch({
  candles,
  markets: [...USD_MARKETS],
  initialUsd: 10_000,
  strategies: STRATEGIES,
  retrainEveryBars: DEFAULT_RESEARCH_RETRAIN_EVERY,
  trainBars: DEFAULT_WALK_FORWARD_PROVIDER.trainBars,
  adaptationCron: liveAdaptationCron(), // as `aether research` and `aether backtest` run by default
  feeSource: 'kraken-base-tier',
  workers,
  onProgress: (m) => console.log(`  ${m}`),
});
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0); // the whole process: worker threads included
console.log(terminalTable(r.rows));
const ok = seconds <= TARGET_S;
console.log(
  `research on ${PAIRS.join(', ')}: ${r.scopes.length} scopes × ${STRATEGIES.length} strategies = ${r.runs.length} runs (${r.backtests} backtests), ${r.rows.length} rows, ` +
    `ML retrained every ${DEFAULT_RESEARCH_RETRAIN_EVERY} bars (${r.ml?.retrains ?? 0} models, ${(r.ml?.seconds ?? 0).toFixed(1)} s), ${workers} worker threads, load average ${load.toFixed(1)} at start` +
    (ok ? '' : ` — TARGET MISSED (≤ ${TARGET_S} s)`),
);
console.log(
  `bench research: seconds=${seconds.toFixed(1)} runs=${r.runs.length} backtests=${r.backtests} rows=${r.rows.length} retrain_every=${DEFAULT_RESEARCH_RETRAIN_EVERY} ` +
    `ml_models=${r.ml?.retrains ?? 0} cpu_seconds=${((cpu.user + cpu.system) / 1e6).toFixed(1)} workers=${workers} load_avg=${load.toFixed(1)}`,
);
if (!ok) process.exitCode = 1;
