import { and, asc, desc, eq } from 'drizzle-orm';
import { z } from 'zod';
import { settings } from '../../schema/index.ts';
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
 * a change sends against Kraken's USD-spot listing before it calls this.
 */
export async function putSettings<K extends SettingsKind>(
  tx: Tx,
  accountId: string,
  kind: K,
  value: unknown,
  actor: string | null,
  clock: Clock,
): Promise<{ version: number; value: SettingsOf<K> }> {
  const parsed = settingsSchemas[kind].parse(value) as SettingsOf<K>;
  const [prev] = await tx
    .select({ version: settings.version, value: settings.value })
    .from(settings)
    .where(and(eq(settings.accountId, accountId), eq(settings.kind, kind)))
    .orderBy(desc(settings.version))
    .limit(1);
  const version = (prev?.version ?? 0) + 1;
  await tx.insert(settings).values({ accountId, kind, version, value: parsed, createdBy: actor, createdAt: new Date(clock.now()) });
  await appendAudit(tx, { action: `settings.${kind}`, userId: actor, accountId, details: { version, before: prev?.value ?? null, after: parsed } }, clock);
  return { version, value: parsed };
}

/** A new account's first settings rows: every kind at its defaults (simulation on). */
export async function seedAccount(tx: Tx, accountId: string, actor: string | null, clock: Clock): Promise<void> {
  await withAccountScope(tx, accountId, async () => {
    for (const kind of SETTINGS_KINDS) await putSettings(tx, accountId, kind, {}, actor, clock);
  });
}
