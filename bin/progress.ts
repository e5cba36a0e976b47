/**
 * Progress of long CLI work (backfill, backtest, research, train) on stderr, so stdout stays the
 * command's result. On a terminal: one bar redrawn in place. Otherwise (a pipe, a log file, CI): a
 * plain line at every `step` (fraction) of the way — a log, not a stream of carriage returns.
 */
export interface Progress {
  /** `done` of `total` units; `label` says what is being worked on. */
  update(done: number, total: number, label?: string): void;
  /** A line worth keeping: printed on its own line (above the bar on a terminal). */
  note(line: string): void;
  /** Finishes the bar's line. */
  end(): void;
}

export interface ProgressOptions {
  stream?: Pick<NodeJS.WriteStream, 'write'> & { isTTY?: boolean; columns?: number };
  /** Fraction between plain lines when not on a terminal (default 0.1); the label rides along. */
  step?: number;
}

export function progress(name: string, opts: ProgressOptions = {}): Progress {
  const out = opts.stream ?? process.stderr;
  const tty = out.isTTY === true;
  const step = opts.step ?? 0.1;
  let drawn = ''; // the bar line on screen (terminal), '' when none
  let lastStep = -1;
  const line = (fraction: number, done: number, total: number, label?: string): string => {
    // Whole units (train's stages, research's backtests) are shown as counted; a bare fraction as a percentage.
    const counted = Number.isInteger(done) && Number.isInteger(total) && total > 1;
    const pct = counted ? `${done}/${total}` : `${String(Math.floor(fraction * 100)).padStart(3)}%`;
    const width = 24;
    const filled = Math.round(fraction * width);
    const text = `${name} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${pct}${label ? ` ${label}` : ''}`;
    return text.slice(0, Math.max(20, (out.columns ?? 120) - 1));
  };
  return {
    update(done, total, label) {
      const fraction = total > 0 ? Math.min(1, Math.max(0, done / total)) : 1;
      if (tty) {
        const text = line(fraction, done, total, label);
        if (text === drawn) return;
        out.write(`\r${text.padEnd(drawn.length)}`);
        drawn = text;
        return;
      }
      const s = Math.floor(fraction / step + 1e-9);
      if (s === lastStep) return;
      lastStep = s;
      out.write(`${line(fraction, done, total, label)}\n`);
    },
    note(text) {
      if (tty && drawn) out.write(`\r${' '.repeat(drawn.length)}\r`);
      out.write(`${text}\n`);
      if (tty && drawn) out.write(drawn);
    },
    end() {
      if (tty && drawn) out.write('\n');
      drawn = '';
    },
  };
}
