import { systemClock } from '../../lib/clock.ts';
import { parseConfig } from '../../lib/config.ts';
import { tradedPairs } from '../../lib/cycle/universe.ts';
import { adaptAllAccounts } from '../../lib/ml/adapt-accounts.ts';
import { DEFAULT_PROMOTION_MARGIN } from '../../lib/ml/registry.ts';
import { trainJob, type TrainingSummary } from '../../lib/ml/train-job.ts';
import { args, command, UsageError } from '../args.ts';
import { withDatabase } from '../services.ts';

const USAGE = `aether train [--trigger manual|schedule|drift] [--pairs BTC/USD,ETH/USD] [--max-bars 8760] [--margin 0.002] [--no-adapt]
  Trains on the stored candles (aether backfill first), compares the challenger with the champion on the
  same folds and promotes it only when its log-loss is lower by --margin (and its net return not worse); then adapts every account's thresholds.
  schedule: drift check first, online update of a fresh champion, full retrain otherwise.`;

/** A one-line bar on stderr, redrawn in place on a terminal, one line per stage otherwise. */
function progress(): { update(stage: string, done: number, total: number): void; end(): void } {
  const tty = process.stderr.isTTY === true;
  return {
    update(stage, done, total) {
      const width = 24;
      const filled = Math.round((done / total) * width);
      const line = `train [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} ${stage.padEnd(16)}`;
      process.stderr.write(tty ? `\r${line}` : `${line}\n`);
    },
    end() {
      if (tty) process.stderr.write('\n');
    },
  };
}

const f = (x: number | undefined, d = 4): string => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(d));

function summary(s: TrainingSummary): string {
  const m = s.metrics;
  const c = s.championMetrics;
  return [
    `training run ${s.run} (${s.trigger}, ${s.kind}) on ${s.pairs.join(',')}: rows=${s.rows} folds=${s.folds}`,
    m ? `  challenger ${s.version}: auc=${f(m.auc)} logloss=${f(m.logLoss)} brier=${f(m.brier)} net_return=${f(m.netReturn)} buy_hold=${f(m.buyHoldReturn)}` : '',
    c ? `  champion on the same folds: auc=${f(c.auc)} logloss=${f(c.logLoss)} brier=${f(c.brier)} net_return=${f(c.netReturn)}` : '',
    s.drift ? `  drift: ${s.drift.retrain ? s.drift.reasons.join('; ') : 'none'} (rolling brier ${s.drift.brier === null ? '-' : f(s.drift.brier)})` : '',
    `  ${s.kind === 'full' ? (s.promoted ? 'PROMOTED' : 'not promoted') : s.kind}: ${s.reason}`,
  ]
    .filter(Boolean)
    .join('\n');
}

export const run = (argv: string[]): Promise<number> =>
  command(USAGE, async () => {
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
    const bar = progress();
    return withDatabase(parseConfig(), async (db) => {
      const pairs = listed ?? (await tradedPairs(db));
      if (!pairs.length) throw new UsageError('no traded pairs in the database: pass --pairs');
      const s = await trainJob(db, systemClock, trigger, pairs, { maxBars, margin: { ...DEFAULT_PROMOTION_MARGIN, logLoss: margin }, onProgress: (stage, done, total) => bar.update(stage, done, total) });
      bar.end();
      process.stdout.write(`${summary(s)}\n`);
      if (!values['no-adapt'])
        for (const a of await adaptAllAccounts(db, systemClock))
          process.stdout.write(`  adapt ${a.account}: trades=${a.trades} ${a.changed ? `changed (${a.reasons.join('; ')}) settings ${JSON.stringify(a.versions)}` : 'unchanged'}\n`);
      return 0;
    });
  });
