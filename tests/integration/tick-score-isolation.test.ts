import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccount, type Account } from '../../lib/accounts/accounts.ts';
import { latestSettings, putSettings, seedAccount } from '../../lib/accounts/settings.ts';
import { systemClock, VirtualClock } from '../../lib/clock.ts';
import { parseConfig } from '../../lib/config.ts';
import type { AppContext } from '../../lib/context.ts';
import { scoreBar } from '../../lib/cycle/live.ts';
import { baselineProvider, perPairIsolated, type SignalFailure, type SignalProvider } from '../../lib/cycle/signals.ts';
import { withAccount } from '../../lib/db/scope.ts';
import { createLogger } from '../../lib/log.ts';
import { openQueueClient, type QueueClient } from '../../lib/queue/client.ts';
import { jobId } from '../../lib/queue/jobs.ts';
import { createApp as scoreApp } from '../../functions/score/handler.ts';
import { createApp as tickApp } from '../../functions/tick/handler.ts';
import { call } from '../helpers/api.ts';
import { testContext } from '../helpers/context.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { startKrakenEmulator, type KrakenEmulator } from '../kraken-emulator/index.ts';

/**
 * Issue 8, item 7: one account's bad state never stops another's cycle. Against the Kraken emulator
 * (which lists no FOO/USD and no DOGE/USD), `tick` ingests every good pair and still enqueues
 * scoring when an account trades a pair Kraken does not list, or whose request fails, or when an
 * account's settings cannot be read; `score` scores every good pair when a provider fails on one.
 */
let t: TestDatabase;
let queue: QueueClient;
let emu: KrakenEmulator;
let ctx: AppContext;
let clock: VirtualClock;
const logs: string[] = [];
let accounts: Record<string, Account>;

const cursorTime = (): number => emu.exchange.path.timeline[emu.exchange.cursor]!;
const warnings = () => logs.map((l) => JSON.parse(l) as { level: number; msg: string; pair?: string; account?: string }).filter((l) => l.level === 40);

beforeAll(async () => {
  t = await createTestDatabase();
  queue = await openQueueClient({ databaseUrl: t.url, onError: () => undefined });
  emu = await startKrakenEmulator({});
  clock = new VirtualClock(cursorTime());
  ctx = testContext(t.app.db, queue, {
    clock,
    config: { ...parseConfig({ AETHER_HOME: '/nonexistent' }), KRAKEN_API_URL: emu.url },
    logger: createLogger('debug', { write: (line: string) => void logs.push(line) }),
  });
  accounts = await t.app.db.transaction(async (tx) => {
    const out: Record<string, Account> = {};
    for (const slug of ['good', 'foo', 'broken']) {
      out[slug] = await createAccount(tx, { slug, name: slug, kind: 'other' }, null, systemClock);
      await seedAccount(tx, out[slug]!.id, null, systemClock);
    }
    return out;
  });
  // Rows written before the settings API checked pairs against Kraken (putSettings itself does not ask Kraken).
  await withAccount(t.app.db, accounts.foo!.id, async (tx) => {
    const cur = await latestSettings(tx, accounts.foo!.id, 'trading');
    await putSettings(tx, accounts.foo!.id, 'trading', { ...cur.value, pairs: ['BTC/USD', 'FOO/USD', 'DOGE/USD'] }, null, systemClock);
  });
  // A row the current schema cannot read (say, written by another version of the code).
  await t.owner.query(`insert into settings (account_id, kind, version, value) values ($1, 'trading', 2, '{"pairs": ["BTC/USD"], "zzLegacy": 1}')`, [accounts.broken!.id]);
}, 120_000);
afterAll(async () => {
  await queue?.close();
  await emu?.close();
  await t?.drop();
});

describe('tick with a pair Kraken does not list, a failing request and an unreadable account', () => {
  it('ingests every good pair, reports the bad ones (answer and warn log) and enqueues scoring of the newest bar', async () => {
    const r = await call(tickApp(ctx), 'POST', '/', { json: {}, signAs: { signer: ctx, fn: 'tick' } });
    expect(r.status, r.text).toBe(200);
    const barTime = cursorTime() - 3_600_000; // the newest closed bar
    const body = r.body as { pairs: Array<{ pair: string; lastOpenTime: number }>; failed: Array<{ pair: string; unknown: boolean; error: string }>; scored: number; scoredPairs: string[]; unreadableAccounts: Array<{ account: string }> };
    expect(body.pairs.map((p) => [p.pair, p.lastOpenTime])).toEqual([['BTC/USD', barTime], ['ETH/USD', barTime], ['SOL/USD', barTime]]);
    expect(body.failed).toEqual([
      { pair: 'DOGE/USD', unknown: false, error: expect.stringMatching(/EQuery:Unknown asset pair/) },
      { pair: 'FOO/USD', unknown: true, error: expect.stringMatching(/not a USD spot pair Kraken lists/) },
    ]);
    expect(body.unreadableAccounts).toEqual([{ account: 'broken', error: expect.stringMatching(/zzLegacy/) }]);
    expect(body.scored).toBe(barTime);
    expect(body.scoredPairs).toEqual(['BTC/USD', 'ETH/USD', 'SOL/USD']);
    const job = await queue.queue('score').getJob(jobId('score', barTime));
    expect(job?.data).toEqual({ barTime, pairs: ['BTC/USD', 'ETH/USD', 'SOL/USD'] });
    const warned = warnings();
    expect(warned.filter((w) => w.msg === 'tick: pair not ingested').map((w) => w.pair).sort()).toEqual(['DOGE/USD', 'FOO/USD']);
    expect(warned.some((w) => w.account === 'broken')).toBe(true);
  });

  it('a pair whose request fails this time is reported; the others move on to the next bar', async () => {
    emu.advance(1);
    clock.set(cursorTime());
    emu.faults.add({ method: 'OHLC', kind: 'http', status: 502, count: 1 }); // the first request: BTC/USD (pairs go in order)
    const r = await call(tickApp(ctx), 'POST', '/', { json: {}, signAs: { signer: ctx, fn: 'tick' } });
    expect(r.status, r.text).toBe(200);
    const barTime = cursorTime() - 3_600_000;
    const body = r.body as { failed: Array<{ pair: string }>; scored: number; scoredPairs: string[] };
    expect(body.failed.map((f) => f.pair)).toEqual(['BTC/USD', 'DOGE/USD', 'FOO/USD']);
    expect(body.scored).toBe(barTime);
    expect(body.scoredPairs).toEqual(['ETH/USD', 'SOL/USD']);
    expect((await queue.queue('score').getJob(jobId('score', barTime)))?.data).toEqual({ barTime, pairs: ['ETH/USD', 'SOL/USD'] });
  });

  it('when no pair at all can be ingested the job fails (non-2xx), so it is retried and alerted on', async () => {
    emu.faults.add({ method: 'OHLC', kind: 'http', status: 503, count: 5 });
    const r = await call(tickApp(ctx), 'POST', '/', { json: {}, signAs: { signer: ctx, fn: 'tick' } });
    expect(r.status).toBeGreaterThanOrEqual(500);
  });
});

describe('score with a pair that has no data and a provider that fails on one pair', () => {
  it('the score function answers 200 for pairs without candles and enqueues every account’s order job', async () => {
    const barTime = cursorTime() - 3_600_000;
    const r = await call(scoreApp(ctx), 'POST', '/', { json: { barTime, pairs: ['ETH/USD', 'FOO/USD', 'SOL/USD'] }, signAs: { signer: ctx, fn: 'score' } });
    expect(r.status, r.text).toBe(200);
    const body = r.body as { signals: Array<{ pair: string; probUp: number | null }>; orderJobs: number; failed: unknown[] };
    expect(body.signals.map((s) => [s.pair, s.probUp === null])).toEqual([['ETH/USD', false], ['FOO/USD', true], ['SOL/USD', false]]);
    expect(body.orderJobs).toBe(3);
    expect(body.failed).toEqual([]);
  });

  it('a provider failing on one pair costs that pair its signal only; the others are stored and the order jobs enqueued', async () => {
    const barTime = cursorTime() - 3_600_000;
    const failed: SignalFailure[] = [];
    const flaky: SignalProvider = { ...baselineProvider, name: 'flaky', signal: (h, asOf, o) => {
      if (h.at(-1)?.pair === 'ETH/USD') throw new Error('model input out of range');
      const s = baselineProvider.signal(h, asOf, o);
      return s && { ...s, modelVersion: 'flaky-v1' };
    } };
    const out = await scoreBar(ctx, [perPairIsolated(flaky, failed)], ['ETH/USD', 'SOL/USD'], barTime);
    expect(out.signals.map((s) => [s.pair, s.probUp === null])).toEqual([['ETH/USD', true], ['SOL/USD', false]]);
    expect(out.orderJobs).toBe(3);
    expect(failed).toEqual([{ provider: 'flaky', pair: 'ETH/USD', error: 'model input out of range' }]);
    const stored = await t.owner.query(`select pair from signals where model_version = 'flaky-v1' and ts = $1`, [new Date(barTime)]);
    expect(stored.rows.map((x) => x.pair)).toEqual(['SOL/USD']);
  });
});
