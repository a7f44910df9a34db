import type { Logger } from 'pino';
import type { Queryable } from '../db/database.ts';
import { PeriodicTask } from '../periodic-task.ts';
import type { AvailabilityListener } from './availability-listener.ts';

/**
 * How often the published sales velocity is refreshed (TICKETPULSE_VELOCITY_REFRESH_MS):
 * an event's availability changes for it at most this often, however fast it sells.
 */
export const DEFAULT_VELOCITY_REFRESH_MS = 5000;

/**
 * Keeps the sales velocity every event publishes up to date
 * (db/repeatable/80_sales_velocity.sql, refresh_sales_velocity). Every node
 * runs one; the database lets one refresh through per interval for the whole
 * service. An event whose figures changed gets a new availability version,
 * and the listener (the realtime gateway) hears of it like any other change.
 */
export class SalesVelocityRefresher {
  private readonly task: PeriodicTask;

  constructor(
    private readonly db: Queryable,
    private readonly intervalMs: number,
    private readonly onChange: AvailabilityListener,
    private readonly logger: Logger,
  ) {
    this.task = new PeriodicTask(intervalMs, () => this.refresh());
  }

  start(): void {
    this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  /** One refresh (none when another node refreshed within the interval); returns the events whose figures changed. Errors are logged, not thrown. */
  async refresh(): Promise<string[]> {
    try {
      const { rows } = await this.db.query<{ changed: string[] }>('SELECT refresh_sales_velocity($1) AS changed', [this.intervalMs]);
      const changed = rows[0]!.changed;
      for (const eventId of changed) this.onChange(eventId);
      return changed;
    } catch (error) {
      this.logger.warn({ err: error }, 'sales velocity refresh failed; retrying next interval');
      return [];
    }
  }
}
