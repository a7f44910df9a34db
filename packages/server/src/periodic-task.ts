/**
 * Runs an async job every `intervalMs`, never overlapping itself: a run
 * begins `intervalMs` after the last one began, or as soon as it ends if it
 * took longer. A slow run (a slow database, a long fan-out) delays the next
 * one instead of piling up, and by no more than it overran.
 */
export class PeriodicTask {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private started = false;

  constructor(
    private readonly intervalMs: number,
    private readonly job: () => Promise<unknown>,
  ) {}

  start(): void {
    if (this.started) return;
    this.started = true;
    // A run still ending after a stop() schedules the next itself.
    if (!this.running) this.schedule(this.intervalMs);
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      const began = performance.now();
      this.running = this.job().then(
        () => this.ran(began),
        () => this.ran(began),
      );
    }, delayMs);
    this.timer.unref();
  }

  private ran(began: number): void {
    this.running = undefined;
    if (this.started) this.schedule(Math.max(0, this.intervalMs - (performance.now() - began)));
  }

  /** Stops the timer and waits for a run in progress. */
  async stop(): Promise<void> {
    this.started = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
