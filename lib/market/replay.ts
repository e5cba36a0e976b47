import type { VirtualClock } from '../clock.ts';
import { closeTime, type Candle } from './candle.ts';
import { readCandlesCsv } from './csv.ts';

export interface ReplayStep {
  /** The clock time of the step: the close time of its bars. */
  time: number;
  candles: Candle[];
}

/**
 * Several pairs' recorded bars replayed in time order on a virtual clock (backtests). A bar is handed
 * out once the clock has reached its CLOSE time — never earlier, so a backtest cannot peek at a bar that
 * is still forming. Bars closing at the same moment come together, ordered by pair.
 */
export class CsvReplayFeed {
  private readonly bars: Candle[];
  private cursor = 0;

  constructor(
    series: Readonly<Record<string, readonly Candle[]>>,
    private readonly clock: VirtualClock,
  ) {
    for (const [pair, s] of Object.entries(series)) {
      for (let i = 0; i < s.length; i++) {
        const c = s[i]!;
        if (c.pair !== pair) throw new Error(`replay: series ${pair} holds a ${c.pair} bar`);
        if (i > 0 && c.openTime <= s[i - 1]!.openTime) throw new Error(`replay: ${pair} is not in increasing time order at ${new Date(c.openTime).toISOString()}`);
      }
    }
    this.bars = Object.values(series)
      .flat()
      .sort((a, b) => closeTime(a) - closeTime(b) || (a.pair < b.pair ? -1 : a.pair > b.pair ? 1 : 0));
    // Bars that closed before the clock's start are history, not news.
    while (this.cursor < this.bars.length && closeTime(this.bars[this.cursor]!) <= clock.now()) this.cursor++;
  }

  /** Replays `time,open,high,low,close,volume` files (pair → path). */
  static fromFiles(files: Readonly<Record<string, string>>, clock: VirtualClock, range: { from?: number; to?: number } = {}): CsvReplayFeed {
    const series: Record<string, Candle[]> = {};
    for (const [pair, path] of Object.entries(files)) {
      series[pair] = readCandlesCsv(path, pair).filter((c) => (range.from === undefined || c.openTime >= range.from) && (range.to === undefined || c.openTime < range.to));
    }
    return new CsvReplayFeed(series, clock);
  }

  get done(): boolean {
    return this.cursor >= this.bars.length;
  }

  /** The close time of the next bar to come, or null when the replay is over. */
  nextCloseTime(): number | null {
    const next = this.bars[this.cursor];
    return next ? closeTime(next) : null;
  }

  /** The bars that have closed by the clock's time and were not handed out yet. */
  poll(): Candle[] {
    const out: Candle[] = [];
    const now = this.clock.now();
    while (this.cursor < this.bars.length && closeTime(this.bars[this.cursor]!) <= now) out.push(this.bars[this.cursor++]!);
    return out;
  }

  /** Moves the clock to each next close time and yields what closed then, until the replay ends. */
  *steps(): Generator<ReplayStep> {
    for (let t = this.nextCloseTime(); t !== null; t = this.nextCloseTime()) {
      this.clock.set(t);
      yield { time: t, candles: this.poll() };
    }
  }
}
