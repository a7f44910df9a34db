import type { Logger } from 'pino';
import type { Database } from './db/database.ts';
import type { Service } from './service.ts';

/**
 * How a serving process stops, `ticketpulse start` and the bench's gateway
 * alike: on the first SIGINT or SIGTERM, close the service (it tells its
 * clients and finishes the requests in flight), then the database (its
 * goodbyes sent, PostgreSQL's side of each close not waited for), then exit.
 * Another signal while stopping is ignored; a second one of the same kind
 * gets Node's default, so a second Ctrl-C still kills a stuck process.
 */
export function stopOnSignals(service: Pick<Service, 'close'>, db: Pick<Database, 'close'>, logger: Pick<Logger, 'info' | 'error'>): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal}: shutting down`);
    // The process ends here: clients' sockets are left for the kernel to close, not closed one by one.
    void service
      .close({ exiting: true })
      .then(() => db.close({ exiting: true }))
      .then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => stop(signal));
}
