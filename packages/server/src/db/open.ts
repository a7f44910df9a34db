import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Database } from './database.ts';
import { openPglite } from './pglite.ts';
import { openPostgres } from './postgres.ts';

/** Real PostgreSQL when DATABASE_URL is set; otherwise embedded PGlite under the data directory (or in memory). */
export async function openDatabase(config: Config, logger: Logger): Promise<{ db: Database; description: string }> {
  if (config.databaseUrl) {
    const db = await openPostgres({
      connectionString: config.databaseUrl,
      maxConnections: config.poolSize,
      queryTimeoutMs: config.dbQueryTimeoutMs,
      connectTimeoutMs: config.dbConnectTimeoutMs,
      ...(config.dbAppRole && { role: config.dbAppRole }),
      onError: (err) => logger.warn({ err }, 'database connection error'),
    });
    const as = config.dbAppRole ? ` as ${config.dbAppRole}` : '';
    return { db, description: `PostgreSQL at ${new URL(config.databaseUrl).host}${as}` };
  }
  if (config.inMemory) return { db: await openPglite(), description: 'embedded PGlite, in memory' };
  const dataDir = join(config.dataDir, 'pgdata');
  await mkdir(dataDir, { recursive: true });
  return { db: await openPglite({ dataDir }), description: `embedded PGlite at ${dataDir}` };
}
