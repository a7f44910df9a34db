/**
 * Runs async jobs one after another, never overlapping: each starts when the
 * one queued before it has settled, so what they read goes out in that order.
 */
export class SerialRuns {
  private last: Promise<void> = Promise.resolve();

  /** Queues a job. Its promise settles as the job does; a failed job does not stop those after it. */
  run(job: () => Promise<void>): Promise<void> {
    const next = this.last.then(job);
    this.last = next.catch(() => {});
    return next;
  }

  /** Settles when every job queued so far has. */
  idle(): Promise<void> {
    return this.last;
  }
}
