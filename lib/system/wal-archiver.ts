import { sql } from 'drizzle-orm';
import { Gauge } from 'prom-client';
import { rowsOf, type Db } from '../db/client.ts';
import { registry } from '../http/metrics.ts';

/**
 * PostgreSQL's WAL archiver (pg_stat_archiver) as metrics, read at each scrape of the one process
 * that watches it (the dispatcher in the cluster; `aether start` embedded, where archiving is off and
 * the counts stay 0). The backups are only as recent as the newest archived segment: alerts
 * AetherWalArchivingFailing (the newest attempt failed and nothing was archived since) and
 * AetherWalArchivingStale (nothing archived for 2 hours while Aether writes every hour).
 */
export interface WalArchiver {
  archived: number;
  failed: number;
  /** Unix seconds; null before the first success or failure since the statistics were reset. */
  lastArchivedAt: number | null;
  lastFailedAt: number | null;
}

/** pg_stat_archiver, readable by any role (aether_app included). */
export async function readWalArchiver(db: Db): Promise<WalArchiver> {
  const r = await db.execute(sql`
    select archived_count::float8 as archived, failed_count::float8 as failed,
           extract(epoch from last_archived_time)::float8 as last_archived, extract(epoch from last_failed_time)::float8 as last_failed
    from pg_stat_archiver`);
  const row = rowsOf<{ archived: number; failed: number; last_archived: number | null; last_failed: number | null }>(r)[0];
  if (!row) throw new Error('pg_stat_archiver returned no row');
  return { archived: row.archived, failed: row.failed, lastArchivedAt: row.last_archived, lastFailedAt: row.last_failed };
}

let watched: Db | null = null;
let lastRead: { at: number; archiver: Promise<WalArchiver | null> } | null = null;

/** One read serves the four gauges of a scrape; a failed one (the database down) leaves them empty. */
function current(): Promise<WalArchiver | null> {
  if (!watched) return Promise.resolve(null);
  if (!lastRead || performance.now() - lastRead.at > 1_000) lastRead = { at: performance.now(), archiver: readWalArchiver(watched).catch(() => null) };
  return lastRead.archiver;
}

/** Sets the gauge from the archiver at scrape time: NaN for a time never seen (or the database unreachable), never 1970. */
const fill = (value: (a: WalArchiver) => number | null) =>
  async function (this: Gauge) {
    const a = await current();
    this.set((a && value(a)) ?? Number.NaN);
  };

let registered = false;

/** Exports the archiver's counts and times from this process's /metrics (registered once, by the process that watches). */
export function watchWalArchiver(db: Db): void {
  watched = db;
  if (registered) return;
  registered = true;
  const registers = [registry];
  new Gauge({ name: 'aether_db_wal_archived_count', help: 'WAL segments PostgreSQL has archived (pg_stat_archiver.archived_count)', registers, collect: fill((a) => a.archived) });
  new Gauge({ name: 'aether_db_wal_archive_failed_count', help: 'Failed WAL archive attempts (pg_stat_archiver.failed_count)', registers, collect: fill((a) => a.failed) });
  new Gauge({ name: 'aether_db_wal_last_archived_timestamp_seconds', help: 'Unix time of the newest WAL segment archived (NaN: none yet)', registers, collect: fill((a) => a.lastArchivedAt) });
  new Gauge({ name: 'aether_db_wal_last_failed_timestamp_seconds', help: 'Unix time of the newest failed WAL archive attempt (NaN: none yet)', registers, collect: fill((a) => a.lastFailedAt) });
}
