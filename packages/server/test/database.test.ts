import { randomBytes } from 'node:crypto';
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
