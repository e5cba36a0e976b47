import { existsSync } from 'node:fs';
import { anchorHead, anchorLogPath } from '../../lib/audit/anchors.ts';
import { findAuditKey } from '../../lib/audit/key.ts';
import { verifyAuditChain } from '../../lib/audit/verify.ts';
import { systemClock } from '../../lib/clock.ts';
import { parseConfig, type Config } from '../../lib/config.ts';
import { args, command, UsageError, type Help } from '../args.ts';
import { withDatabase } from '../services.ts';

export const help: Help = {
  usage: ['aether audit verify [--anchors FILE]', 'aether audit anchor [--anchors FILE]'],
  about: 'verify: recompute the keyed audit chain and check it against the anchor log; exit 1 names the first bad row.\nanchor: append the chain’s head to the anchor log (the cluster’s hourly CronJob).',
  flags: [['--anchors FILE', 'the anchor log (default: $AETHER_AUDIT_ANCHORS, or the embedded runtime’s own)']],
  examples: ['aether audit verify', 'aether audit verify --anchors /backup/audit-anchors.log'],
};

/**
 * `verify` recomputes the chain with the audit key and checks it against the anchor log
 * ($AETHER_AUDIT_ANCHORS, the embedded default, or --anchors: e.g. a copy kept off the cluster);
 * exit 1 names the first bad row. `anchor` appends the head to the anchor log — what the cluster's
 * hourly CronJob runs, on a volume the database's administrators cannot reach; exit 1 when the
 * database no longer holds the last anchored row.
 */
export const run = (argv: string[]): Promise<number> =>
  command(help, async () => {
    const [sub, ...rest] = argv;
    if (sub !== 'verify' && sub !== 'anchor') throw new UsageError(`unknown subcommand '${sub ?? ''}'`);
    const { values } = args(rest, { anchors: { type: 'string' } });
    const config = parseConfig();
    if (sub === 'anchor') return anchor(config, values.anchors ?? anchorLogPath(config));
    if (values.anchors !== undefined && !existsSync(values.anchors)) {
      process.stderr.write(`audit verify: no anchor log at ${values.anchors}\n`);
      return 1;
    }
    const r = await withDatabase(config, (db) => verifyAuditChain(db, findAuditKey(config), values.anchors ?? anchorLogPath(config)));
    for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
    if (!r.ok) {
      process.stderr.write(`audit chain BROKEN at row ${r.badId}: ${r.reason} (${r.rows} rows verified before it)\n`);
      return 1;
    }
    const keyed = r.keyedFrom === null ? 'no keyed rows yet' : r.keyedFrom === 1 ? 'all keyed (HMAC-SHA256)' : `rows 1–${r.keyedFrom - 1} plain SHA-256 (before the chain was keyed), keyed from row ${r.keyedFrom}`;
    process.stdout.write(`audit chain ok: ${r.rows} rows, head #${r.seq} ${r.head}; ${keyed}\n`);
    if (r.anchorLog && r.anchors > 0) process.stdout.write(`anchors: ${r.anchors} in ${r.anchorLog}, every one matches\n`);
    return 0;
  });

async function anchor(config: Config, path: string | null): Promise<number> {
  if (!path) throw new UsageError('no anchor log: set AETHER_AUDIT_ANCHORS or pass --anchors FILE');
  const a = await withDatabase(config, (db) => anchorHead(db, path, systemClock));
  if (!a.head) process.stdout.write('the audit chain is empty: nothing to anchor\n');
  else process.stdout.write(`${a.written ? 'anchored' : 'already anchored:'} head #${a.head.seq} ${a.head.hash} in ${path}\n`);
  if (!a.mismatch) return 0;
  process.stderr.write(`audit chain does not match its last anchor: ${a.mismatch}\n`);
  return 1;
}
