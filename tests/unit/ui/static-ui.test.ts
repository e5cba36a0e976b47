import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { staticUi, UI_BUILD_HINT } from '../../../lib/http/static-ui.ts';

const dir = mkdtempSync(join(tmpdir(), 'aether-ui-'));
const dist = join(dir, 'dist');
mkdirSync(join(dist, 'assets'), { recursive: true });
const index = '<!doctype html><title>Aether</title><script type="module" src="/assets/index-abc.js"></script>';
const js = `console.log(${JSON.stringify('x'.repeat(2000))});`;
writeFileSync(join(dist, 'index.html'), index);
writeFileSync(join(dist, 'assets', 'index-abc.js'), js);
writeFileSync(join(dist, 'favicon.svg'), '<svg/>');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('static web UI', () => {
  const ui = staticUi(dist);

  it('serves index.html for the app routes, never cached, under a strict CSP', async () => {
    for (const path of ['/', '/accounts/company', '/governance']) {
      const r = await ui.request(path);
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toMatch(/^text\/html/);
      expect(r.headers.get('cache-control')).toBe('no-cache');
      expect(r.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
      expect(r.headers.get('x-frame-options')).toBe('DENY');
      expect(await r.text()).toBe(index);
    }
  });

  it('serves hashed assets as immutable, gzipped when asked, and a missing asset is a 404', async () => {
    const r = await ui.request('/assets/index-abc.js', { headers: { 'accept-encoding': 'gzip, br' } });
    expect(r.status).toBe(200);
    expect(r.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(r.headers.get('content-encoding')).toBe('gzip');
    expect(gunzipSync(Buffer.from(await r.arrayBuffer())).toString()).toBe(js);
    expect(await (await ui.request('/assets/index-abc.js')).text()).toBe(js);
    expect((await ui.request('/favicon.svg')).headers.get('cache-control')).toBe('public, max-age=3600');
    expect((await ui.request('/assets/gone.js')).status).toBe(404);
    expect((await ui.request('/robots.txt')).status).toBe(404);
    expect((await ui.request('/', { method: 'POST' })).status).toBe(405);
  });

  it('says how to build the UI when there is no build', async () => {
    const r = await staticUi(join(dir, 'missing')).request('/');
    expect(r.status).toBe(503);
    expect(await r.text()).toContain(UI_BUILD_HINT);
    expect(UI_BUILD_HINT).toContain('npm run build:ui');
  });
});
