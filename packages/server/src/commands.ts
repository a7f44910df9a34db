import { join } from 'node:path';
import type { Logger } from 'pino';
import { loadConfig, type Config, type ConfigDefaults } from './config.ts';
import type { Database } from './db/database.ts';
import { migrate } from './db/migrate.ts';
import { openDatabase } from './db/open.ts';
import { hasStorefront } from './http/storefront.ts';
import { Catalog } from './inventory/catalog.ts';
import { resolveJwtSecret } from './jwt-secret.ts';
import { createLogger } from './logger.ts';
import { seedDemoEvents } from './seed/demo-events.ts';
import { createService } from './service.ts';

/** What `ticketpulse start` was asked for, its command line already checked (cli.ts). */
export interface StartOptions {
  demo: boolean;
  simulate: boolean;
  memory: boolean;
  /** --port and --host: instead of PORT and HOST. */
  port?: number;
  host?: string;
}

/** Configuration from the environment; the log is for a person when standard output is a terminal. */
function configFrom(defaults: ConfigDefaults): Config {
  return loadConfig(process.env, { ...defaults, terminal: process.stdout.isTTY === true });
}

const loggerFor = (config: Config): Logger => createLogger(config.logLevel, { format: config.logFormat });

async function migrated(db: Database, logger: Logger): Promise<void> {
  const applied = await migrate(db);
  if (applied.length > 0) logger.info({ applied }, `${applied.length} migrations applied`);
}

async function withDatabase(fn: (db: Database, logger: Logger) => Promise<void>): Promise<void> {
  const config = configFrom({});
  const logger = loggerFor(config);
  const { db, description } = await openDatabase(config, logger);
  logger.info(`database: ${description}`);
  try {
    await migrated(db, logger);
    await fn(db, logger);
  } finally {
    await db.close();
  }
}

/** `ticketpulse migrate`. */
export const migrateCommand = (): Promise<void> => withDatabase(async (_db, logger) => logger.info('database is up to date'));

/** `ticketpulse seed`. */
export const seedCommand = (): Promise<void> =>
  withDatabase(async (db, logger) => {
    logger.info({ created: await seedDemoEvents(db, new Catalog(db)) }, 'demo events seeded');
  });

/** The lines that tell a person where to go once the service listens. */
function whereToGo(url: string, config: Config, jwtSecretFile: string | undefined): string[] {
  const lines = hasStorefront(config.storefrontDir)
    ? [`shop:      ${url}/`, `dashboard: ${url}/organizer${config.devAuth ? ' (sign in with the dev button)' : ' (needs an organizer token)'}`]
    : [`shop:      not built (npm run build:storefront); ${url}/ answers a JSON index`];
  lines.push(
    config.devAuth
      ? `token:     curl -s -X POST ${url}/api/auth/dev-token   (organizer: add -H 'content-type: application/json' -d '{"role":"organizer"}')`
      : `tokens:    HS256 JWTs signed with ${jwtSecretFile ? `the secret in ${jwtSecretFile}` : 'TICKETPULSE_JWT_SECRET'} (docs/api.md, Authentication)`,
    `API:       ${url}/api/openapi.json, docs/api.md`,
  );
  return lines;
}

/** `ticketpulse start`: migrates, serves until SIGINT or SIGTERM. */
export async function startCommand(options: StartOptions): Promise<void> {
  const { demo } = options;
  const fromEnv = configFrom({ demo, inMemory: options.memory });
  const config: Config = { ...fromEnv, port: options.port ?? fromEnv.port, host: options.host ?? fromEnv.host };
  const logger = loggerFor(config);

  const { secret, generated } = await resolveJwtSecret(config);
  if (generated && config.databaseUrl) {
    logger.warn('TICKETPULSE_JWT_SECRET is unset: using a secret stored in the data directory; set it when running several nodes');
  }
  const { db, description } = await openDatabase(config, logger);
  await migrated(db, logger);
  if (demo) {
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::integer AS n FROM events');
    if (rows[0]?.n === 0) logger.info({ created: await seedDemoEvents(db, new Catalog(db)) }, 'demo events seeded');
  }
  const service = await createService({
    db,
    jwtSecret: secret,
    holds: config.holds,
    sweepIntervalMs: config.sweepIntervalMs,
    velocityRefreshMs: config.velocityRefreshMs,
    devAuth: config.devAuth,
    logger,
    realtime: config.realtime,
    httpRateLimits: config.httpRateLimits,
    bus: config.bus,
    storefrontDir: config.storefrontDir,
    corsOrigins: config.corsOrigins,
    ...(config.redisUrl && { redisUrl: config.redisUrl }),
    demo,
  });
  const url = await service.listen(config.port, config.host);
  const shownUrl = url.replace(/\/\/(127\.0\.0\.1|\[::1\])/, '//localhost');
  logger.info(`TicketPulse is serving on ${shownUrl} (${description}${config.devAuth ? ', dev tokens on' : ''})`);
  for (const line of whereToGo(shownUrl, config, generated ? join(config.dataDir, 'jwt-secret') : undefined)) logger.info(line);
  if (options.simulate) await service.simulator?.start();

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal}: shutting down`);
    await service.close();
    await db.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}
