/**
 * History on start: in the background, once the server answers, the traded pairs' 1h history is
 * filled (Kraken's OHLC window for the newest bars, CoinGecko for older ones, as far as its free tier
 * reaches; lib/market/backfill.ts `fillHistory`, resumable), then — when no model was ever trained —
 * one training run is queued. Progress goes to the log, to an optional listener (a terminal's
 * progress bar) and to `/healthz` (`history`). Unreachable sources are said once, naming the host
 * and the cause, then retried with a doubling backoff, quietly, until they answer.
 */
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import { tradedPairs } from '../cycle/universe.ts';
import type { Db } from '../db/client.ts';
import type { Logger } from '../log.ts';
import { fillHistory, HistorySourceError, type HistoryStep, type NamedSource } from '../market/backfill.ts';
import { CoinGeckoClient } from '../market/coingecko.ts';
import { KrakenRestClient } from '../market/kraken-rest.ts';
import { BTC_PAIR } from '../ml/features.ts';
import { lastFullRun } from '../ml/registry-store.ts';
import { tradingSettingsSchema } from '../strategy/settings.ts';

export type HistoryState = 'waiting' | 'backfilling' | 'offline' | 'done' | 'failed';

/** What `/healthz` shows under `history`. */
export interface HistoryProgress {
  state: HistoryState;
  pairs: string[];
  /** Bars stored by this run so far. */
  bars: number;
  /** Share of the planned requests done (0..1). */
  done: number;
  /** `replay` in `aether demo`: the history is the repository's recorded candles. */
  source: 'live' | 'replay';
  /** Offline or failed: which host could not be reached and why. */
  error?: string;
  /** Offline: when the next attempt is due (ISO 8601). */
  retryAt?: string;
}

export interface HistorySources {
  recent: NamedSource;
  older: NamedSource;
}

/** A year of hourly bars: what CoinGecko's free and demo tiers serve (365 days back), a day short for safety. */
export const HISTORY_DEPTH_BARS = 364 * 24;
const INTERVAL = 3600;

/** Kraken for the newest bars and CoinGecko (the demo key when configured) for older ones, as configured. */
export function configuredSources(config: Pick<Config, 'KRAKEN_API_URL' | 'COINGECKO_API_URL' | 'COINGECKO_API_KEY'>): HistorySources {
  const host = (url: string) => new URL(url).host;
  return {
    recent: { source: { kind: 'kraken', client: new KrakenRestClient({ baseUrl: config.KRAKEN_API_URL }) }, host: host(config.KRAKEN_API_URL) },
    older: {
      source: { kind: 'coingecko', client: new CoinGeckoClient({ baseUrl: config.COINGECKO_API_URL, maxRetries: 3, ...(config.COINGECKO_API_KEY ? { apiKey: config.COINGECKO_API_KEY } : {}) }) },
      host: host(config.COINGECKO_API_URL),
    },
  };
}

/** The pairs whose history is kept: every traded pair — the default pairs before any account exists — and BTC/USD (the models' cross-asset features). */
export async function historyPairs(db: Db): Promise<string[]> {
  const traded = await tradedPairs(db);
  return [...new Set([...(traded.length ? traded : tradingSettingsSchema.parse({}).pairs), BTC_PAIR])].sort();
}

/**
 * One fill of every pair's missing history (the background runner's attempts); `newerOnly`: just the
 * bars since the newest stored one (the nightly train's top-up after downtime).
 */
export async function fillMissingHistory(
  db: Db,
  clock: Clock,
  sources: HistorySources,
  pairs: readonly string[],
  opts: { newerOnly?: boolean; onStep?: (s: HistoryStep) => void } = {},
): Promise<{ bars: number; steps: number }> {
  const plan = { depthBars: HISTORY_DEPTH_BARS, newerOnly: opts.newerOnly ?? false };
  return fillHistory(db, { pairs, now: clock.now(), interval: INTERVAL, plan, recent: sources.recent, older: sources.older }, opts.onStep);
}

export interface HistoryRunnerOptions {
  db: Db;
  clock: Clock;
  logger: Logger;
  sources: HistorySources;
  source?: HistoryProgress['source'];
  /** Queues one training run (the train job); called once the history is complete and no model was ever trained. */
  train: () => Promise<void>;
  /** Every progress change (a terminal's progress bar). */
  onProgress?: (p: HistoryProgress) => void;
  /** First retry delay after a failure, doubling up to `maxBackoffMs`. */
  backoffMs?: number;
  maxBackoffMs?: number;
}

const pct = (x: number) => `${Math.round(x * 100)}%`;
const day = (t: number) => new Date(t).toISOString().slice(0, 16) + 'Z';

/** The background history fill of a running server; `progress` is what `/healthz` reports. */
export class HistoryRunner {
  progress: HistoryProgress;
  private stopped = false;
  private wake: (() => void) | null = null;
  private running: Promise<void> | null = null;

  constructor(private readonly o: HistoryRunnerOptions) {
    this.progress = { state: 'waiting', pairs: [], bars: 0, done: 0, source: o.source ?? 'live' };
  }

  private set(p: Partial<HistoryProgress>): void {
    const { error: _e, retryAt: _r, ...rest } = this.progress;
    this.progress = { ...rest, ...p };
    this.o.onProgress?.(this.progress);
  }

  /** Starts the fill in the background (never throws: failures are logged and retried). */
  start(): void {
    this.running ??= this.loop().catch((err: unknown) => {
      this.set({ state: 'failed', error: (err as Error).message });
      this.o.logger.error({ err }, 'history: backfill stopped');
    });
  }

  /** Stops retrying and waits for the attempt under way (a request in flight finishes or times out). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.running;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  private async loop(): Promise<void> {
    const log = this.o.logger;
    let backoff = this.o.backoffMs ?? 30_000;
    let offline: string | null = null;
    while (!this.stopped) {
      const pairs = await historyPairs(this.o.db);
      this.set({ state: 'backfilling', pairs, done: 0 });
      try {
        const started = performance.now();
        const onStep = (s: HistoryStep): void => {
          this.set({ state: 'backfilling', bars: this.progress.bars + s.bars, done: s.done / s.total });
          log.info(
            { pair: s.segment.pair, source: s.segment.source === 'recent' ? this.o.sources.recent.host : this.o.sources.older.host, from: day(s.segment.from), to: day(s.segment.to), bars: s.bars, done: pct(s.done / s.total) },
            `history: ${pct(s.done / s.total)} ${s.segment.pair} ${day(s.segment.from)}..${day(s.segment.to)} (${s.bars} bars)`,
          );
        };
        const result = await fillMissingHistory(this.o.db, this.o.clock, this.o.sources, pairs, { onStep });
        if (offline) log.info({ host: offline }, `history: ${offline} answers again`);
        const seconds = (performance.now() - started) / 1000;
        log.info({ pairs, bars: this.progress.bars, requests: result.steps, s: Math.round(seconds * 10) / 10 }, `history: complete for ${pairs.join(', ')} (${this.progress.bars} bars stored)`);
        if ((await lastFullRun(this.o.db)) === null) {
          await this.o.train();
          log.info('history: training queued (the first model is fitted on the history just stored)');
        }
        this.set({ state: 'done', done: 1 });
        return;
      } catch (err) {
        if (!(err instanceof HistorySourceError)) throw err;
        const retryAt = this.o.clock.now() + backoff;
        if (offline !== err.host) {
          offline = err.host;
          log.warn(
            { host: err.host, cause: err.reason, retryInS: Math.round(backoff / 1000) },
            `history: cannot reach ${err.host} (${err.reason}); the server keeps running and retries with backoff (first in ${Math.round(backoff / 1000)} s, at most every ${Math.round((this.o.maxBackoffMs ?? 1_800_000) / 60_000)} min), quietly`,
          );
        } else log.debug({ host: err.host, cause: err.reason }, 'history: still unreachable');
        this.set({ state: 'offline', error: err.message, retryAt: new Date(retryAt).toISOString() });
        await this.sleep(backoff);
        backoff = Math.min(backoff * 2, this.o.maxBackoffMs ?? 1_800_000);
      }
    }
  }
}
