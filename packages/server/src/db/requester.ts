import type { Principal } from '../auth/principal.ts';
import type { Database, Queryable } from './database.ts';

/**
 * Runs `fn` in a transaction that tells the database who is asking, as
 * Supabase's PostgREST does: request.jwt.claims, for this transaction only.
 * Row-level security on tickets and reservations (0001_schema.sql) keys on it when the
 * service connects as a non-owner role.
 */
export function asRequester<T>(db: Database, principal: Pick<Principal, 'userId' | 'role'>, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.query(`SELECT set_config('request.jwt.claims', $1, true)`, [JSON.stringify({ sub: principal.userId, role: principal.role })]);
    return fn(tx);
  });
}
