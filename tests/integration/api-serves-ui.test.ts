import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway } from '../../bin/gateway.ts';
import { uiBuilt } from '../../lib/http/static-ui.ts';
import { freePort } from '../../lib/runtime/embedded-postgres.ts';
import { errorShape, startApi, type ApiHarness } from '../helpers/api.ts';
import { untilOutput } from '../helpers/child-output.ts';
import { buildDist, linkProductionModules, ROOT } from '../helpers/production-build.ts';

/**
 * The web UI served by the api function itself (Issue 11): in the cluster the ingress rewrites `/…` to
 * `/function/api/…`, so the api receives a page's path (`/accounts/company`) exactly as it receives the
 * API call the page then makes (`/function/api/accounts/company`). A browser navigation gets the page,
 * everything else the API as before.
 */
const NAVIGATION = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8' };
const JSON_ONLY = { accept: 'application/json' };

const tmp = mkdtempSync(join(tmpdir(), 'aether-api-ui-'));
let h: ApiHarness;
beforeAll(async () => {
  // CI's `npm ci` runs `prepare`, which builds the UI; a clone installed with --ignore-scripts has none.
  if (!uiBuilt()) {
    const r = spawnSync('npm', ['run', 'build:ui'], { cwd: ROOT, encoding: 'utf8', timeout: 600_000 });
    if (r.status !== 0) throw new Error(`npm run build:ui failed:\n${r.stdout}\n${r.stderr}`);
  }
  h = await startApi();
}, 900_000);
afterAll(async () => {
  await h?.close();
  rmSync(tmp, { recursive: true, force: true });
});

/**
 * `aether serve api` from `entry` (bin/aether.js of the source tree or of a build), in cluster mode,
 * answering as expectUiBesideApi says, and stopping cleanly.
 */
async function expectServedUi(entry: string, cwd: string): Promise<void> {
  const port = await freePort();
  const key = (): string => randomBytes(32).toString('base64');
  const child = spawn(process.execPath, [entry, 'serve', 'api'], {
    cwd,
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: h.testDb.url,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      AETHER_MASTER_KEY: key(),
      AETHER_AUDIT_KEY: key(),
      SECRETS_DIR: join(tmp, 'no-secrets'),
      AETHER_HOME: join(tmp, 'home'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((ok) => child.once('exit', ok));
  try {
    await untilOutput(child, '"msg":"serving"', 90_000);
    await expectUiBesideApi(`http://127.0.0.1:${port}`);
  } finally {
    child.kill('SIGTERM');
  }
  expect(await exited).toBe(0);
}

/** The first script index.html loads: a content-hashed asset of the build. */
const entryScript = (html: string): string => {
  const src = /<script type="module"[^>]* src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
  expect(src, html).toBeDefined();
  return src!;
};

async function expectPage(res: Response): Promise<string> {
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/html/);
  expect(res.headers.get('cache-control')).toBe('no-cache');
  expect(res.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
  const html = await res.text();
  expect(html).toContain('<div id="root">');
  return html;
}

async function expectJsonError(res: Response, status: number, code: string): Promise<void> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  expect(errorShape.parse(await res.json()).code).toBe(code);
}

/** What the api answers at `base`: the pages and assets, and its API unchanged beside them. */
async function expectUiBesideApi(base: string): Promise<void> {
  const get = (path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Response> => fetch(`${base}${path}`, { method, headers });

  const index = await expectPage(await get('/', NAVIGATION));
  const script = await get(entryScript(index), { 'accept-encoding': 'gzip' });
  expect(script.status).toBe(200);
  expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
  expect(script.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  expect((await script.text()).length).toBeGreaterThan(100);
  expect((await get('/favicon.svg')).headers.get('content-type')).toBe('image/svg+xml');
  expect((await get('/assets/gone-0000.js')).status).toBe(404);

  // A page whose path is also an API route: the browser's navigation gets the page, the UI's fetch the API.
  for (const page of ['/accounts/company', '/users', '/governance']) expect(await expectPage(await get(page, NAVIGATION))).toBe(index);
  await expectJsonError(await get('/accounts/company', JSON_ONLY), 401, 'UNAUTHENTICATED');
  await expectJsonError(await get('/accounts/company'), 401, 'UNAUTHENTICATED');
  const head = await get('/accounts/company', NAVIGATION, 'HEAD');
  expect(head.status).toBe(200);
  expect(head.headers.get('content-type')).toMatch(/^text\/html/);

  // The ops routes and anything with an extension answer whoever asks, a browser included.
  const health = await get('/healthz', NAVIGATION);
  expect(health.headers.get('content-type')).toMatch(/^application\/json/);
  expect(await health.json()).toMatchObject({ function: 'api', mode: 'cluster' });
  expect(((await (await get('/openapi.json', NAVIGATION)).json()) as { openapi: string }).openapi).toBe('3.1.0');
  await expectJsonError(await get('/accounts/company/trades.csv', NAVIGATION), 401, 'UNAUTHENTICATED');
  expect((await get('/livez', NAVIGATION)).status).toBe(200);
  expect((await get('/metrics', NAVIGATION)).status).toBe(401);

  // The API's own 404 and 405 semantics stay: an unknown route, another method on a page's path.
  await expectJsonError(await get('/accounts/company/nothing-here', JSON_ONLY), 404, 'NOT_FOUND');
  await expectJsonError(await get('/nothing-here'), 404, 'NOT_FOUND');
  const posted = await get('/governance', { ...NAVIGATION, 'content-type': 'application/json' }, 'POST');
  expect(posted.headers.get('content-type')).toMatch(/^application\/json/);
  expect(posted.status).toBe(404);
}

describe('the api function serves the web UI beside its routes', () => {
  it('`aether serve api` from the source tree', () => expectServedUi(join(ROOT, 'bin/aether.js'), ROOT), 180_000);

  it('the embedded gateway leaves the choice to the api: `/…` as the ingress sends it, and `/function/api/…`', async () => {
    const { http } = createGateway(['api'], h.ctx);
    const page = (path: string): Response | Promise<Response> => http.request(path, { headers: NAVIGATION });
    const index = await expectPage(await page('/accounts/company'));
    expect(await expectPage(await page('/function/api/accounts/company'))).toBe(index);
    await expectJsonError(await http.request('/function/api/accounts/company', { headers: JSON_ONLY }), 401, 'UNAUTHENTICATED');
    await expectJsonError(await http.request('/accounts/company', { headers: JSON_ONLY }), 401, 'UNAUTHENTICATED');
    expect((await http.request(entryScript(index))).headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    await expectJsonError(await page('/function/nothing'), 404, 'FUNCTION_NOT_FOUND');
    // Without the api among the functions, no page: nothing serves it.
    await expectJsonError(await createGateway(['score'], h.ctx).http.request('/', { headers: NAVIGATION }), 404, 'FUNCTION_NOT_FOUND');
  });

  it('`node dist/bin/aether.js serve api`: the compiled build finds the UI the build copied beside it', async () => {
    const out = join(tmp, 'dist');
    buildDist(out);
    linkProductionModules(out);
    expect(readFileSync(join(out, 'ui/dist/index.html'), 'utf8')).toContain('<div id="root">');
    await expectServedUi(join(out, 'bin/aether.js'), out);
  }, 900_000);
});
