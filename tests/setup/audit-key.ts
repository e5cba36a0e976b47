import { randomBytes } from 'node:crypto';
import { useAuditKey } from '../../lib/audit/key.ts';

/**
 * Every test worker appends audit rows as a process of the platform would: keyed. The key is put in
 * the environment too, so a CLI a test spawns against a test database (cluster mode: DATABASE_URL
 * set) signs with the same key instead of refusing to start.
 */
process.env.AETHER_AUDIT_KEY ??= randomBytes(32).toString('base64');
useAuditKey(Buffer.from(process.env.AETHER_AUDIT_KEY, 'base64'));
