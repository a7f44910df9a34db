/**
 * Group commit: requests for the same key (an event) that arrive while a
 * batch for it is being decided wait, and are then decided together in the
 * next batch, in arrival order. An idle key's first request goes at once, so
 * a quiet event pays no extra latency; under load the batch grows with it.
 *
 * One batch per key is in flight at a time: batches of one event queue on
 * the same row locks anyway, so a second would only hold a pool connection.
 */
export type DecideBatch<Input, Output> = (key: string, inputs: Input[]) => Promise<Output[]>;

interface Waiting<Input, Output> {
  input: Input;
  resolve(output: Output): void;
  reject(error: unknown): void;
}

export class GroupCommit<Input, Output> {
  private readonly queues = new Map<string, Array<Waiting<Input, Output>>>();

  constructor(
    private readonly decide: DecideBatch<Input, Output>,
    private readonly maxBatch: number,
    /** Told the size of every batch decided (a metric). */
    private readonly onBatch: (size: number) => void = () => {},
  ) {}

  submit(key: string, input: Input): Promise<Output> {
    return new Promise<Output>((resolve, reject) => {
      const queue = this.queues.get(key);
      if (queue) {
        queue.push({ input, resolve, reject });
        return;
      }
      this.queues.set(key, []);
      void this.run(key, [{ input, resolve, reject }]);
    });
  }

  private async run(key: string, batch: Array<Waiting<Input, Output>>): Promise<void> {
    this.onBatch(batch.length);
    try {
      const outputs = await this.decide(
        key,
        batch.map((w) => w.input),
      );
      batch.forEach((w, i) => w.resolve(outputs[i]!));
    } catch (error) {
      if (batch.length === 1) batch[0]!.reject(error);
      // The whole batch rolled back. Decide each alone, so that one request
      // that breaks its batch cannot fail the requests that happened to share it.
      else await Promise.all(batch.map((w) => this.decide(key, [w.input]).then(([output]) => w.resolve(output!), w.reject)));
    }
    const queue = this.queues.get(key)!;
    if (queue.length === 0) this.queues.delete(key);
    else void this.run(key, queue.splice(0, this.maxBatch));
  }
}
