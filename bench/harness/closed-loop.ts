/**
 * A closed-loop load generator: `concurrency` workers each start the next
 * operation as soon as their last one finished (after an optional pause),
 * like buyers who click again. Records when each operation started and how
 * long it took.
 */
import { sleep } from './stats.ts';

export interface Sample {
  /** The operation's number, as run() got it. */
  i: number;
  /** performance.now() when the operation started. */
  startedAt: number;
  ms: number;
}

export interface ClosedLoopOptions {
  concurrency: number;
  /** One operation; `i` counts from 0 across all workers. */
  run(i: number): Promise<void>;
  /** Checked before each operation starts: stop when it returns true. In-flight operations finish. */
  done(started: number): boolean;
  /** Each worker's pause between operations (a buyer's think time); 0 by default. */
  pauseMs?: number;
  signal?: AbortSignal;
}

export interface ClosedLoopResult {
  samples: Sample[];
  seconds: number;
}

export async function closedLoop({ concurrency, run, done, pauseMs = 0, signal }: ClosedLoopOptions): Promise<ClosedLoopResult> {
  const samples: Sample[] = [];
  let started = 0;
  let failed = false;
  const worker = async () => {
    // The first failure stops every worker rather than piling up errors.
    while (!failed && !signal?.aborted && !done(started)) {
      const i = started++;
      const startedAt = performance.now();
      try {
        await run(i);
      } catch (error) {
        failed = true;
        throw error;
      }
      samples.push({ i, startedAt, ms: performance.now() - startedAt });
      if (pauseMs > 0) await sleep(pauseMs);
    }
  };
  const start = performance.now();
  // allSettled: nothing may still be running when the caller closes the pool.
  const outcomes = await Promise.allSettled(Array.from({ length: concurrency }, worker));
  const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failure) throw failure.reason;
  return { samples, seconds: (performance.now() - start) / 1000 };
}
