import type { Logger } from 'pino';
import type { Holds } from './holds.ts';

/**
 * Calls expire_ticket_reservations() on a fixed interval so published counts
 * treat an expired hold as available within about one interval. Every node
 * may run one: the sweep skips holds another sweeper has locked.
 */
export class ExpirySweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly holds: Holds,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => {
      // A slow sweep is never overlapped by the next one.
      this.running ??= this.sweep().then(() => {
        this.running = undefined;
      });
    }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
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
