/**
 * `aether demo`: the whole platform on a replay, offline. The embedded runtime (its own PostgreSQL in
 * $AETHER_HOME/demo, started afresh each run) trades the repository's recorded Kraken candles served
 * by the Kraken emulator, bar after bar at `--speed`: history filled from the recorded candles, the
 * first model trained, then every bar tick → score → order (and hedge) for the three default
 * accounts in simulation, the daily report after each replayed midnight and the nightly train after
 * each replayed 02:30. Everything it shows says REPLAY.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { and, count, eq } from 'drizzle-orm';
import { accountCycles, fills } from '../../schema/index.ts';
import { createAccount, DEFAULT_ACCOUNTS, listAccounts, type Account } from '../../lib/accounts/accounts.ts';
import { putSettings, seedAccount } from '../../lib/accounts/settings.ts';
import { parseConfig } from '../../lib/config.ts';
import type { AppContext } from '../../lib/context.ts';
import { withAccount } from '../../lib/db/scope.ts';
import { jobId } from '../../lib/queue/jobs.ts';
import { currentHedge, equitySeries } from '../../lib/reports/queries.ts';
import { runningEmbeddedUrl } from '../../lib/runtime/embedded-postgres.ts';
import { configuredSources } from '../../lib/runtime/first-start.ts';
import { args, command, UsageError, type Help } from '../args.ts';
import { startReplayMarket, type ReplayMarket } from '../replay-market.ts';
import { runRuntime, type RunningRuntime } from './start.ts';

export const help: Help = {
  usage: 'aether demo [--speed N] [--from DATE] [--bars N]   (also: npm start -- --demo)',
  about:
    "Replays the repository's recorded Kraken 1h candles (data/ohlcv) through the Kraken emulator into the\n" +
    'embedded runtime, without internet: the three default accounts (simulation) trade, hedge, get their\n' +
    'daily report and the model learns, in minutes. Runs in $AETHER_HOME/demo, started afresh each time\n' +
    '(DATABASE_URL, REDIS_URL and GATEWAY_URL are ignored). The replayed time is shown as a near future\n' +
    '(shifted by whole weeks); logs, /healthz and the banner say REPLAY. Ctrl-C stops it.',
  flags: [
    ['--speed N', 'replayed seconds per real second (default 3600: a bar a second, or as fast as the cycles go)'],
    ['--from DATE', 'first replayed bar, recorded time (default 2021-10-04; 2021-01-31 … 2023-01-07)'],
    ['--bars N', 'stop replaying after N bars (default: to the end of the recorded candles); the server keeps running'],
  ],
  examples: ['aether demo', 'aether demo --speed 7200 --from 2022-05-01'],
};

/**
 * The demo accounts decide every hour instead of once a day (as `bench live`), with stops and targets
 * at an hour's noise and a tight hedge band, so trades, stop-outs and hedge moves come within minutes;
 * the defaults would place a handful of orders in the first ten replayed days.
 */
const DEMO_SETTINGS = {
  trading: { entryThreshold: 0.5, exitThreshold: 0.49, decisionInterval: 3600, maxOpenPositions: 3 },
  risk: { atrHorizonBars: 1, slAtrMultiple: 1.5, tpAtrMultiple: 3, minSlPct: 0.003, minTpPct: 0.006, trailAtrMultiple: 1, edgeMargin: 0 },
  hedge: { band: 0.01, tolerance: 0.01 },
} as const;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** The nightly train (stack.yml: 30 2 * * *) runs after the bar that closes at 03:00, the first one past 02:30. */
const TRAIN_AFTER_CLOSE = 3 * HOUR;
const CYCLE_TIMEOUT_MS = 120_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const iso = (t: number) => new Date(t).toISOString().slice(0, 16) + 'Z';
const usd = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 0 });

function parseFlags(argv: string[]): { speed: number; from: number; bars: number | null } {
  const { values } = args(argv, { speed: { type: 'string', default: '3600' }, from: { type: 'string', default: '2021-10-04' }, bars: { type: 'string' } });
  const speed = Number(values.speed);
  if (!(speed >= 1 && speed <= 10_000_000)) throw new UsageError(`--speed must be a number from 1 to 10000000 (replayed seconds per second), got "${values.speed}"`);
  const from = /^\d{4}-\d{2}-\d{2}(T[\d:.]+Z)?$/.test(values.from) ? Date.parse(values.from) : Number.NaN;
  if (!Number.isFinite(from)) throw new UsageError(`--from must be a date like 2021-10-04, got "${values.from}"`);
  const bars = values.bars === undefined ? null : Number(values.bars);
  if (bars !== null && !(Number.isInteger(bars) && bars >= 1)) throw new UsageError(`--bars must be a positive whole number, got "${values.bars}"`);
  return { speed, from, bars };
}

export async function run(argv: string[]): Promise<number> {
  return command(help, async () => {
    const flags = parseFlags(argv);
    // Self-contained: its own embedded database and queues, whatever the environment points at.
    for (const k of ['DATABASE_URL', 'DATABASE_DRIVER', 'REDIS_URL', 'GATEWAY_URL', 'AETHER_MIGRATE_DATABASE_URL']) delete process.env[k];
    const home = join(parseConfig().AETHER_HOME, 'demo');
    if (runningEmbeddedUrl(home)) {
      process.stderr.write(`aether demo: a demo is already running on ${home}; stop it first\n`);
      return 1;
    }
    rmSync(home, { recursive: true, force: true }); // each demo starts over: its clock and data are a replay's
    mkdirSync(home, { recursive: true });
    const offsetFile = join(home, 'clock-offset-ms');
    let market: ReplayMarket;
    try {
      market = await startReplayMarket({ from: flags.from, offsetFile });
    } catch (err) {
      throw new UsageError(`--from: ${(err as Error).message}`);
    }
    try {
      Object.assign(process.env, { AETHER_HOME: home, KRAKEN_API_URL: market.emu.url, AETHER_CLOCK_OFFSET_FILE: offsetFile });
      const config = parseConfig();
      const history = { ...configuredSources(config), older: { source: { kind: 'candles' as const, series: market.history }, host: 'the recorded candles (data/ohlcv)' } };
      // The first model is fitted a little after the first bars, so that the first cycle is not kept waiting.
      return await runRuntime(config, { schedules: false, replay: true, history, trainDelayMs: 15_000, then: (rt) => replay(rt, market, flags) });
    } finally {
      await market.close();
    }
  });
}

/** The three default accounts in simulation with the demo's settings, unless accounts exist. */
async function ensureAccounts(ctx: AppContext): Promise<Account[]> {
  const existing = await listAccounts(ctx.db);
  if (existing.length) return existing;
  await ctx.db.transaction(async (tx) => {
    for (const input of DEFAULT_ACCOUNTS) {
      const a = await createAccount(tx, input, null, ctx.clock);
      await seedAccount(tx, a.id, null, ctx.clock);
    }
  });
  const created = await listAccounts(ctx.db);
  for (const a of created) {
    await withAccount(ctx.db, a.id, async (tx) => {
      for (const [kind, value] of Object.entries(DEMO_SETTINGS)) await putSettings(tx, a.id, kind as keyof typeof DEMO_SETTINGS, value, null, ctx.clock);
    });
  }
  return created;
}

/** One account after a bar: its cycle's outcome, equity, fills so far and hedge ratio. */
async function accountAfter(ctx: AppContext, a: Account, bar: number) {
  return withAccount(ctx.db, a.id, async (tx) => {
    const [cycle] = await tx.select({ outcome: accountCycles.outcome }).from(accountCycles).where(and(eq(accountCycles.accountId, a.id), eq(accountCycles.barTime, new Date(bar))));
    if (!cycle) return null;
    const last = (await equitySeries(tx, a.id, { from: new Date(bar) })).at(-1);
    const [n] = await tx.select({ n: count() }).from(fills).where(eq(fills.accountId, a.id));
    const hedge = await currentHedge(tx, a.id);
    return { outcome: cycle.outcome, equity: last?.equity ?? null, fills: n?.n ?? 0, hedge: hedge?.actual ?? last?.hedgeRatio ?? 0 };
  });
}

async function replay(rt: RunningRuntime, market: ReplayMarket, flags: { speed: number; bars: number | null }): Promise<void> {
  const { ctx, url } = rt;
  const log = ctx.logger.child({ replay: true });
  let stopped = false;
  await rt.onStop(async () => void (stopped = true));
  const accounts = await ensureAccounts(ctx);
  process.stdout.write(
    [
      `REPLAY: ${accounts.map((a) => a.slug).join(', ')} trade in simulation on recorded candles from ${iso(market.recorded(market.openBar))} (shown as ${iso(market.openBar)}), ${flags.speed}× real time`,
      `  log in: create the first admin with the onboarding token above (README "First steps"), then`,
      `    POST ${url}/function/api/auth/login; GET ${url}/function/api/accounts/company/reports/equity, …/trades, …/reports/hedge`,
      '',
    ].join('\n'),
  );
  for (let waited = 0; ctx.history?.progress.state !== 'done'; waited += 200) {
    if (stopped) return;
    if (waited > CYCLE_TIMEOUT_MS) throw new Error(`the history fill did not finish within ${CYCLE_TIMEOUT_MS / 1000} s (${JSON.stringify(ctx.history?.progress)})`);
    await sleep(200);
  }
  const total = Math.min(flags.bars ?? Infinity, market.remaining);
  for (let n = 1; n <= total && !stopped; n++) {
    const t0 = performance.now();
    const bar = market.step();
    await sleep(50); // the runtime re-reads the clock offset at most every 20 ms
    await ctx.queue.enqueue('tick', { scheduledAt: bar + HOUR + 60_000 }, { jobId: jobId('tick-replay', bar) });
    const status = await waitForCycles(ctx, accounts, bar, () => stopped);
    if (stopped) return;
    const closes = bar + HOUR;
    if (closes % DAY === 0) await ctx.queue.enqueue('report', { day: new Date(bar).toISOString().slice(0, 10) }, { jobId: jobId('report-replay', bar) });
    if (closes % DAY === TRAIN_AFTER_CLOSE) await ctx.queue.enqueue('train', { trigger: 'schedule' }, { jobId: jobId('train-replay', closes) });
    log.info(
      { bar: new Date(bar).toISOString(), recorded: new Date(market.recorded(bar)).toISOString(), n, of: total, accounts: status },
      `REPLAY ${iso(market.recorded(bar))} (${n}/${total}): ${Object.entries(status)
        .map(([slug, s]) => (s ? `${slug} ${s.outcome} equity ${s.equity === null ? '-' : usd(s.equity)} USD, ${s.fills} fills, hedge ${Math.round(s.hedge * 100)}%` : `${slug} no cycle`))
        .join(' | ')}`,
    );
    await sleep(Math.max(0, HOUR / flags.speed - (performance.now() - t0)));
  }
  if (!stopped) log.info({ bars: total }, `REPLAY finished after ${total} bars; the server keeps running (Ctrl-C stops it)`);
}

/** Waits until every account has its cycle row for `bar` (or the timeout); what each shows then. */
async function waitForCycles(ctx: AppContext, accounts: Account[], bar: number, stopped: () => boolean) {
  const deadline = performance.now() + CYCLE_TIMEOUT_MS;
  for (;;) {
    const status = Object.fromEntries(await Promise.all(accounts.map(async (a) => [a.slug, await accountAfter(ctx, a, bar)] as const)));
    if (Object.values(status).every((s) => s !== null) || performance.now() > deadline || stopped()) return status;
    await sleep(100);
  }
}
