import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';

/**
 * A local stand-in for Neon's wsproxy: the Neon serverless driver speaks the PostgreSQL wire protocol
 * over a WebSocket, and this proxy pipes those bytes to a TCP PostgreSQL. It accepts
 * `ws://127.0.0.1:<port>/v2?address=host:port` (Neon's form) and only loopback targets, so it cannot
 * become an open relay; `target` pins every connection to one server instead.
 */
export interface NeonProxy {
  port: number;
  /** WebSocket connections piped through to PostgreSQL so far. */
  readonly connections: number;
  /** Bytes relayed in each direction. */
  readonly bytesToServer: number;
  readonly bytesToClient: number;
  /** The `neonConfig.wsProxy` function that routes the driver through this proxy. */
  wsProxy(host: string, port: number | string): string;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

function parseTarget(requestUrl: string | undefined): { host: string; port: number } {
  const url = new URL(requestUrl ?? '/', 'ws://proxy');
  if (url.pathname !== '/v2') throw new Error(`unexpected path ${url.pathname}`);
  const address = url.searchParams.get('address') ?? '';
  const m = /^(.+):(\d{1,5})$/.exec(address);
  if (!m) throw new Error(`address must be host:port, got "${address}"`);
  const host = m[1]!;
  if (!LOOPBACK.has(host)) throw new Error(`refusing non-loopback target ${host}`);
  return { host, port: Number(m[2]) };
}

export async function startNeonProxy(opts: { target?: { host: string; port: number } } = {}): Promise<NeonProxy> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((ok, fail) => {
    wss.once('listening', ok);
    wss.once('error', fail);
  });
  const port = (wss.address() as AddressInfo).port;
  const sockets = new Set<Socket>();
  let connections = 0;
  let bytesToServer = 0;
  let bytesToClient = 0;

  wss.on('connection', (ws: WebSocket, req) => {
    let target: { host: string; port: number };
    try {
      target = opts.target ?? parseTarget(req.url);
    } catch (err) {
      ws.close(1008, (err as Error).message.slice(0, 120));
      return;
    }
    connections++;
    const tcp = connect(target.port, target.host); // writes before 'connect' are queued by node:net
    sockets.add(tcp);
    ws.on('message', (data: RawData) => {
      const chunk = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      bytesToServer += chunk.length;
      tcp.write(chunk);
    });
    tcp.on('data', (chunk) => {
      bytesToClient += chunk.length;
      ws.send(chunk, { binary: true });
    });
    const end = (): void => {
      tcp.destroy();
      if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close();
    };
    ws.on('close', end);
    ws.on('error', end);
    tcp.on('close', () => {
      sockets.delete(tcp);
      end();
    });
    tcp.on('error', end);
  });

  return {
    port,
    get connections() {
      return connections;
    },
    get bytesToServer() {
      return bytesToServer;
    },
    get bytesToClient() {
      return bytesToClient;
    },
    wsProxy: (host, targetPort) => `127.0.0.1:${port}/v2?address=${host}:${targetPort}`,
    close: async () => {
      for (const s of sockets) s.destroy();
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((ok, fail) => wss.close((err) => (err ? fail(err) : ok())));
    },
  };
}
