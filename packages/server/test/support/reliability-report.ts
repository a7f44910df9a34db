import { appendFile, mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** The repository's test-output/ (gitignored); the lead builds docs/reliability.md's table from it. */
const OUTPUT_DIR = fileURLToPath(new URL('../../../../test-output/', import.meta.url));
export const RELIABILITY_REPORT = `${OUTPUT_DIR}reliability.jsonl`;

export interface ReliabilityRecord {
  /** The fault or workload, e.g. "database: pg_terminate_backend under traffic". */
  fault: string;
  /** How many times the fault was injected in this run. */
  injected: number;
  /** What was checked afterwards. */
  checked: string[];
  /** Requests, viewers, recovery times in ms, holds lost (must be 0), ... */
  figures: Record<string, number | string | boolean>;
}

/** Appends one JSON line per fault test, stamped with the time of the run. */
export async function recordReliability(record: ReliabilityRecord): Promise<void> {
  await mkdir(OUTPUT_DIR, { recursive: true });
  await appendFile(RELIABILITY_REPORT, `${JSON.stringify({ at: new Date().toISOString(), ...record })}\n`);
}
