import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { serve, type ServerType } from '@hono/node-server';
import type { Config } from '../lib/config.ts';
import { StartupError } from './services.ts';

/** The port is taken (another Aether, another program): the message says how to choose another. */
export class PortInUseError extends StartupError {
  constructor(host: string, port: number) {
    super(`port ${port} on ${host} is already in use: stop the program using it, or set PORT to a free port (e.g. PORT=${port === 8080 ? 8081 : 8080})`);
  }
}

/** Serves a fetch handler on HOST:PORT, over TLS when TLS_CERT/TLS_KEY are set. Resolves once listening. */
export function listen(fetch: (req: Request) => Response | Promise<Response>, config: Config): Promise<{ server: ServerType; url: string }> {
  const tls = config.TLS_CERT && config.TLS_KEY ? { cert: readFileSync(config.TLS_CERT), key: readFileSync(config.TLS_KEY) } : null;
  return new Promise((ok, fail) => {
    const server = serve(
      { fetch, port: config.PORT, hostname: config.HOST, ...(tls ? { createServer: createHttpsServer, serverOptions: tls } : {}) },
      (info) => ok({ server, url: `${tls ? 'https' : 'http'}://${config.HOST}:${info.port}` }),
    );
    server.once('error', (err: NodeJS.ErrnoException) => fail(err.code === 'EADDRINUSE' ? new PortInUseError(config.HOST, config.PORT) : err));
  });
}

export const closeServer = (server: ServerType): Promise<void> =>
  new Promise((ok) => {
    server.close(() => ok());
    (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
  });
