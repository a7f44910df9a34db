/**
 * The database's clock as seen from this process. Hold deadlines are decided
 * by the database, so every serverTime the gateway sends is on that clock.
 */
export class DatabaseClock {
  private offsetMs = 0;

  /** Records a database timestamp read by a query sent at `sentAt` and answered at `receivedAt` (Date.now()). */
  observe(databaseTime: string, sentAt: number, receivedAt: number): void {
    this.offsetMs = Date.parse(databaseTime) - (sentAt + receivedAt) / 2;
  }

  now(): string {
    return new Date(Date.now() + this.offsetMs).toISOString();
  }
}
