import type pg from 'pg';


/**
 * Every row of every table in every non-system schema, as text (`select t::text from … t`: each
 * column, text and jsonb alike), read as the owner so row-level security hides nothing.
 */
export async function everyRowAsText(owner: pg.Pool): Promise<Array<{ table: string; row: string }>> {
  const { rows: tables } = await owner.query<{ s: string; t: string }>(
    `select schemaname as s, tablename as t from pg_tables where schemaname not in ('pg_catalog', 'information_schema') order by 1, 2`,
  );
  if (tables.length < 10) throw new Error(`only ${tables.length} tables found`);
  const out: Array<{ table: string; row: string }> = [];
  for (const { s, t } of tables) {
    const { rows } = await owner.query<{ r: string }>(`select x::text as r from "${s}"."${t}" x`);
    for (const r of rows) out.push({ table: `${s}.${t}`, row: r.r });
  }
  return out;
}

/** Latest audit rows of an action for an account, newest first. */
export async function auditOf(owner: pg.Pool, action: string, accountId: string): Promise<Array<{ user_id: string | null; details: Record<string, unknown> }>> {
  const { rows } = await owner.query(`select user_id, details from audit_log where action = $1 and account_id = $2 order by id desc`, [action, accountId]);
  return rows;
}
