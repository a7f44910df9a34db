import { parseArgs } from 'node:util';
import type { Logger } from 'pino';
import { ConfigError, loadConfig, type Config } from './config.ts';
import type { Database } from './db/database.ts';
import { migrate } from './db/migrate.ts';
import { openDatabase } from './db/open.ts';
import { Catalog } from './inventory/catalog.ts';
import { resolveJwtSecret } from './jwt-secret.ts';
import { createLogger } from './logger.ts';
import { seedDemoEvents } from './seed/demo-events.ts';
import { createService } from './service.ts';
import { watchEvent } from './watch-command.ts';

const USAGE = `Usage: ticketpulse <command> [options]

Commands:
  start      Migrate and serve the API (and the expiry sweeper)
  migrate    Apply pending database migrations and exit
  seed       Add the demo events that are missing and exit
  watch EVENT  Print an event's live availability (id or slug)

Options:
  --demo     (start) dev tokens on, demo events seeded into an empty database
  --memory   Embedded database in memory instead of under TICKETPULSE_DATA_DIR
  --simulate (start) simulated buyers hold, buy and release seats (demo traffic)
  --url URL  (watch) the service to watch (default http://localhost:3000)
  --token T  (watch) a JWT; default: a dev token from the service
  -h, --help Show this help

Configuration is read from environment variables; see README.md.`;

async function withDatabase<T>(config: Config, logger: Logger, fn: (db: Database) => Promise<T>): Promise<T> {
  const { db, description } = await openDatabase(config, logger);
  logger.info(`database: ${description}`);
  try {
    const applied = await migrate(db);
    if (applied.length > 0) logger.info({ applied }, 'migrations applied');
    return await fn(db);
  } finally {
    await db.close();
  }
}

async function start(config: Config, logger: Logger, demo: boolean, simulate: boolean): Promise<void> {
  const { secret, generated } = await resolveJwtSecret(config);
  if (generated && config.databaseUrl) {
    logger.warn('TICKETPULSE_JWT_SECRET is unset: using a secret stored in the data directory; set it when running several nodes');
  }
  const { db, description } = await openDatabase(config, logger);
  const applied = await migrate(db);
  if (applied.length > 0) logger.info({ applied }, 'migrations applied');
  if (demo) {
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::integer AS n FROM events');
    if (rows[0]?.n === 0) logger.info({ created: await seedDemoEvents(db, new Catalog(db)) }, 'demo events seeded');
  }
  const service = await createService({
    db,
    jwtSecret: secret,
    holds: config.holds,
    sweepIntervalMs: config.sweepIntervalMs,
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
  if (simulate) await service.simulator?.start();

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

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      demo: { type: 'boolean', default: false },
      memory: { type: 'boolean', default: false },
      simulate: { type: 'boolean', default: false },
      url: { type: 'string', default: 'http://localhost:3000' },
      token: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const command = positionals[0];
  if (values.help || !command) {
    console.log(USAGE);
    process.exitCode = command || values.help ? 0 : 1;
    return;
  }
  if (command === 'watch') {
    const event = positionals[1];
    if (!event) throw new ConfigError('watch needs an event id or slug: ticketpulse watch midnight-jazz-session');
    return watchEvent({ url: values.url, event, token: values.token ?? process.env.TICKETPULSE_TOKEN, print: (line) => console.log(line) });
  }
  // Simulated buyers make real holds and sales: never on a service that is not a demo.
  if (values.simulate && !values.demo) throw new ConfigError('--simulate needs --demo: simulated buyers run only in the demo');
  const config = loadConfig(process.env, { demo: values.demo, inMemory: values.memory });
  const logger = createLogger(config.logLevel);
  switch (command) {
    case 'start':
      return start(config, logger, values.demo, values.simulate);
    case 'migrate':
      return withDatabase(config, logger, async () => logger.info('database is up to date'));
    case 'seed':
      return withDatabase(config, logger, async (db) => {
        logger.info({ created: await seedDemoEvents(db, new Catalog(db)) }, 'demo events seeded');
      });
    default:
      throw new ConfigError(`Unknown command "${command}". Run ticketpulse --help.`);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  // Configuration and usage errors are one clear line, not a stack trace.
  const message = error instanceof ConfigError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    ? (error as Error).message
    : String((error as Error).stack ?? error);
  console.error(`ticketpulse: ${message}`);
  process.exit(1);
});
