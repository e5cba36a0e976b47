import { Hono } from 'hono';
import { createApp as api } from '../functions/api/handler.ts';
import { createApp as hedge } from '../functions/hedge/handler.ts';
import { createApp as order } from '../functions/order/handler.ts';
import { createApp as report } from '../functions/report/handler.ts';
import { createApp as score } from '../functions/score/handler.ts';
import { createApp as tick } from '../functions/tick/handler.ts';
import { createApp as train } from '../functions/train/handler.ts';
import type { AppContext } from '../lib/context.ts';
import type { AetherApp } from '../lib/http/app.ts';
import { ORDER_FUNCTION_PREFIX } from '../lib/runtime/stack.ts';

const factories: Record<string, (ctx: AppContext) => AetherApp> = { api, tick, score, hedge, report, train };

/** Builds the app of a stack.yml function by name; `order-<account>` is the order handler for that account. */
export function functionApp(name: string, ctx: AppContext): AetherApp {
  if (name.startsWith(ORDER_FUNCTION_PREFIX)) return order(ctx, name.slice(ORDER_FUNCTION_PREFIX.length));
  const make = factories[name];
  if (!make) throw new Error(`no function named ${name}`);
  return make(ctx);
}

/** Every function mounted at /function/<name>, like the OpenFaaS gateway. */
export function createGateway(names: string[], ctx: AppContext): { gateway: Hono; apps: Record<string, AetherApp> } {
  const gateway = new Hono();
  const apps: Record<string, AetherApp> = {};
  for (const name of names) {
    apps[name] = functionApp(name, ctx);
    gateway.route(`/function/${name}`, apps[name]);
  }
  gateway.get('/', (c) => c.redirect('/function/api/healthz'));
  return { gateway, apps };
}
