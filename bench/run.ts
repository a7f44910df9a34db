/**
 * The benchmark runner: every scenario of docs/benchmarks.md, each against
 * its baseline in the same invocation.
 *
 *   npm run bench                          # all scenarios; updates docs/benchmarks.md
 *   npm run bench -- --scenario hot-holds  # one scenario; updates its section
 *   npm run bench -- --quick               # smoke run: correctness only, docs untouched
 *   npm run bench -- --json out.json       # also write this run's records there
 *   npm run bench -- --docs                # only regenerate docs/benchmarks.md from bench/results/
 *
 * Needs real PostgreSQL: DATABASE_URL, else TEST_DATABASE_URL.
 * Exit codes: 0 every correctness check passed (goals may be missed: they are
 * reported, not enforced); 1 a check failed or a scenario crashed; 2 bad flags
 * or no database.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createSchema, openAdmin, redact } from './harness/database.ts';
import { describeMachine } from './harness/machine.ts';
import { benchmarksMarkdown, textReport, type ScenarioRecord } from './harness/output.ts';
import type { Database } from '../packages/server/src/db/database.ts';
import type { BenchContext, Scenario, ScenarioReport } from './harness/scenario.ts';
import { scenarios } from './scenarios/index.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const resultsDir = join(root, 'bench/results');
const docsPath = join(root, 'docs/benchmarks.md');

function usage(): string {
  return `usage: npm run bench -- [--quick] [--scenario NAME] [--json PATH] | --docs\nscenarios: ${scenarios.map((s) => s.name).join(', ')}`;
}

function parseFlags() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      scenario: { type: 'string', multiple: true },
      json: { type: 'string' },
      docs: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const names = values.scenario ?? [];
  const unknown = names.filter((name) => !scenarios.some((s) => s.name === name));
  if (unknown.length) throw new Error(`unknown scenario ${unknown.join(', ')}`);
  return {
    help: values.help === true,
    docsOnly: values.docs === true,
    quick: values.quick === true,
    selected: names.length ? scenarios.filter((s) => names.includes(s.name)) : scenarios,
    json: values.json ? resolve(values.json) : undefined,
  };
}

interface RunOptions {
  quick: boolean;
  databaseUrl: string;
  admin: Database;
  signal: AbortSignal;
}

async function runScenario(scenario: Scenario, { admin, ...options }: RunOptions): Promise<ScenarioReport> {
  const cleanups: Array<() => Promise<void> | void> = [];
  const ctx: BenchContext = {
    ...options,
    progress: (message) => console.log(`  [${scenario.name}] ${message}`),
    onCleanup: (fn) => cleanups.push(fn),
    freshDatabase: async (schemaOptions) => {
      const { bench, drop } = await createSchema(admin, options.databaseUrl, schemaOptions);
      cleanups.push(drop);
      return bench;
    },
  };
  try {
    return await scenario.run(ctx);
  } finally {
    for (const fn of cleanups.reverse()) {
      await Promise.resolve()
        .then(fn)
        .catch((error: unknown) => console.error(`  [${scenario.name}] cleanup failed: ${String(error)}`));
    }
  }
}

async function readRecord(name: string): Promise<ScenarioRecord | undefined> {
  try {
    return JSON.parse(await readFile(join(resultsDir, `${name}.json`), 'utf8')) as ScenarioRecord;
  } catch {
    return undefined;
  }
}

async function writeDocs(): Promise<void> {
  const all = (await Promise.all(scenarios.map((s) => readRecord(s.name)))).filter((r): r is ScenarioRecord => r !== undefined);
  await writeFile(docsPath, benchmarksMarkdown(all));
}

async function main(): Promise<number> {
  let flags: ReturnType<typeof parseFlags>;
  try {
    flags = parseFlags();
  } catch (error) {
    console.error(`bench: ${error instanceof Error ? error.message : String(error)}\n${usage()}`);
    return 2;
  }
  if (flags.help) {
    console.log(usage());
    return 0;
  }
  if (flags.docsOnly) {
    await writeDocs();
    console.log('bench: regenerated docs/benchmarks.md from bench/results/');
    return 0;
  }
  const databaseUrl = process.env.DATABASE_URL || process.env.TEST_DATABASE_URL;
  if (!databaseUrl) {
    console.error('bench: set DATABASE_URL to a PostgreSQL database (e.g. postgres://postgres@127.0.0.1:5432/postgres)');
    return 2;
  }
  let admin: Database;
  try {
    admin = await openAdmin(databaseUrl);
  } catch (error) {
    console.error(`bench: cannot reach PostgreSQL at ${redact(databaseUrl)}: ${error instanceof Error ? error.message : String(error)}`);
    return 2;
  }

  const abort = new AbortController();
  process.once('SIGINT', () => {
    console.error('\nbench: interrupted, cleaning up (Ctrl-C again to quit at once)');
    abort.abort();
  });

  const machine = await describeMachine(admin);
  const command = `npm run bench${flags.quick ? ' -- --quick' : ''}`;
  console.log(`bench: ${flags.selected.length} scenario(s)${flags.quick ? ', quick' : ''}, PostgreSQL ${machine.postgres} at ${redact(databaseUrl)}`);
  console.log(`bench: ${machine.cpus} CPUs (${machine.cpuModel}), ${machine.memoryGiB} GiB, Node ${machine.node}`);

  const records: ScenarioRecord[] = [];
  let failed = false;
  try {
    for (const [i, scenario] of flags.selected.entries()) {
      if (abort.signal.aborted) break;
      console.log(`\n[${i + 1}/${flags.selected.length}] ${scenario.name}: ${scenario.title}`);
      const date = new Date().toISOString();
      const started = performance.now();
      let report: ScenarioReport;
      try {
        report = await runScenario(scenario, { quick: flags.quick, databaseUrl, admin, signal: abort.signal });
      } catch (error) {
        report = {
          config: {},
          table: { columns: [], rows: [] },
          ratios: [],
          goals: [],
          checks: [{ check: 'scenario completed', ok: false, detail: error instanceof Error ? (error.stack ?? error.message) : String(error) }],
        };
      }
      const seconds = (performance.now() - started) / 1000;
      console.log(`\n${textReport(report)}\n(${seconds.toFixed(1)} s)`);
      failed ||= report.checks.some((c) => !c.ok);
      records.push({ scenario: scenario.name, title: scenario.title, date, command: `npm run bench -- ${flags.quick ? '--quick ' : ''}--scenario ${scenario.name}`, machine, seconds, report });
    }
  } finally {
    await admin.close();
  }

  if (flags.json) {
    await mkdir(dirname(flags.json), { recursive: true });
    await writeFile(flags.json, `${JSON.stringify({ command, machine, records }, null, 2)}\n`);
    console.log(`bench: records written to ${flags.json}`);
  }
  // Only full-size, completed runs update the published figures.
  if (!flags.quick && !abort.signal.aborted) {
    await mkdir(resultsDir, { recursive: true });
    for (const record of records) await writeFile(join(resultsDir, `${record.scenario}.json`), `${JSON.stringify(record, null, 2)}\n`);
    await writeDocs();
    console.log(`bench: updated docs/benchmarks.md and bench/results/`);
  }

  console.log(`\nbench: ${records.length} scenario(s), ${failed ? 'SOME CHECKS FAILED' : 'all correctness checks passed'}`);
  return failed || abort.signal.aborted ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = 1;
  },
);
