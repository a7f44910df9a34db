/**
 * Runs an async job every `intervalMs`, never overlapping itself: a slow run
 * (a slow database) delays the next one instead of piling up.
 */
export class PeriodicTask {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly job: () => Promise<unknown>,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => {
      this.running ??= this.job().then(
        () => {
          this.running = undefined;
        },
        () => {
          this.running = undefined;
        },
      );
    }, this.intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a run in progress. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
