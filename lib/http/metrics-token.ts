import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from 'hono';
import type { Config } from '../config.ts';
import type { AetherEnv } from './app.ts';
import { errorBody } from './errors.ts';
import { registry } from './metrics.ts';

/**
 * The bearer token `/metrics` requires: AETHER_METRICS_TOKEN (or the `aether-metrics-token` secret
 * file, lib/config.ts) when set; in the embedded runtime otherwise `$AETHER_HOME/metrics.token`,
 * generated with 0600 permissions on first start. A cluster without one gets undefined: /metrics
 * then refuses every scrape (and the scrape alert fires) rather than publish the accounts' figures.
 */
export function metricsTokenFor(config: Config): string | undefined {
  if (config.AETHER_METRICS_TOKEN || config.mode === 'cluster') return config.AETHER_METRICS_TOKEN;
  const file = join(config.AETHER_HOME, 'metrics.token');
  if (!existsSync(file)) {
    mkdirSync(config.AETHER_HOME, { recursive: true });
    try {
      writeFileSync(file, randomBytes(32).toString('base64url') + '\n', { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err; // another process made it first: use theirs
    }
  }
  if (statSync(file).mode & 0o077) chmodSync(file, 0o600);
  const token = readFileSync(file, 'utf8').trim();
  if (token.length < 32) throw new Error(`${file} does not hold a metrics token (32 or more characters)`);
  return token;
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Whether `Authorization: Bearer <presented>` matches `expected`, in time independent of where they differ (or of their lengths). */
export function bearerMatches(authorization: string | undefined, expected: string | undefined): boolean {
  if (!expected || !authorization?.startsWith('Bearer ')) return false;
  return timingSafeEqual(digest(authorization.slice(7).trim()), digest(expected));
}

/** GET /metrics (every function and the dispatcher): the exposition for the bearer of the metrics token, 401 in the error shape to anyone else. */
export const metricsHandler =
  (token: string | undefined) =>
  async (c: Context<AetherEnv>): Promise<Response> => {
    if (!bearerMatches(c.req.header('authorization'), token)) return c.json(errorBody(c, 'UNAUTHENTICATED', 'the metrics bearer token is required'), 401, { 'www-authenticate': 'Bearer' });
    return c.text(await registry.metrics(), 200, { 'content-type': registry.contentType });
  };
