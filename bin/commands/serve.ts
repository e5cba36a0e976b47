import { parseConfig } from '../../lib/config.ts';
import { createLogger } from '../../lib/log.ts';
import { functionApp } from '../gateway.ts';
import { closeServer, listen } from '../serve.ts';
import { openServices } from '../services.ts';
import { onShutdown } from '../shutdown.ts';

/** `aether serve <function>`: one function's Hono app on PORT — what an OpenFaaS pod runs. */
export async function run(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || rest.length) {
    process.stderr.write('usage: aether serve <function>   (e.g. api, tick, order-company)\n');
    return 2;
  }
  const config = parseConfig();
  const logger = createLogger(config.LOG_LEVEL);
  const stop = onShutdown(logger);
  const services = await openServices(config, { logger, migrate: name === 'api' });
  if (await stop.add(services.close)) return 0; // interrupted while starting
  const app = functionApp(name, services.ctx);
  const { server, url } = await listen(app.fetch, config);
  if (await stop.add(() => closeServer(server))) return 0;
  services.ctx.logger.info({ function: name, url, mode: config.mode }, 'serving');
  await stop.done;
  return 0;
}
