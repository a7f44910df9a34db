import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { loadMigrations } from '../src/db/migrate.ts';
import { postgresUrl } from './support/database.ts';

const SUPABASE_SQL = new URL('../supabase/supabase-project.sql', import.meta.url);

/**
 * What a Supabase database adds that the migrations and
 * supabase-project.sql meet: the roles, auth.uid() and auth.jwt() (as
 * Supabase defines them), default grants of everything new to the API roles,
 * the supabase_realtime publication, and an owner that is no superuser
 * (Supabase's postgres is not one). All inside a transaction the test rolls
 * back, roles included, so the shared server keeps nothing.
 */
function standIns(schema: string, owner: string): string {
  return `
    DO $$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'anon') THEN CREATE ROLE anon NOLOGIN; END IF;
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticated') THEN CREATE ROLE authenticated NOLOGIN; END IF;
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'service_role') THEN CREATE ROLE service_role NOLOGIN BYPASSRLS; END IF;
    END $$;
    CREATE SCHEMA auth;
    CREATE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS $$
      SELECT coalesce(nullif(current_setting('request.jwt.claim.sub', true), ''),
                      (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub'))::uuid $$;
    CREATE FUNCTION auth.jwt() RETURNS jsonb LANGUAGE sql STABLE AS $$
      SELECT coalesce(nullif(current_setting('request.jwt.claim', true), ''),
                      nullif(current_setting('request.jwt.claims', true), ''))::jsonb $$;
    CREATE SCHEMA ${schema};
    SET LOCAL search_path = ${schema}, pg_temp; -- as docs/supabase.md runs the files: pg_temp last for SECURITY DEFINER functions
    CREATE ROLE ${owner} NOSUPERUSER NOLOGIN;
    GRANT anon, authenticated TO ${owner};
    GRANT CREATE, USAGE ON SCHEMA ${schema} TO ${owner};
    GRANT USAGE ON SCHEMA auth, ${schema} TO anon, authenticated, service_role;
    DO $$ BEGIN EXECUTE format('GRANT CREATE ON DATABASE %I TO ${owner}', current_database()); END $$;
    SET LOCAL ROLE ${owner};
    ALTER DEFAULT PRIVILEGES IN SCHEMA ${schema} GRANT ALL ON TABLES TO anon, authenticated, service_role;
    ALTER DEFAULT PRIVILEGES IN SCHEMA ${schema} GRANT ALL ON FUNCTIONS TO anon, authenticated, service_role;
    ALTER DEFAULT PRIVILEGES IN SCHEMA ${schema} GRANT ALL ON SEQUENCES TO anon, authenticated, service_role;
    SET LOCAL client_min_messages = error; -- CREATE PUBLICATION warns that wal_level is not logical here
    CREATE PUBLICATION supabase_realtime;
  `;
}

/** A public event with a hidden type, a private one granted to GRANTED, a draft; one held seat in each visible type. */
const FIXTURES = `
  INSERT INTO events (id, slug, name, starts_at, is_public, status) VALUES
    ('00000000-0000-0000-0000-00000000000a', 'public', 'Public', now() + interval '1 day', true, 'on_sale'),
    ('00000000-0000-0000-0000-00000000000b', 'private', 'Private', now() + interval '1 day', false, 'on_sale'),
    ('00000000-0000-0000-0000-00000000000c', 'draft', 'Draft', now() + interval '1 day', true, 'draft');
  INSERT INTO event_tickets (event_id, name, total_capacity, status) VALUES
    ('00000000-0000-0000-0000-00000000000a', 'General', 10, 'on_sale'),
    ('00000000-0000-0000-0000-00000000000a', 'Secret', 10, 'hidden'),
    ('00000000-0000-0000-0000-00000000000b', 'Members', 10, 'on_sale'),
    ('00000000-0000-0000-0000-00000000000c', 'Early', 10, 'on_sale');
  INSERT INTO event_access (event_id, user_id) VALUES ('00000000-0000-0000-0000-00000000000b', '11111111-1111-1111-1111-111111111111');
  INSERT INTO tickets (event_id, event_ticket_id, status, holder_id, reservation_expires_at)
    SELECT event_id, id, 'reserved', '22222222-2222-2222-2222-222222222222', now() + interval '10 minutes'
    FROM event_tickets WHERE name IN ('General', 'Members');
`;

const GRANTED = '11111111-1111-1111-1111-111111111111';

describe.skipIf(!postgresUrl)("supabase-project.sql on PostgreSQL with Supabase's roles and grants", () => {
  it('applies after the migrations, as a role that is no superuser, and lets the browser read only what it may see', async () => {
    const client = new pg.Client({ connectionString: postgresUrl });
    await client.connect();
    const suffix = randomBytes(4).toString('hex');
    const owner = `sb_owner_${suffix}`;
    try {
      await client.query('BEGIN');
      await client.query(standIns(`sb_${suffix}`, owner));
      for (const migration of await loadMigrations()) await client.query(migration.sql);
      await client.query(await readFile(SUPABASE_SQL, 'utf8'));
      await client.query(FIXTURES);

      const executable = await client.query<{ fn: string }>(
        `SELECT p.oid::regprocedure::text AS fn FROM pg_proc p WHERE p.pronamespace = current_schema()::regnamespace
          AND has_function_privilege('anon', p.oid, 'EXECUTE') ORDER BY 1`,
      );
      expect(executable.rows.map((r) => r.fn)).toEqual(['event_is_visible(events,text,boolean)', 'ticketpulse_is_organizer()']);
      const published = await client.query<{ tablename: string }>("SELECT tablename FROM pg_publication_tables WHERE pubname = 'supabase_realtime' ORDER BY 1");
      expect(published.rows.map((r) => r.tablename)).toEqual(['event_tickets', 'tickets']);

      /**
       * Runs `sql` as a browser role with these JWT claims, as PostgREST and
       * Realtime do; the savepoint takes back the role, the claims, and any
       * effect. Rows, or the refusal.
       */
      const attempt = async (role: 'anon' | 'authenticated', claims: object, sql: string) => {
        await client.query('SAVEPOINT attempt');
        try {
          await client.query(`SET LOCAL ROLE ${role}`);
          await client.query("SELECT set_config('request.jwt.claims', $1, true)", [JSON.stringify({ role, ...claims })]);
          return (await client.query(sql)).rows as Array<Record<string, unknown>>;
        } catch (error) {
          return (error as { code?: string }).code === '42501' ? 'refused' : String(error);
        } finally {
          await client.query('ROLLBACK TO SAVEPOINT attempt');
        }
      };
      const as = async (role: 'anon' | 'authenticated', claims: object, sql: string) => {
        const rows = await attempt(role, claims, sql);
        if (typeof rows === 'string') throw new Error(`${role} could not run ${sql}: ${rows}`);
        return rows;
      };
      const names = (rows: Array<Record<string, unknown>>) => rows.map((r) => r.name);
      const VIEW = 'SELECT ticket_type_name AS name FROM ticket_availability_view ORDER BY 1';

      expect(await as('anon', {}, 'SELECT ticket_type_name, status, available_count FROM ticket_availability_view')).toEqual([
        { ticket_type_name: 'General', status: 'available', available_count: 9 },
      ]);
      expect(names(await as('anon', {}, 'SELECT name FROM event_tickets ORDER BY 1'))).toEqual(['General']);
      expect(await as('anon', {}, 'SELECT status FROM tickets')).toEqual([{ status: 'reserved' }]);
      expect(names(await as('authenticated', { sub: GRANTED }, VIEW))).toEqual(['General', 'Members']);
      const organizer = { sub: '33333333-3333-3333-3333-333333333333', app_metadata: { ticketpulse_role: 'organizer' } };
      expect(names(await as('authenticated', organizer, VIEW))).toEqual(['Early', 'General', 'Members']);
      expect(names(await as('authenticated', organizer, 'SELECT name FROM event_tickets ORDER BY 1'))).toEqual(['Early', 'General', 'Members', 'Secret']);

      for (const sql of [
        'SELECT holder_id FROM tickets',
        'SELECT reservation_id FROM tickets',
        'SELECT * FROM reservations',
        "INSERT INTO events (slug, name, starts_at) VALUES ('x', 'x', now())",
        'UPDATE event_tickets SET sold_count = 0',
        "SELECT reserve_holds('public', '[]'::jsonb, 900)",
        'SELECT verify_ticket_counts()',
      ]) {
        expect([sql, await attempt('anon', {}, sql)]).toEqual([sql, 'refused']);
        expect([sql, await attempt('authenticated', { sub: GRANTED }, sql)]).toEqual([sql, 'refused']);
      }
    } finally {
      await client.query('ROLLBACK');
      await client.end();
    }
  });
});
