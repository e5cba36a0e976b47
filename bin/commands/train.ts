import { systemClock } from '../../lib/clock.ts';
import { parseConfig } from '../../lib/config.ts';
import { tradedPairs } from '../../lib/cycle/universe.ts';
import { adaptAllAccounts } from '../../lib/ml/adapt-accounts.ts';
import { DEFAULT_PROMOTION_MARGIN } from '../../lib/ml/registry.ts';
import { trainJob, type TrainingSummary } from '../../lib/ml/train-job.ts';
import { args, command, UsageError, type Help } from '../args.ts';
import { progress } from '../progress.ts';
import { withDatabase } from '../services.ts';

export const help: Help = {
  usage: 'aether train [--trigger manual|schedule|drift] [--pairs BTC/USD,ETH/USD] [--max-bars 8760] [--margin 0.002] [--no-adapt]',
  about:
    'Trains on the stored candles (aether backfill first), holding out the newest week: the challenger, fitted on\n' +
    "what came before, is scored with the champion's frozen weights on it and simulated by the live cycle's backtest.\n" +
    'Promoted only when its cross-validated log-loss beats the base rate by --margin, it makes money after costs and\n' +
    'more than the baseline in the simulation, and it beats the champion on the held-out rows (by --margin for another\n' +
    "spec, not worse for a same-spec refresh); then refitted on everything. Then adapts every account's thresholds.",
  flags: [
    ['--trigger T', 'manual (default: a full retrain), schedule (drift check first, weekly full retrain, online updates between) or drift'],
    ['--pairs LIST', 'comma-separated USD pairs (default: the pairs the accounts trade)'],
    ['--max-bars N', 'train on at most the newest N bars per pair (default 8760, ≥ 1000)'],
    ['--margin X', 'log-loss improvement needed to promote (default 0.002)'],
    ['--no-adapt', "skip the accounts' threshold adaptation afterwards"],
  ],
  examples: ['aether train --pairs BTC/USD,ETH/USD,SOL/USD'],
};

const f = (x: number | undefined, d = 4): string => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(d));

function summary(s: TrainingSummary): string {
  const m = s.kind === 'full' ? s.metrics : null;
  const h = s.comparison;
  const day = (t: number): string => new Date(t).toISOString().slice(0, 16);
  return [
    `training run ${s.run} (${s.trigger}, ${s.kind}) on ${s.pairs.join(',')}: rows=${s.rows} folds=${s.folds}`,
    m ? `  challenger ${s.version} (walk-forward CV): auc=${f(m.auc)} logloss=${f(m.logLoss)} base_rate_logloss=${f(m.baseRateLogLoss)} brier=${f(m.brier)}` : '',
    h ? `  held out ${day(h.window.from)} → ${day(h.window.to)} (${h.rows} rows): challenger logloss=${f(h.challenger.logLoss)} auc=${f(h.challenger.auc)}, base rate ${f(h.baseRate.logLoss)}` : '',
    h?.comparator ? `  champion's frozen weights (${h.comparator.version}${h.comparator.sameSpec ? ', same spec' : ''}): logloss=${f(h.comparator.scores.logLoss)} auc=${f(h.comparator.scores.auc)}` : '',
    h
      ? `  simulated (${h.simulation.accounts.join(',')}): challenger ${f(h.simulation.challenger)} (${h.simulation.challengerTrades} fills), champion ${h.simulation.champion === null ? '-' : f(h.simulation.champion)}, baseline ${f(h.simulation.baseline)} (${h.simulation.baselineTrades} fills), buy-and-hold ${f(h.simulation.buyHold)}`
      : '',
    s.drift ? `  drift: ${s.drift.retrain ? s.drift.reasons.join('; ') : 'none'} (rolling brier ${s.drift.brier === null ? '-' : f(s.drift.brier)})` : '',
    `  ${s.kind === 'full' ? (s.promoted ? 'PROMOTED' : 'not promoted') : s.kind}: ${s.reason}`,
  ]
    .filter(Boolean)
    .join('\n');
}

export const run = (argv: string[]): Promise<number> =>
  command(help, async () => {
    const { values } = args(argv, {
      trigger: { type: 'string', default: 'manual' },
      pairs: { type: 'string' },
      'max-bars': { type: 'string', default: '8760' },
      margin: { type: 'string', default: String(DEFAULT_PROMOTION_MARGIN.logLoss) },
      'no-adapt': { type: 'boolean', default: false },
    });
    const trigger = values.trigger;
    if (trigger !== 'manual' && trigger !== 'schedule' && trigger !== 'drift') throw new UsageError(`--trigger ${trigger}: expected manual, schedule or drift`);
    const maxBars = Number(values['max-bars']);
    if (!Number.isInteger(maxBars) || maxBars < 1000) throw new UsageError('--max-bars must be a whole number ≥ 1000');
    const margin = Number(values.margin);
    if (!(margin >= 0) || !Number.isFinite(margin)) throw new UsageError('--margin must be a log-loss improvement ≥ 0, e.g. 0.002');
    const listed = values.pairs?.split(',').map((p) => p.trim());
    for (const p of listed ?? []) if (!/^[A-Z0-9]{1,12}\/USD$/.test(p)) throw new UsageError(`--pairs: ${p} is not a USD pair like BTC/USD`);
    const bar = progress('train', { step: 0.01 });
    return withDatabase(parseConfig(), async (db) => {
      const pairs = listed ?? (await tradedPairs(db));
      if (!pairs.length) throw new UsageError('no traded pairs in the database: pass --pairs');
      const s = await trainJob(db, systemClock, trigger, pairs, { maxBars, margin: { ...DEFAULT_PROMOTION_MARGIN, logLoss: margin }, onProgress: (stage, done, total) => bar.update(done, total, stage) });
      bar.end();
      process.stdout.write(`${summary(s)}\n`);
      if (!values['no-adapt'])
        for (const a of await adaptAllAccounts(db, systemClock))
          process.stdout.write(`  adapt ${a.account}: trades=${a.trades} ${a.changed ? `changed (${a.reasons.join('; ')}) settings ${JSON.stringify(a.versions)}` : 'unchanged'}\n`);
      return 0;
    });
  });
