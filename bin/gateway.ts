import { randomUUID } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { findAccount } from '../lib/accounts/accounts.ts';
import type { AppContext } from '../lib/context.ts';
import type { AetherApp } from '../lib/http/app.ts';
import type { ErrorBody } from '../lib/http/errors.ts';
import { accountSlug, ORDER_FUNCTION_PREFIX } from '../lib/queue/jobs.ts';

type Factory = (ctx: AppContext) => AetherApp;

/** Each function's module, imported when the function is first built: a pod loads only the one it serves (a faster cold start). */
const factories: Record<string, () => Promise<Factory>> = {
  api: async () => (await import('../functions/api/handler.ts')).createApp,
  tick: async () => (await import('../functions/tick/handler.ts')).createApp,
  score: async () => (await import('../functions/score/handler.ts')).createApp,
  report: async () => (await import('../functions/report/handler.ts')).createApp,
  train: async () => (await import('../functions/train/handler.ts')).createApp,
};

/** Whether `name` is a function this image can serve: a fixed one, or `order-<account>` for a valid slug. */
export function isFunctionName(name: string): boolean {
  if (name.startsWith(ORDER_FUNCTION_PREFIX)) return accountSlug.safeParse(name.slice(ORDER_FUNCTION_PREFIX.length)).success;
  return Object.hasOwn(factories, name);
}

/**
 * The code of a stack.yml function, imported: a factory of its app. `order-<account>` is the order
 * handler for that account, which starts warming the order path as soon as it is built.
 */
export async function functionFactory(name: string): Promise<Factory> {
  if (name.startsWith(ORDER_FUNCTION_PREFIX)) {
    const slug = name.slice(ORDER_FUNCTION_PREFIX.length);
    const [{ createApp: order }, { warmOrderJob }] = await Promise.all([import('../functions/order/handler.ts'), import('../lib/cycle/order-job.ts')]);
    return (ctx) => {
      // Started, not awaited: the function serves at once; its first job then finds the process warm.
      void warmOrderJob(ctx, slug).then(
        () => ctx.logger.debug({ function: name }, 'order function warmed up'),
        (err: unknown) => ctx.logger.warn({ function: name, err: (err as Error).message }, 'order function warm-up failed; its first job reads everything itself'),
      );
      return order(ctx, slug);
    };
  }
  const make = Object.hasOwn(factories, name) ? factories[name] : undefined;
  if (!make) throw new Error(`no function named ${name}`);
  return make();
}

/** Every function's code, imported (an order function's for any account): nothing is built or run. */
export async function loadEveryFunction(): Promise<void> {
  await Promise.all([...Object.keys(factories), `${ORDER_FUNCTION_PREFIX}any`].map(functionFactory));
}

/** Builds the app of a stack.yml function by name. */
export async function functionApp(name: string, ctx: AppContext): Promise<AetherApp> {
  return (await functionFactory(name))(ctx);
}

export interface Gateway {
  /** `/function/<name>/…` → that function's app with the prefix stripped, as the OpenFaaS gateway forwards. */
  http: Hono;
  /**
   * The app of a function: the fixed ones, and `order-<account>` for any account in the database,
   * built on first use and kept — an account created while running is served without a restart.
   * Null when there is no such function (an unknown account included).
   */
  resolve(name: string): Promise<AetherApp | null>;
}

/**
 * The embedded OpenFaaS gateway. `names` are built up front (stack.yml's functions); an
 * `order-<account>` not among them is looked up in the database when first asked for. Routing is by
 * name at request time (Hono takes no new routes once it has matched one), so a function resolved
 * later is served like the rest.
 */
export function createGateway(names: readonly string[], ctx: AppContext): Gateway {
  const apps = new Map<string, Promise<AetherApp | null>>();
  for (const name of names) apps.set(name, functionApp(name, ctx));

  const resolve = (name: string): Promise<AetherApp | null> => {
    const known = apps.get(name);
    if (known) return known;
    if (!name.startsWith(ORDER_FUNCTION_PREFIX)) return Promise.resolve(null);
    const slug = name.slice(ORDER_FUNCTION_PREFIX.length);
    if (!accountSlug.safeParse(slug).success) return Promise.resolve(null);
    // One lookup (and one app) per name even when many jobs ask at once; a miss is not remembered,
    // so the account can still be created later.
    const pending = findAccount(ctx.db, slug).then(
      (account) => {
        if (account?.slug !== slug) {
          apps.delete(name);
          return null;
        }
        ctx.logger.info({ function: name }, 'order function added for an account created while running');
        return functionApp(name, ctx);
      },
      (err: unknown) => {
        apps.delete(name);
        throw err;
      },
    );
    apps.set(name, pending);
    return pending;
  };

  const http = new Hono();
  /** The request to function `name` at `path` (what is left of the URL path once the gateway took its part). */
  const pass = async (c: Context, name: string, path: string): Promise<Response> => {
    const app = await resolve(name);
    if (!app) return notFound(c, name);
    const url = new URL(c.req.url);
    url.pathname = path || '/';
    const req = c.req.raw;
    const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : req.body;
    return app.fetch(new Request(url, { method: req.method, headers: req.headers, body, signal: req.signal, duplex: 'half' } as RequestInit), c.env);
  };
  const forward = (c: Context): Promise<Response> => {
    const name = c.req.param('name') ?? '';
    return pass(c, name, new URL(c.req.url).pathname.slice(`/function/${name}`.length));
  };
  http.all('/function/:name', forward);
  http.all('/function/:name/*', forward);
  // Every other path goes to the api function as it is, as the cluster's HTTPRoute sends it there: the
  // api serves the web UI (its pages and assets) beside its routes, lib/http/static-ui.ts decides which.
  http.all('*', (c) => (c.req.path.startsWith('/function') ? c.notFound() : pass(c, 'api', new URL(c.req.url).pathname)));
  http.notFound((c) => c.json(errorBody(c, 'NOT_FOUND', `no route ${c.req.method} ${c.req.path}`), 404));

  return { http, resolve };
}

const errorBody = (c: Context, code: string, message: string): ErrorBody => {
  const incoming = c.req.header('x-request-id');
  return { code, message, requestId: incoming && /^[\w-]{1,64}$/.test(incoming) ? incoming : randomUUID() };
};

/** What a function answers for an account it does not know, in the functions' error shape. */
function notFound(c: Context, name: string): Response {
  return name.startsWith(ORDER_FUNCTION_PREFIX)
    ? c.json(errorBody(c, 'ACCOUNT_NOT_FOUND', `no account ${name.slice(ORDER_FUNCTION_PREFIX.length)}: no function ${name}`), 404)
    : c.json(errorBody(c, 'FUNCTION_NOT_FOUND', `no function named ${name}`), 404);
}
