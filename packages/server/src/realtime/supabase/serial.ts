/**
 * Runs async jobs one after another. A capture's reads (a join's baseline, a
 * tick's diff) then apply in the order their queries ran, so an older read
 * can never overwrite what a newer one found.
 */
export class Serial {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(job: () => Promise<T>): Promise<T> {
    const result = this.tail.then(job);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
