/** Waiting for every viewer to hold exactly what the database holds. */
import type { Database } from '../../packages/server/src/db/database.ts';
import { readExpectedState } from './expected-state.ts';
import { sleep } from './stats.ts';
import { totalCheck, type CheckReply, type ViewerFleet } from './viewer-fleet.ts';

export interface Convergence {
  exact: number;
  wrong: number;
  example?: string;
  /** From the call until every viewer was exact, or until the deadline. */
  ms: number;
}

/** Polls the viewers against the database's current state until all match or `timeoutMs` passes. */
export async function awaitExact(fleet: ViewerFleet, db: Database, timeoutMs: number, pollMs = 200): Promise<Convergence> {
  const started = performance.now();
  for (;;) {
    const expected = await readExpectedState(db);
    const result = totalCheck(await fleet.askAll<CheckReply>({ type: 'check', expected }));
    const ms = performance.now() - started;
    if (result.wrong === 0 || ms >= timeoutMs) return { ...result, ms };
    await sleep(pollMs);
  }
}
