import { join } from 'node:path';
import type { Logger } from 'pino';
import { superviseWorkers, workerSlot } from './cluster/supervisor.ts';
import { ConfigError, loadConfig, type Config, type ConfigDefaults } from './config.ts';
import type { Database } from './db/database.ts';
import { migrate } from './db/migrate.ts';
import { openDatabase } from './db/open.ts';
import { hasStorefront } from './http/storefront.ts';
import { Catalog } from './inventory/catalog.ts';
import { resolveJwtSecret } from './jwt-secret.ts';
import { createLogger } from './logger.ts';
import { seedDemoEvents } from './seed/demo-events.ts';
import { createService } from './service.ts';
import { stopOnSignals } from './stop-on-signals.ts';

/** What `ticketpulse start` was asked for, its command line already checked (cli.ts). */
export interface StartOptions {
  demo: boolean;
  simulate: boolean;
  memory: boolean;
  /** --port and --host: instead of PORT and HOST. */
  port?: number;
  host?: string;
  /** --workers: serve from this many worker processes on one port (cluster/supervisor.ts). */
  workers?: number;
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

/** The configuration `ticketpulse start` runs with: the environment, then its command line. */
function startConfig(options: StartOptions): Config {
  const fromEnv = configFrom({ demo: options.demo, inMemory: options.memory });
  return { ...fromEnv, port: options.port ?? fromEnv.port, host: options.host ?? fromEnv.host };
}

/** Migrates, and in demo mode seeds an empty database: once, before anyone serves. */
async function prepare(db: Database, logger: Logger, demo: boolean): Promise<void> {
  await migrated(db, logger);
  if (!demo) return;
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::integer AS n FROM events');
  if (rows[0]?.n === 0) logger.info({ created: await seedDemoEvents(db, new Catalog(db)) }, 'demo events seeded');
}

/** Tells the person who started it where to go. */
function announce(logger: Logger, config: Config, url: string, description: string, jwtSecretGenerated: boolean): void {
  const shownUrl = url.replace(/\/\/(127\.0\.0\.1|\[::1\])/, '//localhost');
  logger.info(`TicketPulse is serving on ${shownUrl} (${description}${config.devAuth ? ', dev tokens on' : ''})`);
  for (const line of whereToGo(shownUrl, config, jwtSecretGenerated ? join(config.dataDir, 'jwt-secret') : undefined)) logger.info(line);
}

/** `ticketpulse start`: migrates, serves until SIGINT or SIGTERM; with --workers, from that many processes. */
export async function startCommand(options: StartOptions): Promise<void> {
  if (options.workers !== undefined && workerSlot() === undefined) return startWorkers(options, options.workers);
  const { demo } = options;
  const config = startConfig(options);
  const slot = workerSlot();
  const logger = slot === undefined ? loggerFor(config) : loggerFor(config).child({ worker: slot });

  const { secret, generated } = await resolveJwtSecret(config);
  if (generated && config.databaseUrl && slot === undefined) {
    logger.warn('TICKETPULSE_JWT_SECRET is unset: using a secret stored in the data directory; set it when running several nodes');
  }
  const { db, description } = await openDatabase(config, logger);
  // A worker's primary has migrated and seeded already.
  if (slot === undefined) await prepare(db, logger, demo);
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
    push: config.push,
    demo,
    ...(slot !== undefined && { workerSlot: slot }),
  });
  const url = await service.listen(config.port, config.host).catch((error: unknown) => {
    throw listenError(error, config) ?? error;
  });
  if (slot === undefined) announce(logger, config, url, description, generated);
  else logger.info({ pid: process.pid }, 'worker serving');
  // Simulated buyers are one crowd, whatever the number of workers: slot 0's.
  if (options.simulate && (slot ?? 0) === 0) await service.simulator?.start();

  stopOnSignals(service, db, logger);
}

/** Why the port could not be taken, as one line naming the settings (a worker's too: the primary holds the socket for it); undefined for other failures. */
function listenError(error: unknown, config: Config): ConfigError | undefined {
  const code = (error as NodeJS.ErrnoException).code;
  const why = code === 'EADDRINUSE' ? 'the port is in use' : code === 'EACCES' ? 'permission denied' : code === 'EADDRNOTAVAIL' ? 'not an address of this machine' : undefined;
  if (!why) return undefined;
  return new ConfigError(`cannot listen on ${config.host}:${config.port}: ${why} (${code}); choose another with PORT or --port, HOST or --host`);
}

/** The primary of `ticketpulse start --workers N`: prepares the database once, then supervises N workers. */
async function startWorkers(options: StartOptions, count: number): Promise<void> {
  const config = startConfig(options);
  const logger = loggerFor(config);
  // Workers are processes: they can share PostgreSQL, not an embedded database, and must hear each other's changes.
  if (!config.databaseUrl) throw new ConfigError('--workers needs PostgreSQL (DATABASE_URL): the embedded database belongs to one process');
  if (config.bus.kind === 'none') throw new ConfigError('--workers needs a bus between the workers: TICKETPULSE_BUS must not be none');
  // Generated before any worker starts, so that they all read the same one.
  const { generated } = await resolveJwtSecret(config);
  const { db, description } = await openDatabase(config, logger);
  try {
    await prepare(db, logger, options.demo);
  } finally {
    await db.close();
  }
  const { url } = await superviseWorkers(count, logger);
  announce(logger, config, url, `${description}, ${count} worker${count === 1 ? '' : 's'}`, generated);
}
