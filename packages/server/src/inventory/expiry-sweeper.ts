import type { Logger } from 'pino';
import { PeriodicTask } from '../periodic-task.ts';
import type { Holds } from './holds.ts';

/**
 * Calls expire_ticket_reservations() on a fixed interval so published counts
 * treat an expired hold as available within about one interval. Every node
 * may run one: the sweep skips holds another sweeper has locked.
 */
export class ExpirySweeper {
  private readonly task: PeriodicTask;

  constructor(
    private readonly holds: Holds,
    intervalMs: number,
    private readonly logger: Logger,
  ) {
    this.task = new PeriodicTask(intervalMs, () => this.sweep());
  }

  start(): void {
    this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  /** One sweep; returns the number of seats released. Errors are logged, not thrown. */
  async sweep(): Promise<number> {
    try {
      const released = await this.holds.expireDue();
      if (released > 0) this.logger.info({ released }, 'expired holds released');
      return released;
    } catch (error) {
      this.logger.warn({ err: error }, 'expiry sweep failed; retrying next interval');
      return 0;
    }
  }
}
