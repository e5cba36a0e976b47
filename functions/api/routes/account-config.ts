import { createRoute, z } from '@hono/zod-openapi';
import { desc, eq } from 'drizzle-orm';
import { equitySnapshots, riskEvents, tradingState } from '../../../schema/index.ts';
import { adminHalt, adminReset, heldUntilReset, type TradingState } from '../../../lib/risk/drawdown.ts';
import { loosenedRiskLimits } from '../../../lib/risk/loosening.ts';
import type { Context } from 'hono';
import type { Account } from '../../../lib/accounts/accounts.ts';
import { activeCredential, type CredentialSummary, krakenCredentialsSchema, listCredentials, NoActiveKeyError, revokeCredentials, saveCredentials, unsealCredentials } from '../../../lib/accounts/credentials.ts';
import { secretSyncState, syncKrakenSecret, syncKrakenSecretNow, type SecretSyncState } from '../../../lib/accounts/kraken-secret-sync.ts';
import {
  decodeSettingsCursor,
  encodeSettingsCursor,
  latestSettings,
  putSettings,
  SETTINGS_CURSOR,
  settingsHistory,
  settingsSchemas,
  SETTINGS_KINDS,
  type SettingsKind,
} from '../../../lib/accounts/settings.ts';
import { appendAudit } from '../../../lib/audit/index.ts';
import type { AppContext } from '../../../lib/context.ts';
import { withAccount } from '../../../lib/db/scope.ts';
import { untradableReason } from '../../../lib/exchange/universe.ts';
import type { AetherApp } from '../../../lib/http/app.ts';
import { assertSteppedUp, authenticate, requireAccountAccess, requireStepUp, stepUpForbidden, type AuthedEnv } from '../../../lib/http/auth.ts';
import { errorResponses, errorSchema, HttpError } from '../../../lib/http/errors.ts';
import { KrakenRestClient, KrakenUsdListing, MarketListingUnavailableError } from '../../../lib/market/kraken-rest.ts';
import { tradingSettingsObject } from '../../../lib/strategy/settings.ts';
import { accountParam, body, json } from './schemas.ts';

const versioned = z.object({ version: z.number().int(), value: z.record(z.string(), z.unknown()) });
const change = versioned.extend({ changed: z.boolean().openapi({ description: 'false: the values equal the current ones, so no version was added and nothing audited' }) }).openapi('SettingsChange');
const historyRow = z
  .object({
    kind: z.enum(SETTINGS_KINDS as [SettingsKind, ...SettingsKind[]]),
    version: z.number().int(),
    value: z.record(z.string(), z.unknown()),
    createdAt: z.string(),
    createdBy: z.object({ id: z.uuid(), email: z.string() }).nullable().openapi({ description: 'null: written by the system (new-account defaults, the nightly adaptation)' }),
    changed: z.array(z.string()).openapi({ description: 'the fields that differ from the previous version of the kind (all fields for version 1)' }),
  })
  .openapi('SettingsVersion');
const historyQuery = z
  .object({
    kind: z.enum(SETTINGS_KINDS as [SettingsKind, ...SettingsKind[]]).optional().openapi({ pattern: `^(${SETTINGS_KINDS.join('|')})$` }),
    limit: z.coerce.number().int().min(1).max(500).default(100),
    before: z.string().regex(SETTINGS_CURSOR).optional().openapi({ description: 'nextBefore of the previous page' }),
  })
  .strict();
const allSettings = z.object(Object.fromEntries(SETTINGS_KINDS.map((k) => [k, versioned])) as Record<SettingsKind, typeof versioned>).openapi('AccountSettings');
const editableKind = z.object({ account: accountParam.shape.account, kind: z.enum(['trading', 'risk', 'hedge']).openapi({ param: { name: 'kind', in: 'path' } }) });
const patchBody = z.record(z.string(), z.unknown()).openapi('SettingsPatch', { description: 'fields to change; merged with the current settings, then validated whole' });
const credentialSummary = z
  .object({ fingerprint: z.string(), keyLast4: z.string(), storage: z.enum(['kubernetes', 'encrypted']), active: z.boolean(), createdAt: z.string(), revokedAt: z.string().nullable() })
  .openapi('CredentialSummary');
const keySecretState = z
  .object({
    ref: z.string(),
    state: z.enum(['pending', 'written']).openapi({ description: 'pending: the Secret does not hold what the database says yet (retried); written: it does' }),
    attempts: z.number().int(),
    lastError: z.string().nullable(),
    updatedAt: z.string(),
  })
  .nullable()
  .openapi('KeySecretState', { description: "The cluster's kraken-<account> Kubernetes Secret write; null where the key is sealed in the database (embedded)" });
const uploaded = credentialSummary.extend({ secret: keySecretState }).openapi('UploadedKey');
const revokedKey = z
  .object({ revoked: credentialSummary, toSimulation: z.boolean().openapi({ description: 'the account was live and has been switched back to simulation' }), secret: keySecretState })
  .openapi('RevokedKey');
const summaryJson = (k: CredentialSummary) => ({ ...k, createdAt: k.createdAt.toISOString(), revokedAt: k.revokedAt?.toISOString() ?? null });

const simulationBody = z
  .object({
    enabled: z.boolean(),
    /** Going live must be confirmed by typing `LIVE <account slug>`. */
    confirm: z.string().max(64).optional(),
  })
  .strict()
  .openapi('SimulationToggle');

const hedgeBody = z
  .discriminatedUnion('mode', [
    z.object({ mode: z.literal('auto') }).strict(),
    z.object({ mode: z.literal('manual'), ratio: z.number().min(0).max(1), expiresAt: z.iso.datetime({ offset: true }).nullable().optional() }).strict(),
  ])
  .openapi('HedgeOverride');

const resetBody = z.object({ note: z.string().trim().min(3).max(500) }).strict().openapi('TradingStateReset');
const haltBody = z.object({ note: z.string().trim().min(3).max(500) }).strict().openapi('TradingStateHalt');
const tradingStateSchema = z.object({ state: z.enum(['ACTIVE', 'REDUCING', 'HALTED']), since: z.string(), reason: z.string().nullable(), dayKey: z.string() }).openapi('TradingState');
const haltedSchema = tradingStateSchema.extend({ changed: z.boolean().openapi({ description: 'false: it was already halted by an admin; nothing was written' }) }).openapi('TradingStateHalted');
const stateJson = (s: Pick<TradingState, 'state' | 'since' | 'reason' | 'dayKey'>) => ({ state: s.state, since: new Date(s.since).toISOString(), reason: s.reason, dayKey: s.dayKey });

/** Settings as the API shows them: times ISO 8601 (stored as epoch ms). */
const settingsJson = (kind: SettingsKind, value: Record<string, unknown>): Record<string, unknown> =>
  kind === 'hedge' && typeof value.manualExpiry === 'number' ? { ...value, manualExpiry: new Date(value.manualExpiry).toISOString() } : value;
const versionJson = <T extends { value: unknown }>(kind: SettingsKind, v: T) => ({ ...v, value: settingsJson(kind, v.value as Record<string, unknown>) });

const account = (c: Context<AuthedEnv>): Account => c.get('account')!;
const zodMessage = (e: z.ZodError): string => e.issues.map((i) => `${i.path.join('.') || '(settings)'}: ${i.message}`).join('; ');

/**
 * Pairs an account may trade are the USD spot pairs Kraken lists now, read from Kraken's own
 * AssetPairs (KRAKEN_API_URL), cached for an hour of wall time. Checked only for pairs a change
 * sends (other changes never wait on Kraken), before the settings transaction opens. When Kraken
 * cannot be asked the change is refused (503) rather than judged against a stale or recorded list:
 * accepting a pair Kraken does not serve is what once made every account's `tick` fail.
 */
async function checkListedPairs(pairs: readonly string[], listing: KrakenUsdListing): Promise<void> {
  const markets = await listing.markets().catch((err: unknown) => {
    if (err instanceof MarketListingUnavailableError) throw new HttpError(503, 'MARKETS_UNAVAILABLE', `${err.message}; the pairs cannot be checked, nothing was changed`);
    throw err;
  });
  const bad = pairs.flatMap((p) => {
    const why = untradableReason(p, markets);
    return why === null ? [] : [`${p} (${why})`];
  });
  if (bad.length) throw new HttpError(422, 'NOT_SPOT_USD', `not a tradable Kraken USD spot pair: ${bad.join(', ')}; nothing was changed`);
}

/** Per-account configuration: settings (versioned), the simulation switch, Kraken keys, the hedge override. */
export function registerAccountConfig(app: AetherApp, ctx: AppContext): void {
  const viewer = [authenticate(ctx), requireAccountAccess(ctx, 'viewer')];
  const admin = [authenticate(ctx), requireAccountAccess(ctx, 'admin')];
  const listing = new KrakenUsdListing(new KrakenRestClient({ baseUrl: ctx.config.KRAKEN_API_URL }), ctx.clock);
  const secretSync = { db: ctx.db, secretStore: ctx.secretStore, logger: ctx.logger, clock: ctx.clock };
  const secretJson = (a: Account, s: SecretSyncState | null) =>
    s && ctx.secretStore.secrets ? { ref: ctx.secretStore.secrets.ref(a.slug), state: s.state, attempts: s.attempts, lastError: s.lastError, updatedAt: s.updatedAt.toISOString() } : null;
  const refusal = (status: 409 | 422, check: { reason: string; code?: 'KEY_CAN_WITHDRAW' }, what: string) =>
    new HttpError(status, check.code ?? 'KEYS_REFUSED', check.code ? check.reason : `Kraken refused ${what}: ${check.reason}`);

  /**
   * Going live needs the account's active key, accepted by Kraken now: embedded, the sealed key is
   * checked again (the withdrawal probe included). In the cluster the api never reads Secrets, so the
   * key was checked when it was uploaded, and its Secret must have been written.
   */
  async function checkKeysForLive(a: Account): Promise<void> {
    await syncKrakenSecret(secretSync, a); // a pending Secret write gets one more try first
    const { key, sync } = await withAccount(ctx.db, a.id, async (tx) => ({ key: await activeCredential(tx, a.id), sync: await secretSyncState(tx, a.id) }));
    if (!key) throw new HttpError(409, 'NO_KEYS', `${a.slug} has no Kraken key stored`);
    if (key.storage === 'kubernetes') {
      if (sync?.state !== 'written') throw new HttpError(409, 'SECRET_PENDING', `the key's Kubernetes Secret is not written yet${sync?.lastError ? ` (${sync.lastError})` : ''}; it is retried — try again shortly`);
      return;
    }
    if (!key.ciphertext) throw new HttpError(409, 'NO_KEYS', `${a.slug} has no Kraken key stored`);
    const check = await ctx.checkCredentials(unsealCredentials(ctx.secretStore.masterKey, { ...key, ciphertext: key.ciphertext }), a.id);
    if (!check.ok) throw refusal(409, check, 'the stored keys');
  }

  app.openapi(
    createRoute({
      method: 'get',
      path: '/accounts/{account}/settings',
      tags: ['settings'],
      security: [{ bearer: [] }],
      middleware: viewer,
      request: { params: accountParam },
      responses: { 200: json(allSettings, 'The latest settings of every kind'), 401: errorResponses[401], 403: errorResponses[403], 404: json(errorSchema, 'No such account') },
    }),
    async (c) => {
      const a = account(c as never);
      const out = await withAccount(ctx.db, a.id, async (tx) => {
        const out: Record<string, unknown> = {};
        for (const k of SETTINGS_KINDS) out[k] = versionJson(k, await latestSettings(tx, a.id, k)); // one connection: in turn
        return out;
      });
      return c.json(out as unknown as z.infer<typeof allSettings>, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/accounts/{account}/settings/{kind}',
      tags: ['settings'],
      summary:
        'Change trading, risk or hedge settings (admin); adds a version, audited with before/after. Loosening a risk limit needs step-up (403 STEP_UP_REQUIRED); tightening does not. No change (`{}` or the current values) adds no version and no audit row: 200 with the current settings, changed false.',
      security: [{ bearer: [] }],
      middleware: admin,
      request: { params: editableKind, body: body(patchBody) },
      responses: {
        200: json(change, 'The new version, or the current one when nothing changed'),
        400: errorResponses[400],
        401: errorResponses[401],
        403: stepUpForbidden,
        404: json(errorSchema, 'No such account'),
        422: json(errorSchema, 'A pair that is not a tradable Kraken USD spot market'),
        503: json(errorSchema, "Kraken's market listing could not be read to check the pairs"),
      },
    }),
    async (c) => {
      const { kind } = c.req.valid('param');
      const patch = c.req.valid('json');
      const a = account(c as never);
      if (kind === 'trading' && 'pairs' in patch) {
        // Well-formed pairs are checked against Kraken; malformed ones fail the schema below with a 400.
        const pairs = tradingSettingsObject.shape.pairs.safeParse(patch.pairs);
        if (pairs.success) await checkListedPairs(pairs.data, listing);
      }
      const result = await withAccount(ctx.db, a.id, async (tx) => {
        const current = await latestSettings(tx, a.id, kind);
        const merged = settingsSchemas[kind].safeParse({ ...current.value, ...patch });
        if (!merged.success) throw new HttpError(400, 'INVALID_SETTINGS', zodMessage(merged.error));
        if (kind === 'risk') {
          const loosened = loosenedRiskLimits(settingsSchemas.risk.parse(current.value), settingsSchemas.risk.parse(merged.data));
          if (loosened.length) assertSteppedUp(c as never, ctx, `loosening ${loosened.join(', ')}`);
        }
        return putSettings(tx, a.id, kind, merged.data, c.get('user')!.id, ctx.clock);
      });
      return c.json(versionJson(kind, result) as z.infer<typeof change>, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/accounts/{account}/simulation',
      tags: ['settings'],
      summary: 'Switch the account between simulation and live (admin). Live needs verified keys, confirm = "LIVE <slug>" and step-up (403 STEP_UP_REQUIRED); back to simulation needs neither.',
      security: [{ bearer: [] }],
      middleware: admin,
      request: { params: accountParam, body: body(simulationBody) },
      responses: {
        200: json(change, 'The new simulation setting (changed false: it already was)'),
        400: errorResponses[400],
        401: errorResponses[401],
        403: stepUpForbidden,
        404: json(errorSchema, 'No such account'),
        409: json(errorSchema, 'Keys missing (NO_KEYS), refused by Kraken (KEYS_REFUSED), able to withdraw (KEY_CAN_WITHDRAW), or their Kubernetes Secret not written yet (SECRET_PENDING)'),
      },
    }),
    async (c) => {
      const { enabled, confirm } = c.req.valid('json');
      const a = account(c as never);
      if (!enabled && confirm !== `LIVE ${a.slug}`) throw new HttpError(400, 'CONFIRMATION_REQUIRED', `to trade live with real money send confirm: "LIVE ${a.slug}"`);
      if (!enabled) assertSteppedUp(c as never, ctx, 'going live');
      if (!enabled) await checkKeysForLive(a);
      const result = await withAccount(ctx.db, a.id, async (tx) => {
        const current = await latestSettings(tx, a.id, 'simulation');
        return putSettings(tx, a.id, 'simulation', { ...current.value, enabled }, c.get('user')!.id, ctx.clock);
      });
      return c.json(result as z.infer<typeof change>, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/accounts/{account}/keys',
      tags: ['keys'],
      summary: 'Stored Kraken keys: fingerprint and last four characters only',
      security: [{ bearer: [] }],
      middleware: viewer,
      request: { params: accountParam },
      responses: {
        200: json(z.object({ keys: z.array(credentialSummary), secret: keySecretState }), 'Key summaries, and the state of the Kubernetes Secret write (cluster)'),
        401: errorResponses[401],
        403: errorResponses[403],
        404: json(errorSchema, 'No such account'),
      },
    }),
    async (c) => {
      const a = account(c as never);
      const { keys, sync } = await withAccount(ctx.db, a.id, async (tx) => ({ keys: await listCredentials(tx, a.id), sync: await secretSyncState(tx, a.id) }));
      return c.json({ keys: keys.map(summaryJson), secret: secretJson(a, sync) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/accounts/{account}/keys',
      tags: ['keys'],
      summary:
        'Upload a Kraken key (admin): validated against Kraken (a key that can withdraw is refused), stored as a Kubernetes Secret (written after the audited change commits) or encrypted, audited by fingerprint',
      security: [{ bearer: [] }],
      middleware: [...admin, requireStepUp(ctx, 'uploading a Kraken key')],
      request: { params: accountParam, body: body(krakenCredentialsSchema) },
      responses: {
        201: json(uploaded, 'Stored (and, in the cluster, written to its Kubernetes Secret)'),
        202: json(uploaded, 'Stored and audited; its Kubernetes Secret write failed and is retried (secret.lastError says why)'),
        400: errorResponses[400],
        401: errorResponses[401],
        403: stepUpForbidden,
        404: json(errorSchema, 'No such account'),
        422: json(errorSchema, 'Kraken refused the key (KEYS_REFUSED), or the key can withdraw funds (KEY_CAN_WITHDRAW)'),
      },
    }),
    async (c) => {
      const creds = c.req.valid('json');
      const a = account(c as never);
      const check = await ctx.checkCredentials(creds, a.id);
      if (!check.ok) throw refusal(422, check, 'the key');
      const saved = await withAccount(ctx.db, a.id, (tx) => saveCredentials(tx, a, creds, ctx.secretStore, c.get('user')!.id, ctx.clock));
      const sync = await syncKrakenSecretNow(secretSync, a); // only now that the audited change is committed
      return c.json({ ...summaryJson(saved), secret: secretJson(a, sync) }, sync?.state === 'pending' ? 202 : 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/accounts/{account}/keys',
      tags: ['keys'],
      summary:
        "Revoke the account's Kraken key (admin, audited): no key material stays in the database, the Kubernetes Secret is emptied (cluster), and a live account is switched back to simulation",
      security: [{ bearer: [] }],
      middleware: [...admin, requireStepUp(ctx, 'revoking a Kraken key')],
      request: { params: accountParam },
      responses: {
        200: json(revokedKey, 'Revoked (and, in the cluster, removed from its Kubernetes Secret)'),
        202: json(revokedKey, 'Revoked and audited; emptying its Kubernetes Secret failed and is retried (secret.lastError says why)'),
        401: errorResponses[401],
        403: stepUpForbidden,
        404: json(errorSchema, 'No such account'),
        409: json(errorSchema, 'The account has no active key (NO_KEYS)'),
      },
    }),
    async (c) => {
      const a = account(c as never);
      const out = await withAccount(ctx.db, a.id, (tx) => revokeCredentials(tx, a, ctx.secretStore, c.get('user')!.id, ctx.clock)).catch((err: unknown) => {
        if (err instanceof NoActiveKeyError) throw new HttpError(409, 'NO_KEYS', err.message);
        throw err;
      });
      const sync = await syncKrakenSecretNow(secretSync, a);
      return c.json({ revoked: summaryJson(out.revoked), toSimulation: out.toSimulation, secret: secretJson(a, sync) }, sync?.state === 'pending' ? 202 : 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/accounts/{account}/hedge',
      tags: ['hedge'],
      summary: 'Hedge mode (admin): auto, or a manual USD share with an optional expiry (ISO 8601, answered as ISO 8601); the current mode again changes nothing (changed false)',
      security: [{ bearer: [] }],
      middleware: admin,
      request: { params: accountParam, body: body(hedgeBody) },
      responses: {
        200: json(change, 'The new hedge settings'),
        400: errorResponses[400],
        401: errorResponses[401],
        403: errorResponses[403],
        404: json(errorSchema, 'No such account'),
      },
    }),
    async (c) => {
      const o = c.req.valid('json');
      const a = account(c as never);
      const expiry = o.mode === 'manual' && o.expiresAt ? Date.parse(o.expiresAt) : null;
      if (expiry !== null && expiry <= ctx.clock.now()) throw new HttpError(400, 'EXPIRY_IN_PAST', 'expiresAt must be in the future');
      const result = await withAccount(ctx.db, a.id, async (tx) => {
        const current = await latestSettings(tx, a.id, 'hedge');
        const next = o.mode === 'auto' ? { ...current.value, mode: 'auto' as const } : { ...current.value, mode: 'manual' as const, manualRatio: o.ratio, manualExpiry: expiry };
        const parsed = settingsSchemas.hedge.safeParse(next);
        if (!parsed.success) throw new HttpError(400, 'INVALID_SETTINGS', zodMessage(parsed.error));
        const saved = await putSettings(tx, a.id, 'hedge', parsed.data, c.get('user')!.id, ctx.clock);
        if (saved.changed) await appendAudit(tx, { action: 'hedge.override', userId: c.get('user')!.id, accountId: a.id, details: { ...o } }, ctx.clock);
        return saved;
      });
      return c.json(versionJson('hedge', result) as z.infer<typeof change>, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/accounts/{account}/trading-state/reset',
      tags: ['risk'],
      summary: 'Admin reset of a REDUCING or HALTED account to ACTIVE for the rest of the UTC day (audited; step-up)',
      security: [{ bearer: [] }],
      middleware: [...admin, requireStepUp(ctx, 'resetting a halt')],
      request: { params: accountParam, body: body(resetBody) },
      responses: {
        200: json(tradingStateSchema, 'The account trades again'),
        400: errorResponses[400],
        401: errorResponses[401],
        403: stepUpForbidden,
        404: json(errorSchema, 'No such account'),
        409: json(errorSchema, 'Nothing to reset'),
      },
    }),
    async (c) => {
      const { note } = c.req.valid('json');
      const a = account(c as never);
      const user = c.get('user')!;
      const next = await withAccount(ctx.db, a.id, async (tx) => {
        const [row] = await tx.select().from(tradingState).where(eq(tradingState.accountId, a.id));
        if (!row || row.state === 'ACTIVE') throw new HttpError(409, 'NOT_HALTED', `${a.slug} is ${row?.state ?? 'not trading yet'}: nothing to reset`);
        const [eq1] = await tx.select({ e: equitySnapshots.equityUsd }).from(equitySnapshots).where(eq(equitySnapshots.accountId, a.id)).orderBy(desc(equitySnapshots.ts)).limit(1);
        if (!eq1) throw new HttpError(409, 'NO_EQUITY', 'no equity snapshot to measure the rest of the day from');
        const prev = { state: row.state, since: row.since.getTime(), reason: row.reason ?? '', dayKey: row.dayKey, drawdown: row.drawdown, referenceEquity: row.referenceEquityUsd === null ? null : Number(row.referenceEquityUsd) };
        const s = adminReset(prev, { now: ctx.clock.now(), equity: Number(eq1.e), userId: user.id, note });
        await tx
          .update(tradingState)
          .set({ state: s.state, since: new Date(s.since), reason: s.reason, dayKey: s.dayKey, drawdown: s.drawdown, referenceEquityUsd: String(s.referenceEquity), updatedAt: new Date(ctx.clock.now()) })
          .where(eq(tradingState.accountId, a.id));
        await appendAudit(tx, { action: 'risk.reset', userId: user.id, accountId: a.id, details: { from: prev.state, fromReason: prev.reason, note, referenceEquity: s.referenceEquity } }, ctx.clock);
        return s;
      });
      return c.json(stateJson(next), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/accounts/{account}/trading-state/halt',
      tags: ['risk'],
      summary:
        'Kill switch (admin, audited): the account stops trading now — HALTED, no new entries (its positions keep their stops) — and stays so, across UTC days, until an admin resets it (POST …/trading-state/reset). Halting an account an admin already halted changes nothing (changed false).',
      security: [{ bearer: [] }],
      middleware: admin,
      request: { params: accountParam, body: body(haltBody) },
      responses: {
        200: json(haltedSchema, 'The account is halted'),
        400: errorResponses[400],
        401: errorResponses[401],
        403: errorResponses[403],
        404: json(errorSchema, 'No such account'),
      },
    }),
    async (c) => {
      const { note } = c.req.valid('json');
      const a = account(c as never);
      const user = c.get('user')!;
      const out = await withAccount(ctx.db, a.id, async (tx) => {
        const [row] = await tx.select().from(tradingState).where(eq(tradingState.accountId, a.id)).for('update');
        const prev: TradingState | null = row
          ? { state: row.state, since: row.since.getTime(), reason: row.reason ?? '', dayKey: row.dayKey, drawdown: row.drawdown, referenceEquity: row.referenceEquityUsd === null ? null : Number(row.referenceEquityUsd) }
          : null;
        if (prev && heldUntilReset(prev)) return { state: prev, changed: false };
        const now = ctx.clock.now();
        const s = adminHalt(prev, { now, by: user.email, note });
        const values = { state: s.state, since: new Date(s.since), reason: s.reason, dayKey: s.dayKey, drawdown: s.drawdown, updatedAt: new Date(now) };
        // An account that never ran a cycle has no day reference yet: 0 lets its first cycle take the equity it sees.
        await tx
          .insert(tradingState)
          .values({ accountId: a.id, ...values, dayStartAt: new Date(now), dayStartEquityUsd: '0' })
          .onConflictDoUpdate({ target: tradingState.accountId, set: values });
        const detail = { from: prev?.state ?? null, fromReason: prev?.reason ?? null, to: s.state, reason: s.reason, note };
        await tx.insert(riskEvents).values({ accountId: a.id, ts: new Date(now), code: 'ADMIN_HALT', detail });
        await appendAudit(tx, { action: 'risk.halt', userId: user.id, accountId: a.id, details: detail }, ctx.clock);
        return { state: s, changed: true };
      });
      if (out.changed) ctx.logger.warn({ account: a.slug, by: user.email }, 'account HALTED by an admin (kill switch)');
      return c.json({ ...stateJson(out.state), changed: out.changed }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/accounts/{account}/settings/history',
      tags: ['settings'],
      summary: 'Every settings version, newest first: who wrote it, when, and which fields it changed (keyset-paginated by `before`)',
      security: [{ bearer: [] }],
      middleware: viewer,
      request: { params: accountParam, query: historyQuery },
      responses: {
        200: json(z.object({ versions: z.array(historyRow), nextBefore: z.string().nullable() }), 'A page of versions'),
        400: errorResponses[400],
        401: errorResponses[401],
        403: errorResponses[403],
        404: json(errorSchema, 'No such account'),
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const a = account(c as never);
      const rows = await withAccount(ctx.db, a.id, (tx) => settingsHistory(tx, a.id, { kind: q.kind, before: q.before ? decodeSettingsCursor(q.before) : undefined, limit: q.limit + 1 }));
      const page = rows.slice(0, q.limit);
      const last = page[page.length - 1];
      return c.json(
        {
          versions: page.map((v) => ({ ...v, value: settingsJson(v.kind, v.value), createdAt: v.createdAt.toISOString() })),
          nextBefore: rows.length > q.limit && last ? encodeSettingsCursor(last) : null,
        },
        200,
      );
    },
  );
}
