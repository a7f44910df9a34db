import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../src/inventory/group-commit.ts';

const turn = () => new Promise((resolve) => setImmediate(resolve));

/** A decider whose batches finish only when the test says so, and that records them. */
function heldDecider() {
  const batches: number[][] = [];
  const pending: Array<() => void> = [];
  let inFlight = 0;
  let mostInFlight = 0;
  const decide = (_key: string, inputs: number[]) => {
    batches.push(inputs);
    mostInFlight = Math.max(mostInFlight, ++inFlight);
    return new Promise<number[]>((resolve) =>
      pending.push(() => {
        inFlight--;
        resolve(inputs.map((n) => n * 10));
      }),
    );
  };
  /** Finishes every batch in flight, and those they let go out next, until none is left. */
  const finishAll = async () => {
    for (;;) {
      // A finished batch lets the next one out on a later turn.
      await turn();
      await turn();
      if (pending.length === 0) return;
      pending.splice(0).forEach((finish) => finish());
    }
  };
  return { decide, batches, finishAll, mostInFlight: () => mostInFlight };
}

describe('GroupCommit: how the waiting go out', () => {
  it('sends a crowd as two halves at once when nothing is in flight (splitWhenIdle), each answered in order', async () => {
    const d = heldDecider();
    const queue = new GroupCommit(d.decide, 256, undefined, () => undefined);
    const answers = Promise.all(Array.from({ length: 9 }, (_, n) => queue.submit('event', n)));
    await turn();
    expect(d.batches).toEqual([
      [0, 1, 2, 3, 4],
      [5, 6, 7, 8],
    ]);
    expect(d.mostInFlight()).toBe(2);
    await d.finishAll();
    expect(await answers).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80]);
  });

  it('keeps inputs that splitWhenIdle gives the same string in the first half', async () => {
    const d = heldDecider();
    const queue = new GroupCommit(d.decide, 256, undefined, (n: number) => (n === 1 || n === 4 ? 'double click' : undefined));
    const answers = Promise.all(Array.from({ length: 6 }, (_, n) => queue.submit('event', n)));
    await turn();
    expect(d.batches).toEqual([
      [0, 1, 2, 4],
      [3, 5],
    ]);
    await d.finishAll();
    expect(await answers).toEqual([0, 10, 20, 30, 40, 50]);
  });

  it('sends the waiting as one batch without splitWhenIdle, and as the second in flight when one already is', async () => {
    const d = heldDecider();
    const queue = new GroupCommit(d.decide, 256);
    const first = Promise.all([0, 1, 2].map((n) => queue.submit('event', n)));
    await turn();
    const second = Promise.all([3, 4, 5].map((n) => queue.submit('event', n)));
    await turn();
    expect(d.batches).toEqual([
      [0, 1, 2],
      [3, 4, 5],
    ]);
    await d.finishAll();
    expect([await first, await second]).toEqual([
      [0, 10, 20],
      [30, 40, 50],
    ]);
  });

  it('puts more than a batch holds in two batches in flight at once, and the rest in the next', async () => {
    const d = heldDecider();
    const queue = new GroupCommit(d.decide, 3);
    const answers = Promise.all(Array.from({ length: 8 }, (_, n) => queue.submit('event', n)));
    await turn();
    // Before, the second waited for the first to finish.
    expect(d.batches).toEqual([
      [0, 1, 2],
      [3, 4, 5],
    ]);
    await d.finishAll();
    expect(d.batches.slice(2)).toEqual([[6, 7]]);
    expect(d.mostInFlight()).toBe(2);
    expect(await answers).toEqual([0, 10, 20, 30, 40, 50, 60, 70]);
  });
});
