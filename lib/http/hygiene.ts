import type { z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { secureHeaders } from 'hono/secure-headers';
import type { Config } from '../config.ts';
import type { AetherEnv } from './app.ts';
import { errorBody } from './errors.ts';

/** Request bodies above this answer 413 (the ingress allows the same, `proxy-body-size: 1m`). */
export const MAX_BODY_BYTES = 1024 * 1024;

// C0 controls and DEL. Tab, CR and LF may stand in JSON text (a note's line breaks), never in a URL.
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const URL_CONTROL = /[\u0000-\u001f\u007f]/;
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const TEXT_CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
// How such a character looks in JSON text: JSON.parse refuses them raw inside strings.
const ESCAPED_CONTROL = /\\u00([01][0-9a-f]|7f)/i;

/**
 * What is wrong with a request URL, or null. PostgreSQL refuses NUL in text (a `%00` in a path once
 * reached it and answered 500), and no route takes control characters or broken percent-encoding.
 */
export function urlFault(url: string): string | null {
  const { pathname, search } = new URL(url);
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname + search.replace(/\+/g, ' '));
  } catch {
    return 'malformed percent-encoding in the URL';
  }
  return URL_CONTROL.test(decoded) ? 'control characters (NUL included) are not allowed in the URL' : null;
}

const hasControl = (v: unknown): boolean =>
  typeof v === 'string'
    ? TEXT_CONTROL.test(v)
    : v !== null && typeof v === 'object' && Object.entries(v).some(([k, x]) => TEXT_CONTROL.test(k) || hasControl(x));

/** What is wrong with a JSON body's text, or null: NUL or another control character (tab, CR, LF aside) in a key or string. */
export function jsonTextFault(text: string): string | null {
  if (!ESCAPED_CONTROL.test(text)) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null; // malformed JSON is the validator's to refuse
  }
  return hasControl(value) ? 'control characters (NUL included) are not allowed in JSON strings' : null;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);
const IP_LITERAL = /^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-f:.]+\])$/;
const CLUSTER_SERVICE = /\.svc(\.cluster\.local)?$/;

/**
 * Whether the server answers a request for `hostname` (the Host header, port stripped, lower case).
 * Against DNS rebinding — a web page whose own name resolves to 127.0.0.1 — only names we were given
 * pass: loopback names and IP literals always (a rebinding page cannot make a browser send one), the
 * names in AETHER_ALLOWED_HOSTS, and in the cluster service names (in-cluster callers). A cluster
 * with none configured leaves the choice to its ingress, which routes only its own host.
 */
export function hostAllowed(hostname: string, config: Pick<Config, 'mode' | 'AETHER_ALLOWED_HOSTS'>): boolean {
  const allowed = config.AETHER_ALLOWED_HOSTS;
  if (allowed.includes('*') || LOOPBACK.has(hostname) || IP_LITERAL.test(hostname) || allowed.includes(hostname)) return true;
  if (config.mode === 'cluster') return allowed.length === 0 || CLUSTER_SERVICE.test(hostname);
  return false;
}

/**
 * A strict Content-Security-Policy for the single-page UI the api will serve from its own origin,
 * and the usual companions. HSTS only where browsers reach Aether over TLS: a request that came
 * over TLS, or any in the cluster (its ingress terminates TLS and redirects plain HTTP).
 */
/** Everything from this origin only, no framing, no referrer: the API's answers and the web UI's pages alike. */
export const SECURE_HEADERS: Parameters<typeof secureHeaders>[0] = {
  contentSecurityPolicy: {
    defaultSrc: ["'self'"],
    baseUri: ["'none'"],
    objectSrc: ["'none'"],
    frameAncestors: ["'none'"],
    formAction: ["'self'"],
  },
  xFrameOptions: 'DENY',
  referrerPolicy: 'no-referrer',
  xContentTypeOptions: true,
};

function headers(config: Pick<Config, 'mode'>): MiddlewareHandler<AetherEnv> {
  const common = SECURE_HEADERS;
  const withHsts = secureHeaders({ ...common, strictTransportSecurity: 'max-age=31536000; includeSubDomains' });
  const withoutHsts = secureHeaders({ ...common, strictTransportSecurity: false });
  return (c, next) => (config.mode === 'cluster' || new URL(c.req.url).protocol === 'https:' ? withHsts : withoutHsts)(c, next);
}

/** The HTTP hygiene every function gets, in order: headers on every answer, then Host, URL, body size and JSON text. */
export function hygiene(config: Pick<Config, 'mode' | 'AETHER_ALLOWED_HOSTS'>): Array<MiddlewareHandler<AetherEnv>> {
  return [
    headers(config),
    async (c, next) => {
      const { hostname } = new URL(c.req.url);
      if (!hostAllowed(hostname, config)) return c.json(errorBody(c, 'MISDIRECTED_REQUEST', `this server does not answer for host ${hostname.slice(0, 100)}`), 421);
      const fault = urlFault(c.req.url);
      if (fault) return c.json(errorBody(c, 'BAD_URL', fault), 400);
      await next();
    },
    bodyLimit({ maxSize: MAX_BODY_BYTES, onError: (c) => c.json(errorBody(c, 'PAYLOAD_TOO_LARGE', `request bodies are limited to ${MAX_BODY_BYTES} bytes`), 413) }),
    async (c, next) => {
      if (c.req.raw.body && /json/i.test(c.req.header('content-type') ?? '')) {
        const fault = jsonTextFault(await c.req.text());
        if (fault) return c.json(errorBody(c, 'VALIDATION_FAILED', fault), 400);
      }
      await next();
    },
  ];
}

interface RouteRequest {
  params?: z.ZodType;
  query?: z.ZodType;
}

/**
 * A route's path and query parameters, judged with its own schemas before its middleware runs
 * (zod-openapi validates after it). The route's validators still run and fill `c.req.valid()`.
 */
export function paramsFirst(request: RouteRequest | undefined): MiddlewareHandler<AetherEnv> {
  return async (c, next) => {
    const issues: string[] = [];
    const judge = (schema: z.ZodType | undefined, value: unknown, part: string): void => {
      const r = schema?.safeParse(value);
      if (r && !r.success) issues.push(...r.error.issues.map((i) => `${i.path.join('.') || part}: ${i.message}`));
    };
    judge(request?.params, c.req.param(), '(path)');
    // As Hono's query validator reads it: a repeated key is an array.
    judge(request?.query, Object.fromEntries(Object.entries(c.req.queries()).map(([k, v]) => [k, v.length === 1 ? v[0] : v])), '(query)');
    if (issues.length) return c.json(errorBody(c, 'VALIDATION_FAILED', issues.join('; ')), 400);
    await next();
  };
}
