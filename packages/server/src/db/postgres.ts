import pg from 'pg';
import { assertChannelName, type Database, type Queryable, type QueryResult } from './database.ts';
import { PostgresListener } from './postgres-listener.ts';

export interface PostgresOptions {
  connectionString: string;
  /** Pool size. */
  maxConnections?: number;
  /** Extra server settings per connection, e.g. `-c search_path=t1` (tests use one schema each). */
  options?: string;
  /**
   * A role every pooled connection switches to (SET ROLE) before its first
   * query: one that does not own the tables, so row-level security applies.
   */
  role?: string;
  /**
   * Gives up on a query with no answer after this long, and on a connection
   * attempt after `connectTimeoutMs`: a database that silently stops answering
   * (packets dropped, nothing reset) must not hang requests and pool
   * connections forever. Unset: no limit (benchmarks seeding millions of rows).
   */
  queryTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Called for errors on idle connections, which would otherwise crash the process. */
  onError?: (error: Error) => void;
}

/** The pool's connections could not take on `PostgresOptions.role`: startup stops rather than run as the owner. */
export class RoleSwitchError extends Error {
  constructor(
    readonly role: string,
    readonly why: string,
  ) {
    super(`Could not switch to the database role ${role}: ${why}`);
  }
}

// int8 as number: counts and versions stay far below 2^53, and both drivers then agree.
const INT8_OID = 20;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

function wrap(target: pg.Pool | pg.PoolClient): Queryable {
  return {
    async query<Row>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<Row>> {
      const result = await target.query(sql, params as unknown[]);
      return { rows: result.rows as Row[], rowCount: result.rowCount ?? 0 };
    },
    async exec(sql: string): Promise<void> {
      await target.query(sql);
    },
  };
}

/** Real PostgreSQL through a node-postgres pool. */
export async function openPostgres(options: PostgresOptions): Promise<Database> {
  const onError = options.onError ?? (() => {});
  const clientConfig = {
    connectionString: options.connectionString,
    options: options.options,
    types,
    query_timeout: options.queryTimeoutMs,
    connectionTimeoutMillis: options.connectTimeoutMs,
  };
  const { role } = options;
  const pool = new pg.Pool({
    ...clientConfig,
    max: options.maxConnections ?? 10,
    // Awaited before the pool hands the connection out: a connection that cannot switch is closed, never used as the owner.
    ...(role && {
      onConnect: (client: pg.ClientBase) =>
        client.query(`SET ROLE ${client.escapeIdentifier(role)}`).then(
          () => {},
          (error: Error) => {
            throw new RoleSwitchError(role, error.message);
          },
        ),
    }),
  });
  pool.on('error', onError);
  // Fail fast on a wrong URL or role instead of at the first request.
  const { rows } = await pool.query<{ user: string }>('SELECT current_user AS user');
  if (role && rows[0]?.user !== role) throw new RoleSwitchError(role, `the connection is ${rows[0]?.user ?? 'no role'}`);
  const listener = new PostgresListener(() => new pg.Client(clientConfig), onError);

  return {
    driver: 'postgres',
    ...wrap(pool),
    async transaction(fn) {
      const client = await pool.connect();
      let broken = false;
      try {
        await client.query('BEGIN');
        const result = await fn(wrap(client));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        // A connection that cannot even roll back (lost, or stuck behind a query that timed out) is closed, not reused.
        broken = await client.query('ROLLBACK').then(
          () => false,
          () => true,
        );
        throw error;
      } finally {
        client.release(broken);
      }
    },
    async listen(channel, onNotify, onReconnect) {
      assertChannelName(channel);
      return listener.listen(channel, onNotify, onReconnect);
    },
    async notify(channel, payload) {
      await pool.query('SELECT pg_notify($1, $2)', [channel, payload]);
    },
    async close({ exiting = false } = {}) {
      // Each connection's Terminate message is written here, at once; what is left is the server's side of the close.
      const closed = Promise.all([listener.close(), pool.end()]);
      if (exiting) closed.catch(() => {});
      else await closed;
    },
  };
}
