/**
 * What a benchmark scenario is, and what it hands back to the runner
 * (bench/run.ts). Every scenario compares TicketPulse with a baseline in the
 * same invocation and reports ratios: absolute figures drift on shared
 * machines, ratios hold.
 */
import type { Database } from '../../packages/server/src/db/database.ts';

export interface BenchDatabase {
  db: Database;
  /** The throw-away schema this database's tables live in. */
  schema: string;
  /** Connection URL and per-connection options for other processes (load generators, a server). */
  url: string;
  /** `-c search_path=<schema>`: pass as node-postgres `options`, or as PGOPTIONS. */
  options: string;
}

export interface BenchContext {
  /** Small smoke version: correctness only, a few seconds per scenario. */
  quick: boolean;
  /** Real PostgreSQL (DATABASE_URL, else TEST_DATABASE_URL). */
  databaseUrl: string;
  /** One progress line, prefixed with the scenario's name. */
  progress(message: string): void;
  /** A fresh schema with TicketPulse's migrations applied; dropped when the scenario ends. */
  freshDatabase(options?: { maxConnections?: number; migrate?: boolean }): Promise<BenchDatabase>;
  /** Runs at the end of the scenario, even when it fails (stop processes, close sockets). */
  onCleanup(fn: () => Promise<void> | void): void;
  /** Aborted on Ctrl-C: stop starting work and return or throw. */
  signal: AbortSignal;
}

/** A pass/fail fact that must hold in every run, quick or not (zero oversell, counts exact). */
export interface Check {
  check: string;
  ok: boolean;
  detail: string;
}

/** A performance goal from the issue; a miss is reported, not a failure of the run. */
export interface Goal {
  goal: string;
  measured: string;
  met: boolean;
  /** When not met: what limits it, from profiling. */
  limitedBy?: string;
}

export interface Ratio {
  /** e.g. "holds/s, TicketPulse / baseline". */
  name: string;
  value: number;
}

export interface ScenarioReport {
  /** What was run: sizes, durations, concurrency. */
  config: Record<string, unknown>;
  /** Side by side: one row per system (or per load level), same columns. */
  table: { columns: string[]; rows: Array<Array<string | number>> };
  ratios: Ratio[];
  goals: Goal[];
  checks: Check[];
  notes?: string[];
}

export interface Scenario {
  /** kebab-case, for --scenario. */
  name: string;
  title: string;
  /** It runs `wrk` (bench/harness/wrk.ts): the smoke test skips it where there is none, outside CI. */
  needsWrk?: boolean;
  run(ctx: BenchContext): Promise<ScenarioReport>;
}
