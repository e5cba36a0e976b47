import { listAccounts } from '../../lib/accounts/accounts.ts';
import { issueOnboardingToken } from '../../lib/accounts/onboarding.ts';
import { parseConfig } from '../../lib/config.ts';
import { createLogger } from '../../lib/log.ts';
import { gatewayInvoker, inProcessInvoker, startDispatcher } from '../../lib/queue/dispatcher.ts';
import { registerSchedules } from '../../lib/runtime/schedules.ts';
import { cronSchedules, functionNames, loadStack, ORDER_FUNCTION_PREFIX } from '../../lib/runtime/stack.ts';
import { createGateway } from '../gateway.ts';
import { closeServer, listen } from '../serve.ts';
import { openServices } from '../services.ts';
import { onShutdown } from '../shutdown.ts';

/**
 * `aether start`: the whole platform in one process — database (embedded unless DATABASE_URL),
 * migrations, every function at /function/<name>, the queue dispatcher and stack.yml's schedules.
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
  // Order functions: one per stack.yml entry, plus any account added as data since.
  const names = new Set(functionNames(stack));
  for (const a of await listAccounts(ctx.db)) names.add(`${ORDER_FUNCTION_PREFIX}${a.slug}`);
  const { gateway, apps } = createGateway([...names], ctx);
  const invoke = config.GATEWAY_URL ? gatewayInvoker(config.GATEWAY_URL) : inProcessInvoker(apps);
  const jobFunctions = [...names].filter((n) => n !== 'api');
  startDispatcher(ctx.queue, jobFunctions, invoke, ctx.logger);
  await registerSchedules(ctx.queue, cronSchedules(stack));
  const { server, url } = await listen(gateway.fetch, config);
  if (await stop.add(() => closeServer(server))) return 0;
  const token = await issueOnboardingToken(ctx.db);
  ctx.logger.info(
    { url, mode: config.mode, database: config.mode === 'embedded' ? 'embedded PostgreSQL' : config.databaseDriver, queue: ctx.queue.backend, ms: Math.round(performance.now() - started) },
    'Aether is running',
  );
  const lines = [
    `Aether ${ctx.version} is running at ${url}  (mode: ${config.mode}, database: ${config.mode === 'embedded' ? `embedded PostgreSQL in ${services.embedded?.dataDir ?? config.AETHER_HOME}` : config.databaseDriver}, queues: ${ctx.queue.backend})`,
    `  health:   ${url}/function/api/healthz`,
    `  API docs: ${url}/function/api/openapi.json`,
    `  functions: ${[...names].join(', ')}`,
  ];
  if (token) lines.push(`  first start: create the first admin with the one-time onboarding token ${token}`, `    (POST ${url}/function/api/onboarding/admin, or: aether users create --admin)`);
  process.stdout.write(lines.join('\n') + '\nPress Ctrl-C to stop.\n');
  await stop.done;
  return 0;
}
