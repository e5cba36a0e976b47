import { createAccount, type Account } from '../../lib/accounts/accounts.ts';
import { EncryptedSecretStore, saveCredentials } from '../../lib/accounts/credentials.ts';
import { latestSettings, putSettings, seedAccount } from '../../lib/accounts/settings.ts';
import { parseConfig } from '../../lib/config.ts';
import type { AppContext } from '../../lib/context.ts';
import { saveSignal } from '../../lib/cycle/live-store.ts';
import { withAccount } from '../../lib/db/scope.ts';
import { checkKrakenCredentials } from '../../lib/exchange/kraken-credentials.ts';
import { PgNonceStore } from '../../lib/exchange/kraken-nonce.ts';
import type { Candle } from '../../lib/market/candle.ts';
import { upsertCandles } from '../../lib/market/store.ts';
import { openQueueClient, type QueueClient } from '../../lib/queue/client.ts';
import { jobRequest } from '../../lib/queue/dispatcher.ts';
import { orderFunction } from '../../lib/queue/jobs.ts';
import { createApp as orderApp } from '../../functions/order/handler.ts';
import { generateKey, loadRepoCandles, startKrakenEmulator, type EmulatorOptions, type KrakenEmulator } from '../kraken-emulator/index.ts';
import { SteppedClock } from './clock.ts';
import { testContext } from './context.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';

export const HOUR = 3_600_000;
export const LIVE_PAIRS = ['BTC/USD', 'ETH/USD', 'SOL/USD'] as const;
const START_INDEX = 900;

export interface LiveAccount {
  account: Account;
  key: { key: string; secret: string };
}

/**
 * The live order job as it runs, on a test database, against the Kraken emulator (strict nonces and
 * counters) on one wall clock that both share: each bar is traded a minute after it closes. Candles
 * come from the emulator's own price path, stored as `tick` would store them.
 */
export interface LiveHarness {
  t: TestDatabase;
  emu: KrakenEmulator;
  wall: SteppedClock;
  ctx: AppContext;
  queue: QueueClient;
  /** Open time of the newest closed bar (the one an order job may trade now). */
  bar(): number;
  /** Moves the emulator's market on `n` bars, stores the new candles and moves wall time along. */
  advance(n?: number): Promise<void>;
  liveAccount(slug: string, balances?: Record<string, number>): Promise<LiveAccount>;
  simAccount(slug: string, usd?: number): Promise<Account>;
  /** A stored signal for the current bar (what `score` writes). */
  signal(pair: string, probUp: number, o?: { expectedReturn?: number; atrPct?: number; regime?: 'bull' | 'bear' | 'sideways' }): Promise<void>;
  /** The account's order job for the current bar through its function, as the dispatcher calls it. */
  cycle(slug: string, barTime?: number): Promise<{ status: number; body: Record<string, unknown> }>;
  close(): Promise<void>;
}

export async function startLiveHarness(o: { emulator?: Partial<EmulatorOptions> } = {}): Promise<LiveHarness> {
  const t = await createTestDatabase();
  const queue = await openQueueClient({ databaseUrl: t.url, onError: () => undefined });
  const timeline = loadRepoCandles()['BTC/USD']!.map((c) => c.openTime);
  const wall = new SteppedClock(timeline[START_INDEX]! + 60_000);
  const emu = await startKrakenEmulator({ startIndex: START_INDEX, now: () => wall.now(), ...o.emulator });
  const ctx = testContext(t.app.db, queue, {
    clock: wall,
    config: { ...parseConfig({ AETHER_HOME: '/nonexistent' }), KRAKEN_API_URL: emu.url },
  });
  const apps = new Map<string, ReturnType<typeof orderApp>>();
  const closedCandles = (count: number): Candle[] =>
    LIVE_PAIRS.flatMap((symbol) =>
      emu.exchange
        .history(emu.exchange.pairs.find((p) => p.symbol === symbol)!, count + 1)
        .slice(0, -1) // the last one is still open
        .map((c) => ({ ...c, pair: symbol })),
    );
  await upsertCandles(t.app.db, closedCandles(500), 'csv');
  const bar = () => emu.exchange.path.timeline[emu.exchange.cursor]! - HOUR;

  const makeAccount = async (slug: string) =>
    t.app.db.transaction(async (tx) => {
      const a = await createAccount(tx, { slug, name: slug, kind: 'other' }, null, wall);
      await seedAccount(tx, a.id, null, wall);
      return a;
    }).then(async (a) => {
      // The tests drive the order job bar by bar with the signals they store: every bar is a decision
      // (the default decides once a day at 00:00 UTC), and no trailing stop moves a level they set.
      await withAccount(t.app.db, a.id, async (tx) => {
        const trading = await latestSettings(tx, a.id, 'trading');
        await putSettings(tx, a.id, 'trading', { ...trading.value, decisionInterval: 3600 }, null, wall);
        const risk = await latestSettings(tx, a.id, 'risk');
        await putSettings(tx, a.id, 'risk', { ...risk.value, trailAtrMultiple: 0 }, null, wall);
      });
      return a;
    });

  return {
    t,
    emu,
    wall,
    ctx,
    queue,
    bar,
    async advance(n = 1) {
      emu.advance(n);
      await upsertCandles(t.app.db, closedCandles(n), 'csv');
      wall.jumpTo(bar() + HOUR + 60_000);
    },
    async liveAccount(slug, balances = { USD: 50_000 }) {
      const key = generateKey();
      emu.addKey({ ...key, tier: 'starter', balances });
      const account = await makeAccount(slug);
      // As a user does it: the key is checked against Kraken, stored, then the account goes live.
      const check = await checkKrakenCredentials(emu.url, { apiKey: key.key, apiSecret: key.secret }, { accountId: account.id, nonceStore: new PgNonceStore(t.app.db), clock: wall });
      if (!check.ok) throw new Error(`key check failed: ${check.reason}`);
      await withAccount(t.app.db, account.id, async (tx) => {
        await saveCredentials(tx, account, { apiKey: key.key, apiSecret: key.secret }, new EncryptedSecretStore(ctx.masterKey), null, wall);
        const sim = await latestSettings(tx, account.id, 'simulation');
        await putSettings(tx, account.id, 'simulation', { ...sim.value, enabled: false }, null, wall);
      });
      return { account, key };
    },
    async simAccount(slug, usd = 50_000) {
      const account = await makeAccount(slug);
      await withAccount(t.app.db, account.id, async (tx) => {
        const sim = await latestSettings(tx, account.id, 'simulation');
        await putSettings(tx, account.id, 'simulation', { ...sim.value, initialUsd: usd }, null, wall);
      });
      return account;
    },
    async signal(pair, probUp, s = {}) {
      await t.app.db.transaction((tx) =>
        saveSignal(tx, {
          pair,
          time: bar(),
          probUp,
          expectedReturn: s.expectedReturn ?? 0.05,
          horizonBars: 24,
          regime: { label: s.regime ?? 'bull', probs: { bull: 0.8, sideways: 0.15, bear: 0.05 } },
          volatility: 0.01,
          atrPct: s.atrPct ?? 0.02,
          modelVersion: 'test-model',
        }),
      );
    },
    async cycle(slug, barTime = bar()) {
      let app = apps.get(slug);
      if (!app) apps.set(slug, (app = orderApp(ctx, slug)));
      const res = await app.request('/', jobRequest(ctx, orderFunction(slug), { account: slug, barTime }));
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    },
    async close() {
      await queue.close();
      await emu.close();
      await t.drop();
    },
  };
}
