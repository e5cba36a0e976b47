import '../zod-config.ts';
import type { z } from 'zod';
import { hedgeSettingsSchema } from '../../../lib/hedge/settings.ts';
import { riskSettingsSchema } from '../../../lib/risk/settings.ts';
import { tradingSettingsSchema } from '../../../lib/strategy/settings.ts';

/** The settings forms edit, each validated with the very schema the server applies (lib/risk, lib/hedge, lib/strategy). */
export const SETTINGS_SCHEMAS = { trading: tradingSettingsSchema, risk: riskSettingsSchema, hedge: hedgeSettingsSchema } satisfies Record<string, z.ZodType>;
export type EditableKind = keyof typeof SETTINGS_SCHEMAS;

export interface FieldSpec {
  key: string;
  label: string;
  /** pct: a fraction shown as a percentage; list: comma-separated strings. */
  type: 'pct' | 'number' | 'int' | 'bool' | 'list' | 'select';
  options?: readonly string[];
  hint?: string;
}

/** The fields each form shows; the rest of a kind's settings are kept as they are. */
export const FIELDS: Record<EditableKind, readonly FieldSpec[]> = {
  trading: [
    { key: 'pairs', label: 'Pairs', type: 'list', hint: 'Kraken spot USD pairs, comma-separated (BTC/USD, ETH/USD)' },
    { key: 'entryThreshold', label: 'Entry threshold (probability up)', type: 'number' },
    { key: 'exitThreshold', label: 'Exit threshold (probability up)', type: 'number' },
    { key: 'maxOpenPositions', label: 'Most open positions', type: 'int' },
    { key: 'entryOrderType', label: 'Entry order type', type: 'select', options: ['market', 'limit'] },
    { key: 'allowBearEntries', label: 'Allow entries in a bear regime', type: 'bool' },
  ],
  risk: [
    { key: 'riskPerTrade', label: 'Risk per trade', type: 'pct', hint: 'Share of equity lost if a stop is hit' },
    { key: 'softDailyDrawdown', label: 'Daily drawdown: REDUCING at', type: 'pct' },
    { key: 'hardDailyDrawdown', label: 'Daily drawdown: HALTED at', type: 'pct' },
    { key: 'maxPairExposure', label: 'Largest share of equity in one pair', type: 'pct' },
    { key: 'maxGroupExposure', label: 'Largest share in a correlated group', type: 'pct' },
    { key: 'slAtrMultiple', label: 'Stop-loss distance (ATR multiples)', type: 'number' },
    { key: 'tpAtrMultiple', label: 'Take-profit distance (ATR multiples)', type: 'number' },
    { key: 'flattenOnHalt', label: 'Sell every position when HALTED', type: 'bool' },
  ],
  hedge: [
    { key: 'base', label: 'Base USD share', type: 'pct' },
    { key: 'min', label: 'Least USD share', type: 'pct' },
    { key: 'max', label: 'Largest USD share', type: 'pct' },
    { key: 'tolerance', label: 'Rebalance when off target by more than', type: 'pct' },
    { key: 'instrument', label: 'Hedge instrument', type: 'select', options: ['USD', 'USDC/USD', 'USDT/USD'] },
  ],
};

/** A field's value as the input shows it. */
export function toInput(spec: FieldSpec, value: unknown): string {
  if (value === null || value === undefined) return '';
  if (spec.type === 'pct' && typeof value === 'number') return String(Math.round(value * 1e6) / 1e4);
  if (spec.type === 'list' && Array.isArray(value)) return value.join(', ');
  return String(value);
}

/** The input's text as the setting's value (NaN for a non-number, which the schema then refuses with its own message). */
export function fromInput(spec: FieldSpec, text: string): unknown {
  switch (spec.type) {
    case 'pct':
      return text.trim() === '' ? Number.NaN : Number(text) / 100;
    case 'number':
    case 'int':
      return text.trim() === '' ? Number.NaN : Number(text);
    case 'bool':
      return text === 'true';
    case 'list':
      return text.split(',').map((s) => s.trim().toUpperCase()).filter(Boolean);
    case 'select':
      return text;
  }
}

/**
 * The current settings with `patch` applied, judged by the server's schema: per-field messages
 * (by the field's key), and those of no shown field.
 */
export function validateSettings(kind: EditableKind, current: Record<string, unknown>, patch: Record<string, unknown>): { fields: Record<string, string>; other: string[] } {
  const result = SETTINGS_SCHEMAS[kind].safeParse({ ...current, ...patch });
  const fields: Record<string, string> = {};
  const other: string[] = [];
  if (result.success) return { fields, other };
  const shown = new Set(FIELDS[kind].map((f) => f.key));
  for (const issue of result.error.issues) {
    const key = String(issue.path[0] ?? '');
    if (shown.has(key)) fields[key] ??= issue.message;
    else other.push(`${issue.path.join('.') || kind}: ${issue.message}`);
  }
  return { fields, other };
}
