import { beforeAll, describe, expect, it } from 'vitest';
import type * as CcxtModule from 'ccxt';
import fc from 'fast-check';
import { RETRY_POLICY, backoffMs, classifyKrakenFailure, krakenErrorsOf } from '../../../lib/exchange/kraken-errors.ts';

type Ccxt = typeof CcxtModule;
let ccxt: Ccxt;
beforeAll(async () => {
  ccxt = await import('ccxt');
});

const body = (e: string) => `kraken {"error":["${e}"]}`;

describe('classifyKrakenFailure', () => {
  it.each([
    ['InsufficientFunds', body('EOrder:Insufficient funds'), { kind: 'rejected', code: 'INSUFFICIENT_FUNDS' }],
    ['InvalidOrder', body('EOrder:Order minimum not met'), { kind: 'rejected', code: 'BELOW_EXCHANGE_MINIMUM' }],
    ['ExchangeError', body('EOrder:Cost minimum not met'), { kind: 'rejected', code: 'BELOW_EXCHANGE_MINIMUM' }],
    ['InvalidOrder', body('EOrder:Unknown order'), { kind: 'rejected', code: 'ORDER_NOT_FOUND' }],
    ['ExchangeError', body('EOrder:Duplicate order'), { kind: 'rejected', code: 'DUPLICATE_ORDER' }],
    ['BadRequest', body('EGeneral:Invalid arguments'), { kind: 'rejected', code: 'INVALID_ORDER' }],
    ['InvalidOrder', body('EOrder:Invalid price:XBTUSD price can only be specified up to 1 decimals.'), { kind: 'rejected', code: 'INVALID_ORDER' }],
    ['OnMaintenance', body('EService:Market in cancel_only mode'), { kind: 'rejected', code: 'MARKET_NOT_TRADABLE' }],
    ['PermissionDenied', body('EGeneral:Permission denied'), { kind: 'rejected', code: 'PERMISSION_DENIED' }],
    ['AuthenticationError', body('EAPI:Invalid key'), { kind: 'rejected', code: 'AUTH' }],
    ['ExchangeError', body('EAPI:Invalid signature'), { kind: 'rejected', code: 'AUTH' }],
    ['BadSymbol', body('EQuery:Unknown asset pair'), { kind: 'rejected', code: 'NOT_SPOT_USD' }],
    ['ExchangeError', body('EFoo:Something new'), { kind: 'rejected', code: 'EXCHANGE_ERROR' }],
    ['ExchangeNotAvailable', body('EService:Unavailable'), { kind: 'temporary', cls: 'UNAVAILABLE' }],
    ['ExchangeNotAvailable', body('EService:Busy'), { kind: 'temporary', cls: 'UNAVAILABLE' }],
    ['DDoSProtection', body('EAPI:Rate limit exceeded'), { kind: 'temporary', cls: 'RATE_LIMIT' }],
    ['DDoSProtection', body('EOrder:Rate limit exceeded'), { kind: 'temporary', cls: 'RATE_LIMIT' }],
    ['DDoSProtection', body('EGeneral:Temporary lockout'), { kind: 'temporary', cls: 'LOCKOUT' }],
    ['InvalidNonce', body('EAPI:Invalid nonce'), { kind: 'temporary', cls: 'NONCE' }],
    ['ExchangeError', body('EService:Deadline elapsed'), { kind: 'ambiguous', cls: 'UNAVAILABLE' }],
    ['RateLimitExceeded', 'kraken POST http://x/0/private/AddOrder 429 Too Many Requests', { kind: 'temporary', cls: 'RATE_LIMIT' }],
    ['ExchangeNotAvailable', 'kraken POST http://x/0/private/AddOrder 500 Internal Server Error', { kind: 'ambiguous', cls: 'UNAVAILABLE' }],
    ['ExchangeNotAvailable', 'kraken 520 Web server is returning an unknown error', { kind: 'ambiguous', cls: 'UNAVAILABLE' }],
    ['RequestTimeout', 'kraken POST http://x/0/private/AddOrder request timed out (500 ms)', { kind: 'ambiguous', cls: 'NETWORK' }],
    ['NetworkError', 'kraken POST http://x/0/private/AddOrder fetch failed: other side closed', { kind: 'ambiguous', cls: 'NETWORK' }],
  ] as const)('%s "%s" → %o', (cls, message, expected) => {
    const Ctor = ccxt[cls] as unknown as new (m: string) => Error;
    expect(classifyKrakenFailure(new Ctor(message))).toMatchObject(expected);
  });

  it('rethrows errors that are not ccxt errors (bugs are not retried)', () => {
    const bug = new TypeError('x is undefined');
    expect(() => classifyKrakenFailure(bug)).toThrow(bug);
  });

  it.each([
    [body('EOrder:Insufficient funds'), ['EOrder:Insufficient funds']],
    ['kraken {"error":["EAPI:Invalid key","EGeneral:x"]}', ['EAPI:Invalid key', 'EGeneral:x']],
    ['kraken POST … 500 Internal Server Error', []],
    ['kraken {"error":["trunc', []],
  ])('krakenErrorsOf(%s)', (message, expected) => {
    expect(krakenErrorsOf(message)).toEqual(expected);
  });
});

describe('backoffMs', () => {
  it('stays within [ceiling/2, ceiling] with an exponential ceiling capped per class', () => {
    fc.assert(
      fc.property(fc.constantFrom(...(Object.keys(RETRY_POLICY) as Array<keyof typeof RETRY_POLICY>)), fc.integer({ min: 0, max: 30 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (cls, retry, r) => {
        const p = RETRY_POLICY[cls];
        const ceiling = Math.min(p.capMs, p.baseMs * 2 ** retry);
        const d = backoffMs(p, retry, () => r);
        return d >= ceiling / 2 && d <= ceiling && d <= p.capMs;
      }),
    );
  });

  it.each([
    [0, 100, 200],
    [1, 200, 400],
    [2, 400, 800],
    [10, 1000, 2000],
  ])('UNAVAILABLE retry %i waits between %i and %i ms', (retry, lo, hi) => {
    expect(backoffMs(RETRY_POLICY.UNAVAILABLE, retry, () => 0)).toBe(lo);
    expect(backoffMs(RETRY_POLICY.UNAVAILABLE, retry, () => 0.999999)).toBeCloseTo(hi, 0);
  });
});

describe('RETRY_POLICY', () => {
  it('survives 27 % random faults with overwhelming odds, inside a 45 s budget', () => {
    for (const cls of ['UNAVAILABLE', 'RATE_LIMIT', 'NONCE', 'NETWORK'] as const) {
      const p = RETRY_POLICY[cls];
      expect(0.27 ** p.attempts).toBeLessThan(1e-6);
      // every backoff of a call at its ceiling fits in half the budget
      const worst = Array.from({ length: p.attempts - 1 }, (_, n) => Math.min(p.capMs, p.baseMs * 2 ** n)).reduce((s, x) => s + x, 0);
      expect(worst).toBeLessThan(45_000);
    }
    expect(RETRY_POLICY.LOCKOUT.attempts).toBe(1); // fails fast, never sleeps 15 minutes
    expect(RETRY_POLICY.DEADLINE.attempts).toBe(1);
  });
});

describe('ccxt loading', () => {
  it('no kraken module imports ccxt at top level (only `import type`, and the factory loads its Kraken class lazily)', async () => {
    const { readdirSync, readFileSync } = await import('node:fs');
    const dir = new URL('../../../lib/exchange/', import.meta.url);
    const files = readdirSync(dir).filter((f) => f.startsWith('kraken') && f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(5);
    for (const f of files) {
      const src = readFileSync(new URL(f, dir), 'utf8');
      expect(src, f).not.toMatch(/^import\s+(?!type\b)[^;]*from\s+'ccxt'/m);
    }
    expect(readFileSync(new URL('kraken-broker.ts', dir), 'utf8')).toMatch(/await loadKrakenClass\(\)/);
  });
});
