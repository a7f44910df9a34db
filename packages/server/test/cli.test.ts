import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { postgresUrl } from './support/database.ts';
import { startNode } from './support/process.ts';
import { eventually } from './support/viewer.ts';

/** A port some other program holds, on 127.0.0.1. */
async function takePort(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

/** Runs `fn` with a DATABASE_URL for a fresh schema of TEST_DATABASE_URL, dropped afterwards. */
async function withSchema(fn: (url: string, schema: string, admin: pg.Client) => Promise<void>): Promise<void> {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: postgresUrl });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  try {
    // Percent-encoded by hand: URLSearchParams would turn the space into '+', which libpq-style parsers keep.
    const separator = postgresUrl!.includes('?') ? '&' : '?';
    await fn(`${postgresUrl}${separator}options=${encodeURIComponent(`-c search_path=${schema}`)}`, schema, admin);
  } finally {
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  }
}

const BIN = fileURLToPath(new URL('../bin/ticketpulse.js', import.meta.url));
const env = (extra: Record<string, string>) => ({ ...process.env, DATABASE_URL: '', LOG_LEVEL: 'info', ...extra });
/** Runs the CLI to its end; several may run at once. */
function run(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { env: env({}), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('close', (status) => resolve({ status, stdout, stderr })));
}

describe('ticketpulse CLI', () => {
  it('start --demo serves the demo events, says where to go in lines a person reads, and stops cleanly on SIGTERM', async () => {
    // An empty storefront folder: the lines must not point at a shop that is not there.
    const child = spawn(process.execPath, [BIN, 'start', '--demo', '--memory', '--port', '0', '--host', '127.0.0.1'], {
      env: env({ TICKETPULSE_STOREFRONT_DIR: tmpdir(), NO_COLOR: '1' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const match = /serving on (http:\/\/[^\s"]+)/.exec(out);
          if (match && /API: .*\n/.test(out)) resolve(match[1]!);
        });
        child.once('exit', (code) => reject(new Error(`exited with ${code}: ${out}`)));
      });
      // The demo logs for a person even when its output is piped: no JSON, and the way in right after "serving on".
      const lines = out.trim().split('\n');
      expect(lines.filter((line) => line.startsWith('{'))).toEqual([]);
      const serving = lines.findIndex((line) => line.includes('serving on'));
      expect(lines.slice(serving + 1, serving + 4).map((line) => line.replace(/^\[[\d:]+\] INFO: /, ''))).toEqual([
        `shop:      not built (npm run build:storefront); ${url}/ answers a JSON index`,
        `token:     curl -s -X POST ${url}/api/auth/dev-token   (organizer: add -H 'content-type: application/json' -d '{"role":"organizer"}')`,
        `API:       ${url}/api/openapi.json, docs/api.md`,
      ]);
      const { events } = (await (await fetch(`${url}/api/events`)).json()) as { events: Array<{ slug: string }> };
      expect(events.map((e) => e.slug).sort()).toEqual(['midnight-jazz-session', 'neon-skyline-arena', 'open-air-cinema', 'summer-sound-festival']);

      const jazz = (await (await fetch(`${url}/api/events/midnight-jazz-session/availability`)).json()) as {
        tickets: Array<{ status: string }>;
      };
      // Two types nearly gone, and one sold out with a waiting list (docs/waiting-list.md).
      expect(jazz.tickets.map((x) => x.status)).toEqual(['low_stock', 'low_stock', 'sold_out']);
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
    // At info, one line per request, once answered (method, URL, status, time); the line at its arrival is debug's.
    expect(out).toMatch(/request completed GET \/api\/events 200 in \d+ ms/);
    expect(out).toMatch(/request completed POST \/api\/auth\/dev-token 201 in \d+ ms/);
    expect(out).not.toContain('incoming request');
  }, 90_000);

  it('start --simulate runs the buyer simulator from boot, logs its requests at debug only, and SIGTERM still stops cleanly', async () => {
    // An empty storefront folder: / stays the JSON index whatever apps/storefront/dist holds.
    const node = await startNode(
      { DATABASE_URL: '', TICKETPULSE_STOREFRONT_DIR: tmpdir(), LOG_FORMAT: 'json', LOG_LEVEL: 'debug' },
      ['--demo', '--memory', '--simulate'],
    );
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
      // LOG_FORMAT=json wins over the demo's pretty lines: every line is a JSON object.
      const levelsOf = (pattern: RegExp) => {
        const complete = node.output().slice(0, node.output().lastIndexOf('\n'));
        const records = complete.split('\n').map((line) => JSON.parse(line) as { level: number; msg: string; req?: { url: string }; res?: { statusCode: number } });
        return (msg: string) => new Set(records.filter((r) => r.msg === msg && pattern.test(r.req!.url)).map((r) => `${r.level}${r.res ? ` ${r.res.statusCode}` : ''}`));
      };
      // Written as the answers leave, but read from the pipe on the child's schedule.
      await eventually(() => levelsOf(/\/reservations/)('request completed').size > 0 && levelsOf(/^\/api\/simulator$/)('request completed').size > 0, 'the request lines');
      // The simulator's holds complete at debug (20), never info (30); this test's own requests at info, with their status.
      expect(levelsOf(/\/reservations/)('request completed')).toEqual(new Set(['20 201']));
      expect(levelsOf(/^\/api\/simulator$/)('request completed')).toEqual(new Set(['30 200']));
      // The line at each request's arrival is debug's, the simulator's or not.
      expect(levelsOf(/\/reservations|^\/api\/simulator$/)('incoming request')).toEqual(new Set(['20']));
    } finally {
      expect(await node.stop()).toBe(0);
    }
  }, 90_000);

  it('logs JSON lines when its output is not a terminal and it is not a demo', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tp-cli-'));
    try {
      const result = spawnSync(process.execPath, [BIN, 'migrate'], { env: env({ TICKETPULSE_DATA_DIR: dataDir }), encoding: 'utf8' });
      expect(result.status).toBe(0);
      const records = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as { msg: string });
      expect(records.at(-1)?.msg).toBe('database is up to date');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 90_000);

  it('stops at start-up with one clear line for invalid configuration', () => {
    const result = spawnSync(process.execPath, [BIN, 'start', '--memory'], { env: env({ PORT: 'eighty' }), encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^ticketpulse: Invalid configuration: PORT /)]);
  });

  it('refuses LOG_FORMAT other than json or pretty with one line', () => {
    const result = spawnSync(process.execPath, [BIN, 'start', '--memory'], { env: env({ LOG_FORMAT: 'yaml' }), encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^ticketpulse: Invalid configuration: LOG_FORMAT /)]);
  });

  it('refuses --workers on the embedded database with one clear line: workers are processes, PGlite belongs to one', () => {
    const result = spawnSync(process.execPath, [BIN, 'start', '--memory', '--workers', '2'], { env: env({}), encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual(['ticketpulse: --workers needs PostgreSQL (DATABASE_URL): the embedded database belongs to one process']);
  });

  it('refuses --simulate without --demo: simulated buyers never run on a real service', async () => {
    const result = await run(['start', '--memory', '--simulate']);
    expect(result.status).toBe(2);
    expect(result.stderr.trim()).toBe('ticketpulse: --simulate needs --demo: simulated buyers run only in the demo');
  });

  it('--help lists every command, and <command> --help every option of that command', async () => {
    const help = await run(['--help']);
    expect(help.status).toBe(0);
    for (const command of ['start', 'migrate', 'seed', 'watch EVENT']) expect(help.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    const options: Record<string, string[]> = {
      start: ['--demo', '--simulate', '--memory', '--port N', '--host HOST', '--workers N|auto', '-h, --help'],
      migrate: ['-h, --help'],
      seed: ['-h, --help'],
      watch: ['--url URL', '--token JWT', '-h, --help'],
    };
    const results = await Promise.all(Object.keys(options).map((command) => run([command, '--help'])));
    for (const [i, [command, expected]] of Object.entries(options).entries()) {
      const result = results[i]!;
      expect(result.status).toBe(0);
      expect(result.stdout).toContain(`Usage: ticketpulse ${command}`);
      const listed = result.stdout.split('Options:\n')[1]!.split('\n\n')[0]!.split('\n').map((line) => line.trim().split(/\s{2,}/)[0]);
      expect(listed).toEqual(expected);
    }
    // The variables that matter, with each command.
    expect(results[0]!.stdout).toMatch(/^  LOG_FORMAT /m);
    expect(results[0]!.stdout).toMatch(/^  TICKETPULSE_BUS .*--workers/m); // --workers needs one that is not none
    // Web Push's keys and subject are what a production start needs set (docs/cli.md, Environment).
    expect(results[0]!.stdout).toMatch(/^  TICKETPULSE_VAPID_\* /m);
    expect(results[0]!.stdout).toMatch(/^  TICKETPULSE_PUSH_\* /m);
    expect((await run(['watch', '-h'])).stdout).toMatch(/^  TICKETPULSE_TOKEN /m);
  }, 60_000);

  it.each([
    [['sell-everything'], 'ticketpulse: Unknown command "sell-everything". Run ticketpulse --help.'],
    [['start', '--frobnicate'], 'ticketpulse: Unknown option "--frobnicate" for start. Run ticketpulse start --help.'],
    [['migrate', '--memory'], 'ticketpulse: Unknown option "--memory" for migrate. Run ticketpulse migrate --help.'],
    [['start', '--port', 'eighty'], 'ticketpulse: --port must be a whole number from 0 to 65535, not "eighty"'],
    [['start', '--port', '65536'], 'ticketpulse: --port must be a whole number from 0 to 65535, not "65536"'],
    [['start', '--workers', 'many'], 'ticketpulse: --workers must be auto or a whole number from 1 to 64, not "many"'],
    [['start', '--workers', '0'], 'ticketpulse: --workers must be auto or a whole number from 1 to 64, not "0"'],
    // A value starting with a dash is the value, not an option: the message names it and what is allowed.
    [['start', '--workers', '-1'], 'ticketpulse: --workers must be auto or a whole number from 1 to 64, not "-1"'],
    [['start', '--memory', '--port', '-80'], 'ticketpulse: --port must be a whole number from 0 to 65535, not "-80"'],
    [['watch'], 'ticketpulse: watch needs EVENT: ticketpulse watch EVENT. Run ticketpulse watch --help.'],
    [['watch', 'a', 'b'], 'ticketpulse: Unexpected argument "b" for watch. Run ticketpulse watch --help.'],
    [['watch', 'a', '--url', 'localhost:3000'], 'ticketpulse: --url must be an http:// or https:// URL, not "localhost:3000"'],
  ])('%j is a one-line usage error with exit code 2', async (args, message) => {
    const result = await run(args);
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(`${message}\n`);
  });

  it('watch fails in one line with exit code 1 when there is nothing to watch: no service, a refused token, an unknown event', async () => {
    const closed = await takePort();
    await new Promise((resolve) => closed.server.close(resolve)); // now nothing listens there
    const nowhere = `http://127.0.0.1:${closed.port}`;
    const refused = `ticketpulse: cannot reach the service at ${nowhere} (--url): connect ECONNREFUSED 127.0.0.1:${closed.port}\n`;
    // Asking for a dev token, and connecting with a token of one's own.
    for (const args of [[], ['--token', 'x']]) expect(await run(['watch', 'midnight-jazz-session', '--url', nowhere, ...args])).toEqual({ status: 1, stdout: '', stderr: refused });

    const node = await startNode({ DATABASE_URL: '', TICKETPULSE_STOREFRONT_DIR: tmpdir() }, ['--demo', '--memory']);
    try {
      // A refused token ended the watch with exit code 0, as if it were done; an unknown event kept it waiting forever (killed here).
      const watch = (...args: string[]) => spawnSync(process.execPath, [BIN, 'watch', ...args, '--url', node.url], { env: env({}), encoding: 'utf8', timeout: 20_000 });
      expect(watch('midnight-jazz-session', '--token', 'not-a-jwt')).toMatchObject({
        status: 1,
        stdout: '',
        stderr: 'ticketpulse: the service closed the connection (4001: invalid token)\n',
      });
      expect(watch('no-such-event')).toMatchObject({ status: 1, stdout: '', stderr: 'ticketpulse: cannot watch no-such-event: event_not_found: Event not found\n' });
    } finally {
      await node.stop();
    }
  }, 90_000);

  it('says in one line that the port is taken, and exits with code 1', async () => {
    const taken = await takePort();
    try {
      const result = await run(['start', '--memory', '--host', '127.0.0.1', '--port', String(taken.port)]);
      expect(result.status).toBe(1);
      expect(result.stderr).toBe(`ticketpulse: cannot listen on 127.0.0.1:${taken.port}: the port is in use (EADDRINUSE); choose another with PORT or --port, HOST or --host\n`);
    } finally {
      taken.server.close();
    }
  }, 60_000);

  it('says in one line, without the password, that PostgreSQL or the NATS server cannot be reached, and exits with code 1', async () => {
    const closed = await takePort();
    await new Promise((resolve) => closed.server.close(resolve)); // now nothing listens there
    const at = `127.0.0.1:${closed.port}`;
    const database = spawnSync(process.execPath, [BIN, 'start', '--port', '0'], { env: env({ DATABASE_URL: `postgres://tp:s3cret@${at}/tickets` }), encoding: 'utf8' });
    expect(database.status).toBe(1);
    expect(database.stderr).toBe(`ticketpulse: cannot connect to PostgreSQL at ${at} (DATABASE_URL): connect ECONNREFUSED ${at}\n`);
    const bus = spawnSync(process.execPath, [BIN, 'start', '--memory', '--port', '0'], { env: env({ TICKETPULSE_BUS: `nats://tp:s3cret@${at}` }), encoding: 'utf8' });
    expect(bus.status).toBe(1);
    expect(bus.stderr).toBe(`ticketpulse: cannot connect to the NATS server at ${at} (TICKETPULSE_BUS): CONNECTION_REFUSED\n`);
  }, 90_000);

  it.skipIf(!postgresUrl)('says which TICKETPULSE_DB_APP_ROLE it cannot switch to and why, with no stack trace, and exits with code 1', async () => {
    await withSchema(async (url) => {
      const missing = `tp_missing_${randomBytes(4).toString('hex')}`;
      const result = spawnSync(process.execPath, [BIN, 'start', '--port', '0'], { env: env({ DATABASE_URL: url, TICKETPULSE_DB_APP_ROLE: missing }), encoding: 'utf8' });
      expect(result.status).toBe(1);
      const ours = result.stderr.split('\n').filter((line) => line.startsWith('ticketpulse:'));
      expect(ours).toEqual([`ticketpulse: cannot switch to TICKETPULSE_DB_APP_ROLE ${missing} on PostgreSQL at ${new URL(url).host}: role "${missing}" does not exist`]);
      expect(result.stderr).not.toMatch(/^\s+at /m);
      expect(result.stderr).not.toContain('DeprecationWarning');
    });
  }, 90_000);

  it.skipIf(!postgresUrl)('with --workers and the port taken, each worker and the primary say so in one line, and the primary exits with code 1', async () => {
    const taken = await takePort();
    try {
      await withSchema(async (url) => {
        const child = spawn(process.execPath, [BIN, 'start', '--workers', '2', '--host', '127.0.0.1', '--port', String(taken.port)], {
          env: env({ DATABASE_URL: url, TICKETPULSE_JWT_SECRET: 'x'.repeat(32), LOG_FORMAT: 'json' }),
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        const status = await new Promise<number | null>((resolve) => child.once('close', resolve));
        expect(status).toBe(1);
        const lines = stderr.trim().split('\n');
        // No stack traces: the workers that got as far as listening name the port, and the primary says it gave up.
        for (const line of lines) expect(line).toMatch(/^ticketpulse: /);
        expect(lines).toContain(`ticketpulse: cannot listen on 127.0.0.1:${taken.port}: the port is in use (EADDRINUSE); choose another with PORT or --port, HOST or --host`);
        expect(lines.at(-1)).toMatch(/^ticketpulse: worker [01] could not start \(exit code 1; its error is above\): the other workers are stopped$/);
      });
    } finally {
      taken.server.close();
    }
  }, 90_000);

  it.skipIf(!postgresUrl)('migrate and seed work against PostgreSQL, and seeding twice adds nothing', async () => {
    await withSchema(async (url, schema, admin) => {
      const run = (command: string) =>
        spawnSync(process.execPath, [BIN, command], { env: env({ DATABASE_URL: url }), encoding: 'utf8' });
      expect(run('migrate').status).toBe(0);
      expect(run('seed').status).toBe(0);
      expect(run('seed').status).toBe(0);
      const { rows } = await admin.query(`SELECT count(*)::integer AS n FROM ${schema}.events`);
      expect(rows[0].n).toBe(4); // the four demo events, once
      await admin.query(`SET search_path TO ${schema}`); // the functions resolve tables through it
      const { rows: mismatches } = await admin.query('SELECT * FROM verify_ticket_counts()');
      expect(mismatches).toEqual([]);
    });
  });
});
