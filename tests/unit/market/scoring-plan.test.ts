import { describe, expect, it } from 'vitest';
import { scoringPlan, type IngestResult } from '../../../lib/market/ingest.ts';

const H = 3_600_000;
const r = (pair: string, lastOpenTime: number | null): IngestResult => ({ pair, newCandles: 1, lastOpenTime, issues: [], truncated: false });

describe('scoringPlan: which bar a tick has scored', () => {
  it.each([
    ['every pair has the newest bar', [r('BTC/USD', 10 * H), r('ETH/USD', 10 * H)], { barTime: 10 * H, pairs: ['BTC/USD', 'ETH/USD'], behind: [] }],
    // A pair Kraken has not published the new bar for yet must not hold the others back to a bar already scored.
    ['one pair behind: the newest bar, for the pairs that have it', [r('BTC/USD', 10 * H), r('DOT/USD', 9 * H), r('ETH/USD', 10 * H)], { barTime: 10 * H, pairs: ['BTC/USD', 'ETH/USD'], behind: ['DOT/USD'] }],
    ['a pair with nothing stored yet', [r('BTC/USD', 10 * H), r('NEW/USD', null)], { barTime: 10 * H, pairs: ['BTC/USD'], behind: ['NEW/USD'] }],
    ['no pair has any bar', [r('NEW/USD', null)], { barTime: null, pairs: [], behind: [] }],
    ['nothing ingested', [], { barTime: null, pairs: [], behind: [] }],
  ])('%s', (_label, ingested, want) => {
    expect(scoringPlan(ingested)).toEqual(want);
  });
});
