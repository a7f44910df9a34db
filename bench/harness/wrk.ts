/**
 * `wrk` (apt-get install -y wrk; BENCH_WRK to point elsewhere), the HTTP load
 * generator of the http-holds and queue scenarios, in a process of its own.
 * Its Lua scripts (bench/workers/*.lua) load wrk-report.lua, which prints one
 * JSON line at the end: what `wrk()` returns.
 */
import { execFile, spawnSync } from 'node:child_process';

export const WRK = process.env.BENCH_WRK ?? 'wrk';

/** Whether `wrk` runs here: scenarios that need it are skipped by the smoke test without it (outside CI). */
export const hasWrk = (): boolean => spawnSync(WRK, ['--version']).error === undefined;

/** A run's summary (wrk-report.lua), with what its script adds (`Extra`). */
export type WrkRun<Extra = unknown> = Extra & {
  statuses: Record<string, number>;
  requests: number;
  durationUs: number;
  p50Us: number;
  p99Us: number;
  maxUs: number;
  errors: Record<'connect' | 'read' | 'write' | 'status' | 'timeout', number>;
};

export const transportErrors = (r: WrkRun) => r.errors.connect + r.errors.read + r.errors.write + r.errors.timeout;

/** Runs a command; its stdout, or an error with its stderr. */
export function run(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs: number }): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { env: { ...process.env, ...options.env }, timeout: options.timeoutMs, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} failed: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

export interface WrkOptions {
  threads: number;
  connections: number;
  seconds: number;
  /** The script's own arguments (after `--`). */
  args: string[];
}

/** `wrk` with `script` against `url` for `seconds`: its summary line. */
export async function wrk<Extra = unknown>(script: string, url: string, { threads, connections, seconds, args }: WrkOptions): Promise<WrkRun<Extra>> {
  const out = await run(WRK, ['-t', String(threads), '-c', String(connections), '-d', `${seconds}s`, '--timeout', '10s', '-s', script, url, '--', ...args], {
    timeoutMs: (seconds + 30) * 1000,
  });
  const line = out.split('\n').find((l) => l.startsWith('{'));
  if (!line) throw new Error(`wrk printed no summary:\n${out}`);
  return JSON.parse(line) as WrkRun<Extra>;
}
