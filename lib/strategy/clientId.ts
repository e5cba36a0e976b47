import { createHash } from 'node:crypto';
import type { IntentKind } from './intent.ts';

/**
 * Deterministic client order id (Kraken `cl_ord_id`): sha256 of the decision's identity, formatted
 * as an RFC 9562 version-8 UUID. The same decision always maps to the same id, so a retried submit
 * is recognised instead of duplicated.
 */
export function clientId(accountId: string, pair: string, decisionTime: number, kind: IntentKind, tag?: string): string {
  if (!Number.isSafeInteger(decisionTime)) throw new RangeError(`decisionTime must be an integer epoch ms, got ${decisionTime}`);
  // Length-prefixed fields so ("a|b", "c") and ("a", "b|c") cannot collide. `tag` tells apart several
  // decisions of one kind at one time (the protection checks of one cycle); without it ids are unchanged.
  const fields = [accountId, pair, String(decisionTime), kind, ...(tag === undefined ? [] : [tag])].map((f) => `${f.length}:${f}`).join('|');
  const h = createHash('sha256').update(fields).digest();
  h[6] = (h[6]! & 0x0f) | 0x80; // version 8
  h[8] = (h[8]! & 0x3f) | 0x80; // RFC variant
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}
