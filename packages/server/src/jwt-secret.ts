import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from './config.ts';

/**
 * TICKETPULSE_JWT_SECRET, or else a secret generated once and kept in the
 * data directory so tokens survive restarts of a single demo node. Several
 * nodes must share TICKETPULSE_JWT_SECRET instead.
 */
export async function resolveJwtSecret(config: Config): Promise<{ secret: string; generated: boolean }> {
  if (config.jwtSecret) return { secret: config.jwtSecret, generated: false };
  const file = join(config.dataDir, 'jwt-secret');
  try {
    const stored = (await readFile(file, 'utf8')).trim();
    if (stored.length >= 32) return { secret: stored, generated: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const secret = randomBytes(32).toString('base64url');
  await mkdir(config.dataDir, { recursive: true });
  await writeFile(file, `${secret}\n`, { mode: 0o600 });
  return { secret, generated: true };
}
