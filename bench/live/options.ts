/** `bench live` options: environment variables, parsed once, with what each one changes. */
import { z } from 'zod';

const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);
const flag = (def: boolean) =>
  z
    .enum(['0', '1', 'true', 'false'])
    .default(def ? '1' : '0')
    .transform((v) => v === '1' || v === 'true');

export const OPTIONS = z.object({
  /** Hourly cycles with faults on (≥ 200 for the acceptance figure). */
  BENCH_LIVE_CYCLES: int(200, 1),
  /** kill -9 of the runtime and its PostgreSQL in the middle of a live AddOrder (≥ 5). */
  BENCH_LIVE_KILLS: int(5),
  /** Cycles run after each restart before the next kill is armed. */
  BENCH_LIVE_CYCLES_AFTER_KILL: int(2, 1),
  /** A kill waits at most this many cycles for a live AddOrder; then it is reported as never fired. */
  BENCH_LIVE_KILL_WAIT_CYCLES: int(24, 1),
  /**
   * Cycles with faults off at the end; the calm latency figures come from these. About one in two
   * places a live order: 360 give ~190, so that p99 is a percentile (nearest rank: the second
   * largest) — under 100 orders it is the maximum, and one stall of the machine decides it.
   */
  BENCH_LIVE_CALM_CYCLES: int(360, 1),
  /**
   * First replayed hour (UTC) of the repository's Kraken 1h candles. October 2021 trades often with
   * the bench's settings (a backtest of its first 12 days: 134 fills); May 2022's crash leaves the
   * account in cash (28 live orders in 332 cycles).
   */
  BENCH_LIVE_START: z.string().default('2021-10-04T00:00:00Z'),
  /** Seconds a cycle may take (trigger → every account's account_cycles row) before it counts as stuck. */
  BENCH_LIVE_CYCLE_TIMEOUT_S: int(120, 5),
  /** The same after a restart (BullMQ must first notice the killed process' job as stalled). */
  BENCH_LIVE_RESTART_CYCLE_TIMEOUT_S: int(240, 5),
  /** Stop the run (and report) after this many stuck cycles in a row; 0 = never. */
  BENCH_LIVE_MAX_STUCK: int(3),
  /** Stop the run (and report) after this many cycles in a row whose live account_cycles row says `failed`; 0 = never. */
  BENCH_LIVE_MAX_FAILED: int(10),
  /** Reply delay of `accept-then-delay` (must exceed the broker's client timeout). */
  BENCH_LIVE_LATE_REPLY_MS: int(12_000, 1),
  /** Latency fault (ms). */
  BENCH_LIVE_LATENCY_MS: int(400, 1),
  /** Scales every fault probability (1 = the defaults: ≈ 22 % of private requests, ≈ 30 % of order calls). */
  BENCH_LIVE_FAULT_SCALE: z.coerce.number().min(0).max(3).default(1),
  /** Seed of the emulator's fault PRNG. */
  BENCH_LIVE_SEED: int(1),
  /** How a cycle starts: `http` = a signed POST /function/tick on the gateway (the job key from AETHER_HOME); `enqueue` = a tick job on the queue (as the cron schedulers). */
  BENCH_LIVE_TRIGGER: z.enum(['http', 'enqueue']).default('http'),
  /** Reset a false (non-drawdown) halt through the API, as an admin would, so the run keeps measuring. */
  BENCH_LIVE_RESET_HALTS: flag(true),
  /** Diagnostic only: restart the runtime once after setup (accounts created while it ran then get workers on any build). */
  BENCH_LIVE_RESTART_AFTER_SETUP: flag(false),
  /** Keep the temporary directory (AETHER_HOME, runtime logs) instead of removing it. */
  BENCH_LIVE_KEEP: flag(false),
  /** Also copy the runtime's output (all runs) to this file. */
  BENCH_LIVE_LOG: z.string().min(1).optional(),
  /** LOG_LEVEL of the runtime (info carries `order acknowledged` and `job failed`). */
  BENCH_LIVE_LOG_LEVEL: z.enum(['debug', 'info']).default('info'),
  /** Print a line per cycle. */
  BENCH_LIVE_VERBOSE: flag(false),
});

export type LiveOptions = z.infer<typeof OPTIONS>;

export function parseOptions(env: NodeJS.ProcessEnv = process.env): LiveOptions {
  const raw = Object.fromEntries(Object.entries(env).filter(([k, v]) => k.startsWith('BENCH_LIVE_') && v !== undefined && v !== ''));
  const r = OPTIONS.safeParse(raw);
  if (!r.success) throw new Error(`bench live: bad options: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const unknown = Object.keys(raw).filter((k) => !(k in OPTIONS.shape));
  if (unknown.length) throw new Error(`bench live: unknown option(s) ${unknown.join(', ')}; known: ${Object.keys(OPTIONS.shape).join(', ')}`);
  return r.data;
}
