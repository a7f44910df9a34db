-- Row-level security on tickets and reservations, keyed to the requester.
--
-- The requester is read from request.jwt.claims, the per-transaction setting
-- Supabase's PostgREST uses: the service sets it with
-- set_config('request.jwt.claims', '{"sub": ..., "role": ...}', true) when it
-- reads these tables for a caller. A row is visible to its holder, and to the
-- organizer and service roles (dashboards, support); to nobody else.
--
-- Policies bind roles that are not the tables' owner. The owner (who ran the
-- migrations: the demo's PGlite, the tests, a single-role deployment) bypasses
-- them as before. In production the service switches each connection to a
-- non-owner role (TICKETPULSE_DB_APP_ROLE, see docs/inventory.md), so the
-- database itself refuses cross-user reads even if a query forgets its filter.
--
-- The condition is written out rather than put in a function: on Supabase the
-- readers (anon, authenticated) evaluate it too, and get no new function.
--
-- On Supabase these policies add to supabase-project.sql's: the claims are
-- Supabase's own, whose top-level role is never organizer or service, so they
-- grant a signed-in user their own rows and nothing more.

ALTER TABLE reservations ENABLE ROW LEVEL SECURITY;
ALTER TABLE tickets ENABLE ROW LEVEL SECURITY;

CREATE POLICY reservations_requester ON reservations
  USING (holder_id = nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub'
         OR nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role' IN ('organizer', 'service'))
  WITH CHECK (holder_id = nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub'
         OR nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role' IN ('organizer', 'service'));
CREATE POLICY tickets_requester ON tickets
  USING (holder_id = nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub'
         OR nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role' IN ('organizer', 'service'))
  WITH CHECK (holder_id = nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub'
         OR nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role' IN ('organizer', 'service'));

-- The hold functions work across users by design: a group-committed batch
-- holds seats for many buyers in one statement, capacity counts everyone's
-- holds, the sweeper expires everyone's. They check the holder themselves
-- (not_reservation_holder), from the id the service took from a verified
-- token. So they run as their owner, with the search path pinned to this
-- schema (temporary objects last, so nobody can shadow a table), and only
-- roles granted EXECUTE may call them.
DO $$
DECLARE
  f regprocedure;
BEGIN
  FOR f IN
    SELECT p.oid::regprocedure FROM pg_proc p
    WHERE p.pronamespace = current_schema()::regnamespace
      AND p.proname IN ('reserve_holds', 'confirm_reservation', 'extend_reservation', 'release_reservation',
                        'reservation_json', 'expire_due_holds', 'verify_ticket_counts')
  LOOP
    EXECUTE format('ALTER FUNCTION %s SECURITY DEFINER SET search_path = %I, pg_temp', f, current_schema());
    EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f);
  END LOOP;
END $$;
