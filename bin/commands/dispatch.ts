import { Hono } from 'hono';
import { parseConfig } from '../../lib/config.ts';
import { registry } from '../../lib/http/metrics.ts';
import { createLogger } from '../../lib/log.ts';
import { gatewayInvoker, startDispatcher } from '../../lib/queue/dispatcher.ts';
import { functionNames, loadStack } from '../../lib/runtime/stack.ts';
import { closeServer, listen } from '../serve.ts';
import { openServices } from '../services.ts';
import { onShutdown } from '../shutdown.ts';

/**
 * `aether dispatch`: queue workers that invoke the cluster's functions through the OpenFaaS gateway,
 * with /healthz (queue backend reachable) and /metrics (job counters and durations) on PORT.
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
  const services = await openServices(config, { logger, migrate: false });
  if (await stop.add(services.close)) return 0; // interrupted while starting
  const names = functionNames(loadStack()).filter((n) => n !== 'api');
  startDispatcher(services.ctx.queue, names, gatewayInvoker(config.GATEWAY_URL), logger);
  const app = new Hono();
  app.get('/healthz', async (c) => {
    const ok = await services.ctx.queue.ping().then(() => true, () => false);
    return c.json({ status: ok ? 'ok' : 'degraded', function: 'dispatch', queueBackend: services.ctx.queue.backend, queues: names }, ok ? 200 : 503);
  });
  app.get('/metrics', async (c) => c.text(await registry.metrics(), 200, { 'content-type': registry.contentType }));
  const { server, url } = await listen(app.fetch, config);
  if (await stop.add(() => closeServer(server))) return 0;
  logger.info({ queues: names, gateway: config.GATEWAY_URL, url }, 'dispatching');
  await stop.done;
  return 0;
}
