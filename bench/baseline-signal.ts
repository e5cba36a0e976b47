/** baselineSignal throughput over real Kraken BTC hours (one call per bar, as a backtest does). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { closeTime, HOUR_S, type Candle } from '../lib/market/candle.ts';
import { baselineSignal } from '../lib/strategy/baseline.ts';

const csv = readFileSync(fileURLToPath(new URL('../data/ohlcv/kraken_BTCUSD_1h.csv', import.meta.url)), 'utf8');
const candles: Candle[] = csv
  .trim()
  .split('\n')
  .slice(1)
  .map((l) => {
    const [t, o, h, lo, c, v] = l.split(',');
    return { pair: 'BTC/USD', interval: HOUR_S, openTime: Date.parse(t!), open: Number(o), high: Number(h), low: Number(lo), close: Number(c), volume: Number(v) };
  });

const start = 720;
let sum = 0;
const t0 = performance.now();
for (let end = start; end <= candles.length; end++) sum += baselineSignal(candles, { asOf: closeTime(candles[end - 1]!) }).probUp;
const ms = performance.now() - t0;
const n = candles.length - start + 1;
const perS = Math.round(n / (ms / 1000));
console.log(`baselineSignal: ${n} bars in ${ms.toFixed(0)} ms, ${perS.toLocaleString('en')} signals/s (mean probUp ${(sum / n).toFixed(3)})`);
console.log(`bench baseline-signal: signals_per_s=${perS} us_per_signal=${((ms * 1000) / n).toFixed(1)}`);
