import { sql } from 'drizzle-orm';
import pg from 'pg';
import { rowsOf, type Db } from './client.ts';

/**
 * The runtime's login role (migration 0008): no superuser, no CREATEROLE, no BYPASSRLS, owner of
 * nothing, member only of aether_app. Every application query runs through it; only migrations use
 * the owner.
 */
export const RUNTIME_ROLE = 'aether_runtime';

/** `ownerUrl` with the runtime role and its password as the user (same server and database). */
export function runtimeUrl(ownerUrl: string, password: string): string {
  const u = new URL(ownerUrl);
  u.username = RUNTIME_ROLE;
  u.password = encodeURIComponent(password);
  return u.toString();
}

/** The password a runtime URL carries, when its user is the runtime role (what `aether migrate` sets). */
export function runtimePasswordOf(url: string): string | null {
  const u = new URL(url);
  return decodeURIComponent(u.username) === RUNTIME_ROLE && u.password ? decodeURIComponent(u.password) : null;
}

/** Sets the runtime role's password, over the owner's connection (after the migrations created the role). */
export async function setRuntimePassword(ownerUrl: string, password: string): Promise<void> {
  const c = new pg.Client({ connectionString: ownerUrl });
  await c.connect();
  try {
    // ALTER ROLE takes no bind parameters; the literal is escaped by the driver.
    await c.query(`alter role ${RUNTIME_ROLE} with login password ${c.escapeLiteral(password)}`);
  } finally {
    await c.end();
  }
}

/**
 * Why the connection is more than the runtime should have: a superuser, BYPASSRLS, CREATEROLE, or a
 * login that is (or may become) the owner of a table, any of which can step around row-level
 * security or the audit log's triggers. Empty: least privilege.
 */
export async function excessPrivileges(db: Db): Promise<string[]> {
  const r = await db.execute(sql`
    select r.rolname as name, r.rolsuper as super, r.rolbypassrls as bypassrls, r.rolcreaterole as createrole,
      exists (select 1 from pg_class c join pg_namespace n on n.oid = c.relnamespace
              where n.nspname = 'public' and c.relkind in ('r', 'p') and pg_has_role(session_user, c.relowner, 'MEMBER')) as owner
    from pg_roles r where r.rolname = session_user`);
  const row = rowsOf<{ name: string; super: boolean; bypassrls: boolean; createrole: boolean; owner: boolean }>(r)[0];
  if (!row) return ['the session user is not a role'];
  const out: string[] = [];
  if (row.super) out.push(`${row.name} is a superuser`);
  if (row.bypassrls) out.push(`${row.name} bypasses row-level security`);
  if (row.createrole) out.push(`${row.name} may create roles`);
  if (row.owner) out.push(`${row.name} owns (or may act as the owner of) the tables`);
  return out;
}
