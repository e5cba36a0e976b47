import { constants } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { desc, eq, min } from 'drizzle-orm';
import { z } from 'zod';
import { auditLog } from '../../schema/index.ts';
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import type { Db } from '../db/client.ts';

/**
 * The anchor log: the chain's head, (seq, hash), appended outside the database — hourly by the tick
 * job, daily by the report job — one JSON line each, fsync'd. Someone with database access but not
 * this file cannot cut rows off the tail (the head would fall behind an anchor) nor replace the chain
 * (an anchored hash would no longer match). `keyedFrom` pins where the keyed rows begin, so the chain
 * cannot be rewritten end to end as unkeyed rows either.
 */
export const ANCHOR_FILE = 'audit-anchors.jsonl';

export const anchorSchema = z
  .object({
    seq: z.number().int().positive(),
    hash: z.string().regex(/^[0-9a-f]{64}$/),
    /** The first keyed row; null while the chain holds only plain (pre-key) rows. */
    keyedFrom: z.number().int().positive().nullable(),
    at: z.iso.datetime(),
  })
  .strict();
export type Anchor = z.infer<typeof anchorSchema>;

/** $AETHER_AUDIT_ANCHORS; embedded: $AETHER_HOME/audit-anchors.jsonl; cluster without it: none. */
export const anchorLogPath = (config: Pick<Config, 'AETHER_AUDIT_ANCHORS' | 'AETHER_HOME' | 'mode'>): string | null =>
  config.AETHER_AUDIT_ANCHORS ?? (config.mode === 'embedded' ? join(config.AETHER_HOME, ANCHOR_FILE) : null);

export interface AnchorLog {
  path: string;
  exists: boolean;
  anchors: Anchor[];
  /** 1-based numbers of lines that are not anchors (a write torn by a crash, or an edit). */
  unreadable: number[];
}

export async function readAnchorLog(path: string): Promise<AnchorLog> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { path, exists: false, anchors: [], unreadable: [] };
    throw err;
  }
  const anchors: Anchor[] = [];
  const unreadable: number[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const parsed = anchorSchema.safeParse(safeJson(line));
    if (parsed.success) anchors.push(parsed.data);
    else unreadable.push(i + 1);
  });
  return { path, exists: true, anchors, unreadable };
}

const safeJson = (s: string): unknown => {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
};

/** Appends one anchor and fsyncs it (and, for a new file, its directory). Never rewrites the file. */
export async function appendAnchor(path: string, anchor: Anchor): Promise<void> {
  const line = JSON.stringify(anchorSchema.parse(anchor)) + '\n';
  // No mkdir: the directory is AETHER_HOME or a mounted volume; a missing one is a misconfiguration to report.
  const f = await open(path, constants.O_RDWR | constants.O_APPEND | constants.O_CREAT, 0o600);
  let created: boolean;
  try {
    const { size } = await f.stat();
    created = size === 0;
    // A line torn by a crash is closed off rather than continued.
    const last = Buffer.alloc(1);
    if (size > 0) await f.read(last, 0, 1, size - 1);
    // One write under O_APPEND: concurrent appenders never interleave inside a line.
    await f.write(size > 0 && last[0] !== 0x0a ? `\n${line}` : line);
    await f.sync();
  } finally {
    await f.close();
  }
  if (created) await syncDir(dirname(path));
}

async function syncDir(dir: string): Promise<void> {
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

/** The newest row's (seq, hash); null for an empty chain. */
export async function chainHead(db: Db): Promise<{ seq: number; hash: string } | null> {
  const [head] = await db.select({ seq: auditLog.id, hash: auditLog.hash }).from(auditLog).orderBy(desc(auditLog.id)).limit(1);
  return head ?? null;
}

export interface HeadAnchoring {
  /** The chain's head; null for an empty chain (nothing to anchor). */
  head: { seq: number; hash: string } | null;
  keyedFrom: number | null;
  /** False when the head was already the last anchor, or the database no longer matches it. */
  written: boolean;
  /** Why the database no longer holds the last anchored (seq, hash); null when it does. */
  mismatch: string | null;
}

/**
 * Anchors the current head in the log at `path`, after checking that the database still holds the
 * last anchored row unchanged — the cheap hourly version of `aether audit verify`'s anchor check.
 * A database that does not is not anchored over: the mismatch is reported on every run until the
 * database holds that row again (restored), instead of once.
 */
export async function anchorHead(db: Db, path: string, clock: Clock): Promise<HeadAnchoring> {
  const head = await chainHead(db);
  const last = (await readAnchorLog(path)).anchors.at(-1) ?? null;
  let mismatch: string | null = null;
  if (last) {
    const [row] = await db.select({ hash: auditLog.hash }).from(auditLog).where(eq(auditLog.id, last.seq));
    if (!row) mismatch = `row ${last.seq}, anchored at ${last.at}, is gone (the chain ends at ${head?.seq ?? 0})`;
    else if (row.hash !== last.hash) mismatch = `row ${last.seq} no longer has the hash anchored at ${last.at}`;
  }
  // Where the keyed rows begin never changes once anchored; the query runs until it is.
  const keyedFrom = last?.keyedFrom ?? (await db.select({ first: min(auditLog.id) }).from(auditLog).where(eq(auditLog.alg, 'hmac-sha256')))[0]?.first ?? null;
  if (!head || mismatch || (last && last.seq === head.seq && last.hash === head.hash)) return { head, keyedFrom, written: false, mismatch };
  await appendAnchor(path, { seq: head.seq, hash: head.hash, keyedFrom, at: new Date(clock.now()).toISOString() });
  return { head, keyedFrom, written: true, mismatch };
}
