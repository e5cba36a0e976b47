import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** One registry per process: every function mounted in it shares the process metrics. */
export const registry = new Registry();
collectDefaultMetrics({ register: registry });

export const httpDuration = new Histogram({
  name: 'aether_http_request_duration_seconds',
  help: 'HTTP request duration by function, route and status',
  labelNames: ['function', 'method', 'route', 'status'] as const,
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

export const jobsTotal = new Counter({
  name: 'aether_jobs_total',
  help: 'Queue jobs handled by the dispatcher, by queue and outcome',
  labelNames: ['queue', 'outcome'] as const,
  registers: [registry],
});

export const jobDuration = new Histogram({
  name: 'aether_job_duration_seconds',
  help: 'Queue job duration (enqueue to done is measured by bench queue)',
  labelNames: ['queue'] as const,
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5, 30, 120],
  registers: [registry],
});

// Recorded by each job function itself (lib/http/job-function.ts), so a function's own /metrics shows
// its work: the dispatcher's series above see only what came back over HTTP.
export const FUNCTION_JOB_OUTCOMES = ['done', 'rejected', 'failed'] as const;
export const functionJobsTotal = new Counter({
  name: 'aether_function_jobs_total',
  help: 'Jobs a function ran, by function, job kind and outcome: done, rejected (the job was refused: 4xx, e.g. a bar that may not be traded, the account busy), failed (an error or 5xx)',
  labelNames: ['function', 'job', 'outcome'] as const,
  registers: [registry],
});
export const functionJobDuration = new Histogram({
  name: 'aether_function_job_duration_seconds',
  help: "A job's run time inside its function, by function, job kind and outcome",
  labelNames: ['function', 'job', 'outcome'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 1800],
  registers: [registry],
});
// The dead man's switch of a scheduled job (AetherTickMissed): when it last ended `done`, wall clock.
export const functionJobLastSuccess = new Gauge({
  name: 'aether_function_job_last_success_timestamp_seconds',
  help: 'Unix time a function last finished a job with outcome done, by function and job kind',
  labelNames: ['function', 'job'] as const,
  registers: [registry],
});

// Trading series, labelled by account slug (the Grafana dashboard and alerts in k8s/ read these).
export const ordersTotal = new Counter({
  name: 'aether_orders_total',
  help: 'Orders by account and outcome (accepted, rejected by the venue, refused by the risk engine)',
  labelNames: ['account', 'status'] as const,
  registers: [registry],
});
export const equityUsd = new Gauge({ name: 'aether_equity_usd', help: 'Account equity marked to market, USD', labelNames: ['account'] as const, registers: [registry] });
export const drawdownRatio = new Gauge({ name: 'aether_drawdown_ratio', help: 'Drawdown from the equity peak', labelNames: ['account'] as const, registers: [registry] });
// R-4 daily drawdown beside its limits, so a dashboard shows how close an account is to REDUCING/HALTED.
export const dailyDrawdownRatio = new Gauge({ name: 'aether_daily_drawdown_ratio', help: "Today's (UTC) drawdown from the reference equity, the figure the soft and hard limits apply to", labelNames: ['account'] as const, registers: [registry] });
export const drawdownLimitRatio = new Gauge({ name: 'aether_drawdown_limit_ratio', help: 'Daily drawdown limits of the account: soft (REDUCING) and hard (HALTED)', labelNames: ['account', 'level'] as const, registers: [registry] });
export const hedgeRatioGauge = new Gauge({ name: 'aether_hedge_ratio', help: 'Share of equity held in USD', labelNames: ['account'] as const, registers: [registry] });
export const accountHalted = new Gauge({ name: 'aether_account_halted', help: '1 while the account is HALTED', labelNames: ['account'] as const, registers: [registry] });
export const cyclesTotal = new Counter({
  name: 'aether_cycles_total',
  help: 'Order jobs by account and outcome: done, skipped (a newer bar had closed), halted (reconciliation), failed',
  labelNames: ['account', 'outcome'] as const,
  registers: [registry],
});

// Kraken adapter health, labelled by account slug (lib/exchange/kraken-broker.ts; alerts in k8s/ may watch these).
export const krakenLockedOut = new Gauge({
  name: 'aether_kraken_locked_out',
  help: "1 while the account's Kraken key is in a temporary lockout (EGeneral:Temporary lockout): its calls fail fast until it ends",
  labelNames: ['account'] as const,
  registers: [registry],
});
export const krakenLockoutsTotal = new Counter({
  name: 'aether_kraken_lockouts_total',
  help: 'Temporary lockouts Kraken announced for the account key',
  labelNames: ['account'] as const,
  registers: [registry],
});
export const krakenLimiterWaitsTotal = new Counter({
  name: 'aether_kraken_limiter_waits_total',
  help: "Kraken calls held back by the client-side model of Kraken's counters, by counter (rest, trading, lockout) and outcome (waited; refused: the wait would outlast the job budget or maxWaitMs)",
  labelNames: ['account', 'counter', 'outcome'] as const,
  registers: [registry],
});
export const krakenLimiterWaitSeconds = new Counter({
  name: 'aether_kraken_limiter_wait_seconds_total',
  help: 'Time Kraken calls spent waiting for the client-side limiter',
  labelNames: ['account'] as const,
  registers: [registry],
});
export const krakenRestHeadroom = new Gauge({
  name: 'aether_kraken_rest_headroom_ratio',
  help: "Share of Kraken's per-key REST counter left free (client-side model) when the account's last private call went out: 1 idle, 0 at the limit",
  labelNames: ['account'] as const,
  registers: [registry],
});
export const krakenSecretPending = new Gauge({
  name: 'aether_kraken_secret_pending',
  help: "1 while the account's kraken-<account> Kubernetes Secret does not yet hold what the database says (a key upload or revocation whose Secret write failed; retried)",
  labelNames: ['account'] as const,
  registers: [registry],
});
export const krakenCallFailuresTotal = new Counter({
  name: 'aether_kraken_call_failures_total',
  help: 'Failed Kraken private calls by method and class (rejected, UNAVAILABLE, RATE_LIMIT, LOCKOUT, NONCE, NETWORK, DEADLINE); each retry counts',
  labelNames: ['account', 'method', 'class'] as const,
  registers: [registry],
});

// Market data freshness (tick): the close time of the newest stored candle per pair (AetherMarketDataStale).
export const marketCandleClose = new Gauge({
  name: 'aether_market_candle_close_timestamp_seconds',
  help: 'Unix close time of the newest candle ingested for the pair',
  labelNames: ['pair'] as const,
  registers: [registry],
});
