import { verifyAudit } from '../../lib/audit/index.ts';
import { parseConfig } from '../../lib/config.ts';
import { withDatabase } from '../services.ts';

export async function run(argv: string[]): Promise<number> {
  if (argv[0] !== 'verify' || argv.length > 1) {
    process.stderr.write('usage: aether audit verify\n');
    return 2;
  }
  const r = await withDatabase(parseConfig(), (db) => verifyAudit(db));
  if (r.ok) {
    process.stdout.write(`audit chain ok: ${r.rows} rows, head ${r.head}\n`);
    return 0;
  }
  process.stderr.write(`audit chain BROKEN at row ${r.badId}: ${r.reason} (${r.rows} rows verified before it)\n`);
  return 1;
}
