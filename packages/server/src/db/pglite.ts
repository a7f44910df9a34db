import { PGlite } from '@electric-sql/pglite';
import { assertChannelName, type Database, type Queryable, type QueryResult } from './database.ts';

export interface PgliteOptions {
  /** Directory to persist to; omit for an in-memory database. */
  dataDir?: string;
}

interface PgliteQueryable {
  query<Row>(sql: string, params?: unknown[]): Promise<{ rows: Row[]; affectedRows?: number }>;
  exec(sql: string): Promise<unknown>;
}

function wrap(target: PgliteQueryable): Queryable {
  return {
    async query<Row>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<Row>> {
      const result = await target.query<Row>(sql, [...params]);
      return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length };
    },
    async exec(sql: string): Promise<void> {
      await target.exec(sql);
    },
  };
}

/**
 * Embedded PostgreSQL (WASM). One connection: PGlite runs one statement or
 * transaction at a time, which keeps it correct but makes it a demo and
 * fast-test database, not one for load.
 */
export async function openPglite(options: PgliteOptions = {}): Promise<Database> {
  const db = await PGlite.create(options.dataDir);
  const queryable = wrap(db);
  return {
    driver: 'pglite',
    ...queryable,
    transaction: (fn) => db.transaction((tx) => fn(wrap(tx))),
    async listen(channel, onNotify) {
      assertChannelName(channel);
      const unlisten = await db.listen(channel, onNotify);
      return () => unlisten();
    },
    async notify(channel, payload) {
      await db.query('SELECT pg_notify($1, $2)', [channel, payload]);
    },
    close: () => db.close(),
  };
}
