/**
 * The server's clock as seen from here. Hold deadlines are decided by the
 * server, so countdowns use this, not the device clock (which may be minutes off).
 */
export class ServerClock {
  private offsetMs = 0;

  /** Records a server timestamp that arrived just now. */
  observe(serverTime: string | number): void {
    const server = typeof serverTime === 'number' ? serverTime : Date.parse(serverTime);
    if (!Number.isNaN(server)) this.offsetMs = server - Date.now();
  }

  now(): number {
    return Date.now() + this.offsetMs;
  }

  get offset(): number {
    return this.offsetMs;
  }
}
