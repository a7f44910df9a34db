import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { postgresUrl } from './support/database.ts';
import { startNode } from './support/process.ts';
import { eventually } from './support/viewer.ts';

const BIN = fileURLToPath(new URL('../bin/ticketpulse.js', import.meta.url));
const env = (extra: Record<string, string>) => ({ ...process.env, DATABASE_URL: '', LOG_LEVEL: 'info', ...extra });

describe('ticketpulse CLI', () => {
  it('start --demo serves the demo events and stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, [BIN, 'start', '--demo', '--memory'], {
      env: env({ PORT: '0', HOST: '127.0.0.1' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const match = /serving on (http:\/\/[^\s"]+)/.exec(out);
          if (match) resolve(match[1]!);
        });
        child.once('exit', (code) => reject(new Error(`exited with ${code}: ${out}`)));
      });
      const { events } = (await (await fetch(`${url}/api/events`)).json()) as { events: Array<{ slug: string }> };
      expect(events.map((e) => e.slug).sort()).toEqual(['midnight-jazz-session', 'open-air-cinema', 'summer-sound-festival']);

      const jazz = (await (await fetch(`${url}/api/events/midnight-jazz-session/availability`)).json()) as {
        tickets: Array<{ status: string }>;
      };
      expect(jazz.tickets.every((x) => x.status === 'low_stock')).toBe(true);
      const cinema = (await (await fetch(`${url}/api/events/open-air-cinema/availability`)).json()) as {
        tickets: Array<{ ticketTypeName: string; isUnlimited: boolean; isSoldOut: boolean }>;
      };
      expect(cinema.tickets.find((x) => x.ticketTypeName === 'Free RSVP')).toMatchObject({ isUnlimited: true, isSoldOut: false });

      const token = await fetch(`${url}/api/auth/dev-token`, { method: 'POST' });
      expect(token.status).toBe(201);

      // `ticketpulse watch` prints the availability, then each change as it happens.
      const watcher = spawn(process.execPath, [BIN, 'watch', 'midnight-jazz-session', '--url', url], { stdio: ['ignore', 'pipe', 'pipe'] });
      try {
        let printed = '';
        watcher.stdout.on('data', (chunk: Buffer) => (printed += chunk.toString()));
        const waitFor = async (pattern: RegExp) => {
          const deadline = Date.now() + 10_000;
          while (!pattern.test(printed)) {
            if (Date.now() > deadline) throw new Error(`watch printed: ${printed}`);
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
        };
        await waitFor(/Standing\s+5 left \(55 sold, 0 held\)/);
        const { token: buyer } = (await token.json()) as { token: string };
        const standing = (await (await fetch(`${url}/api/events/midnight-jazz-session/availability`)).json()) as {
          tickets: Array<{ ticketTypeId: string; ticketTypeName: string }>;
        };
        await fetch(`${url}/api/events/midnight-jazz-session/reservations`, {
          method: 'POST',
          headers: { authorization: `Bearer ${buyer}`, 'content-type': 'application/json' },
          body: JSON.stringify({ items: [{ ticketTypeId: standing.tickets.find((x) => x.ticketTypeName === 'Standing')!.ticketTypeId, quantity: 2 }] }),
        });
        await waitFor(/v\d+\s+Standing\s+3 left \(55 sold, 2 held\)/);
      } finally {
        watcher.kill();
      }
    } finally {
      child.kill('SIGTERM');
    }
    const code = await new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', resolve)));
    expect(code).toBe(0);
  });

  it('start --simulate runs the buyer simulator from boot, and SIGTERM still stops cleanly', async () => {
    // An empty storefront folder: / stays the JSON index whatever apps/storefront/dist holds.
    const node = await startNode({ DATABASE_URL: '', TICKETPULSE_STOREFRONT_DIR: tmpdir() }, ['--demo', '--memory', '--simulate']);
    try {
      const minted = await fetch(`${node.url}/api/auth/dev-token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ role: 'organizer' }),
      });
      const { token } = (await minted.json()) as { token: string };
      const status = async () => {
        const response = await fetch(`${node.url}/api/simulator`, { headers: { authorization: `Bearer ${token}` } });
        return (await response.json()) as { running: boolean; stats: { holds: number } };
      };
      expect((await status()).running).toBe(true);
      await eventually(async () => (await status()).stats.holds > 0, 'a simulated hold');
      expect(((await (await fetch(node.url)).json()) as { service: string }).service).toBe('TicketPulse');
    } finally {
      expect(await node.stop()).toBe(0);
    }
  });

  it('stops at start-up with one clear line for invalid configuration', () => {
    const result = spawnSync(process.execPath, [BIN, 'start', '--memory'], { env: env({ PORT: 'eighty' }), encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^ticketpulse: Invalid configuration: PORT /)]);
  });

  it('refuses --simulate without --demo: simulated buyers never run on a real service', () => {
    const result = spawnSync(process.execPath, [BIN, 'start', '--memory', '--simulate'], { env: env({}), encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe('ticketpulse: --simulate needs --demo: simulated buyers run only in the demo');
  });

  it('explains usage for an unknown command', () => {
    const result = spawnSync(process.execPath, [BIN, 'sell-everything'], { env: env({}), encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe('ticketpulse: Unknown command "sell-everything". Run ticketpulse --help.');
  });

  it.skipIf(!postgresUrl)('migrate and seed work against PostgreSQL, and seeding twice adds nothing', async () => {
    const schema = `t_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: postgresUrl });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    try {
      // Percent-encoded by hand: URLSearchParams would turn the space into '+', which libpq-style parsers keep.
      const separator = postgresUrl!.includes('?') ? '&' : '?';
      const url = `${postgresUrl}${separator}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
      const run = (command: string) =>
        spawnSync(process.execPath, [BIN, command], { env: env({ DATABASE_URL: url }), encoding: 'utf8' });
      expect(run('migrate').status).toBe(0);
      expect(run('seed').status).toBe(0);
      expect(run('seed').status).toBe(0);
      const { rows } = await admin.query(`SELECT count(*)::integer AS n FROM ${schema}.events`);
      expect(rows[0].n).toBe(3);
      await admin.query(`SET search_path TO ${schema}`); // the functions resolve tables through it
      const { rows: mismatches } = await admin.query('SELECT * FROM verify_ticket_counts()');
      expect(mismatches).toEqual([]);
    } finally {
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    }
  });
});
