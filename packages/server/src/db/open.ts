import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ConfigError, type Config } from '../config.ts';
import type { Database } from './database.ts';
import { openPglite } from './pglite.ts';
import { openPostgres, RoleSwitchError } from './postgres.ts';

/** Real PostgreSQL when DATABASE_URL is set; otherwise embedded PGlite under the data directory (or in memory). */
export async function openDatabase(config: Config, logger: Logger): Promise<{ db: Database; description: string }> {
  if (config.databaseUrl) {
    const { host } = new URL(config.databaseUrl);
    const db = await openPostgres({
      connectionString: config.databaseUrl,
      maxConnections: config.poolSize,
      queryTimeoutMs: config.dbQueryTimeoutMs,
      connectTimeoutMs: config.dbConnectTimeoutMs,
      ...(config.dbAppRole && { role: config.dbAppRole }),
      onError: (err) => logger.warn({ err }, 'database connection error'),
    }).catch((error: unknown) => {
      throw unreachable(error, host) ?? error;
    });
    const as = config.dbAppRole ? ` as ${config.dbAppRole}` : '';
    return { db, description: `PostgreSQL at ${host}${as}` };
  }
  if (config.inMemory) return { db: await openPglite(), description: 'embedded PGlite, in memory' };
  const dataDir = join(config.dataDir, 'pgdata');
  await mkdir(dataDir, { recursive: true });
  return { db: await openPglite({ dataDir }), description: `embedded PGlite at ${dataDir}` };
}

/** A server that cannot be reached, refuses the URL's login or database, or the role to switch to: one line naming the variable (cli.ts), never the password. Undefined for other failures. */
function unreachable(error: unknown, host: string): ConfigError | undefined {
  if (error instanceof RoleSwitchError) return new ConfigError(`cannot switch to TICKETPULSE_DB_APP_ROLE ${error.role} on PostgreSQL at ${host}: ${error.why}`);
  const code = (error as { code?: unknown }).code;
  const network = typeof code === 'string' && /^E[A-Z]+$/.test(code); // ECONNREFUSED, ENOTFOUND, ETIMEDOUT, …
  const refused = typeof code === 'string' && (code.startsWith('28') || code === '3D000'); // bad login or password; no such database
  const timedOut = error instanceof Error && /timeout/i.test(error.message) && code === undefined;
  if (!network && !refused && !timedOut) return undefined;
  return new ConfigError(`cannot connect to PostgreSQL at ${host} (DATABASE_URL): ${(error as Error).message}`);
}
