import { listAccounts } from '../../lib/accounts/accounts.ts';
import { issueOnboardingToken } from '../../lib/accounts/onboarding.ts';
import { parseConfig } from '../../lib/config.ts';
import { createLogger } from '../../lib/log.ts';
import { gatewayInvoker, inProcessInvoker, startDispatcher } from '../../lib/queue/dispatcher.ts';
import { JOB_QUEUES, orderFunction } from '../../lib/queue/jobs.ts';
import { registerSchedules } from '../../lib/runtime/schedules.ts';
import { cronSchedules, functionNames, functionTimeouts, loadStack } from '../../lib/runtime/stack.ts';
import { createGateway } from '../gateway.ts';
import { closeServer, listen } from '../serve.ts';
import { openServices } from '../services.ts';
import { onShutdown } from '../shutdown.ts';
import type { Help } from '../args.ts';

/**
 * `aether start`: the whole platform in one process — database (embedded unless DATABASE_URL),
 * migrations, every function at /function/<name>, the queue dispatcher and stack.yml's schedules.
 * `order-<account>` exists for every account in the database, including one created while running
 * (the gateway builds it on first use).
 */
export async function run(argv: string[]): Promise<number> {
  if (argv.length) {
    process.stderr.write(`aether start takes no arguments (got ${argv.join(' ')}); configure it with environment variables\n`);
    return 2;
  }
  const config = parseConfig();
  const started = performance.now();
  const logger = createLogger(config.LOG_LEVEL);
  const stop = onShutdown(logger);
  const services = await openServices(config, { logger });
  if (await stop.add(services.close)) return 0; // interrupted while starting
  const { ctx } = services;
  const stack = loadStack();
  // stack.yml's functions up front; `order-<account>` of any other account when first asked for.
  const gateway = createGateway(functionNames(stack), ctx);
  // Every job call is signed with the job key (ctx), in-process too: the job routes share this listener with the API.
  const invoke = config.GATEWAY_URL ? gatewayInvoker(config.GATEWAY_URL, ctx, functionTimeouts(stack)) : inProcessInvoker(gateway.resolve, ctx);
  // The port first: on a busy one nothing starts (no workers, no cron) and what did start is stopped.
  const { server, url } = await stop.starting(() => listen(gateway.http.fetch, config));
  if (await stop.add(() => closeServer(server))) return 0;
  startDispatcher(ctx.queue, JOB_QUEUES, invoke, ctx.logger);
  await registerSchedules(ctx.queue, cronSchedules(stack));
  const token = await issueOnboardingToken(ctx.db);
  const names = [...new Set([...functionNames(stack), ...(await listAccounts(ctx.db)).map((a) => orderFunction(a.slug))])];
  ctx.logger.info(
    { url, mode: config.mode, database: config.mode === 'embedded' ? 'embedded PostgreSQL' : config.databaseDriver, queue: ctx.queue.backend, ms: Math.round(performance.now() - started) },
    'Aether is running',
  );
  const lines = [
    `Aether ${ctx.version} is running at ${url}  (mode: ${config.mode}, database: ${config.mode === 'embedded' ? `embedded PostgreSQL in ${services.embedded?.dataDir ?? config.AETHER_HOME}` : config.databaseDriver}, queues: ${ctx.queue.backend})`,
    `  health:   ${url}/function/api/healthz`,
    `  API docs: ${url}/function/api/openapi.json`,
    `  functions: ${names.join(', ')}  (order-<account> for every account, also one created while running)`,
  ];
  if (token) lines.push(`  first start: create the first admin with the one-time onboarding token ${token}`, `    (POST ${url}/function/api/onboarding/admin, or: aether users create --admin)`);
  process.stdout.write(lines.join('\n') + '\nPress Ctrl-C to stop.\n');
  await stop.done;
  return 0;
}

export const help: Help = {
  usage: 'aether start',
  about:
    'Runs the whole platform in one process: PostgreSQL (embedded in $AETHER_HOME unless DATABASE_URL is set),\n' +
    'the migrations, every function under /function/<name>, the web UI, the queue dispatcher and the cron\n' +
    'schedules. Configured by environment variables (aether config); Ctrl-C stops it cleanly.',
  flags: [],
  examples: ['aether start', 'PORT=8081 AETHER_HOME=~/.aether-test aether start'],
};
