/** Throw-away schemas on real PostgreSQL: each scenario sees only its own data. */
import { randomBytes } from 'node:crypto';
import { openPostgres } from '../../packages/server/src/db/postgres.ts';
import { migrate } from '../../packages/server/src/db/migrate.ts';
import type { Database } from '../../packages/server/src/db/database.ts';
import type { BenchDatabase } from './scenario.ts';

const logIdleError = (error: Error) => console.error(`bench: idle connection error: ${error.message}`);

/** The URL without its password, for printing. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

export async function openAdmin(url: string): Promise<Database> {
  return openPostgres({ connectionString: url, maxConnections: 2, onError: logIdleError });
}

/** Creates a schema, migrates it, and returns a pool on it plus a function that drops it. */
export async function createSchema(
  admin: Database,
  url: string,
  { maxConnections = 10, migrate: applyMigrations = true }: { maxConnections?: number; migrate?: boolean } = {},
): Promise<{ bench: BenchDatabase; drop(): Promise<void> }> {
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  await admin.exec(`CREATE SCHEMA ${schema}`);
  const options = `-c search_path=${schema}`;
  let db: Database | undefined;
  const drop = async () => {
    await db?.close().catch(() => {});
    await admin.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch((error: unknown) => {
      console.error(`bench: could not drop schema ${schema}: ${String(error)}`);
    });
  };
  try {
    db = await openPostgres({ connectionString: url, options, maxConnections, onError: logIdleError });
    if (applyMigrations) await migrate(db);
  } catch (error) {
    await drop();
    throw error;
  }
  return { bench: { db, schema, url, options }, drop };
}
