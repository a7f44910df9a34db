import { describe, expect, it } from 'vitest';
import { SerialRuns } from '../src/realtime/serial-runs.ts';

describe('SerialRuns', () => {
  it('runs jobs one at a time in the order queued, and a failed job does not stop the next', async () => {
    const runs = new SerialRuns();
    const log: string[] = [];
    const job = (name: string, ms: number, fail = false) => async () => {
      log.push(`${name} start`);
      await new Promise((resolve) => setTimeout(resolve, ms));
      log.push(`${name} end`);
      if (fail) throw new Error(name);
    };
    const first = runs.run(job('a', 30, true));
    const second = runs.run(job('b', 1));
    await expect(first).rejects.toThrow('a');
    await second;
    await runs.idle();
    expect(log).toEqual(['a start', 'a end', 'b start', 'b end']);
  });
});
