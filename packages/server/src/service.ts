import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { HoldSettings } from './config.ts';
import type { Database } from './db/database.ts';
import { buildApp } from './http/app.ts';
import { TokenVerifier } from './http/auth.ts';
import { Catalog } from './inventory/catalog.ts';
import { ExpirySweeper } from './inventory/expiry-sweeper.ts';
import { Holds } from './inventory/holds.ts';

export interface ServiceOptions {
  /** A migrated database; the caller owns it and closes it. */
  db: Database;
  jwtSecret: string;
  holds: HoldSettings;
  sweepIntervalMs: number;
  devAuth: boolean;
  logger: Logger;
}

export interface Service {
  app: FastifyInstance;
  catalog: Catalog;
  holds: Holds;
  sweeper: ExpirySweeper;
  verifier: TokenVerifier;
  /** Starts listening and sweeping; resolves to the base URL. */
  listen(port: number, host: string): Promise<string>;
  /** Stops accepting, finishes in-flight requests and the running sweep. */
  close(): Promise<void>;
}

/** Wires the inventory, the HTTP API and the expiry sweeper around one database. */
export async function createService(options: ServiceOptions): Promise<Service> {
  const catalog = new Catalog(options.db);
  const holds = new Holds(options.db, options.holds);
  const verifier = new TokenVerifier(options.jwtSecret);
  const sweeper = new ExpirySweeper(holds, options.sweepIntervalMs, options.logger);
  let shuttingDown = false;
  const app = await buildApp({
    db: options.db,
    catalog,
    holds,
    verifier,
    devAuth: options.devAuth,
    logger: options.logger,
    isShuttingDown: () => shuttingDown,
  });
  return {
    app,
    catalog,
    holds,
    sweeper,
    verifier,
    async listen(port, host) {
      const address = await app.listen({ port, host });
      sweeper.start();
      return address;
    },
    async close() {
      shuttingDown = true;
      await sweeper.stop();
      await app.close();
    },
  };
}
