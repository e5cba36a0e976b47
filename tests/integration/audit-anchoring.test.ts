import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp as createReportApp } from '../../functions/report/handler.ts';
import { parseConfig } from '../../lib/config.ts';
import { call, onboard, startApi, type ApiHarness } from '../helpers/api.ts';

/** The daily report carries the anchored head; GET /audit/verify runs the CLI's verifier against the same anchor log. */
let h: ApiHarness;
let home: string;
let token: string;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'aether-anchoring-'));
  h = await startApi(() => ({ config: parseConfig({ AETHER_HOME: home }) })); // embedded: anchors in $AETHER_HOME
  ({ token } = await onboard(h)); // the admin, the login and the accounts are audited
}, 60_000);
afterAll(async () => {
  await h?.close();
  rmSync(home, { recursive: true, force: true });
});

type Verify = { ok: boolean; rows: number; seq?: number; head?: string; anchors?: number; badId?: number; reason?: string; anchorLog: string | null; warnings: string[] };
const verify = async (): Promise<{ status: number; body: Verify }> => {
  const r = await call(h.app, 'GET', '/audit/verify', { token });
  return { status: r.status, body: r.body as Verify };
};

describe('anchoring the audit head', () => {
  it('before any anchor, the chain verifies with a warning that a cut tail would go unseen', async () => {
    const r = await verify();
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ ok: true, anchors: 0, anchorLog: join(home, 'audit-anchors.jsonl') });
    expect(r.body.warnings).toEqual([expect.stringMatching(/no anchor log at .* yet/)]);
    const rows = await call(h.app, 'GET', '/audit?limit=5', { token });
    expect(rows.status, rows.text).toBe(200);
    expect(new Set((rows.body as { rows: Array<{ alg: string }> }).rows.map((x) => x.alg))).toEqual(new Set(['hmac-sha256'])); // every row keyed
  });

  it('the daily report anchors the head outside the database and carries it', async () => {
    const r = await call(createReportApp(h.ctx), 'POST', '/', { json: {}, signAs: { signer: h.ctx, fn: 'report' } });
    expect(r.status, r.text).toBe(200);
    const head = (await h.testDb.owner.query('select id, hash from audit_log order by id desc limit 1')).rows[0] as { id: string; hash: string };
    expect((r.body as { audit: unknown }).audit).toEqual({ seq: Number(head.id), hash: head.hash, anchored: true });
    const lines = readFileSync(join(home, 'audit-anchors.jsonl'), 'utf8').trim().split('\n');
    expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual([{ seq: Number(head.id), hash: head.hash, keyedFrom: 1, at: expect.any(String) }]);
    expect(await verify()).toMatchObject({ status: 200, body: { ok: true, anchors: 1, seq: Number(head.id), warnings: [] } });
  });

  it('GET /audit/verify answers 409 naming the cut when rows are removed from the tail', async () => {
    const c = await h.testDb.owner.connect();
    try {
      await c.query('begin');
      await c.query('set local session_replication_role = replica'); // the owner, triggers off: no key, no anchors
      await c.query('delete from audit_log where id = (select max(id) from audit_log)');
      await c.query('commit');
    } finally {
      c.release();
    }
    const r = await verify();
    expect(r.status).toBe(409);
    expect(r.body).toMatchObject({ ok: false, reason: expect.stringMatching(/rows were removed from the tail/) });
  });
});
