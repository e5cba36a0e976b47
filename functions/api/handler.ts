import { z } from '@hono/zod-openapi';
import type { AppContext } from '../../lib/context.ts';
import { createFunctionApp, type AetherApp } from '../../lib/http/app.ts';
import { uiMiddleware } from '../../lib/http/static-ui.ts';
import { registerAccountConfig } from './routes/account-config.ts';
import { registerAccounts } from './routes/accounts.ts';
import { registerAudit } from './routes/audit.ts';
import { registerAuth } from './routes/auth.ts';
import { registerCycle } from './routes/cycle.ts';
import { registerMarket } from './routes/market.ts';
import { registerOnboarding } from './routes/onboarding.ts';
import { registerReports } from './routes/reports.ts';
import { registerSummary } from './routes/summary.ts';
import { registerSystem } from './routes/system.ts';
import { registerUsers } from './routes/users.ts';

/** The HTTP API the UI calls. Routes live in ./routes, one file per resource. */
export function createApp(ctx: AppContext): AetherApp {
  const app = createFunctionApp('api', ctx);
  // The web UI shares the API's paths (the ingress sends `/…` here too): after the ops routes, which
  // answer whoever asks, and before the API's, which a browser navigation to a page must not reach.
  app.use(uiMiddleware((message) => ctx.logger.warn(message)));
  registerOnboarding(app, ctx);
  registerAuth(app, ctx);
  registerAccounts(app, ctx);
  registerAccountConfig(app, ctx);
  registerUsers(app, ctx);
  registerAudit(app, ctx);
  registerReports(app, ctx);
  registerSummary(app, ctx);
  registerCycle(app, ctx);
  registerMarket(app, ctx);
  registerSystem(app, ctx);
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/openapi.json',
    tags: ['ops'],
    summary: 'This OpenAPI 3.1 document',
    responses: { 200: { description: 'The OpenAPI document', content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } } } },
  });
  // Built on first request and kept: the routes are all registered by then, and building it is not cheap.
  let document: ReturnType<typeof app.getOpenAPI31Document> | undefined;
  app.get('/openapi.json', (c) => c.json((document ??= app.getOpenAPI31Document({ openapi: '3.1.0', info: { title: 'Aether API', version: ctx.version } }))));
  return app;
}
