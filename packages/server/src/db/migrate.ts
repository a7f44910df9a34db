import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../config.ts';
import type { Database, Queryable } from './database.ts';

/** Holds `migrations/` (schema changes, append-only) and `repeatable/` (functions, views, triggers). */
const DB_DIR = fileURLToPath(new URL('./', import.meta.url));
// Any constant works; it only has to be the same for every TicketPulse process.
const MIGRATION_LOCK = 7_291_001;
/** How a repeatable file is recorded in schema_migrations: `repeatable/30_reservations`. */
const REPEATABLE = 'repeatable/';

export interface Migration {
  /** `0001_schema` for a migration, `repeatable/30_reservations` for a repeatable file. */
  version: string;
  sql: string;
  checksum: string;
  /** Applied again whenever its checksum changes, after every migration. */
  repeatable: boolean;
}

async function loadDir(dir: string, prefix: string): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  return Promise.all(
    files.map(async (file) => {
      const sql = await readFile(join(dir, file), 'utf8');
      const checksum = createHash('sha256').update(sql).digest('hex');
      return { version: prefix + file.replace(/\.sql$/, ''), sql, checksum, repeatable: prefix === REPEATABLE };
    }),
  );
}

/** The migrations, then the repeatable files, each in file-name order: the order they apply in. */
export async function loadMigrations(root = DB_DIR): Promise<Migration[]> {
  return [...(await loadDir(join(root, 'migrations'), '')), ...(await loadDir(join(root, 'repeatable'), REPEATABLE))];
}

/**
 * SECURITY DEFINER functions pin their search path with `SET search_path
 * FROM CURRENT`: this schema, then pg_temp last so that no temporary object
 * can shadow a table. Which schema is only known here (tests use one each).
 */
const PIN_SEARCH_PATH = `SELECT set_config('search_path', format('%I, pg_temp', current_schema()), true)`;

async function recorded(tx: Queryable): Promise<Map<string, string>> {
  const { rows } = await tx.query<{ version: string; checksum: string }>('SELECT version, checksum FROM schema_migrations');
  return new Map(rows.map((r) => [r.version, r.checksum]));
}

/**
 * Applies each pending migration once, then each repeatable file whose
 * checksum changed (or is new), in that order, inside one transaction under
 * an advisory lock, so several nodes starting together migrate exactly once.
 * Returns the versions it applied.
 */
export async function migrate(db: Database, migrations?: Migration[]): Promise<string[]> {
  const all = migrations ?? (await loadMigrations());
  return db.transaction(async (tx) => {
    // As the login that owns the tables, not the role the service switched its connections to (TICKETPULSE_DB_APP_ROLE).
    await tx.exec('SET LOCAL ROLE NONE');
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version text PRIMARY KEY,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const applied = await recorded(tx);
    const known = new Set(all.map((m) => m.version));
    const unknown = [...applied.keys()].filter((v) => !v.startsWith(REPEATABLE) && !known.has(v));
    if (unknown.length > 0) {
      // Before any deployment, migrations 0001-0015 were squashed into one baseline (docs/inventory.md). One line, no stack (cli.ts).
      const which = unknown.length > 2 ? `${unknown[0]} and ${unknown.length - 1} more` : unknown.join(', ');
      throw new ConfigError(
        `This database records migrations this TicketPulse does not have (${which}): it was made before the migrations were squashed, or by a newer version. Delete the .data/ directory (embedded PGlite) or drop the schema (PostgreSQL) and start again.`,
      );
    }
    const done: string[] = [];
    for (const migration of all.filter((m) => !m.repeatable)) {
      const checksum = applied.get(migration.version);
      if (checksum !== undefined) {
        if (checksum !== migration.checksum) {
          throw new Error(`Migration ${migration.version} was edited after it was applied; add a new migration instead`);
        }
        continue;
      }
      await tx.exec(migration.sql);
      await tx.query('INSERT INTO schema_migrations (version, checksum) VALUES ($1, $2)', [migration.version, migration.checksum]);
      done.push(migration.version);
    }
    // Read again: a migration that drops what a file defines deletes that file's record, so the file runs again now.
    const current = await recorded(tx);
    const changed = all.filter((m) => m.repeatable && current.get(m.version) !== m.checksum);
    if (changed.length > 0) await tx.query(PIN_SEARCH_PATH);
    for (const file of changed) {
      await tx.exec(file.sql);
      await tx.query(
        `INSERT INTO schema_migrations (version, checksum) VALUES ($1, $2)
         ON CONFLICT (version) DO UPDATE SET checksum = EXCLUDED.checksum, applied_at = now()`,
        [file.version, file.checksum],
      );
      done.push(file.version);
    }
    // A file that is gone leaves its objects (dropping them is a migration's job) but not its record.
    const gone = [...current.keys()].filter((v) => v.startsWith(REPEATABLE) && !known.has(v));
    if (gone.length > 0) await tx.query('DELETE FROM schema_migrations WHERE version = ANY ($1)', [gone]);
    return done;
  });
}
