import { createRoute, z } from '@hono/zod-openapi';
import { desc, eq } from 'drizzle-orm';
import type { AppContext } from '../../../lib/context.ts';
import type { AetherApp } from '../../../lib/http/app.ts';
import { authenticate } from '../../../lib/http/auth.ts';
import { errorResponses } from '../../../lib/http/errors.ts';
import { loadCandles } from '../../../lib/market/store.ts';
import { signals } from '../../../schema/index.ts';
import { json } from './schemas.ts';

// Market data is shared by every account (no account scope): any signed-in user may read it.
const pairParam = z
  .string()
  .regex(/^[A-Z0-9]{1,12}\/USD$/, 'must be a spot USD pair like BTC/USD')
  .openapi({ param: { name: 'pair', in: 'query' }, example: 'BTC/USD', pattern: '^[A-Z0-9]{1,12}/USD$' });

const candleSchema = z.object({ time: z.string().openapi({ description: 'open time, ISO 8601 UTC' }), open: z.number(), high: z.number(), low: z.number(), close: z.number(), volume: z.number() }).openapi('Candle');

const signalSchema = z
  .object({
    pair: z.string(),
    time: z.string().openapi({ description: 'open time of the last closed candle the signal used, ISO 8601 UTC' }),
    modelVersion: z.string(),
    probUp: z.number(),
    expectedReturn: z.number(),
    horizonBars: z.number().int(),
    regime: z.enum(['bull', 'bear', 'sideways']),
    regimeProbs: z.record(z.string(), z.number()),
    volatility: z.number(),
    atrPct: z.number(),
  })
  .openapi('PairSignal');

/** GET /markets/candles and /markets/signals: what the account pages chart and explain. */
export function registerMarket(app: AetherApp, ctx: AppContext): void {
  // On each route, not app.use: its query is judged before authentication, as on every route (lib/http/hygiene.ts).
  const signedIn = [authenticate(ctx)];

  app.openapi(
    createRoute({
      method: 'get',
      path: '/markets/candles',
      tags: ['market'],
      summary: 'The newest stored candles of a pair, oldest first',
      security: [{ bearer: [] }],
      middleware: signedIn,
      request: {
        query: z
          .object({
            pair: pairParam,
            interval: z.enum(['3600', '86400']).default('3600').openapi({ description: 'seconds', pattern: '^(3600|86400)$' }),
            limit: z.coerce.number().int().min(1).max(1000).default(300),
          })
          .strict(),
      },
      responses: { 200: json(z.object({ candles: z.array(candleSchema) }), 'Candles'), 400: errorResponses[400], 401: errorResponses[401] },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const rows = await loadCandles(ctx.db, q.pair, Number(q.interval), { limit: q.limit });
      return c.json({ candles: rows.map((r) => ({ time: new Date(r.openTime).toISOString(), open: r.open, high: r.high, low: r.low, close: r.close, volume: r.volume })) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/markets/signals',
      tags: ['market'],
      summary: "Each pair's newest signal (regime, probability up, model version); a model's signal wins over the baseline's of the same bar",
      security: [{ bearer: [] }],
      middleware: signedIn,
      request: { query: z.object({ pairs: z.string().regex(/^[A-Z0-9]{1,12}\/USD(,[A-Z0-9]{1,12}\/USD){0,49}$/, 'must be comma-separated spot USD pairs').openapi({ example: 'BTC/USD,ETH/USD' }) }).strict() },
      responses: { 200: json(z.object({ signals: z.array(signalSchema) }), 'Signals, one per pair that has one'), 400: errorResponses[400], 401: errorResponses[401] },
    }),
    async (c) => {
      const pairs = [...new Set(c.req.valid('query').pairs.split(','))];
      const out: Array<z.infer<typeof signalSchema>> = [];
      for (const pair of pairs) {
        const rows = await ctx.db.select().from(signals).where(eq(signals.pair, pair)).orderBy(desc(signals.ts)).limit(4);
        const newest = rows.filter((r) => r.ts.getTime() === rows[0]?.ts.getTime()).sort((a, b) => Number(a.modelVersion.startsWith('baseline')) - Number(b.modelVersion.startsWith('baseline')))[0];
        if (newest) out.push({ pair, time: newest.ts.toISOString(), modelVersion: newest.modelVersion, probUp: newest.probUp, expectedReturn: newest.expectedReturn, horizonBars: newest.horizonBars, regime: newest.regime, regimeProbs: newest.regimeProbs as Record<string, number>, volatility: newest.volatility, atrPct: newest.atrPct });
      }
      return c.json({ signals: out }, 200);
    },
  );
}
