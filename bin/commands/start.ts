import { listAccounts } from '../../lib/accounts/accounts.ts';
import { issueOnboardingToken } from '../../lib/accounts/onboarding.ts';
import { parseConfig, type Config } from '../../lib/config.ts';
import type { AppContext } from '../../lib/context.ts';
import { createLogger } from '../../lib/log.ts';
import { gatewayInvoker, inProcessInvoker, startDispatcher } from '../../lib/queue/dispatcher.ts';
import { JOB_QUEUES, orderFunction } from '../../lib/queue/jobs.ts';
import { configuredSources, HistoryRunner, type HistoryProgress, type HistorySources } from '../../lib/runtime/first-start.ts';
import { registerSchedules } from '../../lib/runtime/schedules.ts';
import { tuneV8ForJobs } from '../../lib/runtime/v8-tuning.ts';
import { cronSchedules, functionNames, functionTimeouts, loadStack } from '../../lib/runtime/stack.ts';
import { watchWalArchiver } from '../../lib/system/wal-archiver.ts';
import { createGateway } from '../gateway.ts';
import { progress } from '../progress.ts';
import { closeServer, listen } from '../serve.ts';
import { openServices } from '../services.ts';
import { onShutdown } from '../shutdown.ts';
import type { Help } from '../args.ts';

/**
 * `aether start`: the whole platform in one process — database (embedded unless DATABASE_URL),
 * migrations, every function at /function/<name>, the queue dispatcher and stack.yml's schedules.
 * `order-<account>` exists for every account in the database, including one created while running
 * (the gateway builds it on first use). Once it serves, the traded pairs' history is filled in the
 * background and, on a first start, one model trained (lib/runtime/first-start.ts).
 */
export async function run(argv: string[]): Promise<number> {
  if (argv[0] === '--demo') return (await import('./demo.ts')).run(argv.slice(1)); // npm start -- --demo
  if (argv.length) {
    process.stderr.write(`aether start takes no arguments (got ${argv.join(' ')}); configure it with environment variables\n`);
    return 2;
  }
  const config = parseConfig();
  return runRuntime(config, { schedules: true, history: configuredSources(config) });
}

/** What a caller of runRuntime gets once the server listens (`aether demo` drives its replay with it). */
export interface RunningRuntime {
  ctx: AppContext;
  url: string;
  /** Adds a step to the shutdown (run before the server and the services close). */
  onStop(step: () => Promise<void>): Promise<void>;
}

export interface RuntimeOptions {
  /** Register stack.yml's cron schedules (a replay triggers its jobs itself, on its own clock). */
  schedules: boolean;
  history: HistorySources;
  /** `replay`: the history is recorded candles and every banner says so. */
  replay?: boolean;
  /** Delay of the first training run after the history is filled (a fit holds the process's CPU for a while). */
  trainDelayMs?: number;
  /** Runs once the server listens and the banner is out (in the background of the running server). */
  then?: (rt: RunningRuntime) => Promise<void>;
}

/** The history fill as a bar redrawn on a terminal's stderr; elsewhere the log lines say it. */
function historyBar(): ((p: HistoryProgress) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  const bar = progress('history');
  let offline = false;
  return (p) => {
    if (p.state === 'offline') {
      if (!offline) bar.note(`history: offline, retrying with backoff (${p.error ?? ''})`);
      offline = true;
      return;
    }
    offline = false;
    bar.update(p.done, 1, `${p.bars} bars ${p.pairs.join(' ')}`);
    if (p.state === 'done') bar.end();
  };
}

/** The runtime of `aether start` (and `aether demo`): serves until SIGINT/SIGTERM, then stops what it started. */
export async function runRuntime(config: Config, opts: RuntimeOptions): Promise<number> {
  const started = performance.now();
  const logger = createLogger(config.LOG_LEVEL);
  const stop = onShutdown(logger);
  const services = await openServices(config, { logger });
  if (await stop.add(services.close)) return 0; // interrupted while starting
  const { ctx } = services;
  tuneV8ForJobs(logger); // start-up's run-once code is compiled; the jobs' code is not yet
  watchWalArchiver(ctx.db); // /metrics: the archiver's counts (archiving is off in embedded mode)
  const stack = loadStack();
  const onProgress = historyBar();
  const history = new HistoryRunner({
    db: ctx.db,
    clock: ctx.clock,
    logger: ctx.logger,
    sources: opts.history,
    source: opts.replay ? 'replay' : 'live',
    train: () => ctx.queue.enqueue('train', { trigger: 'manual' }, { jobId: `train-history-${ctx.clock.now()}`, delayMs: opts.trainDelayMs ?? 0 }),
    ...(onProgress ? { onProgress } : {}),
  });
  ctx.history = history;
  // stack.yml's functions up front; `order-<account>` of any other account when first asked for.
  const gateway = createGateway(functionNames(stack), ctx);
  // Every job call is signed with the job key (ctx), in-process too: the job routes share this listener with the API.
  const invoke = config.GATEWAY_URL ? gatewayInvoker(config.GATEWAY_URL, ctx, functionTimeouts(stack)) : inProcessInvoker(gateway.resolve, ctx);
  // The port first: on a busy one nothing starts (no workers, no cron) and what did start is stopped.
  const { server, url } = await stop.starting(() => listen(gateway.http.fetch, config));
  if (await stop.add(() => closeServer(server))) return 0;
  startDispatcher(ctx.queue, JOB_QUEUES, invoke, ctx.logger);
  if (opts.schedules) await registerSchedules(ctx.queue, cronSchedules(stack));
  const token = await issueOnboardingToken(ctx.db);
  const names = [...new Set([...functionNames(stack), ...(await listAccounts(ctx.db)).map((a) => orderFunction(a.slug))])];
  const mode = opts.replay ? `${config.mode}, REPLAY of recorded candles` : config.mode;
  ctx.logger.info(
    { url, mode: config.mode, replay: opts.replay === true, database: config.mode === 'embedded' ? 'embedded PostgreSQL' : config.databaseDriver, queue: ctx.queue.backend, ms: Math.round(performance.now() - started) },
    'Aether is running',
  );
  const lines = [
    `Aether ${ctx.version} is running at ${url}  (mode: ${mode}, database: ${config.mode === 'embedded' ? `embedded PostgreSQL in ${services.embedded?.dataDir ?? config.AETHER_HOME}` : config.databaseDriver}, queues: ${ctx.queue.backend})`,
    `  health:   ${url}/function/api/healthz`,
    `  API docs: ${url}/function/api/openapi.json`,
    `  functions: ${names.join(', ')}  (order-<account> for every account, also one created while running)`,
    `  history:  ${opts.replay ? 'the repository\'s recorded candles' : `${opts.history.recent.host} (recent bars) and ${opts.history.older.host} (older)`}, filled in the background (progress in the log and in /healthz)`,
  ];
  if (token) lines.push(`  first start: create the first admin with the one-time onboarding token ${token}`, `    (POST ${url}/function/api/onboarding/admin, or: aether users create --admin)`);
  process.stdout.write(lines.join('\n') + '\nPress Ctrl-C to stop.\n');
  // Stopped before the server and the database close (steps run newest first).
  if (await stop.add(() => history.stop())) return 0;
  history.start();
  if (opts.then) {
    const then = opts.then({ ctx, url, onStop: async (step) => void (await stop.add(step)) });
    void then.catch((err: unknown) => {
      ctx.logger.error({ err }, 'stopping: the run failed');
      process.kill(process.pid, 'SIGTERM'); // the same clean stop as a Ctrl-C
    });
  }
  await stop.done;
  return 0;
}

export const help: Help = {
  usage: 'aether start',
  about:
    'Runs the whole platform in one process: PostgreSQL (embedded in $AETHER_HOME unless DATABASE_URL is set),\n' +
    'the migrations, every function under /function/<name>, the web UI, the queue dispatcher and the cron\n' +
    'schedules. Configured by environment variables (aether config); Ctrl-C stops it cleanly. In the background it\n' +
    "fills the traded pairs' 1h history (Kraken, then CoinGecko; progress in the log and /healthz) and trains once.",
  flags: [['--demo [demo flags]', 'the same as aether demo: a replay of the recorded candles, offline (aether demo --help)']],
  examples: ['aether start', 'PORT=8081 AETHER_HOME=~/.aether-test aether start'],
};
