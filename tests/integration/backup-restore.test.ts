import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { appendAudit } from '../../lib/audit/index.ts';
import { openDatabase, type Database } from '../../lib/db/client.ts';
import { registry } from '../../lib/http/metrics.ts';
import { readWalArchiver, watchWalArchiver } from '../../lib/system/wal-archiver.ts';
import { migrateDatabase } from '../../lib/db/migrate.ts';
import { freePort } from '../../lib/runtime/embedded-postgres.ts';

/**
 * Backups as the cluster takes them (k8s/base/backup/): pgBackRest with continuous WAL archiving
 * (archive_command = archive-push) and base backups, here into a posix repository in a temporary
 * directory instead of Linode Object Storage. A throwaway PostgreSQL cluster is migrated and gets
 * audit rows through Aether's own appendAudit; after a full backup more rows follow, which only the
 * archived WAL holds. The restore (k8s/base/backup/RESTORE.md: `pgbackrest restore` into an empty data
 * directory, recovery to the end of the archive) must bring all of them back: `aether audit verify`
 * on the restored server walks the whole keyed chain.
 */

// Debian keeps initdb and pg_ctl out of PATH, in /usr/lib/postgresql/<version>/bin: the newest first.
const PG_BIN = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a)).map((v) => `/usr/lib/postgresql/${v}/bin`) : [];
process.env.PATH = [...PG_BIN, process.env.PATH].join(':');
const TOOLS = ['pgbackrest', 'initdb', 'pg_ctl'];
const missing = TOOLS.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
const CI = process.env.CI === 'true';
const STANZA = 'aether';
const ROOT = new URL('../../', import.meta.url).pathname;
// The repository is encrypted as in the cluster (repo1-cipher-type); the passphrase comes from the environment there too.
process.env.PGBACKREST_REPO1_CIPHER_PASS = 'test-only passphrase for a throwaway repository';

const base = mkdtempSync(join(tmpdir(), 'aether-backup-'));
afterAll(() => {
  for (const data of [join(base, 'data'), join(base, 'restored')]) spawnSync(asRoot ? 'runuser' : 'pg_ctl', [...(asRoot ? ['-u', 'postgres', '--', 'pg_ctl'] : []), '-D', data, '-m', 'immediate', 'stop']);
  rmSync(base, { recursive: true, force: true });
});

/** PostgreSQL refuses to run as root: as root, the servers and pgBackRest run as the postgres user, who owns their files. */
const asRoot = process.getuid?.() === 0;
const ownedByPostgres = (...paths: string[]): void => {
  if (!asRoot) return;
  const [uid, gid] = ['-u', '-g'].map((flag) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim())) as [number, number];
  for (const p of paths) chownSync(p, uid, gid);
};

function run(argv: string[]): string {
  const [bin, ...rest] = asRoot ? ['runuser', '-u', 'postgres', '--', ...argv] : argv;
  const r = spawnSync(bin!, rest, { encoding: 'utf8', timeout: 180_000 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/**
 * The cluster's pgbackrest.conf (k8s/base/backup/) with what only a cluster has swapped for local
 * paths: a posix repository instead of the Object Storage bucket, this cluster's data directory,
 * port and socket. Encryption, compression, retention and asynchronous archiving stay as deployed.
 */
function localConfig(at: { repo: string; spool: string; log: string; lock: string; data: string; port: number; sockets: string }): string {
  const local: Record<string, Record<string, string>> = {
    global: { 'repo1-type': 'posix', 'repo1-path': at.repo, 'spool-path': at.spool, 'log-path': at.log, 'lock-path': at.lock, 'log-level-console': 'warn' },
    [STANZA]: { 'pg1-path': at.data, 'pg1-port': String(at.port), 'pg1-socket-path': at.sockets, 'pg1-user': 'postgres' },
  };
  let section = '';
  const lines: string[] = [];
  const flush = () => lines.push(...Object.entries(local[section] ?? {}).map(([k, v]) => `${k}=${v}`));
  for (const line of readFileSync(join(ROOT, 'k8s/base/backup/pgbackrest.conf'), 'utf8').split('\n')) {
    const header = /^\[(.+)\]$/.exec(line.trim());
    if (header) {
      flush();
      section = header[1]!;
      lines.push(line);
      continue;
    }
    const key = /^([a-z0-9-]+)=/.exec(line)?.[1];
    if (key && (key.startsWith('repo1-s3-') || key in (local[section] ?? {}))) continue;
    lines.push(line);
  }
  flush();
  return `${lines.join('\n')}\n`;
}

const pgbackrest = (conf: string, ...argv: string[]) => run(['pgbackrest', `--config=${conf}`, `--stanza=${STANZA}`, ...argv]);
const url = (port: number, db = 'aether') => `postgres://postgres@127.0.0.1:${port}/${db}`;

async function query<T extends pg.QueryResultRow>(connectionString: string, text: string): Promise<T[]> {
  const c = new pg.Client({ connectionString });
  await c.connect();
  try {
    return (await c.query<T>(text)).rows;
  } finally {
    await c.end();
  }
}

/** Appends audit rows the way every Aether process does (one keyed chain, under its lock). */
async function writeAudit(port: number, action: string, n: number): Promise<void> {
  const database = await openDatabase({ url: url(port), driver: 'pg', max: 1, asAppRole: false });
  try {
    for (let i = 0; i < n; i++) await database.db.transaction((tx) => appendAudit(tx, { action, details: { i } }));
  } finally {
    await database.close();
  }
}

/** The archiver's gauges as this process's /metrics shows them (a fresh read: each scrape may read again). */
async function archiverMetrics(): Promise<Record<string, number>> {
  await new Promise((r) => setTimeout(r, 1_100));
  const text = await registry.metrics();
  return Object.fromEntries([...text.matchAll(/^(aether_db_wal_\w+) (\S+)$/gm)].map((m) => [m[1]!, Number(m[2])]));
}

describe('backups: pgBackRest with WAL archiving, restored into a fresh cluster', () => {
  it.skipIf(missing.length > 0 && !CI)(
    'restores the latest state (rows written after the base backup included) and the audit chain verifies',
    async () => {
      if (missing.length) throw new Error(`the backup-restore test needs ${missing.join(', ')} (apt-get install -y pgbackrest postgresql)`);
      const [data, restored, repo, sockets] = ['data', 'restored', 'repo', 'sockets'].map((d) => join(base, d)) as [string, string, string, string];
      for (const dir of [repo, sockets, join(base, 'log'), join(base, 'lock')]) mkdirSync(dir, { recursive: true });
      const port = await freePort();
      const conf = join(base, 'pgbackrest.conf');
      writeFileSync(conf, localConfig({ repo, spool: join(base, 'spool'), log: join(base, 'log'), lock: join(base, 'lock'), data, port, sockets }));
      ownedByPostgres(base, repo, sockets, conf, join(base, 'log'), join(base, 'lock'));

      run(['initdb', '-D', data, '--auth=trust', '-U', 'postgres', '--no-sync']);
      const serverFlags = (p: number) => `-c port=${p} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${sockets} -c fsync=off`;
      // Continuous archiving, as the TimescaleDB StatefulSet runs (k8s/base/backup/timescaledb-archiving.yaml).
      const archiving = `-c archive_mode=on -c wal_level=replica -c "archive_command=pgbackrest --config=${conf} --stanza=${STANZA} archive-push %p"`;
      run(['pg_ctl', '-D', data, '-l', join(base, 'data.log'), '-w', '-o', `${serverFlags(port)} ${archiving}`, 'start']);
      await query(url(port, 'postgres'), 'create database aether');
      pgbackrest(conf, 'stanza-create');
      pgbackrest(conf, 'check');
      await migrateDatabase(url(port), 'pg');
      await writeAudit(port, 'backup.before', 3);
      pgbackrest(conf, '--type=full', 'backup');

      await writeAudit(port, 'backup.after', 2);
      const [expected] = await query<{ rows: number; head: string }>(url(port), 'select count(*)::int as rows, (select hash from audit_log order by id desc limit 1) as head from audit_log');
      // `check` switches to a new WAL segment and waits until the one holding these rows is archived.
      pgbackrest(conf, 'check');

      // What the dispatcher exports of the archiver (lib/system/wal-archiver.ts), and the condition of
      // AetherWalArchivingFailing once archive-push fails (k8s/base/monitoring/prometheusrule.yaml).
      const archiver = async (check: (m: Record<string, number>, db: Database) => Promise<void>) => {
        const watched = await openDatabase({ url: url(port), driver: 'pg', max: 1, asAppRole: false });
        try {
          watchWalArchiver(watched.db);
          await check(await archiverMetrics(), watched);
        } finally {
          await watched.close();
        }
      };
      await archiver(async (ok) => {
        expect(ok.aether_db_wal_archived_count).toBeGreaterThan(0);
        expect(ok.aether_db_wal_archive_failed_count).toBe(0);
        expect(Date.now() / 1000 - ok.aether_db_wal_last_archived_timestamp_seconds!).toBeLessThan(300);
        expect(ok.aether_db_wal_last_failed_timestamp_seconds).toBeNaN();
      });
      // The repository becomes unreachable (here: an archive_command that fails), and a segment closes.
      run(['pg_ctl', '-D', data, '-l', join(base, 'data.log'), '-m', 'fast', '-w', '-o', `${serverFlags(port)} -c archive_mode=on -c wal_level=replica -c archive_command=false`, 'restart']);
      await archiver(async (_, watched) => {
        await query(url(port), 'create table archiver_probe (x int)'); // a write, so that the switch closes a segment
        await query(url(port), 'select pg_switch_wal()');
        for (let i = 0; i < 60 && (await readWalArchiver(watched.db)).failed === 0; i++) await new Promise((r) => setTimeout(r, 250));
        const failing = await archiverMetrics();
        expect(failing.aether_db_wal_archive_failed_count).toBeGreaterThan(0);
        expect(failing.aether_db_wal_last_failed_timestamp_seconds!).toBeGreaterThan(failing.aether_db_wal_last_archived_timestamp_seconds!);
      });
      // The original cluster is gone; only the repository is left.
      run(['pg_ctl', '-D', data, '-m', 'immediate', 'stop']);

      mkdirSync(restored, { mode: 0o700 });
      ownedByPostgres(restored);
      pgbackrest(conf, `--pg1-path=${restored}`, 'restore');
      const restoredPort = await freePort();
      // The restored server must not archive into the backup's repository as if it were the original.
      run(['pg_ctl', '-D', restored, '-l', join(base, 'restored.log'), '-w', '-t', '120', '-o', `${serverFlags(restoredPort)} -c archive_mode=off`, 'start']);
      // Recovery replays the archive to its end, then promotes.
      for (let i = 0; i < 120; i++) {
        const [{ recovering }] = (await query<{ recovering: boolean }>(url(restoredPort), 'select pg_is_in_recovery() as recovering')) as [{ recovering: boolean }];
        if (!recovering) break;
        await new Promise((r) => setTimeout(r, 500));
      }

      const actions = await query<{ action: string; n: number }>(url(restoredPort), `select action, count(*)::int as n from audit_log where action like 'backup.%' group by action order by action`);
      expect(actions).toEqual([
        { action: 'backup.after', n: 2 },
        { action: 'backup.before', n: 3 },
      ]);

      // The CLI an operator runs after a restore; the audit key is the one the rows were written with (tests/setup/audit-key.ts).
      const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: url(restoredPort), LOG_LEVEL: 'silent', SECRETS_DIR: join(base, 'no-secrets') };
      delete env.AETHER_AUDIT_ANCHORS;
      const verify = spawnSync(process.execPath, ['bin/aether.js', 'audit', 'verify'], { env, encoding: 'utf8', timeout: 60_000 });
      expect(verify.stderr).not.toMatch(/BROKEN/);
      expect(verify.status, verify.stderr).toBe(0);
      expect(verify.stdout).toContain(`audit chain ok: ${expected!.rows} rows`);
      expect(verify.stdout).toContain(expected!.head);
    },
    600_000,
  );
});
