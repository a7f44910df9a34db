/** The machine a run happened on, for the report: figures mean little without it. */
import os from 'node:os';
import type { Database } from '../../packages/server/src/db/database.ts';

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  platform: string;
  node: string;
  postgres: string;
}

export async function describeMachine(db: Database): Promise<Machine> {
  const { rows } = await db.query<{ server_version: string }>('SHOW server_version');
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryGiB: Number((os.totalmem() / 2 ** 30).toFixed(1)),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    postgres: rows[0]?.server_version ?? 'unknown',
  };
}
