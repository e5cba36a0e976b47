import { existsSync } from 'node:fs';
import { parseConfig } from '../../lib/config.ts';
import { backfill, type BackfillSource, type PairSummary } from '../../lib/market/backfill.ts';
import { CoinGeckoClient, COINGECKO_IDS } from '../../lib/market/coingecko.ts';
import { KRAKEN_PAIRS, KrakenRestClient } from '../../lib/market/kraken-rest.ts';
import { args, command, UsageError, type Help } from '../args.ts';
import { progress } from '../progress.ts';
import { withDatabase } from '../services.ts';

export const help: Help = {
  usage: 'aether backfill --source coingecko|kraken|csv --pairs BTC/USD,ETH/USD --from ISO --to ISO [flags]',
  about:
    'Writes bars with open time in [from, to) into the candle store (idempotent: a bar already stored is\n' +
    'counted unchanged). Prints per pair what was inserted, updated, rejected, and the gaps and outliers found.',
  flags: [
    ['--source S', 'coingecko (hourly bars; demo keys: the last 365 days), kraken (its newest 720 bars) or csv'],
    ['--pairs LIST', 'comma-separated USD pairs, e.g. BTC/USD,ETH/USD,SOL/USD'],
    ['--from ISO, --to ISO', 'the window, e.g. 2024-01-01 or 2024-01-01T00:00:00Z'],
    ['--interval I', '1m, 5m, 15m, 30m, 1h (default), 4h, 1d or seconds'],
    ['--file PAIR=PATH', 'csv: one per pair, columns time,open,high,low,close,volume; repeatable'],
  ],
  examples: [
    'aether backfill --source kraken --pairs BTC/USD,ETH/USD,SOL/USD --from 2026-11-01 --to 2026-12-01',
    'aether backfill --source csv --pairs BTC/USD --file BTC/USD=data/ohlcv/kraken_BTCUSD_1h.csv --from 2021-01-01 --to 2023-01-08',
  ],
};

const INTERVALS: Record<string, number> = { '1m': 60, '5m': 300, '15m': 900, '30m': 1800, '1h': 3600, '4h': 14_400, '1d': 86_400 };

function parseTime(flag: string, v: string | undefined): number {
  if (v === undefined) throw new UsageError(`--${flag} is required (ISO 8601, e.g. 2024-01-01T00:00:00Z)`);
  const t = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2}))?$/.test(v) ? Date.parse(v) : Number.NaN;
  if (!Number.isFinite(t)) throw new UsageError(`--${flag} must be an ISO 8601 date or UTC time, got "${v}"`);
  return t;
}

function parseInterval(v: string): number {
  const s = INTERVALS[v] ?? (/^\d+$/.test(v) ? Number(v) : Number.NaN);
  if (!(s > 0)) throw new UsageError(`--interval must be one of ${Object.keys(INTERVALS).join(', ')} or seconds, got "${v}"`);
  return s;
}

const iso = (t: number | null) => (t === null ? '-' : new Date(t).toISOString().replace(':00.000Z', 'Z'));

function summary(rows: PairSummary[], interval: number): string {
  const lines = rows.map(
    (r) =>
      `${r.pair.padEnd(9)} rows=${r.inserted + r.updated + r.unchanged} inserted=${r.inserted} updated=${r.updated} unchanged=${r.unchanged} ` +
      `rejected=${r.rejected} gaps=${r.gaps} missing_bars=${r.missingBars} outliers=${r.outliers} first=${iso(r.first)} last=${iso(r.last)}` +
      (r.truncated ? ' (source history starts later than --from)' : ''),
  );
  const total = rows.reduce((s, r) => s + r.inserted + r.updated + r.unchanged, 0);
  const details = rows.flatMap((r) =>
    r.issues.filter((i) => i.kind !== 'gap' || i.missing > 0).map((i) => {
      const at = `${r.pair} ${iso(i.openTime)}`;
      if (i.kind === 'rejected') return `  rejected ${at}: ${i.reason}`;
      if (i.kind === 'gap') return `  gap      ${at}: ${i.missing} bar(s) of ${interval}s missing before it`;
      return `  outlier  ${at}: ${i.deviations} robust deviations (kept, flagged)`;
    }),
  );
  return [...lines, `total rows=${total}`, ...details].join('\n') + '\n';
}

export async function run(argv: string[]): Promise<number> {
  return command(help, async () => {
    const { values } = args(argv, {
      source: { type: 'string' },
      pairs: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      interval: { type: 'string', default: '1h' },
      file: { type: 'string', multiple: true },
    });
    const kind = values.source;
    if (kind !== 'coingecko' && kind !== 'kraken' && kind !== 'csv') throw new UsageError(`--source must be coingecko, kraken or csv${kind ? `, got "${kind}"` : ''}`);
    const pairs = (values.pairs ?? '').split(',').map((p) => p.trim()).filter(Boolean);
    if (pairs.length === 0) throw new UsageError('--pairs is required (e.g. BTC/USD,ETH/USD)');
    const known = kind === 'coingecko' ? COINGECKO_IDS : kind === 'kraken' ? KRAKEN_PAIRS : null;
    for (const p of pairs) {
      if (!/^[A-Z0-9]+\/USD$/.test(p)) throw new UsageError(`--pairs: "${p}" is not a USD pair such as BTC/USD`);
      if (known && !(p in known)) throw new UsageError(`--pairs: ${kind} has no mapping for ${p} (known: ${Object.keys(known).join(', ')})`);
    }
    const from = parseTime('from', values.from);
    const to = parseTime('to', values.to);
    if (!(from < to)) throw new UsageError('--from must be before --to');
    const interval = parseInterval(values.interval);
    if (kind === 'coingecko' && interval !== 3600) throw new UsageError('--source coingecko builds hourly bars only (--interval 1h)');
    const files: Record<string, string> = {};
    for (const f of values.file ?? []) {
      const eq = f.indexOf('=');
      if (eq < 1) throw new UsageError(`--file must be PAIR=PATH, got "${f}"`);
      const pair = f.slice(0, eq);
      const path = f.slice(eq + 1);
      if (!pairs.includes(pair)) throw new UsageError(`--file names ${pair}, which is not in --pairs`);
      if (!existsSync(path)) throw new UsageError(`--file ${pair}: ${path} does not exist`);
      files[pair] = path;
    }
    if (kind === 'csv') {
      const missing = pairs.filter((p) => !files[p]);
      if (missing.length) throw new UsageError(`--source csv needs --file PAIR=PATH for ${missing.join(', ')}`);
    } else if (values.file?.length) throw new UsageError(`--file is only for --source csv`);

    const config = parseConfig();
    const source: BackfillSource =
      kind === 'csv'
        ? { kind, files }
        : kind === 'kraken'
          ? { kind, client: new KrakenRestClient({ baseUrl: config.KRAKEN_API_URL }) }
          : { kind, client: new CoinGeckoClient({ baseUrl: config.COINGECKO_API_URL, ...(config.COINGECKO_API_KEY ? { apiKey: config.COINGECKO_API_KEY } : {}) }) };
    const bar = progress('backfill');
    const rows = await withDatabase(config, (db) => backfill(db, { pairs, from, to, interval, source, onProgress: (p) => bar.update(p.fraction, 1, p.pair) }));
    bar.end();
    process.stdout.write(summary(rows, interval));
    return 0;
  });
}
