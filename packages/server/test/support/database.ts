import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Database } from '../../src/db/database.ts';
import { migrate, type Migration } from '../../src/db/migrate.ts';
import { openPglite } from '../../src/db/pglite.ts';
import { openPostgres } from '../../src/db/postgres.ts';

export type TestDriver = 'pglite' | 'postgres';

export const postgresUrl = process.env.TEST_DATABASE_URL;

/** Every driver available here: PGlite always, real PostgreSQL when TEST_DATABASE_URL is set. */
export const drivers: TestDriver[] = postgresUrl ? ['pglite', 'postgres'] : ['pglite'];

export interface TestDatabase {
  db: Database;
  driver: TestDriver;
  /** Rows verify_ticket_counts() reports; empty when every counter matches a recount. */
  countMismatches(): Promise<unknown[]>;
  /** Another, independent handle on the same database (its own pool and listener); the caller closes it. */
  connectAgain(): Promise<Database>;
  dispose(): Promise<void>;
}

/** Runs `fn` on a connection of its own to TEST_DATABASE_URL (schemas, roles). */
export async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * A freshly migrated database: PGlite in memory, or a throw-away schema on
 * real PostgreSQL (so test files can share one server in parallel).
 * `migrations`: another set than TicketPulse's own (migration tests).
 */
export async function createTestDatabase(driver: TestDriver, poolSize = 20, migrations?: Migration[]): Promise<TestDatabase> {
  let db: Database;
  let cleanup = async () => {};
  let connectAgain = async (): Promise<Database> => {
    throw new Error('PGlite is one in-process database: there is no second connection to it');
  };
  if (driver === 'postgres') {
    const schema = `t_${randomBytes(6).toString('hex')}`;
    await withAdmin((c) => c.query(`CREATE SCHEMA ${schema}`));
    connectAgain = () => openPostgres({ connectionString: postgresUrl!, options: `-c search_path=${schema}`, maxConnections: poolSize });
    db = await connectAgain();
    cleanup = () => withAdmin((c) => c.query(`DROP SCHEMA ${schema} CASCADE`)).then(() => {});
  } else {
    db = await openPglite();
  }
  await migrate(db, migrations);
  return {
    db,
    driver,
    countMismatches: async () => (await db.query('SELECT * FROM verify_ticket_counts()')).rows,
    connectAgain,
    async dispose() {
      await db.close();
      await cleanup();
    },
  };
}
