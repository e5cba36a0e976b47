/** The HTTP side: Kraken's /0/public and /0/private routes, auth, rate limits, faults and the request log. */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MarketStatus } from '../../lib/exchange/types.ts';
import type { Candle } from '../../lib/market/candle.ts';
import { loadRepoCandles } from './csv.ts';
import { KrakenError, KrakenExchange, type Account, type EmuOrder, type EmuTrade, type KeyInit, type MarginAttempt, type Params, type SystemStatus } from './exchange.ts';
import { FaultPlan, isProcessingFault, parseScenario, type FaultSpec, type ProcessingFault, type Scenario } from './faults.ts';
import { findAsset } from './markets.ts';
import { permitted, type Permission } from './permissions.ts';
import { privateMethod } from './private-api.ts';
import { publicMethod } from './public-api.ts';
import type { LockoutPolicy } from './ratelimit.ts';
import { verifyKrakenSignature } from './sign.ts';
import { WsHub } from './ws.ts';

export interface RecordedRequest {
  method: string; // HTTP method
  path: string; // "/0/private/AddOrder"
  api: 'public' | 'private' | 'other';
  name: string; // Kraken method, "AddOrder"
  params: Params;
  key: string | null;
  time: number; // emulator time (ms)
  /**
   * The HTTP status answered, or what happened instead: 'timeout' (never answered), 'reset' (socket
   * destroyed unprocessed), 'dropped' (processed, then the socket destroyed: accept-then-drop),
   * 'delayed' (processed, answered only after the fault's delay: accept-then-delay), 'pending'. An
   * accept-then-http reply records its 5xx status with `processed: true`.
   */
  status: number | 'timeout' | 'reset' | 'dropped' | 'delayed' | 'pending';
  /** The Kraken method ran, so its effects (a placed order, a counter charged) are real, whatever the client got. */
  processed: boolean;
  /** The Kraken errors the method produced (for a spoiled reply: what the client would have read). */
  errors: string[];
}

/**
 * Called for every private request once authentication succeeded: 'received' before the method runs,
 * 'processed' after it ran and before the reply is written. The server awaits a returned promise, so
 * a bench can kill a process "in the middle of an order" or hold the reply back.
 */
export type PrivateRequestHook = (rec: RecordedRequest, phase: 'received' | 'processed') => void | Promise<void>;

type Payload = { error: string[]; result?: unknown };

export interface EmulatorOptions {
  host?: string;
  port?: number; // 0 = any free port
  candles?: Record<string, Candle[]>; // default: the repository's real Kraken 1h BTC/ETH/SOL candles
  startIndex?: number; // replay cursor at start (default 720, so OHLC has a full window)
  keys?: KeyInit[];
  scenario?: Scenario;
  now?: () => number;
  halfSpread?: number; // default 0.0005 (5 bp either side of the close)
  seed?: number; // PRNG seed for probabilistic faults
  heartbeatMs?: number; // WS heartbeat period, default 1000
  lockout?: LockoutPolicy; // breaches (rate-limit refusals, bad nonces/signatures) → EGeneral:Temporary lockout
  maxFillShare?: number; // partial fills: a resting limit fills at most this share of a candle's volume
  onPrivateRequest?: PrivateRequestHook;
}

export interface KrakenEmulator {
  readonly url: string;
  readonly wsUrl: string;
  readonly requests: RecordedRequest[];
  readonly faults: { add(spec: FaultSpec | FaultSpec[]): void; clear(): void; pending(): FaultSpec[]; fired: FaultPlan['fired'] };
  readonly exchange: KrakenExchange;
  /** Emulator bugs (answered as HTTP 500): a test can assert this stays empty. */
  readonly internalErrors: Error[];
  /** Private calls received (optionally from one key, optionally of one method). */
  privateCalls(key?: string, method?: string): number;
  /** Requests received for a Kraken method name. */
  calls(name: string, key?: string): RecordedRequest[];
  advance(n?: number): EmuTrade[];
  orders(key: string): EmuOrder[];
  trades(key: string): EmuTrade[];
  balances(key: string): Record<string, { total: number; hold: number; free: number }>;
  setBalance(key: string, asset: string, amount: number): void;
  addKey(init: KeyInit): void;
  /** Replaces a key's permissions, as editing the key in Kraken's settings does. */
  setPermissions(key: string, permissions: readonly Permission[]): void;
  /** AddOrder attempts that carried leverage / margin parameters (refused). */
  marginAttempts(): MarginAttempt[];
  /** Replaces (or with undefined removes) the private-request hook (see `PrivateRequestHook`). */
  setPrivateRequestHook(hook: PrivateRequestHook | undefined): void;
  /** online | maintenance (everything but Time/SystemStatus → EService:Unavailable) | cancel_only | post_only. */
  setSystemStatus(s: SystemStatus): void;
  /** Changes one pair's AssetPairs status (by key, altname or wsname), e.g. to cancel_only mid-test. */
  setPairStatus(pair: string, status: MarketStatus): void;
  ws: { dropAll(): void; stopHeartbeats(): void; startHeartbeats(): void; readonly connections: number };
  close(): Promise<void>;
}

const ROUTE = /^\/0\/(public|private)\/([A-Za-z]+)$/;

function parseForm(body: string): Params {
  const out: Params = {};
  for (const [k, v] of new URLSearchParams(body)) {
    const nested = /^([^[\]]+)\[([^[\]]+)\]$/.exec(k);
    if (nested) {
      const parent = (out[nested[1]!] ??= {});
      if (typeof parent === 'string') throw new KrakenError('EGeneral:Invalid arguments');
      parent[nested[2]!] = v;
    } else out[k] = v;
  }
  return out;
}

function parseJsonBody(body: string): Params {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    throw new KrakenError('EGeneral:Invalid arguments');
  }
  if (typeof raw !== 'object' || raw === null) throw new KrakenError('EGeneral:Invalid arguments');
  const out: Params = {};
  for (const [k, v] of Object.entries(raw)) {
    out[k] = typeof v === 'object' && v !== null ? Object.fromEntries(Object.entries(v).map(([a, b]) => [a, String(b)])) : String(v);
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const HTTP_TEXT: Record<number, string> = { 429: 'Too Many Requests', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout', 520: 'Web server is returning an unknown error' };

export async function startKrakenEmulator(opts: EmulatorOptions = {}): Promise<KrakenEmulator> {
  const scenario = opts.scenario ? parseScenario(opts.scenario) : undefined;
  const now = opts.now ?? (() => Date.now());
  const candles = opts.candles ?? loadRepoCandles();
  const firstSeries = candles['BTC/USD'] ?? Object.values(candles)[0] ?? []; // the timeline series
  const startIndex = opts.startIndex ?? scenario?.startIndex ?? Math.min(720, Math.max(0, firstSeries.length - 2));
  const maxFillShare = opts.maxFillShare ?? scenario?.maxFillShare;
  const lockout = opts.lockout ?? scenario?.lockout;
  const ex = new KrakenExchange({
    candles,
    startIndex,
    halfSpread: opts.halfSpread ?? scenario?.halfSpread ?? 0.0005,
    now,
    ...(lockout ? { lockout } : {}),
    ...(maxFillShare !== undefined ? { maxFillShare } : {}),
  });
  for (const k of [...(opts.keys ?? []), ...(scenario?.keys ?? [])]) ex.addAccount(k);
  const plan = new FaultPlan(opts.seed ?? scenario?.seed ?? 1);
  if (scenario) plan.add(scenario.faults);
  const requests: RecordedRequest[] = [];
  const held = new Set<ServerResponse>();
  const delayed = new Set<NodeJS.Timeout>();
  const internalErrors: Error[] = [];
  let hook = opts.onPrivateRequest;

  const writeJson = (res: ServerResponse, payload: Payload) => {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(payload));
  };

  const reply = (rec: RecordedRequest, res: ServerResponse, payload: Payload) => {
    rec.status = 200;
    rec.errors = payload.error;
    writeJson(res, payload);
  };

  /** The request ran for real; now the fault spoils the reply the client gets. */
  const spoil = (f: ProcessingFault, rec: RecordedRequest, req: IncomingMessage, res: ServerResponse, payload: Payload) => {
    rec.errors = payload.error;
    switch (f.kind) {
      case 'accept-then-drop': // the client sees a network error
        rec.status = 'dropped';
        req.socket.destroy();
        return;
      case 'accept-then-http': // "5xx after placing"
        rec.status = f.status;
        res.writeHead(f.status, { 'content-type': 'text/plain' }).end(f.body ?? HTTP_TEXT[f.status] ?? 'Error');
        return;
      case 'accept-then-delay': {
        // The real reply, later than the client's timeout; written only if the client still listens.
        rec.status = 'delayed';
        const timer = setTimeout(() => {
          delayed.delete(timer);
          if (!res.destroyed && !res.writableEnded) writeJson(res, payload);
        }, f.ms);
        delayed.add(timer);
        return;
      }
    }
  };

  /** Key, then the REST counter (failed calls count too), then signature, then nonce. */
  const authenticate = (rec: RecordedRequest, req: IncomingMessage, path: string, body: string, params: Params): Account => {
    const key = rec.key;
    const acc = key ? ex.accounts.get(key) : undefined;
    if (!acc) throw new KrakenError('EAPI:Invalid key');
    const verdict = acc.rest.admit(rec.name);
    if (verdict !== 'ok') throw new KrakenError(verdict);
    const sign = req.headers['api-sign'];
    const nonce = params.nonce;
    if (typeof sign !== 'string' || typeof nonce !== 'string' || !verifyKrakenSignature(path, nonce, body, acc.secret, sign)) {
      acc.rest.strike();
      throw new KrakenError('EAPI:Invalid signature');
    }
    if (!/^\d{1,20}$/.test(nonce) || (acc.lastNonce !== null && BigInt(nonce) <= acc.lastNonce)) {
      acc.rest.strike();
      throw new KrakenError('EAPI:Invalid nonce');
    }
    acc.lastNonce = BigInt(nonce);
    return acc;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, body: string) => {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const m = ROUTE.exec(url.pathname);
    const rec: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      api: m ? (m[1] as 'public' | 'private') : 'other',
      name: m?.[2] ?? '',
      params: {},
      key: typeof req.headers['api-key'] === 'string' ? req.headers['api-key'] : null,
      time: now(),
      status: 'pending',
      processed: false,
      errors: [],
    };
    requests.push(rec);
    try {
      await serve(rec, req, res, body, url, m);
    } catch (e) {
      internalError(rec, res, e);
    }
  };

  /** An emulator bug must be loud: kept, printed, and answered 500 with the message. */
  const internalError = (rec: RecordedRequest, res: ServerResponse, e: unknown) => {
    const err = e instanceof Error ? e : new Error(String(e));
    internalErrors.push(err);
    console.error('kraken-emulator internal error', err);
    rec.status = 500;
    if (res.destroyed || res.writableEnded) return;
    if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
    res.end(`kraken-emulator internal error: ${err.stack ?? err.message}`);
  };

  const serve = async (rec: RecordedRequest, req: IncomingMessage, res: ServerResponse, body: string, url: URL, m: RegExpExecArray | null) => {
    if (!m) {
      rec.status = 404;
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found');
      return;
    }
    const api = m[1] as 'public' | 'private';
    try {
      const json = (req.headers['content-type'] ?? '').includes('application/json');
      rec.params = api === 'public' ? { ...parseForm(url.search.slice(1)), ...(body ? parseForm(body) : {}) } : json ? parseJsonBody(body) : parseForm(body);
    } catch (e) {
      if (!(e instanceof KrakenError)) throw e;
      return reply(rec, res, { error: [e.code] });
    }
    const faults = plan.take(rec.name, rec.key);
    for (const f of faults) if (f.kind === 'latency') await sleep(f.ms);
    const terminal = faults.find((f) => f.kind !== 'latency');
    switch (terminal?.kind) {
      case 'timeout':
        rec.status = 'timeout';
        held.add(res);
        res.on('close', () => held.delete(res));
        return;
      case 'reset':
        rec.status = 'reset';
        req.socket.destroy();
        return;
      case 'http':
        rec.status = terminal.status;
        res.writeHead(terminal.status, { 'content-type': 'text/plain' }).end(terminal.body ?? HTTP_TEXT[terminal.status] ?? 'Error');
        return;
      case 'error':
        return reply(rec, res, { error: [terminal.error] });
      default:
        break;
    }
    const payload = await run(rec, req, url.pathname, body, api);
    // The dangerous ones: the work is done (an order really is placed), the client does not hear it.
    if (terminal && isProcessingFault(terminal)) return spoil(terminal, rec, req, res, payload);
    reply(rec, res, payload);
  };

  /** Runs a Kraken method call (private: authenticated, with the hook around it); Kraken errors become the payload. */
  const run = async (rec: RecordedRequest, req: IncomingMessage, path: string, body: string, api: 'public' | 'private'): Promise<Payload> => {
    try {
      // During maintenance only the clock and the status page answer.
      if (ex.systemStatus === 'maintenance' && rec.name !== 'Time' && rec.name !== 'SystemStatus') throw new KrakenError('EService:Unavailable');
      if (api === 'public') {
        if (req.method !== 'GET' && req.method !== 'POST') throw new KrakenError('EGeneral:Invalid arguments');
        rec.processed = true;
        return { error: [], result: publicMethod(ex, rec.name, rec.params, now(), ex.systemStatus) };
      }
      if (req.method !== 'POST') throw new KrakenError('EGeneral:Invalid arguments');
      const acc = authenticate(rec, req, path, body, rec.params);
      await hook?.(rec, 'received');
      const payload = callPrivate(rec, acc);
      await hook?.(rec, 'processed');
      return payload;
    } catch (e) {
      if (!(e instanceof KrakenError)) throw e;
      return { error: [e.code] };
    }
  };

  /** The private method itself; a refusal it throws is still a processed call (counters may have moved). */
  const callPrivate = (rec: RecordedRequest, acc: Account): Payload => {
    rec.processed = true;
    try {
      if (!permitted(rec.name, acc.permissions)) throw new KrakenError('EGeneral:Permission denied');
      return { error: [], result: privateMethod(ex, acc, rec.name, rec.params) };
    } catch (e) {
      if (!(e instanceof KrakenError)) throw e;
      return { error: [e.code] };
    }
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void handle(req, res, Buffer.concat(chunks).toString('utf8'));
    });
  });
  const hub = new WsHub(ex, now, opts.heartbeatMs ?? 1000);
  hub.attach(server);

  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://${host}:${port}`,
    wsUrl: `ws://${host}:${port}/v2`,
    requests,
    faults: { add: (s) => plan.add(s), clear: () => plan.clear(), pending: () => plan.pending(), fired: plan.fired },
    exchange: ex,
    internalErrors,
    privateCalls: (key, method) => requests.filter((r) => r.api === 'private' && (key === undefined || r.key === key) && (method === undefined || r.name === method)).length,
    calls: (name, key) => requests.filter((r) => r.name === name && (key === undefined || r.key === key)),
    advance: (n = 1) => ex.advance(n),
    orders: (key) => ex.ordersOf(key),
    trades: (key) => ex.tradesOf(key),
    balances: (key) => {
      const acc = ex.account(key);
      const out: Record<string, { total: number; hold: number; free: number }> = {};
      for (const [asset, total] of acc.balances) {
        const hold = ex.held(acc, asset);
        out[asset] = { total, hold, free: total - hold };
      }
      return out;
    },
    setBalance: (key, asset, amount) => {
      if (!findAsset(asset)) throw new Error(`unknown asset ${asset}`);
      ex.setBalance(ex.account(key), asset, amount);
    },
    addKey: (init) => void ex.addAccount(init),
    setPermissions: (key, permissions) => {
      ex.account(key).permissions = new Set(permissions);
    },
    marginAttempts: () => ex.marginAttempts,
    setPrivateRequestHook: (fn) => {
      hook = fn;
    },
    setSystemStatus: (s) => {
      ex.systemStatus = s;
    },
    setPairStatus: (pair, status) => ex.setPairStatus(pair, status),
    ws: {
      dropAll: () => hub.dropAll(),
      stopHeartbeats: () => hub.stopHeartbeats(),
      startHeartbeats: () => hub.startHeartbeats(),
      get connections() {
        return hub.connectionCount;
      },
    },
    close: async () => {
      for (const timer of delayed) clearTimeout(timer);
      delayed.clear();
      for (const res of held) res.destroy();
      await hub.close();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
    },
  };
}
