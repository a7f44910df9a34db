/**
 * `npm run bench -- --quick` as part of the test suite: every scenario, small,
 * against real PostgreSQL. Only correctness is asserted (zero oversell, every
 * viewer exact, counters verified): speed is for `npm run bench`, never a test.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { postgresUrl } from '../../packages/server/test/support/database.ts';
import type { ScenarioRecord } from '../harness/output.ts';
import { hasWrk, WRK } from '../harness/wrk.ts';
import { scenarios } from '../scenarios/index.ts';

/** Scenarios that run wrk (apt-get install -y wrk): required under CI (.ci/run installs it), skipped with a word elsewhere. */
const wrkHere = hasWrk();
const needWrk = scenarios.filter((s) => s.needsWrk).map((s) => s.name);
if (!wrkHere && process.env.CI === 'true') throw new Error(`CI=true but no ${WRK}: .ci/run installs it with apt-get install -y wrk`);
if (!wrkHere) console.log(`\nSkipping the smoke run of ${needWrk.join(' and ')}: no ${WRK} (apt-get install -y wrk, or set BENCH_WRK).\n`);
const selected = scenarios.filter((s) => wrkHere || !s.needsWrk);

describe.skipIf(!postgresUrl)('npm run bench -- --quick', () => {
  it('runs every scenario and every correctness check passes', { timeout: 600_000 }, async () => {
    const json = join(await mkdtemp(join(tmpdir(), 'bench-')), 'quick.json');
    const only = selected.length === scenarios.length ? [] : selected.flatMap((s) => ['--scenario', s.name]);
    const child = spawn(process.execPath, ['--conditions=@ticketpulse/source', '--import', 'tsx', 'bench/run.ts', '--quick', '--json', json, ...only], {
      env: { ...process.env, DATABASE_URL: postgresUrl },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));

    const { records } = JSON.parse(await readFile(json, 'utf8')) as { records: ScenarioRecord[] };
    expect(records.map((r) => r.scenario)).toEqual(selected.map((s) => s.name));
    const failed = records.flatMap((r) => r.report.checks.filter((c) => !c.ok).map((c) => `${r.scenario}: ${c.check}: ${c.detail}`));
    expect(failed, output).toEqual([]);
    for (const record of records) expect(record.report.checks.length, record.scenario).toBeGreaterThan(0);
    expect(code, output).toBe(0);
  });
});
