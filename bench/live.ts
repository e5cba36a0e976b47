/**
 * The live cycle as a user runs it, against a Kraken that misbehaves: `aether start` as a child
 * process (embedded PostgreSQL in a temporary AETHER_HOME, BullMQ on it, the order function,
 * KrakenBroker over ccxt) trading against the Kraken emulator run here — strict nonces, per-key REST
 * and trading counters by tier, lockout after repeated breaches — replaying the repository's real
 * Kraken 1h candles bar by bar.
 *
 *   setup     through the HTTP API: onboarding token → first admin (TOTP) → login → company,
 *             director-1, director-2 → Kraken keys for company (live) and director-1 (stays in
 *             simulation) → trading settings → company switched live (confirmed)
 *   faults    BENCH_LIVE_CYCLES hourly cycles with ≈ 22 % of private requests faulted, every kind
 *   kills     BENCH_LIVE_KILLS × kill -9 of the runtime and its postmaster from inside a live AddOrder
 *             (alternately before and after the exchange placed it), each followed by a restart on
 *             the same AETHER_HOME and BENCH_LIVE_CYCLES_AFTER_KILL cycles
 *   calm      BENCH_LIVE_CALM_CYCLES cycles with faults off; then books vs exchange
 *
 * A cycle: advance the emulator one candle, move the runtime's wall clock (AETHER_CLOCK_OFFSET_FILE)
 * to one minute after that candle's close, trigger `tick` as cron does, and wait until every account
 * has its account_cycles row for the bar (read from the embedded PostgreSQL). Options: see
 * bench/live/options.ts (BENCH_LIVE_*). Exits non-zero when a target is missed.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Candle } from '../lib/market/candle.ts';
import { openQueueClient } from '../lib/queue/client.ts';
import { parseJobKey } from '../lib/http/job-signature.ts';
import { runningEmbeddedUrl } from '../lib/runtime/embedded-postgres.ts';
import { jobKeyFile } from '../lib/runtime/job-key.ts';
import { generateKey, loadRepoCandles, startKrakenEmulator, type KrakenEmulator, type RecordedRequest } from '../tests/kraken-emulator/index.ts';
import { Api } from './live/api.ts';
import { blindResends, duplicates, mismatches, placedOrders, privateCallsFrom, unprotectedLive, unprotectedSim, type Finding } from './live/checks.ts';
import { Cleanup } from './live/cleanup.ts';
import { OffsetClock } from './live/clock.ts';
import { BenchDb, type CycleRow } from './live/db.ts';
import { FaultLog, REQUIRED_KINDS, faultSpecs } from './live/faults.ts';
import { parseOptions } from './live/options.ts';
import { Runtime, type LogLine } from './live/runtime.ts';
import { count, fmtMs, percentile, tally } from './live/stats.ts';

const HOUR = 3_600_000;
const WEEK = 7 * 24 * HOUR;
const LIVE = 'company';
const SIM_WITH_KEYS = 'director-1';
const SIM_NO_KEYS = 'director-2';
const ACCOUNTS = [LIVE, SIM_WITH_KEYS, SIM_NO_KEYS];
// Kraken's documented behaviour as the emulator models it by default, spelled out: 5 breaches a minute lock the key for 15 min.
const LOCKOUT = { breaches: 5, windowMs: 60_000, lockoutMs: 15 * 60_000 };

/**
 * The settings each account gets through the API (PATCH /accounts/{a}/settings/{kind}), so that the
 * accounts trade often enough to count (≥ 100 live orders in the run): a decision every hour instead
 * of once a day, entries as soon as the signal expects to clear its costs and exits just below
 * (0.5 / 0.49 instead of 0.5 / 0.47), stops and targets at 1.5 / 3 ATRs of one hour's noise with
 * tight floors, trailing at 1 ATR (instead of 3 / 6 / 3 ATRs of a day's): positions close and re-open
 * often, and the stop moves as price rises; no extra edge margin above costs; a tight hedge band and
 * tolerance (rebalance legs most bars). Risk per trade and exposure caps stay at their defaults. (A
 * backtest of the replay's first ten days with these settings: 167 fills — 84 entries, 77 stop-outs,
 * 6 take-profits — against 4 with the defaults, which decide once a day.)
 */
const SETTINGS = {
  trading: { entryThreshold: 0.5, exitThreshold: 0.49, decisionInterval: 3600, maxOpenPositions: 3 },
  risk: { atrHorizonBars: 1, slAtrMultiple: 1.5, tpAtrMultiple: 3, minSlPct: 0.003, minTpPct: 0.006, trailAtrMultiple: 1, edgeMargin: 0 },
  hedge: { band: 0.01, tolerance: 0.01 },
} as const;

type Phase = 'setup' | 'faults' | 'kills' | 'calm' | 'final';

interface CycleRecord {
  n: number;
  phase: Phase;
  bar: number;
  ms: number;
  outcomes: Record<string, string>;
  stuck: string[]; // accounts without a row when the cycle timed out
  restarted: boolean;
  requests: [number, number]; // the emulator's request log indexes this cycle spans
}

interface Kill {
  n: number;
  phase: 'received' | 'processed';
  cycle: number;
  clOrdId: string | null;
  runtimePid: number | null;
  postmasterPid: number | null;
  restartMs: number | null;
  cycleOutcome: string;
}

const opts = parseOptions();
const cleanup = new Cleanup();
const say = (s: string) => process.stdout.write(`${s}\n`);
const verbose = (s: string) => void (opts.BENCH_LIVE_VERBOSE && say(s));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let failed: string[];
try {
  failed = await run();
} catch (err) {
  say(`bench live: aborted: ${(err as Error).stack ?? String(err)}`);
  failed = ['aborted'];
} finally {
  await cleanup.run();
}
if (failed.length) {
  setTimeout(() => process.exit(1), 10_000).unref(); // nothing left open may keep a failed bench alive
  throw new Error(`bench live: target(s) missed: ${failed.join('; ')}`);
}

async function run(): Promise<string[]> {
  const started = performance.now();
  const tmp = mkdtempSync(join(tmpdir(), 'aether-bench-live-'));
  cleanup.add('temporary directory', () => {
    if (opts.BENCH_LIVE_KEEP) say(`bench live: kept ${tmp}`);
    else rmSync(tmp, { recursive: true, force: true });
  });
  const home = join(tmp, 'home');
  mkdirSync(home);
  say(`bench live: AETHER_HOME ${home}; runtime output in ${join(tmp, 'runtime.log')}${opts.BENCH_LIVE_KEEP ? '' : ' (removed at the end; BENCH_LIVE_KEEP=1 keeps it)'}`);

  // ---- market: the repository's Kraken 1h candles, shifted by whole weeks into the near future ----
  const repo = loadRepoCandles();
  const timeline = repo['BTC/USD']!.map((c) => c.openTime);
  const startAt = Date.parse(opts.BENCH_LIVE_START);
  if (!Number.isFinite(startAt)) throw new Error(`BENCH_LIVE_START ${opts.BENCH_LIVE_START} is not a date`);
  const startIndex = timeline.findIndex((t) => t >= startAt);
  const totalCycles = opts.BENCH_LIVE_CYCLES + opts.BENCH_LIVE_KILLS * (opts.BENCH_LIVE_KILL_WAIT_CYCLES + opts.BENCH_LIVE_CYCLES_AFTER_KILL) + opts.BENCH_LIVE_CALM_CYCLES;
  if (startIndex < 720 || startIndex + totalCycles + 2 >= timeline.length)
    throw new Error(`BENCH_LIVE_START ${opts.BENCH_LIVE_START}: needs 720 candles before it and ${totalCycles} after it in ${timeline.length} candles (${new Date(timeline[0]!).toISOString()} … ${new Date(timeline.at(-1)!).toISOString()})`);
  // The runtime's offset clock only moves forward from the system clock: replay the past as a near future.
  const shift = Math.ceil((Date.now() + 2 * 24 * HOUR - timeline[startIndex]!) / WEEK) * WEEK;
  const candles: Record<string, Candle[]> = Object.fromEntries(Object.entries(repo).map(([p, cs]) => [p, cs.map((c) => ({ ...c, openTime: c.openTime + shift }))]));
  const time = (i: number) => timeline[i]! + shift;

  // ---- the exchange ----
  const clock = new OffsetClock(join(tmp, 'clock-offset-ms'));
  const liveKey = generateKey();
  const simKey = generateKey();
  let armed: { n: number; phase: 'received' | 'processed' } | null = null;
  let runtime: Runtime | null = null;
  let currentCycle = 0;
  const kills: Kill[] = [];
  const onPrivate = (rec: RecordedRequest, phase: 'received' | 'processed'): void => {
    if (!armed || phase !== armed.phase || rec.name !== 'AddOrder' || rec.key !== liveKey.key || rec.params.validate === 'true' || !runtime?.running) return;
    const k = armed;
    armed = null;
    const pids = runtime.kill9(); // from inside the exchange's handling of the order, before its reply
    kills.push({ n: k.n, phase, cycle: currentCycle, clOrdId: typeof rec.params.cl_ord_id === 'string' ? rec.params.cl_ord_id : null, ...pids, restartMs: null, cycleOutcome: '' });
    verbose(`  kill -9 #${k.n} at AddOrder '${phase}' (cl_ord_id ${String(rec.params.cl_ord_id)}): runtime ${pids.runtimePid}, postmaster ${pids.postmasterPid}`);
  };
  const emu: KrakenEmulator = await startKrakenEmulator({
    candles,
    startIndex,
    now: () => clock.now(),
    seed: opts.BENCH_LIVE_SEED,
    lockout: LOCKOUT,
    keys: [
      { ...liveKey, tier: 'intermediate', balances: { USD: 100_000, BTC: 0.5, ETH: 5, SOL: 100 } },
      { ...simKey, tier: 'starter', balances: { USD: 100_000, BTC: 0.5 } },
    ],
    onPrivateRequest: onPrivate,
  });
  cleanup.add('Kraken emulator', () => emu.close());
  const faultLog = new FaultLog(emu);
  // Wall time = one minute after the close of the newest closed candle (the cursor's candle is the open one).
  const wallForCursor = () => time(emu.exchange.cursor) + 60_000;
  clock.jumpTo(wallForCursor());

  // ---- the runtime ----
  const lines = { acks: [] as Array<{ phase: Phase; cycle: number; account: string; ms: number; run: number }>, jobFailed: [] as Array<{ phase: Phase; cycle: number; run: number; fn: string; outcome: string; status: number | null; message: string }>, errors: [] as string[], warns: 0 };
  let phase: Phase = 'setup';
  const onLine = (l: LogLine) => {
    const j = l.json;
    if (!j) return;
    const msg = String(j.msg ?? '');
    if (msg === 'order acknowledged') lines.acks.push({ phase, cycle: currentCycle, account: String(j.account ?? ''), ms: Number(j.ms), run: l.run });
    if (msg === 'job failed') {
      const err = (j.err ?? {}) as { message?: string; type?: string };
      const message = String(err.message ?? '');
      if (err.type === 'DelayedError') return;
      const m = /answered (\d{3})/.exec(message);
      lines.jobFailed.push({ phase, cycle: currentCycle, run: l.run, fn: String(j.function ?? j.queue ?? ''), outcome: String(j.outcome ?? ''), status: m ? Number(m[1]) : null, message: message.slice(0, 300) });
    }
    if (typeof j.level === 'number' && j.level >= 50 && lines.errors.length < 200) lines.errors.push(`[run ${l.run}, cycle ${currentCycle}] ${l.text.slice(0, 600)}`);
    if (j.level === 40) lines.warns++;
  };
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('BENCH_') && !['DATABASE_URL', 'DATABASE_DRIVER', 'REDIS_URL', 'GATEWAY_URL', 'AETHER_MASTER_KEY', 'KUBERNETES_SERVICE_HOST', 'AETHER_ACCOUNT'].includes(k)) env[k] = v;
  Object.assign(env, {
    AETHER_HOME: home,
    PORT: '0',
    HOST: '127.0.0.1',
    KRAKEN_API_URL: emu.url,
    COINGECKO_API_URL: 'http://127.0.0.1:9/api/v3', // no internet: a backfill fails fast instead of reaching out
    LOG_LEVEL: opts.BENCH_LIVE_LOG_LEVEL,
    AETHER_CLOCK_OFFSET_FILE: join(tmp, 'clock-offset-ms'),
  });
  const rt = new Runtime({ home, env, logFile: join(tmp, 'runtime.log'), extraLogFile: opts.BENCH_LIVE_LOG, onLine });
  runtime = rt;
  cleanup.add('runtime', async () => {
    if (rt.running) await rt.stop(30_000);
    await rt.reapDataDir();
  });
  const db = new BenchDb(home);
  cleanup.add('database client', () => db.close());
  const api = new Api(() => rt.url!, () => clock.now());
  const restarts: Array<{ why: string; ms: number }> = [];

  const first = await rt.start();
  say(`bench live: aether start ready in ${first.ms} ms at ${first.url}; emulator ${emu.url}; replay from ${new Date(timeline[startIndex]!).toISOString()} (shown to the runtime as ${new Date(time(startIndex)).toISOString()})`);

  // ---- setup, through the API as a user would ----
  if (!rt.onboardingToken) throw new Error('the first start printed no onboarding token');
  const password = randomBytes(18).toString('base64url');
  await api.onboardAdmin(rt.onboardingToken, 'bench.admin@example.com', password);
  await api.login();
  const created = await api.expect('POST', '/function/api/onboarding/accounts', {}, 200, 'create accounts');
  const slugs = ((created.body as { accounts: Array<{ slug: string }> }).accounts ?? []).map((a) => a.slug);
  for (const s of ACCOUNTS) if (!slugs.includes(s)) throw new Error(`onboarding created ${slugs.join(', ')}, not ${s}`);
  const keyIndex: Record<string, number> = {};
  for (const [slug, k] of [
    [LIVE, liveKey],
    [SIM_WITH_KEYS, simKey],
  ] as const) {
    await api.expect('POST', `/function/api/accounts/${slug}/keys`, { apiKey: k.key, apiSecret: k.secret }, 201, `upload ${slug} keys`);
    keyIndex[slug] = emu.requests.length; // calls after this point are the account's own
  }
  for (const slug of ACCOUNTS) for (const [kind, patch] of Object.entries(SETTINGS)) await api.expect('PATCH', `/function/api/accounts/${slug}/settings/${kind}`, patch, 200, `${slug} ${kind} settings`);
  await api.expect('POST', `/function/api/accounts/${LIVE}/simulation`, { enabled: false, confirm: `LIVE ${LIVE}` }, 200, `switch ${LIVE} live`);
  const live = (await api.expect('GET', `/function/api/accounts/${LIVE}/settings`, undefined, 200, 'read settings')).body as { simulation: { value: { enabled: boolean } } };
  if (live.simulation.value.enabled !== false) throw new Error(`${LIVE} is still in simulation after the switch`);
  const sim1 = (await api.expect('GET', `/function/api/accounts/${SIM_WITH_KEYS}/settings`, undefined, 200, 'read settings')).body as { simulation: { value: { enabled: boolean } } };
  if (sim1.simulation.value.enabled !== true) throw new Error(`${SIM_WITH_KEYS} left simulation`);
  const accountIds = Object.fromEntries((await db.accounts()).map((a) => [a.slug, a.id]));
  const idToSlug = Object.fromEntries(Object.entries(accountIds).map(([s, id]) => [id, s]));
  say(`bench live: setup done (${Object.keys(accountIds).join(', ')}; ${LIVE} live with an intermediate-tier key, ${SIM_WITH_KEYS} in simulation with keys, ${SIM_NO_KEYS} in simulation without)`);
  if (opts.BENCH_LIVE_RESTART_AFTER_SETUP) {
    const s = await rt.stop();
    const r = await rt.start();
    restarts.push({ why: 'after setup (BENCH_LIVE_RESTART_AFTER_SETUP)', ms: r.ms });
    say(`bench live: restarted after setup (stop ${s.ms} ms, start ${r.ms} ms)`);
  }

  // ---- the cycle ----
  const cycles: CycleRecord[] = [];
  const unprotected: Array<Finding & { cycle: number; account: string }> = [];
  const halts = { falseEpisodes: [] as Array<{ cycle: number; reason: string }>, drawdownEpisodes: [] as Array<{ cycle: number; reason: string }>, simHalts: [] as string[], resets: 0 };
  let liveHalted = false;
  let stuckInRow = 0;
  let failedInRow = 0;
  let aborted: string | null = null;
  const tickFailures: string[] = [];

  const restart = async (why: string): Promise<number> => {
    await rt.waitExit(10_000);
    await db.close();
    const r = await rt.start();
    restarts.push({ why, ms: r.ms });
    return r.ms;
  };
  /** Brings a killed (or crashed) runtime back on the same AETHER_HOME; true if it had to. */
  const recover = async (): Promise<boolean> => {
    const k = kills.find((x) => x.restartMs === null);
    if (!k && rt.running) return false;
    if (k) k.restartMs = await restart(`kill -9 #${k.n} (${k.phase})`);
    else await restart(`the runtime exited by itself in cycle ${currentCycle} (${rt.exit?.signal ?? `code ${rt.exit?.code}`})`);
    return true;
  };

  const trigger = async (bar: number): Promise<void> => {
    if (opts.BENCH_LIVE_TRIGGER === 'http') {
      // The runtime generated its job key into AETHER_HOME on first start; cron signs with it.
      const jobKey = parseJobKey(readFileSync(jobKeyFile(home), 'utf8'), jobKeyFile(home));
      const r = await api.job('tick', {}, jobKey).catch((err: Error) => ({ status: 0, text: err.message, body: undefined }));
      if (r.status !== 200) tickFailures.push(`cycle ${currentCycle}: tick answered ${r.status} ${r.text.slice(0, 200)}`);
      return;
    }
    const url = runningEmbeddedUrl(home);
    if (!url) throw new Error('no running embedded PostgreSQL to enqueue the tick on');
    const q = await openQueueClient({ databaseUrl: url, onError: () => undefined });
    try {
      await q.enqueue('tick', { scheduledAt: bar + HOUR + 60_000 }, { jobId: `tick-bench-${bar}` });
    } finally {
      await q.close();
    }
  };

  /** One cycle; a failure of the harness' own steps (a restart that does not come up) ends the run with a report. */
  const cycle = async (p: Phase): Promise<void> => {
    try {
      await oneCycle(p);
    } catch (err) {
      aborted = `cycle ${currentCycle}: ${(err as Error).message.split('\n')[0]}`;
      say(`bench live: ${aborted}\n${(err as Error).message.split('\n').slice(1, 30).join('\n')}`);
      cycles.push({ n: currentCycle, phase: p, bar: time(emu.exchange.cursor - 1), ms: 0, outcomes: {}, stuck: [...ACCOUNTS], restarted: true, requests: [emu.requests.length, emu.requests.length] });
    }
  };

  const oneCycle = async (p: Phase): Promise<CycleRecord> => {
    phase = p;
    currentCycle = cycles.length + 1;
    await recover();
    emu.advance(1);
    const barOpen = time(emu.exchange.cursor - 1);
    clock.jumpTo(wallForCursor());
    await sleep(60); // the runtime re-reads the offset file at most every 20 ms
    const t0 = performance.now();
    const rec: CycleRecord = { n: currentCycle, phase: p, bar: barOpen, ms: 0, outcomes: {}, stuck: [], restarted: false, requests: [emu.requests.length, 0] };
    const killsBefore = kills.length;
    await trigger(barOpen).catch((err: Error) => tickFailures.push(`cycle ${currentCycle}: ${err.message}`));
    let deadline = performance.now() + opts.BENCH_LIVE_CYCLE_TIMEOUT_S * 1000;
    let rows: CycleRow[];
    for (;;) {
      if (await recover()) {
        // Killed in the middle of this cycle's order (or crashed): restarted on the same data; the bar must still complete.
        rec.restarted = true;
        deadline = performance.now() + opts.BENCH_LIVE_RESTART_CYCLE_TIMEOUT_S * 1000;
      }
      try {
        rows = await db.cycleRows(barOpen, barOpen + HOUR);
      } catch {
        rows = []; // killed or restarting: try again
      }
      const have = new Set(rows.map((r) => r.accountId));
      if (Object.values(accountIds).every((id) => have.has(id))) break;
      if (performance.now() > deadline) {
        rec.stuck = Object.entries(accountIds)
          .filter(([, id]) => !have.has(id))
          .map(([s]) => s);
        break;
      }
      await sleep(100);
    }
    rec.ms = Math.round(performance.now() - t0);
    rec.requests[1] = emu.requests.length;
    for (const r of rows) rec.outcomes[idToSlug[r.accountId] ?? r.accountId] = r.outcome;
    if (kills.length > killsBefore) kills.at(-1)!.cycleOutcome = rec.stuck.length ? `stuck (${rec.stuck.join(', ')})` : (rec.outcomes[LIVE] ?? '?');
    await endOfCycle(rec).catch((err: Error) => verbose(`  end-of-cycle checks failed: ${err.message}`));
    cycles.push(rec);
    stuckInRow = rec.stuck.length ? stuckInRow + 1 : 0;
    failedInRow = rec.outcomes[LIVE] === 'failed' ? failedInRow + 1 : 0;
    if (opts.BENCH_LIVE_MAX_FAILED > 0 && failedInRow >= opts.BENCH_LIVE_MAX_FAILED) aborted = `${failedInRow} cycles in a row ended 'failed' for ${LIVE}`;
    verbose(`cycle ${rec.n} ${p} bar ${new Date(barOpen).toISOString()} ${rec.ms} ms ${tally(count(Object.entries(rec.outcomes), ([s, o]) => `${s}:${o}`))}${rec.stuck.length ? ` STUCK ${rec.stuck.join(',')}` : ''}${rec.restarted ? ' (restarted)' : ''}`);
    if (opts.BENCH_LIVE_MAX_STUCK > 0 && stuckInRow >= opts.BENCH_LIVE_MAX_STUCK) aborted = `${stuckInRow} cycles in a row stuck (no account_cycles row within the timeout), the last for ${rec.stuck.join(', ')}`;
    return rec;
  };

  /** At the end of every cycle: every holding covered by stops (live on the exchange, simulated in its state); halts. */
  const endOfCycle = async (rec: CycleRecord): Promise<void> => {
    for (const f of unprotectedLive(emu, liveKey.key)) unprotected.push({ ...f, cycle: rec.n, account: LIVE });
    for (const slug of [SIM_WITH_KEYS, SIM_NO_KEYS]) for (const f of unprotectedSim(await db.simState(accountIds[slug]!))) unprotected.push({ ...f, cycle: rec.n, account: slug });
    const states = await db.tradingStates();
    const ls = states.find((s) => s.accountId === accountIds[LIVE]);
    const haltedNow = ls?.state === 'HALTED' || rec.outcomes[LIVE] === 'halted';
    let reset = false;
    if (haltedNow && !liveHalted) {
      const reason = ls?.state === 'HALTED' ? (ls.reason ?? '') : 'account_cycles outcome halted';
      if (/drawdown/i.test(reason)) halts.drawdownEpisodes.push({ cycle: rec.n, reason });
      else {
        halts.falseEpisodes.push({ cycle: rec.n, reason });
        if (opts.BENCH_LIVE_RESET_HALTS && ls?.state === 'HALTED') {
          const r = await api.authed('POST', `/function/api/accounts/${LIVE}/trading-state/reset`, { note: `bench live: reset after a halt in cycle ${rec.n} (${reason.slice(0, 200)})` }, 'reset halt');
          reset = r.status === 200;
          if (reset) halts.resets++;
        }
      }
    }
    liveHalted = haltedNow && !reset;
    for (const s of states) if (s.accountId !== accountIds[LIVE] && s.state !== 'ACTIVE') halts.simHalts.push(`cycle ${rec.n} ${idToSlug[s.accountId]} ${s.state}: ${s.reason}`);
  };

  // ---- faults on ----
  const faultsFrom = emu.requests.length;
  emu.faults.add(faultSpecs({ key: liveKey.key, scale: opts.BENCH_LIVE_FAULT_SCALE, latencyMs: opts.BENCH_LIVE_LATENCY_MS, lateReplyMs: opts.BENCH_LIVE_LATE_REPLY_MS }));
  say(`bench live: ${opts.BENCH_LIVE_CYCLES} cycles with faults on …`);
  for (let i = 0; i < opts.BENCH_LIVE_CYCLES && !aborted; i++) await cycle('faults');

  // ---- kill -9 in the middle of an order, restart on the same data ----
  if (!aborted && opts.BENCH_LIVE_KILLS > 0) say(`bench live: ${opts.BENCH_LIVE_KILLS} × kill -9 inside a live AddOrder …`);
  const killsNeverFired: number[] = [];
  for (let k = 1; k <= opts.BENCH_LIVE_KILLS && !aborted; k++) {
    armed = { n: k, phase: k % 2 === 1 ? 'received' : 'processed' };
    for (let w = 0; w < opts.BENCH_LIVE_KILL_WAIT_CYCLES && armed && !aborted; w++) await cycle('kills');
    if (armed) {
      killsNeverFired.push(k);
      armed = null;
      continue;
    }
    for (let i = 0; i < opts.BENCH_LIVE_CYCLES_AFTER_KILL && !aborted; i++) await cycle('kills');
  }

  // ---- calm: faults off ----
  const faultsTo = emu.requests.length;
  emu.faults.clear();
  if (!aborted) say(`bench live: ${opts.BENCH_LIVE_CALM_CYCLES} calm cycles (faults off) …`);
  for (let i = 0; i < opts.BENCH_LIVE_CALM_CYCLES && !aborted; i++) await cycle('calm');
  phase = 'final';

  // ---- books vs exchange, once the runtime is quiet ----
  const quietSince = async (ms: number, max: number) => {
    const end = performance.now() + max;
    let n = emu.requests.length;
    let since = performance.now();
    while (performance.now() < end) {
      await sleep(200);
      if (emu.requests.length !== n) {
        n = emu.requests.length;
        since = performance.now();
      } else if (performance.now() - since >= ms) return true;
    }
    return false;
  };
  const quiet = rt.running ? await quietSince(3000, 60_000) : false;
  let books: Finding[] = [];
  let booksError: string | null = null;
  const dbView: Record<string, { orders: Record<string, number>; fills: number }> = {};
  try {
    if (!rt.running) await restart('down at the end');
    books = mismatches({ emu, key: liveKey.key, orders: await db.orders(accountIds[LIVE]!), fills: await db.fills(accountIds[LIVE]!), balances: await db.latestBalances(accountIds[LIVE]!) });
    for (const slug of ACCOUNTS) {
      const os = await db.orders(accountIds[slug]!);
      dbView[slug] = { orders: count(os, (o) => `${o.mode}:${o.status}`), fills: (await db.fills(accountIds[slug]!)).length };
    }
  } catch (err) {
    booksError = (err as Error).message;
  }
  const stop = rt.running ? await rt.stop(30_000) : null;
  await db.close();

  // The exchange's side, for whoever reads the kept directory (BENCH_LIVE_KEEP=1): orders, trades, balances, every request.
  const slim = (o: ReturnType<KrakenEmulator['orders']>[number]) => ({ ...o, pair: o.pair.symbol });
  writeFileSync(
    join(tmp, 'exchange.json'),
    JSON.stringify({ orders: emu.orders(liveKey.key).map(slim), trades: emu.trades(liveKey.key).map((t) => ({ ...t, pair: t.pair.symbol })), balances: emu.balances(liveKey.key), kills, cycles }, null, 1),
  );
  writeFileSync(
    join(tmp, 'requests.jsonl'),
    emu.requests.map((r, i) => JSON.stringify({ i, t: new Date(r.time).toISOString(), key: r.key === liveKey.key ? 'live' : r.key === simKey.key ? 'sim' : r.key, name: r.name, status: r.status, processed: r.processed, errors: r.errors, faults: faultLog.kindsOf(r), params: { ...r.params, nonce: undefined } })).join('\n') + '\n',
  );

  // ---- figures ----
  const faults = faultLog.summary(faultsFrom);
  const faultWindow = (() => {
    let n = 0;
    let f = 0;
    for (const r of emu.requests.slice(faultsFrom, faultsTo)) {
      if (r.api !== 'private') continue;
      n++;
      if (faultLog.faulted(r)) f++;
    }
    return { n, f, rate: n ? f / n : 0 };
  })();
  const liveOrders = placedOrders(emu, liveKey.key);
  const dups = [...duplicates(emu, liveKey.key), ...duplicates(emu, simKey.key)];
  const blind = blindResends(emu, liveKey.key);
  const blindLenient = blindResends(emu, liveKey.key, true);
  const simCalls = privateCallsFrom(emu, simKey.key, keyIndex[SIM_WITH_KEYS]!);
  const errors5xx = [
    ...lines.jobFailed.filter((j) => j.status === null || j.status >= 500).map((j) => `job ${j.fn} (${j.outcome}, run ${j.run}, cycle ${j.cycle}): ${j.message}`),
    ...api.errors5xx.map((e) => `bench ${e.what}: ${e.status} ${e.text}`),
  ];
  const calm = lines.acks.filter((a) => a.phase === 'calm' && a.account === LIVE && Number.isFinite(a.ms)).map((a) => a.ms);
  const calmAll = lines.acks.filter((a) => a.phase === 'calm' && Number.isFinite(a.ms)).map((a) => a.ms);
  const p50 = percentile(calm, 0.5);
  const p99 = percentile(calm, 0.99);
  const missingKinds = REQUIRED_KINDS.filter((k) => !faults.byKind[k] && !Object.keys(faults.byKind).some((x) => x.startsWith(`${k} `)));

  say('');
  say(`phases: faults ${cycles.filter((c) => c.phase === 'faults').length} cycles, kills ${cycles.filter((c) => c.phase === 'kills').length}, calm ${cycles.filter((c) => c.phase === 'calm').length}; wall ${((performance.now() - started) / 60_000).toFixed(1)} min${aborted ? `; ABORTED: ${aborted}` : ''}`);
  say(`settings (all accounts): ${JSON.stringify(SETTINGS)}`);
  say(`private requests with faults on: ${faultWindow.n}, faulted ${faultWindow.f} (${(100 * faultWindow.rate).toFixed(1)} %); whole run ${faults.privateRequests} private, ${faults.faulted} faulted; untagged faults ${faultLog.untagged}`);
  say(`faults by kind: ${tally(faults.byKind)}`);
  say(`faults by method: ${tally(faults.byMethodKind)}`);
  if (missingKinds.length) say(`fault kinds that never fired: ${missingKinds.join(', ')}`);
  say(`private calls by method (live key): ${tally(count(emu.requests.filter((r) => r.api === 'private' && r.key === liveKey.key), (r) => r.name))}`);
  say(`live request outcomes: ${tally(count(emu.requests.filter((r) => r.api === 'private' && r.key === liveKey.key), (r) => (r.status === 200 ? (r.errors[0] ?? 'ok') : String(r.status))))}`);
  say(`${LIVE} (live) on the exchange: ${liveOrders.length} orders placed (${tally(count(liveOrders, (o) => `${o.side}-${o.ordertype}:${o.status}`))}), ${emu.orders(liveKey.key).length - liveOrders.length} conditional closes, ${emu.trades(liveKey.key).length} trades; balances ${Object.entries(emu.balances(liveKey.key)).map(([a, b]) => `${a} ${b.total.toFixed(6)}`).join(', ')}`);
  for (const slug of ACCOUNTS) if (dbView[slug]) say(`${slug} in the database: orders ${tally(dbView[slug].orders)}; fills ${dbView[slug].fills}`);
  say(`cycle outcomes: ${tally(count(cycles.flatMap((c) => Object.entries(c.outcomes)), ([s, o]) => `${s}:${o}`))}; stuck cycles ${cycles.filter((c) => c.stuck.length).length}${cycles.some((c) => c.stuck.length) ? ` (first: ${cycles.filter((c) => c.stuck.length).slice(0, 8).map((c) => `#${c.n} ${c.stuck.join('+')}`).join(', ')})` : ''}`);
  for (const p of ['faults', 'kills', 'calm'] as const) {
    const ms = cycles.filter((c) => c.phase === p && !c.stuck.length).map((c) => c.ms);
    if (ms.length) say(`cycle ms (${p}, completed): p50 ${fmtMs(percentile(ms, 0.5))}, p95 ${fmtMs(percentile(ms, 0.95))}, max ${Math.max(...ms)}`);
  }
  const perCycle = (p?: Phase) =>
    cycles.filter((c) => p === undefined || c.phase === p).map((c) => emu.requests.slice(c.requests[0], c.requests[1]).filter((r) => r.api === 'private' && r.key === liveKey.key).length);
  say(`live private calls per cycle: p50 ${percentile(perCycle(), 0.5)}, p95 ${percentile(perCycle(), 0.95)}, max ${Math.max(0, ...perCycle())}; calm p50 ${percentile(perCycle('calm'), 0.5)} (an intermediate key's REST counter allows 20 at once, then one call per 2 s)`);
  say(`restarts: ${restarts.length}${restarts.length ? ` (${restarts.map((r) => `${r.why}: up in ${r.ms} ms`).join('; ')})` : ''}`);
  for (const k of kills) say(`  kill #${k.n} at AddOrder ${k.phase} in cycle ${k.cycle} (cl_ord_id ${k.clOrdId}; runtime ${k.runtimePid}, postmaster ${k.postmasterPid}): restart ${k.restartMs ?? '-'} ms, the cycle ended ${k.cycleOutcome}`);
  if (killsNeverFired.length) say(`kills that never fired (no live AddOrder within ${opts.BENCH_LIVE_KILL_WAIT_CYCLES} cycles): #${killsNeverFired.join(', #')}`);
  say(`shutdown at the end: ${stop ? `${stop.ms} ms, ${stop.clean ? 'clean' : 'NOT clean (SIGKILL needed or processes left)'} (exit ${stop.signal ?? stop.code})` : 'the runtime was not running'}; quiet before the books check: ${quiet}`);
  say(`order acknowledged lines: ${lines.acks.length} (${tally(count(lines.acks, (a) => `${a.phase}:${a.account}`))}); calm live p50 ${fmtMs(p50)} ms, p99 ${fmtMs(p99)} ms, max ${fmtMs(Math.max(...calm))} ms over ${calm.length}; calm all accounts p99 ${fmtMs(percentile(calmAll, 0.99))} ms over ${calmAll.length}`);
  say(`job failures: ${lines.jobFailed.length} (${tally(count(lines.jobFailed, (j) => `${j.fn}:${j.status ?? 'exception'}:${j.outcome}`))}); runtime error lines ${lines.errors.length}, warnings ${lines.warns}`);
  /** A list: every item when few, else grouped with ids and times masked, most frequent first. */
  const show = (title: string, xs: readonly string[], n = 8) => {
    if (!xs.length) return;
    say(`${title}: ${xs.length}`);
    if (xs.length <= n) {
      for (const x of xs) say(`  ${x.slice(0, 500)}`);
      return;
    }
    const distinct = count(xs, (x) => x.replace(/\b[0-9a-f]{8}-[0-9a-f-]{27}\b|\b[OT][A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{6}\b|\d{4}-\d\d-\d\dT[\d:.]+Z|\b\d{3,}(\.\d+)?\b/g, '…'));
    for (const [x, c] of Object.entries(distinct).sort((a, b) => b[1] - a[1]).slice(0, n)) say(`  ${c} × ${x.slice(0, 500)}`);
    if (Object.keys(distinct).length > n) say(`  … and ${Object.keys(distinct).length - n} more kinds`);
  };
  show('errors_5xx', errors5xx);
  show('tick trigger failures', tickFailures);
  show('runtime error log lines', lines.errors, 6);
  show('duplicates', dups.map((d) => `${d.ref}: ${d.detail}`));
  show('blind resends', blind.map((b) => `${b.ref}: ${b.detail}`));
  if (blindLenient.length !== blind.length) say(`blind resends counting unfiltered OpenOrders+ClosedOrders listings as lookups: ${blindLenient.length}`);
  show('mismatches', books.map((m) => `${m.kind} ${m.ref}: ${m.detail}`), 12);
  if (booksError) say(`books check failed: ${booksError}`);
  say(`mismatches by kind: ${tally(count(books, (m) => m.kind))}`);
  show('unprotected', unprotected.map((u) => `${u.account} ${u.ref} (cycle ${u.cycle}): ${u.detail}`));
  say(`unprotected by account: ${tally(count(unprotected, (u) => `${u.account}:${u.ref}`))}`);
  show('false halts', halts.falseEpisodes.map((h) => `cycle ${h.cycle}: ${h.reason}`));
  say(`drawdown halts (legitimate) of ${LIVE}: ${halts.drawdownEpisodes.length}${halts.drawdownEpisodes.length ? ` (${halts.drawdownEpisodes.map((h) => `cycle ${h.cycle}: ${h.reason}`).join('; ')})` : ''}; resets through the API ${halts.resets}`);
  show('simulated accounts not ACTIVE', halts.simHalts, 4);
  show('simulated account private calls', simCalls.map((r) => `${r.name} ${String(r.status)}`));

  const figures = {
    cycles: cycles.length,
    live_orders: liveOrders.length,
    faults: faults.faulted,
    duplicates: dups.length,
    blind_resends: blind.length,
    mismatches: books.length + (booksError ? 1 : 0),
    false_halts: halts.falseEpisodes.length,
    unprotected: unprotected.length,
    sim_private_calls: simCalls.length,
    errors_5xx: errors5xx.length,
  };
  say(
    `bench live: ${Object.entries(figures)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')} calm_order_p50_ms=${fmtMs(p50)} calm_order_p99_ms=${fmtMs(p99)}`,
  );

  const missed: string[] = [];
  if (aborted) missed.push(`aborted: ${aborted}`);
  const expectedCycles = opts.BENCH_LIVE_CYCLES + opts.BENCH_LIVE_CALM_CYCLES;
  if (cycles.filter((c) => c.phase === 'faults').length < opts.BENCH_LIVE_CYCLES || cycles.length < expectedCycles) missed.push(`cycles ${cycles.length} < ${expectedCycles}`);
  if (cycles.some((c) => c.stuck.length)) missed.push(`${cycles.filter((c) => c.stuck.length).length} stuck cycle(s)`);
  if (liveOrders.length < 100) missed.push(`live_orders ${liveOrders.length} < 100`);
  if (faultWindow.rate < 0.2) missed.push(`faulted ${(100 * faultWindow.rate).toFixed(1)} % < 20 % of private requests`);
  if (missingKinds.length) missed.push(`fault kinds never fired: ${missingKinds.join(', ')}`);
  if (kills.length < opts.BENCH_LIVE_KILLS) missed.push(`kills ${kills.length} < ${opts.BENCH_LIVE_KILLS}`);
  for (const k of ['duplicates', 'blind_resends', 'mismatches', 'false_halts', 'unprotected', 'sim_private_calls', 'errors_5xx'] as const) if (figures[k] !== 0) missed.push(`${k}=${figures[k]}`);
  if (!(p99 <= 50)) missed.push(`calm_order_p99_ms ${fmtMs(p99)} > 50 (or no calm live orders acknowledged)`);
  if (stop && !stop.clean) missed.push('the runtime did not shut down cleanly');
  if (emu.internalErrors.length) missed.push(`emulator internal errors: ${emu.internalErrors.map((e) => e.message).join('; ')}`);
  if (faultLog.untagged) missed.push(`${faultLog.untagged} faults could not be attributed to a request`);
  return missed;
}

