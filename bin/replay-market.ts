/**
 * A market replayed from the repository's recorded Kraken 1h candles, for `aether demo` and the
 * first-start bench and tests: the Kraken emulator (tests/kraken-emulator) serving the candles, and
 * the runtime's wall clock (AETHER_CLOCK_OFFSET_FILE) kept one minute after the close of the
 * emulator's newest closed bar. The offset clock only moves forward from the system clock, so the
 * recorded past is shown as a near future: every candle is shifted by the same whole number of weeks
 * (weekdays and hours stay as recorded).
 */
import { OffsetClock } from '../bench/live/clock.ts';
import type { Candle } from '../lib/market/candle.ts';
import { loadRepoCandles, startKrakenEmulator, type EmulatorOptions, type KrakenEmulator } from '../tests/kraken-emulator/index.ts';

const HOUR = 3_600_000;
const WEEK = 7 * 24 * HOUR;
/** One minute after a bar's close: tick (cron `1 * * * *`) would run then. */
const AFTER_CLOSE_MS = 60_000;

export interface ReplayMarket {
  emu: KrakenEmulator;
  clock: OffsetClock;
  /** Every recorded candle, shifted. */
  candles: Record<string, Candle[]>;
  /** The shifted candles that closed before the replay's first bar (the history a first start finds). */
  history: Record<string, Candle[]>;
  /** Shifted open time of the bar the emulator has open now (the next to close). */
  readonly openBar: number;
  /** Bars left to replay. */
  readonly remaining: number;
  /** Closes the open bar: the emulator moves on one candle, the wall clock to a minute after its close; returns the closed bar's open time. */
  step(): number;
  /** What a shifted time was when recorded. */
  recorded(t: number): number;
  close(): Promise<void>;
}

export interface ReplayOptions {
  /** First bar to replay (recorded time); it needs 720 recorded bars before it (Kraken's OHLC window). */
  from: number;
  /** The file the runtime reads its clock offset from (AETHER_CLOCK_OFFSET_FILE). */
  offsetFile: string;
  port?: number;
  emulator?: Omit<EmulatorOptions, 'candles' | 'startIndex' | 'now' | 'port'>;
}

export async function startReplayMarket(o: ReplayOptions): Promise<ReplayMarket> {
  const repo = loadRepoCandles();
  const timeline = repo['BTC/USD']!.map((c) => c.openTime);
  const start = timeline.findIndex((t) => t >= o.from);
  if (start < 720 || start >= timeline.length - 1) {
    throw new Error(`the replay can start between ${new Date(timeline[720]!).toISOString()} and ${new Date(timeline.at(-2)!).toISOString()} (720 recorded bars must come before it), not at ${new Date(o.from).toISOString()}`);
  }
  // A day ahead of the system clock at least, so that the offset is never negative.
  const shift = Math.ceil((Date.now() + 24 * HOUR - timeline[start]!) / WEEK) * WEEK;
  const candles = Object.fromEntries(Object.entries(repo).map(([p, cs]) => [p, cs.map((c) => ({ ...c, openTime: c.openTime + shift }))]));
  const history = Object.fromEntries(Object.entries(candles).map(([p, cs]) => [p, cs.filter((c) => c.openTime + HOUR <= timeline[start]! + shift)]));
  const clock = new OffsetClock(o.offsetFile);
  const emu = await startKrakenEmulator({ ...o.emulator, candles, startIndex: start, now: () => clock.now(), ...(o.port !== undefined ? { port: o.port } : {}) });
  const time = (i: number) => timeline[i]! + shift;
  clock.jumpTo(time(emu.exchange.cursor) + AFTER_CLOSE_MS); // the open bar's first minute: the one before it has just closed
  return {
    emu,
    clock,
    candles,
    history,
    get openBar() {
      return time(emu.exchange.cursor);
    },
    get remaining() {
      return timeline.length - 1 - emu.exchange.cursor;
    },
    step() {
      const closed = time(emu.exchange.cursor);
      emu.advance(1);
      clock.jumpTo(time(emu.exchange.cursor) + AFTER_CLOSE_MS);
      return closed;
    },
    recorded: (t) => t - shift,
    close: () => emu.close(),
  };
}
