import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMigrations, migrate } from '../src/db/migrate.ts';
import { openPostgres } from '../src/db/postgres.ts';
import { createTestDatabase, drivers, postgresUrl, type TestDatabase } from './support/database.ts';

const waitFor = async (check: () => boolean, timeoutMs = 10_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

describe.each(drivers)('database (%s)', (driver) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase(driver);
  });
  afterAll(() => t.dispose());

  it('applies each migration once and records it with its checksum', async () => {
    expect(await migrate(t.db)).toEqual([]);
    const { rows } = await t.db.query<{ version: string; checksum: string }>('SELECT version, checksum FROM schema_migrations ORDER BY version');
    const files = await loadMigrations();
    expect(rows).toEqual(files.map((m) => ({ version: m.version, checksum: m.checksum })));
  });

  it('refuses to run when an applied migration was edited', async () => {
    const files = await loadMigrations();
    const edited = files.map((m, i) => (i === 0 ? { ...m, checksum: 'changed' } : m));
    await expect(migrate(t.db, edited)).rejects.toThrow(/0001_schema was edited after it was applied/);
  });

  it('commits a transaction that resolves and rolls back one that throws', async () => {
    await t.db.exec('CREATE TABLE tx_probe (n integer)');
    await t.db.transaction((tx) => tx.query('INSERT INTO tx_probe VALUES (1)'));
    await expect(
      t.db.transaction(async (tx) => {
        await tx.query('INSERT INTO tx_probe VALUES (2)');
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect((await t.db.query('SELECT n FROM tx_probe')).rows).toEqual([{ n: 1 }]);
  });

  it('delivers NOTIFY to listeners until they stop listening', async () => {
    const received: string[] = [];
    const stop = await t.db.listen('tp_probe', (payload) => received.push(payload));
    await t.db.notify('tp_probe', 'first');
    await waitFor(() => received.length === 1);
    await stop();
    await t.db.notify('tp_probe', 'second');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(received).toEqual(['first']);
    await expect(t.db.listen('bad channel"; DROP', () => {})).rejects.toThrow(/Invalid channel name/);
  });
});

describe.each(drivers)('repeatable files (%s)', (driver) => {
  let root: string;
  let t: TestDatabase | undefined;
  const write = async (path: string, sql: string) => {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), sql);
  };
  const answer = (n: number) =>
    `CREATE OR REPLACE FUNCTION probe_answer() RETURNS integer LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS 'SELECT ${n}';
     REVOKE EXECUTE ON FUNCTION probe_answer() FROM PUBLIC;`;
  const recorded = async () =>
    (await t!.db.query<{ version: string; applied_at: string }>('SELECT version, applied_at::text FROM schema_migrations ORDER BY version')).rows;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'tp-repeatable-'));
    await write('migrations/0001_probe.sql', 'CREATE TABLE probe (n integer); INSERT INTO probe VALUES (1), (2);');
    await write('repeatable/10_answer.sql', answer(1));
    await write('repeatable/20_view.sql', 'CREATE OR REPLACE VIEW probe_total AS SELECT sum(n)::integer AS total FROM probe;');
    t = await createTestDatabase(driver, 2, await loadMigrations(root));
  });
  afterAll(async () => {
    await t?.dispose();
    await rm(root, { recursive: true, force: true });
  });

  it('applies a changed file on the next start and leaves an unchanged one alone', async () => {
    const first = await recorded();
    expect(first.map((r) => r.version)).toEqual(['0001_probe', 'repeatable/10_answer', 'repeatable/20_view']);
    expect(await migrate(t!.db, await loadMigrations(root))).toEqual([]);
    expect(await recorded()).toEqual(first);

    await write('repeatable/10_answer.sql', answer(2));
    expect(await migrate(t!.db, await loadMigrations(root))).toEqual(['repeatable/10_answer']);
    expect((await t!.db.query('SELECT probe_answer() AS n')).rows).toEqual([{ n: 2 }]);
    const { rows } = await t!.db.query<{ checksum: string }>(`SELECT checksum FROM schema_migrations WHERE version = 'repeatable/10_answer'`);
    expect(rows[0]!.checksum).toBe((await loadMigrations(root)).find((m) => m.version === 'repeatable/10_answer')!.checksum);
    // Replaced with every attribute its file gives it: owner's rights, this schema then pg_temp, no EXECUTE for PUBLIC.
    const fn = await t!.db.query<{ definer: boolean; config: string[]; public: boolean; schema: string }>(
      `SELECT p.prosecdef AS definer, p.proconfig AS config, current_schema() AS schema,
              has_function_privilege('public', p.oid, 'EXECUTE') AS public
         FROM pg_proc p WHERE p.proname = 'probe_answer'`,
    );
    expect(fn.rows).toEqual([{ definer: true, config: [`search_path=${fn.rows[0]!.schema}, pg_temp`], public: false, schema: fn.rows[0]!.schema }]);
    expect((await recorded()).find((r) => r.version === 'repeatable/20_view')).toEqual(first[2]);
  });

  it("runs a file again after a migration that drops what it defines and deletes the file's record", async () => {
    await write(
      'migrations/0002_wider.sql',
      `DROP VIEW probe_total; ALTER TABLE probe ALTER COLUMN n TYPE bigint;
       DELETE FROM schema_migrations WHERE version = 'repeatable/20_view';`,
    );
    expect(await migrate(t!.db, await loadMigrations(root))).toEqual(['0002_wider', 'repeatable/20_view']);
    expect((await t!.db.query('SELECT total FROM probe_total')).rows).toEqual([{ total: 3 }]);
  });

  it('forgets a deleted file, and refuses a database that records migrations it does not have, saying what to do', async () => {
    await unlink(join(root, 'repeatable/20_view.sql'));
    expect(await migrate(t!.db, await loadMigrations(root))).toEqual([]);
    expect((await recorded()).map((r) => r.version)).toEqual(['0001_probe', '0002_wider', 'repeatable/10_answer']);
    // A developer's database from before the squash: its versions are gone from the set.
    await unlink(join(root, 'migrations/0002_wider.sql'));
    await expect(migrate(t!.db, await loadMigrations(root))).rejects.toThrow(
      /migrations this TicketPulse does not have \(0002_wider\).*Delete the \.data\/ directory \(embedded PGlite\) or drop the schema/,
    );
  });
});

describe.skipIf(!postgresUrl)('database on real PostgreSQL only', () => {
  it('migrates exactly once when several nodes start at the same time', async () => {
    const schema = `t_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: postgresUrl });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    const nodes = await Promise.all(
      [1, 2, 3].map(() => openPostgres({ connectionString: postgresUrl!, options: `-c search_path=${schema}` })),
    );
    try {
      const applied = await Promise.all(nodes.map((db) => migrate(db)));
      const files = await loadMigrations();
      expect(applied.flat().sort()).toEqual(files.map((m) => m.version));
    } finally {
      await Promise.all(nodes.map((db) => db.close()));
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    }
  });

  it('closing for an exit sends every connection its goodbye, the LISTEN one included, and does not wait for the server to close its side', async () => {
    // Between the pool and PostgreSQL, a proxy that can hold the server's side of each close back from the client.
    const target = new URL(postgresUrl!);
    let holdingBack = false;
    const sockets: Socket[] = [];
    const proxy = createServer({ allowHalfOpen: true }, (client) => {
      const server = connect(Number(target.port || 5432), target.hostname);
      sockets.push(client, server);
      client.pipe(server);
      server.on('data', (chunk) => client.write(chunk));
      server.on('end', () => holdingBack || client.end());
      client.on('error', () => server.destroy());
      server.on('error', () => client.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const via = new URL(postgresUrl!);
    via.hostname = '127.0.0.1';
    via.port = String((proxy.address() as AddressInfo).port);
    const name = `tp_exit_${randomBytes(4).toString('hex')}`;
    const db = await openPostgres({ connectionString: via.toString(), options: `-c application_name=${name}` });
    const admin = new pg.Client({ connectionString: postgresUrl });
    await admin.connect();
    const open = async () =>
      (await admin.query<{ n: number }>('SELECT count(*)::integer AS n FROM pg_stat_activity WHERE application_name = $1', [name])).rows[0]!.n;
    try {
      await db.listen('tp_exit_probe', () => {});
      await Promise.all([1, 2, 3].map(() => db.query('SELECT pg_sleep(0.05)')));
      expect(await open()).toBeGreaterThanOrEqual(2);
      holdingBack = true;
      const closed = db.close({ exiting: true }).then(() => 'closed');
      expect(await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 5_000, 'still waiting'))])).toBe('closed');
      // PostgreSQL got every goodbye and ended each connection, though none of its closes reached the pool.
      const deadline = Date.now() + 10_000;
      while ((await open()) > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await open()).toBe(0);
    } finally {
      await admin.end();
      for (const socket of sockets) socket.destroy();
      proxy.close();
    }
  });

  it('re-listens after its LISTEN connection is killed', async () => {
    const t = await createTestDatabase('postgres');
    const admin = new pg.Client({ connectionString: postgresUrl });
    await admin.connect();
    try {
      const received: string[] = [];
      await t.db.listen('tp_reconnect', (payload) => received.push(payload));
      await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = 'LISTEN "tp_reconnect"'`);
      // Notifications sent while it is down are lost by design; keep sending until one arrives.
      const deadline = Date.now() + 10_000;
      while (received.length === 0 && Date.now() < deadline) {
        await t.db.notify('tp_reconnect', 'after');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(received[0]).toBe('after');
    } finally {
      await admin.end();
      await t.dispose();
    }
  });
});
