import { parseConfig } from '../../lib/config.ts';
import { createLogger } from '../../lib/log.ts';
import { functionFactory, isFunctionName } from '../gateway.ts';
import { closeServer, listen } from '../serve.ts';
import { openServices } from '../services.ts';
import { tuneV8ForJobs } from '../../lib/runtime/v8-tuning.ts';
import { onShutdown } from '../shutdown.ts';
import type { Help } from '../args.ts';

/** `aether serve <function>`: one function's Hono app on PORT — what an OpenFaaS pod runs. */
export async function run(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || rest.length) {
    process.stderr.write('usage: aether serve <function>   (e.g. api, tick, order-company)\n');
    return 2;
  }
  if (!isFunctionName(name)) {
    process.stderr.write(`aether serve: no function named ${name} (api, tick, score, report, train, order-<account>)\n`);
    return 2;
  }
  const config = parseConfig();
  // The pod mounts one account's Kraken secret: it must not serve another account's orders.
  if (name.startsWith('order-') && config.AETHER_ACCOUNT && name !== `order-${config.AETHER_ACCOUNT}`) {
    process.stderr.write(`aether serve ${name}: this pod serves AETHER_ACCOUNT=${config.AETHER_ACCOUNT} (order-${config.AETHER_ACCOUNT})\n`);
    return 2;
  }
  const logger = createLogger(config.LOG_LEVEL);
  const stop = onShutdown(logger);
  // The function's code loads while the services connect: a cold start waits for the slower, not both.
  const factory = functionFactory(name);
  factory.catch(() => {}); // awaited below; a failure to open the services must not leave it unhandled
  // Only api encrypts or decrypts with the master key; in the cluster no other function mounts it.
  const services = await openServices(config, { logger, migrate: name === 'api', masterKey: name === 'api' });
  if (await stop.add(services.close)) return 0; // interrupted while starting
  tuneV8ForJobs(logger); // start-up's run-once code is compiled; the function's jobs are not yet
  const app = (await factory)(services.ctx);
  const { server, url } = await stop.starting(() => listen(app.fetch, config));
  if (await stop.add(() => closeServer(server))) return 0;
  services.ctx.logger.info({ function: name, url, mode: config.mode }, 'serving');
  await stop.done;
  return 0;
}

export const help: Help = {
  usage: 'aether serve <function>',
  about: 'Serves one function’s HTTP app on PORT — what an OpenFaaS pod runs. Needs DATABASE_URL (the cluster’s database).',
  flags: [['<function>', 'api, tick, score, report, train or order-<account>']],
  examples: ['PORT=8080 DATABASE_URL=postgres://aether_runtime@db/aether aether serve api'],
};
