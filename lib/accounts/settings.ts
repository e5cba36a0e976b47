import { isDeepStrictEqual } from 'node:util';
import { and, asc, desc, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { settings, users } from '../../schema/index.ts';
import { appendAudit } from '../audit/index.ts';
import type { Clock } from '../clock.ts';
import type { Tx } from '../db/client.ts';
import { withAccountScope } from '../db/scope.ts';
import { hedgeSettingsSchema } from '../hedge/settings.ts';
import { riskSettingsSchema } from '../risk/settings.ts';
import { tradingSettingsSchema } from '../strategy/settings.ts';

/** Simulation is the default; switching to live is a separate, audited, confirmed action. */
export const simulationSettingsSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** The virtual USD a simulated account starts with. */
    initialUsd: z.number().positive().max(1e9).default(10_000),
  })
  .strict();

export const settingsSchemas = {
  trading: tradingSettingsSchema,
  risk: riskSettingsSchema,
  hedge: hedgeSettingsSchema,
  simulation: simulationSettingsSchema,
} as const;
export type SettingsKind = keyof typeof settingsSchemas;
export type SettingsOf<K extends SettingsKind> = z.infer<(typeof settingsSchemas)[K]>;
export const SETTINGS_KINDS = Object.keys(settingsSchemas) as SettingsKind[];

/** The latest version of one kind of settings for the transaction's account (call inside withAccount). */
export async function latestSettings<K extends SettingsKind>(tx: Tx, accountId: string, kind: K): Promise<{ version: number; value: SettingsOf<K> }> {
  const [row] = await tx
    .select({ version: settings.version, value: settings.value })
    .from(settings)
    .where(and(eq(settings.accountId, accountId), eq(settings.kind, kind)))
    .orderBy(desc(settings.version))
    .limit(1);
  if (!row) throw new Error(`account ${accountId} has no ${kind} settings`);
  return { version: row.version, value: settingsSchemas[kind].parse(row.value) as SettingsOf<K> };
}

/** The latest version of every kind of settings, read in one query (an order job needs them all before it trades). */
export async function allLatestSettings(tx: Tx, accountId: string): Promise<{ [K in SettingsKind]: { version: number; value: SettingsOf<K>; createdAt: number } }> {
  const rows = await tx
    .selectDistinctOn([settings.kind], { kind: settings.kind, version: settings.version, value: settings.value, createdAt: settings.createdAt })
    .from(settings)
    .where(eq(settings.accountId, accountId))
    .orderBy(asc(settings.kind), desc(settings.version));
  const out: Record<string, { version: number; value: unknown; createdAt: number }> = {};
  for (const kind of SETTINGS_KINDS) {
    const row = rows.find((r) => r.kind === kind);
    if (!row) throw new Error(`account ${accountId} has no ${kind} settings`);
    out[kind] = { version: row.version, value: settingsSchemas[kind].parse(row.value), createdAt: row.createdAt.getTime() };
  }
  return out as { [K in SettingsKind]: { version: number; value: SettingsOf<K>; createdAt: number } };
}

/**
 * Adds a new version (the latest wins) and audits before/after in the same transaction. A concurrent
 * writer of the same version loses on the primary key instead of silently overwriting. Only the
 * schema is checked here (no I/O inside the transaction): the settings API checks the trading pairs
 * a change sends against Kraken's USD-spot listing before it calls this. A value equal to the
 * latest version is no change: nothing is written or audited, and the latest version is returned
 * (`changed: false`).
 */
export async function putSettings<K extends SettingsKind>(
  tx: Tx,
  accountId: string,
  kind: K,
  value: unknown,
  actor: string | null,
  clock: Clock,
): Promise<{ version: number; value: SettingsOf<K>; changed: boolean }> {
  const parsed = settingsSchemas[kind].parse(value) as SettingsOf<K>;
  const [prev] = await tx
    .select({ version: settings.version, value: settings.value })
    .from(settings)
    .where(and(eq(settings.accountId, accountId), eq(settings.kind, kind)))
    .orderBy(desc(settings.version))
    .limit(1);
  // Compared as parsed (defaults filled in), so a stored row written before a field existed still compares equal.
  if (prev && isDeepStrictEqual(settingsSchemas[kind].parse(prev.value), parsed)) return { version: prev.version, value: parsed, changed: false };
  const version = (prev?.version ?? 0) + 1;
  await tx.insert(settings).values({ accountId, kind, version, value: parsed, createdBy: actor, createdAt: new Date(clock.now()) });
  await appendAudit(tx, { action: `settings.${kind}`, userId: actor, accountId, details: { version, before: prev?.value ?? null, after: parsed } }, clock);
  return { version, value: parsed, changed: true };
}

/** One version of one kind, with who wrote it and which fields it changed from the version before. */
export interface SettingsVersion {
  kind: SettingsKind;
  version: number;
  value: Record<string, unknown>;
  createdAt: Date;
  createdBy: { id: string; email: string } | null; // null: the system (seeding, the nightly adaptation)
  changed: string[]; // top-level fields that differ from the previous version (every field for version 1)
}

/** Keyset position in the history: the (time, kind, version) of the last row seen. */
export interface SettingsCursor {
  createdAt: Date;
  kind: SettingsKind;
  version: number;
}
export const SETTINGS_CURSOR = /^\d{1,15}_(trading|risk|hedge|simulation)_\d{1,9}$/;
export const encodeSettingsCursor = (c: SettingsCursor): string => `${c.createdAt.getTime()}_${c.kind}_${c.version}`;
export function decodeSettingsCursor(s: string): SettingsCursor {
  if (!SETTINGS_CURSOR.test(s)) throw new RangeError(`not a settings cursor: ${s}`);
  const [ms, kind, version] = s.split('_') as [string, SettingsKind, string];
  return { createdAt: new Date(Number(ms)), kind, version: Number(version) };
}

/**
 * The account's settings versions, newest first (call inside withAccount): of one kind or all, a page
 * of `limit` after the cursor. Each row is diffed against its kind's previous version in the query.
 */
export async function settingsHistory(tx: Tx, accountId: string, q: { kind?: SettingsKind; before?: SettingsCursor; limit: number }): Promise<SettingsVersion[]> {
  const inner = tx
    .select({
      kind: settings.kind,
      version: settings.version,
      value: settings.value,
      createdAt: settings.createdAt,
      createdBy: settings.createdBy,
      prev: sql<unknown>`lag(${settings.value}) over (partition by ${settings.kind} order by ${settings.version})`.as('prev'),
    })
    .from(settings)
    .where(q.kind ? and(eq(settings.accountId, accountId), eq(settings.kind, q.kind)) : eq(settings.accountId, accountId))
    .as('s');
  const c = q.before;
  const rows = await tx
    .select({ kind: inner.kind, version: inner.version, value: inner.value, createdAt: inner.createdAt, prev: inner.prev, userId: users.id, email: users.email })
    .from(inner)
    .leftJoin(users, eq(users.id, inner.createdBy))
    .where(c ? sql`(${inner.createdAt}, ${inner.kind}, ${inner.version}) < (${c.createdAt.toISOString()}::timestamptz, ${c.kind}, ${c.version})` : undefined)
    .orderBy(desc(inner.createdAt), desc(inner.kind), desc(inner.version))
    .limit(q.limit);
  return rows.map((r) => {
    const value = r.value as Record<string, unknown>;
    const before = (r.prev ?? null) as Record<string, unknown> | null;
    const keys = [...new Set([...Object.keys(value), ...Object.keys(before ?? {})])].sort();
    return {
      kind: r.kind,
      version: r.version,
      value,
      createdAt: r.createdAt,
      createdBy: r.userId && r.email ? { id: r.userId, email: r.email } : null,
      changed: before === null ? keys : keys.filter((k) => !isDeepStrictEqual(value[k], before[k])),
    };
  });
}
/** A new account's first settings rows: every kind at its defaults (simulation on). */
export async function seedAccount(tx: Tx, accountId: string, actor: string | null, clock: Clock): Promise<void> {
  await withAccountScope(tx, accountId, async () => {
    for (const kind of SETTINGS_KINDS) await putSettings(tx, accountId, kind, {}, actor, clock);
  });
}
