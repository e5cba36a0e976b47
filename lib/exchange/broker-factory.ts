import type * as KrakenBrokerModule from './kraken-broker.ts';
import type * as KrakenNonceModule from './kraken-nonce.ts';
import type { Account } from '../accounts/accounts.ts';
import { loadCredentials, type KrakenCredentials } from '../accounts/credentials.ts';
import { latestSettings, type SettingsOf } from '../accounts/settings.ts';
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import type { Db, Tx } from '../db/client.ts';
import { withAccount } from '../db/scope.ts';
import type { Logger } from '../log.ts';
import { PgSimStateStore } from './pg-sim-store.ts';
import { SimBroker } from './sim-broker.ts';
import type { PriceSource } from './sim-types.ts';
import type { KrakenBroker } from './kraken-broker.ts';
import { USD_MARKETS } from './usd-markets.ts';

export interface BrokerDeps {
  db: Db;
  /**
   * The two clocks (DESIGN.md §1): `market` is the decision time (the bar's close), on which the
   * SimBroker fills like the backtest does; `wall` is when things happen to the outside world, the
   * only clock a KrakenBroker ever gets (nonces, rate limits, timeouts, lockouts).
   */
  clocks: { market: Clock; wall: Clock };
  config: Pick<Config, 'KRAKEN_API_URL' | 'SECRETS_DIR' | 'KUBERNETES_SERVICE_HOST'>;
  masterKey: Buffer;
  logger: Logger;
  /** Quotes and bars the SimBroker fills against. */
  prices: PriceSource;
}

/** The account's broker; its markets come from `broker.loadMarkets()` (live: AssetPairs and the fee tier, which callers may read alongside other calls). */
export type AccountBroker = { mode: 'sim'; broker: SimBroker } | { mode: 'live'; broker: KrakenBroker };

/** What the factory reads to decide: the account's simulation setting, and its key when it is live. */
export interface BrokerSetup {
  initialUsd: number;
  /** Null in simulation: the key is never loaded then. */
  credentials: KrakenCredentials | null;
}

/** Reads the broker setup inside the caller's account transaction (one round of reads per job). */
export async function readBrokerSetup(tx: Tx, accountId: string, deps: Pick<BrokerDeps, 'config' | 'masterKey'>): Promise<BrokerSetup> {
  return brokerSetup(tx, accountId, (await latestSettings(tx, accountId, 'simulation')).value, deps);
}

/** The broker setup for the account's simulation setting, already read: the keys are loaded only for a live account. */
export async function brokerSetup(tx: Tx, accountId: string, sim: SettingsOf<'simulation'>, deps: Pick<BrokerDeps, 'config' | 'masterKey'>): Promise<BrokerSetup> {
  const credentials = sim.enabled
    ? null
    : await loadCredentials(tx, accountId, { mode: deps.config.KUBERNETES_SERVICE_HOST ? 'cluster' : 'embedded', secretsDir: deps.config.SECRETS_DIR, masterKey: deps.masterKey });
  return { initialUsd: sim.initialUsd, credentials };
}

/** Loaded with the first live broker: a process that only simulates never imports ccxt. */
let krakenModule: { prepareKrakenSessions(accountId: string): void } | null = null;
/**
 * The live modules, imported once: an `import()` of a loaded module still resolves its specifier
 * again (under a loader's hooks, a round trip to their thread) — a millisecond of every job.
 */
let liveModules: Promise<[typeof KrakenBrokerModule, typeof KrakenNonceModule]> | null = null;
const loadLiveModules = () => (liveModules ??= Promise.all([import('./kraken-broker.ts'), import('./kraken-nonce.ts')]));

/**
 * An order job of the account is starting: a live broker this process already holds for it gets its
 * nonces in step with the store meanwhile (a database round trip the first Kraken call would wait for).
 */
export function prepareLiveBroker(accountId: string): void {
  krakenModule?.prepareKrakenSessions(accountId);
}

/**
 * The only place a broker is built. The account's own simulation setting decides: in simulation it
 * is a SimBroker and the Kraken key is never loaded, nor ccxt imported; only an account switched to
 * live (verified keys, confirmed, audited) gets a KrakenBroker.
 */
export async function brokerForAccount(deps: BrokerDeps, account: Pick<Account, 'id' | 'slug'>, setup?: BrokerSetup): Promise<AccountBroker> {
  const { initialUsd, credentials } = setup ?? (await withAccount(deps.db, account.id, (tx) => readBrokerSetup(tx, account.id, deps)));
  if (credentials === null) {
    const broker = new SimBroker({
      accountId: account.id,
      markets: [...USD_MARKETS],
      clock: deps.clocks.market,
      prices: deps.prices,
      store: new PgSimStateStore(deps.db),
      initial: { balances: { USD: initialUsd } },
    });
    return { mode: 'sim', broker };
  }
  const [kraken, { PgNonceStore }] = await loadLiveModules();
  const { krakenBrokerFor } = (krakenModule = kraken);
  // One broker per key in the process: every job of the account shares its limiter, nonces and caches.
  const broker = await krakenBrokerFor({
    accountId: account.id,
    accountSlug: account.slug,
    credentials,
    apiUrl: deps.config.KRAKEN_API_URL,
    nonceStore: new PgNonceStore(deps.db),
    clock: deps.clocks.wall,
    // Market statuses change (limit_only, cancel_only during incidents): AssetPairs is read again after
    // every hourly job's orders, and a job decides on its predecessor's read — waiting for a new one
    // only when that is older than three hours (a missed cycle, a restart) or Kraken refused an order
    // for what a listing governs. The fee tier follows 30-day volume: once a day is enough.
    marketsTtlMs: 300_000,
    marketsMaxAgeMs: 3 * 3_600_000,
    feeTtlMs: 86_400_000,
    // Time to resolve a lost AddOrder reply (the request's timeout, lookups that may wait on the
    // counter, the settle between them): a job later than this sends no new order, it does not fail.
    submitReserveMs: 30_000,
    logger: deps.logger.child({ account: account.slug }),
  });
  return { mode: 'live', broker };
}
