import { createRoute, z } from '@hono/zod-openapi';
import type { AppContext } from '../../../lib/context.ts';
import { requestCycle } from '../../../lib/cycle/cycle-now.ts';
import type { AetherApp } from '../../../lib/http/app.ts';
import { authenticate, requireRole } from '../../../lib/http/auth.ts';
import { errorResponses } from '../../../lib/http/errors.ts';
import { json } from './schemas.ts';

const cycleRequest = z
  .object({
    barTime: z.string().openapi({ description: 'open time of the bar the cycle trades (the newest closed one), ISO 8601 UTC', example: '2026-01-05T12:00:00.000Z' }),
    jobId: z.string().openapi({ description: 'the tick job that runs it: tick → score → an order job per account' }),
    queued: z.boolean().openapi({ description: "false when this bar's cycle was already asked for (now or by the schedule): nothing new was queued" }),
  })
  .openapi('CycleRequest');

/** Cycle now: the scheduled cycle for the newest closed bar, without waiting for the next :01. */
export function registerCycle(app: AetherApp, ctx: AppContext): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/cycle',
      tags: ['ops'],
      summary:
        'Run a cycle now for the newest closed bar (admin, audited): candles in, scoring, then every account\'s order job, as the schedule does it; once per bar (a repeat, or a bar the schedule already took, queues nothing). Poll GET /summary for lastCycle.',
      security: [{ bearer: [] }],
      middleware: [authenticate(ctx), requireRole('admin')] as const,
      responses: { 202: json(cycleRequest, 'Queued (or already queued)'), 401: errorResponses[401], 403: errorResponses[403] },
    }),
    async (c) => {
      const r = await requestCycle(ctx, { userId: c.get('user')!.id, via: 'api' });
      return c.json({ ...r, barTime: new Date(r.barTime).toISOString() }, 202);
    },
  );
}
