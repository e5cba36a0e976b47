import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { accepts } from 'hono/accepts';
import { secureHeaders } from 'hono/secure-headers';
import { APP_ROOT } from '../app-root.ts';
import { SECURE_HEADERS } from './hygiene.ts';

/** Where `vite build` (npm's prepare script) writes the web UI. */
export const UI_DIST = join(APP_ROOT, 'ui/dist');

/** What to tell an operator whose clone has no built UI. */
export const UI_BUILD_HINT = 'the web UI is not built (ui/dist/index.html is missing): run `npm run build:ui` (npm install runs it too)';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

interface Asset {
  type: string;
  body: Uint8Array;
  gzip: Uint8Array | null;
  cache: string;
}

/** Every file of the build, read once: the UI is a few hundred kB, and a restart is how it changes. */
function loadAssets(dist: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) {
        walk(path);
        continue;
      }
      const url = '/' + relative(dist, path).split(sep).join('/');
      const body = readFileSync(path);
      const type = TYPES[extname(name)] ?? 'application/octet-stream';
      const compressible = /^(text\/|application\/json|image\/svg)/.test(type) && body.length > 512;
      // Vite names everything under assets/ by its content hash: those never change under their name.
      const cache = url === '/index.html' ? 'no-cache' : url.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'public, max-age=3600';
      assets.set(url, { type, body, gzip: compressible ? gzipSync(body, { level: 9 }) : null, cache });
    }
  };
  walk(dist);
  return assets;
}

// The API's policy for the pages: everything from this origin only.
const headers = secureHeaders({ ...SECURE_HEADERS, strictTransportSecurity: false });

function send(c: Context, asset: Asset): Response {
  const gzip = asset.gzip && /\bgzip\b/.test(c.req.header('accept-encoding') ?? '') ? asset.gzip : null;
  c.header('content-type', asset.type);
  c.header('cache-control', asset.cache);
  c.header('vary', 'accept-encoding');
  if (gzip) c.header('content-encoding', 'gzip');
  if (c.req.method === 'HEAD') return c.body(null, 200);
  return c.body((gzip ?? asset.body) as Uint8Array<ArrayBuffer>, 200);
}

/** A build read into memory: its files by URL path, and the app answering with them. */
interface Build {
  files: ReadonlySet<string>;
  app: Hono;
}

function load(dist: string): Build {
  const app = new Hono();
  app.use(headers);
  if (!existsSync(join(dist, 'index.html'))) {
    app.all('*', (c) => c.text(`${UI_BUILD_HINT}\n`, 503));
    return { files: new Set(), app };
  }
  const assets = loadAssets(dist);
  const index = assets.get('/index.html')!;
  app.on(['GET', 'HEAD'], '*', (c) => {
    const path = c.req.path;
    const asset = assets.get(path);
    if (asset) return send(c, asset);
    if (path.startsWith('/assets/') || extname(path) !== '') return c.text('not found\n', 404);
    return send(c, index);
  });
  app.all('*', (c) => c.text('the web UI answers GET only\n', 405));
  return { files: new Set(assets.keys()), app };
}

/**
 * The single-page web UI from a `vite build` output: its files by path, and index.html for any other
 * path (the UI's own routes, e.g. /accounts/company), so a reload or a shared link works. A missing
 * asset is a 404, not the page. Without a build every path answers 503 with how to build it.
 */
export function staticUi(dist = UI_DIST): Hono {
  return load(dist).app;
}

/**
 * Whether a request is the web UI's where the UI and the API share their paths: the api function,
 * which the ingress reaches with `/accounts/company` both for the page (`/` is rewritten to
 * `/function/api/`) and for the API resource the page then fetches (`/function/api/accounts/company`).
 * Only GET and HEAD, and then
 * - a file of the build, or anything under /assets/ (a missing hashed asset is the UI's 404);
 * - a browser navigation (Accept prefers text/html over JSON: a browser's address bar, a link, a
 *   reload) of a path without an extension, which is a page of the UI even where an API route has the
 *   same path. The UI's API calls ask for JSON (or for anything, `*\/*`), and no API route answers HTML;
 *   a download such as trades.csv has an extension, so a link to it still reaches the API.
 * Everything else (any other method, a JSON or CLI client, /openapi.json) is the API's, with its JSON 404 and 405.
 */
function isUiRequest(c: Context, files: () => ReadonlySet<string>): boolean {
  if (c.req.method !== 'GET' && c.req.method !== 'HEAD') return false;
  const path = c.req.path;
  if (path.startsWith('/assets/')) return true;
  if (extname(path) !== '') return files().has(path);
  return accepts(c, { header: 'Accept', supports: ['text/html', 'application/json'], default: 'application/json' }) === 'text/html';
}

/**
 * The web UI inside a function's app (the api's): answers the UI's requests (isUiRequest) from the
 * build, hands every other request on. The build is read on the first such request, so a pod serving
 * only API calls never reads it; `warn` hears once, at once, that there is no build.
 */
export function uiMiddleware(warn: (message: string) => void, dist = UI_DIST): MiddlewareHandler {
  if (!uiBuilt(dist)) warn(UI_BUILD_HINT);
  let build: Build | undefined;
  const loaded = (): Build => (build ??= load(dist));
  return async (c, next) => {
    if (!isUiRequest(c, () => loaded().files)) return next();
    return loaded().app.fetch(c.req.raw);
  };
}

/** Whether the build exists. */
export const uiBuilt = (dist = UI_DIST): boolean => existsSync(join(dist, 'index.html'));
