import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCandlesCsv, readCandlesCsv } from '../../../lib/market/csv.ts';
import { realCandles } from './realData.ts';

const H = 'time,open,high,low,close,volume';

describe('readCandlesCsv', () => {
  it('reads the repository data with the interval inferred across gaps', () => {
    const c = realCandles('BTC/USD');
    expect(c).toHaveLength(17_668);
    expect(c[0]).toEqual({ pair: 'BTC/USD', interval: 3600, openTime: Date.parse('2021-01-01T00:00:00Z'), open: 28959.4, high: 29069.3, low: 28739.6, close: 29069, volume: 272.11314761 });
  });

  it('reads a file from disk', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aether-csv-'));
    const p = join(dir, 'x.csv');
    writeFileSync(p, `${H}\n2021-01-01T00:00:00Z,1,2,0.5,1.5,10\n2021-01-01T00:05:00Z,1.5,1.6,1.4,1.5,3\n`);
    expect(readCandlesCsv(p, 'ETH/USD').map((c) => c.interval)).toEqual([300, 300]);
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    { name: 'bad header', text: `time,o,h,l,c,v\n2021-01-01T00:00:00Z,1,1,1,1,1\n2021-01-01T01:00:00Z,1,1,1,1,1`, err: /expected header/ },
    { name: 'time going backwards', text: `${H}\n2021-01-01T01:00:00Z,1,1,1,1,1\n2021-01-01T00:00:00Z,1,1,1,1,1`, err: /:3: time not strictly increasing/ },
    { name: 'duplicate time', text: `${H}\n2021-01-01T00:00:00Z,1,1,1,1,1\n2021-01-01T00:00:00Z,1,1,1,1,1`, err: /not strictly increasing/ },
    { name: 'high below close', text: `${H}\n2021-01-01T00:00:00Z,1,1,1,1,1\n2021-01-01T01:00:00Z,1,1.5,1,2,1`, err: /:3: .*OHLC/ },
    { name: 'negative volume', text: `${H}\n2021-01-01T00:00:00Z,1,1,1,1,1\n2021-01-01T01:00:00Z,1,1,1,1,-1`, err: /volume/ },
    { name: 'not a number', text: `${H}\n2021-01-01T00:00:00Z,1,1,1,1,1\n2021-01-01T01:00:00Z,1,x,1,1,1`, err: /high/ },
    { name: 'bad date', text: `${H}\n2021-01-01,1,1,1,1,1\n2021-01-01T01:00:00Z,1,1,1,1,1`, err: /time/ },
    { name: 'missing field', text: `${H}\n2021-01-01T00:00:00Z,1,1,1,1\n2021-01-01T01:00:00Z,1,1,1,1,1`, err: /6 fields/ },
    { name: 'irregular step', text: `${H}\n2021-01-01T00:00:00Z,1,1,1,1,1\n2021-01-01T01:00:00Z,1,1,1,1,1\n2021-01-01T02:30:00Z,1,1,1,1,1`, err: /not a multiple/ },
    { name: 'a single row', text: `${H}\n2021-01-01T00:00:00Z,1,1,1,1,1`, err: /at least two/ },
  ])('rejects $name', ({ text, err }) => expect(() => parseCandlesCsv(text, 'BTC/USD')).toThrow(err));
});
