import type { Logger } from 'pino';
import type { LeaderLease } from '../leader-lease.ts';
import { PeriodicTask } from '../periodic-task.ts';
import type { Holds } from './holds.ts';

/**
 * Most holds released per transaction. Releasing 100,000 holds that ran out
 * together in one statement is one transaction of seconds, and viewers see
 * none of the seats until it commits; in chunks they come back as each
 * commits (db/repeatable/40_expiry.sql).
 */
export const EXPIRY_CHUNK = 5000;

/**
 * Releases expired holds on a fixed interval so published counts treat an
 * expired hold as available within about one interval. Every node runs one,
 * but with a lease only the leader sweeps (the 'expiry-sweeper' job); were
 * two to sweep at once, each would skip the holds the other has locked.
 */
export class ExpirySweeper {
  private readonly task: PeriodicTask;

  constructor(
    private readonly holds: Holds,
    intervalMs: number,
    private readonly logger: Logger,
    private readonly chunk = EXPIRY_CHUNK,
    private readonly lease?: LeaderLease,
  ) {
    this.task = new PeriodicTask(intervalMs, async () => {
      if (!this.lease || (await this.lease.take())) await this.sweep();
    });
  }

  start(): void {
    this.task.start();
  }

  async stop(): Promise<void> {
    await this.task.stop();
    await this.lease?.release();
  }

  /** One sweep, chunk after chunk until none are due; returns the number of seats released. Errors are logged, not thrown. */
  async sweep(): Promise<number> {
    let released = 0;
    try {
      for (let seats = await this.holds.expireDue(this.chunk); seats > 0; seats = await this.holds.expireDue(this.chunk)) {
        released += seats;
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'expiry sweep failed; retrying next interval');
    }
    if (released > 0) this.logger.info({ released }, 'expired holds released');
    return released;
  }
}
