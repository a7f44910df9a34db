/**
 * Group commit: requests for the same key (an event) are decided together,
 * in arrival order. Requests that arrive within one turn of the event loop
 * go in one batch; while a batch is in the database, the next one gathers.
 *
 * Two batches per key may be in flight: the second waits in PostgreSQL on
 * the first's row locks and starts the moment it commits, so the database
 * never idles while Node hands out answers and collects the next batch.
 * More would only hold more pool connections waiting on the same locks.
 *
 * Where most of a batch's work needs no lock (reserve_holds() writes a batch
 * that refuses no one before it locks anything), the second does it while
 * the first holds them. Then, with nothing in flight, the requests waiting
 * go out as two batches, not one (splitWhenIdle): in an on-sale whose buyers
 * all come back at once, one batch would carry them all, and the next, one
 * after another on one core. Requests split this way arrived in the same
 * turn of the event loop, so neither half came first; but a double click
 * stays in one batch, where the first of the two is the one that holds.
 */
export type DecideBatch<Input, Output> = (key: string, inputs: Input[]) => Promise<Output[]>;

interface Waiting<Input, Output> {
  input: Input;
  resolve(output: Output): void;
  reject(error: unknown): void;
}

interface Queue<Input, Output> {
  waiting: Array<Waiting<Input, Output>>;
  inFlight: number;
  scheduled: boolean;
}

const MAX_IN_FLIGHT = 2;

export class GroupCommit<Input, Output> {
  private readonly queues = new Map<string, Queue<Input, Output>>();

  constructor(
    private readonly decide: DecideBatch<Input, Output>,
    private readonly maxBatch: number,
    /** Told the size of every batch decided (a metric). */
    private readonly onBatch: (size: number) => void = () => {},
    /**
     * Set where two batches can work at once: with nothing in flight, the
     * waiting go out as two halves. Inputs it gives the same string (a
     * holder's Idempotency-Key: a double click) stay in one batch, the first.
     */
    private readonly splitWhenIdle?: (input: Input) => string | undefined,
  ) {}

  submit(key: string, input: Input): Promise<Output> {
    return new Promise<Output>((resolve, reject) => {
      let queue = this.queues.get(key);
      if (!queue) {
        queue = { waiting: [], inFlight: 0, scheduled: false };
        this.queues.set(key, queue);
      }
      queue.waiting.push({ input, resolve, reject });
      this.schedule(key, queue);
    });
  }

  /** Dispatches on the next turn, so everything submitted in this one joins the batch. */
  private schedule(key: string, queue: Queue<Input, Output>): void {
    if (queue.scheduled || queue.inFlight >= MAX_IN_FLIGHT || queue.waiting.length === 0) return;
    queue.scheduled = true;
    setImmediate(() => {
      queue.scheduled = false;
      while (queue.inFlight < MAX_IN_FLIGHT && queue.waiting.length > 0) void this.run(key, queue, this.nextBatch(queue));
    });
  }

  private nextBatch(queue: Queue<Input, Output>): Array<Waiting<Input, Output>> {
    const together = this.splitWhenIdle;
    if (!together || queue.inFlight > 0) return queue.waiting.splice(0, this.maxBatch);
    const batch = queue.waiting.splice(0, Math.min(Math.ceil(queue.waiting.length / 2), this.maxBatch));
    const taken = new Set(batch.map((w) => together(w.input)).filter((k) => k !== undefined));
    if (taken.size > 0) {
      const rest = queue.waiting.splice(0);
      for (const w of rest) {
        const k = together(w.input);
        (k !== undefined && taken.has(k) && batch.length < this.maxBatch ? batch : queue.waiting).push(w);
      }
    }
    return batch;
  }

  private async run(key: string, queue: Queue<Input, Output>, batch: Array<Waiting<Input, Output>>): Promise<void> {
    queue.inFlight++;
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
    queue.inFlight--;
    if (queue.inFlight === 0 && queue.waiting.length === 0 && !queue.scheduled) this.queues.delete(key);
    else this.schedule(key, queue);
  }
}
