import { Hono } from 'hono';
import { parseConfig } from '../../lib/config.ts';
import { metricsHandler } from '../../lib/http/metrics-token.ts';
import { createLogger } from '../../lib/log.ts';
import { gatewayInvoker, startDispatcher } from '../../lib/queue/dispatcher.ts';
import { JOB_QUEUES } from '../../lib/queue/jobs.ts';
import { registerSchedules } from '../../lib/runtime/schedules.ts';
import { cronSchedules, functionTimeouts, loadStack } from '../../lib/runtime/stack.ts';
import { watchWalArchiver } from '../../lib/system/wal-archiver.ts';
import { closeServer, listen } from '../serve.ts';
import { openServices } from '../services.ts';
import { onShutdown } from '../shutdown.ts';
import type { Help } from '../args.ts';

/**
 * Order jobs in flight per dispatcher replica: each is an HTTP call to its account's own pod, so more
 * than the embedded runtime (which does the work itself) — bounded because every running order job
 * holds database connections (its account lock and its work) on the one TimescaleDB.
 */
const CLUSTER_ORDER_CONCURRENCY = 8;

/**
 * `aether dispatch`: queue workers that invoke the cluster's functions through the OpenFaaS gateway
 * (an `order` job → `GATEWAY_URL/function/order-<account>` of its payload), every call signed with
 * the job key, with /healthz (queue backend reachable) and /metrics (job counters and durations; the
 * metrics token's bearer only) on PORT. It also registers stack.yml's cron schedules as BullMQ job
 * schedulers — the cluster's cron path, the same as the embedded runtime's (idempotent by id, so
 * every replica may register them; a tick is one job whichever replica runs it). The queues are fixed
 * (one per job kind): a new account needs its function deployed, not a new queue or a restart here.
 */
export async function run(argv: string[]): Promise<number> {
  if (argv.length) {
    process.stderr.write('usage: aether dispatch   (needs GATEWAY_URL)\n');
    return 2;
  }
  const config = parseConfig();
  if (!config.GATEWAY_URL) {
    process.stderr.write('aether dispatch needs GATEWAY_URL (the OpenFaaS gateway); `aether start` dispatches in-process\n');
    return 2;
  }
  const logger = createLogger(config.LOG_LEVEL);
  const stop = onShutdown(logger);
  const services = await openServices(config, { logger, migrate: false, masterKey: false, auditKey: false });
  if (await stop.add(services.close)) return 0; // interrupted while starting
  watchWalArchiver(services.ctx.db); // the cluster's one watcher of the database's WAL archiving
  const names = [...JOB_QUEUES];
  const stack = loadStack();
  // Each call is bounded by its function's exec_timeout (stack.yml): a train job may run 30 minutes.
  // One account's order jobs still never overlap (here; across replicas, the job's account lock).
  startDispatcher(services.ctx.queue, names, gatewayInvoker(config.GATEWAY_URL, services.ctx, functionTimeouts(stack)), logger, { concurrency: { order: CLUSTER_ORDER_CONCURRENCY } });
  await registerSchedules(services.ctx.queue, cronSchedules(stack));
  const app = new Hono();
  app.get('/healthz', async (c) => {
    const ok = await services.ctx.queue.ping().then(() => true, () => false);
    return c.json({ status: ok ? 'ok' : 'degraded', function: 'dispatch', queueBackend: services.ctx.queue.backend, queues: names }, ok ? 200 : 503);
  });
  app.get('/metrics', metricsHandler(services.ctx.config.AETHER_METRICS_TOKEN));
  const { server, url } = await stop.starting(() => listen(app.fetch, config));
  if (await stop.add(() => closeServer(server))) return 0;
  logger.info({ queues: names, gateway: config.GATEWAY_URL, url }, 'dispatching');
  await stop.done;
  return 0;
}

export const help: Help = {
  usage: 'aether dispatch',
  about: 'The cluster’s queue dispatcher: runs every queued job by calling its function through the OpenFaaS\ngateway (signed), registers the cron schedules, serves /healthz and /metrics on PORT. Needs GATEWAY_URL.',
  examples: ['GATEWAY_URL=http://gateway.openfaas:8080 DATABASE_URL=postgres://… REDIS_URL=redis://redis:6379 aether dispatch'],
};
